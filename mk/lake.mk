# Lake queries (the Athena SQL of infra/athena/, run locally with DuckDB) and
# the royalty close. Included by the top Makefile (VENV, PY come from it).
.PHONY: query royalty test-royalty canonical test-canonical tiers tiers-bench

# Command-line SQL="..." reaches the recipe through the environment, so its
# quotes need no escaping here; kept verbatim, so a `$` (Athena's
# "table$snapshots") is not read as a make variable.
ifdef SQL
override SQL := $(value SQL)
endif
export SQL
# The emulator: AWS_ENDPOINT_URL, else the server `make emulator-up` started.
LAKE_ENDPOINT = $${AWS_ENDPOINT_URL:-$$(cat .run/moto.url 2>/dev/null)}

query: venv ## Run Athena SQL on the local lake: SQL="SELECT ..." or FILE=infra/athena/x.sql [PARAMS="k=v ..."] [LAKE_DIR=dir] [AS_OF=snapshot id|UTC time]
	@if [ -n "$$SQL" ]; then src=(--sql "$$SQL"); \
	elif [ -n "$(FILE)" ]; then src=(--file "$(FILE)"); \
	else echo 'make query: give SQL="SELECT ..." or FILE=infra/athena/<name>.sql' >&2; exit 2; fi; \
	$(PY) scripts/lake_query.py "$${src[@]}" $(foreach p,$(PARAMS),--param '$(p)') $(if $(AS_OF),--as-of '$(AS_OF)')

# The canonical Iceberg table playback.events_canonical (scripts/canonical.py):
# one incremental run over the raw lake of the emulator (or LAKE_DIR).
canonical: venv ## Add the raw lake's new events to the Iceberg table playback.events_canonical, one snapshot per run [LAKE_DIR=dir] [CANONICAL_ARGS="--until TS --json"]
	@$(PY) scripts/canonical.py $(CANONICAL_ARGS)

tiers: venv ## Hot tier vs canonical table vs raw log on the hot questions: answers, bytes scanned, time [LAKE_DIR=dir]
	@$(PY) scripts/tier_compare.py $(TIERS_ARGS)

TIERS_EVENTS ?= 5000000
tiers-bench: venv ## The same comparison on a synthetic 7-day lake of TIERS_EVENTS events (default 5 M, ~3 min) -> bench/tiers.json
	@$(PY) scripts/tiers_bench.py --events $(TIERS_EVENTS) --titles 500 --dir target/tiers-bench --out bench/tiers.json

test-canonical: venv ## The canonical table tests: retries, redeliveries, late events, a crash before the commit, time travel; S3 on a moto server
	scripts/with-emulator.sh scripts/test-rust.sh -p integration-tests --test canonical --test canonical_s3 --test hot_tier --test canonical_twin

royalty: venv ## Close royalty day DATE=YYYY-MM-DD on the emulator's lake (DuckDB) and print the report
	@[[ "$(DATE)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$$ ]] || { echo "make royalty: DATE=YYYY-MM-DD required (got '$(DATE)')" >&2; exit 2; }
	@url=$(LAKE_ENDPOINT); [ -n "$$url" ] || { echo "make royalty: no emulator (make emulator-up, or set AWS_ENDPOINT_URL)" >&2; exit 2; }; \
	AWS_ENDPOINT_URL=$$url AWS_REGION=$${AWS_REGION:-us-east-1} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test} \
	cargo run --quiet -p royalty-close -- --date "$(DATE)"

test-royalty: venv ## Royalty close tests (unit + generated scenario) against a moto server
	scripts/with-emulator.sh scripts/test-rust.sh -p royalty -p royalty-close
