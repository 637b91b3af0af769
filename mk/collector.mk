# The ingest edge's load test (crates/demo/src/collector_load.rs); its short
# version runs in `make test` (crates/demo/tests/collector_load.rs).

.PHONY: load-collector

LOAD_ARGS ?=

load-collector: venv ## Players POST 200 000 events to the local collector (release build, 127.0.0.1) while 5 % of PutRecords entries fail; prints requests/s, p50/p99, events per record, lost (LOAD_ARGS="--linger-ms 0 --events 1000000")
	scripts/with-emulator.sh cargo run --quiet --release -p demo --bin collector-load -- $(LOAD_ARGS)
