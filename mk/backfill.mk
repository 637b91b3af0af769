# Lake backfill: replay lake Parquet through the session-features and QoE
# domain code (crates/backfill). Included by the top Makefile.
.PHONY: backfill test-backfill

# The emulator: AWS_ENDPOINT_URL, else the server `make emulator-up` started.
BACKFILL_ENDPOINT = $${AWS_ENDPOINT_URL:-$$(cat .run/moto.url 2>/dev/null)}

backfill: ## Replay the lake into features/QoE windows: ARGS="--from-dir DIR | --from-lake s3://b/p --dt-from D --dt-to D, --out f.jsonl | --features-table T, --windows-out w.csv"
	@[ -n "$(ARGS)" ] || { echo 'make backfill: give ARGS="--from-dir DIR --out features.jsonl" (see cargo run -p backfill -- --help)' >&2; exit 2; }
	@url=$(BACKFILL_ENDPOINT); \
	if [ -n "$$url" ]; then export AWS_ENDPOINT_URL=$$url AWS_REGION=$${AWS_REGION:-us-east-1} \
	  AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test}; fi; \
	cargo run --quiet -p backfill --bin playback-backfill -- $(ARGS)

test-backfill: venv ## Backfill tests, including the stream/lake parity test and the S3 -> DynamoDB emulator test
	scripts/with-emulator.sh scripts/test-rust.sh -p backfill
