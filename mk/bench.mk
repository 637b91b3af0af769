# Benchmarks and the cost model (crates/bench, crates/cost-model). Included by
# the top Makefile (VENV, PY come from it); needs only cargo.
.PHONY: bench bench-quick bench-criterion cost cost-prices test-bench

BENCH_FUNCTIONS := qoe-alerts session-features sre-buffer firehose-transform

bench: ## Measure handlers, writes, Parquet landing, zips, init; print and update bench/RESULTS.md + measured.json
	cargo build --release -p bench $(addprefix -p ,$(BENCH_FUNCTIONS))
	$${CARGO_TARGET_DIR:-target}/release/bench $(BENCH_ARGS)

bench-quick: ## Fewer runs, no Parquet hour, no init timing; prints only (RESULTS.md untouched)
	cargo build --release -p bench
	$${CARGO_TARGET_DIR:-target}/release/bench --runs 5 --warmup 1 --skip-lake --skip-init --dry-run

bench-criterion: ## Criterion benches of the hot loops (decode, aggregate, handlers)
	cargo bench -p bench --bench handlers

cost: ## Monthly AWS cost table, packed vs one event per record (flags: COST_ARGS="--events-per-day 1e9 ...")
	cargo run --release --quiet -p cost-model -- $(COST_ARGS)

cost-prices: ## The cost model's price table (us-east-1, date, verified/assumed) with the estimate
	cargo run --release --quiet -p cost-model -- --prices $(COST_ARGS)

test-bench: ## Unit tests of the bench and cost-model crates
	cargo test -p bench -p cost-model
