# Lake backfill: replay lake Parquet through the session-features and QoE
# domain code (crates/backfill). Included by the top Makefile.
.PHONY: backfill backfill-canonical test-backfill

# The emulator: AWS_ENDPOINT_URL, else the server `make emulator-up` started.
BACKFILL_ENDPOINT = $${AWS_ENDPOINT_URL:-$$(cat .run/moto.url 2>/dev/null)}

backfill: ## Replay the lake into features/QoE windows: ARGS="--from-dir DIR | --from-lake s3://b/p --dt-from D --dt-to D, --out f.jsonl | --features-table T, --windows-out w.csv"
	@[ -n "$(ARGS)" ] || { echo 'make backfill: give ARGS="--from-dir DIR --out features.jsonl" (see cargo run -p backfill -- --help)' >&2; exit 2; }
	@url=$(BACKFILL_ENDPOINT); \
	if [ -n "$$url" ]; then export AWS_ENDPOINT_URL=$$url AWS_REGION=$${AWS_REGION:-us-east-1} \
	  AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test}; fi; \
	cargo run --quiet -p backfill --bin playback-backfill -- $(ARGS)

# The canonical table (one row per event_id: exactly once, each event's winning
# copy) exported at one snapshot, then replayed as a directory.
BACKFILL_EXPORT = .run/backfill-canonical
backfill-canonical: venv ## Replay the canonical Iceberg table (exactly once) into features/windows: ARGS="--out f.jsonl | --features-table T, --windows-out w.csv" [AS_OF=snapshot|UTC time] [LAKE_DIR=dir]
	@[ -n "$(ARGS)" ] || { echo 'make backfill-canonical: give ARGS="--out features.jsonl" (see cargo run -p backfill -- --help)' >&2; exit 2; }
	@rm -rf $(BACKFILL_EXPORT) && mkdir -p $(BACKFILL_EXPORT)
	@$(PY) scripts/lake_query.py $(if $(AS_OF),--as-of '$(AS_OF)') --copy-to $(BACKFILL_EXPORT)/canonical.parquet \
	  --sql "SELECT * FROM playback.events_canonical" >/dev/null
	@$(MAKE) --no-print-directory backfill ARGS="--from-dir $(BACKFILL_EXPORT) $(ARGS)"

test-backfill: venv ## Backfill tests, including the stream/lake parity test and the S3 -> DynamoDB emulator test
	scripts/with-emulator.sh scripts/test-rust.sh -p backfill
