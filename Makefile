# Playback telemetry pipeline. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
FUNCTIONS := qoe-alerts session-features sre-buffer firehose-transform royalty-close canonical-merge long-horizon-features collector
export PATH := $(abspath $(VENV))/bin:$(PATH)

-include infra/Makefile.fragment
-include mk/*.mk

.PHONY: help venv build demo deploy-check test test-rust lint fmt emulator-up emulator-down clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt $(wildcard infra/requirements.txt)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt $(if $(wildcard infra/requirements.txt),-r infra/requirements.txt)
	touch $@

venv: $(VENV)/.installed ## Create the project venv (moto, cargo-lambda, ziglang, ...)

build: venv ## Build every Lambda for arm64 as target/lambda/<fn>/bootstrap.zip
	cargo lambda build --release --arm64 --output-format zip $(addprefix -p ,$(FUNCTIONS))

demo: venv ## The whole pipeline on this machine: incident + bad build -> alerts, features, DLQ, Parquet, chart, royalty close
	scripts/with-emulator.sh cargo run --quiet -p demo -- $(DEMO_ARGS)

deploy-check: build ## Deploy every built Lambda into the emulator (packaging check)
	scripts/with-emulator.sh $(PY) scripts/deploy_check.py $(FUNCTIONS)

# Rust tests: a unit pass, then the emulator pass (the tests marked
# #[ignore = "emulator: run via make test"]) against one emulator; the last
# lines say how many ran (scripts/test-rust.sh).
test: venv ## Run the whole test suite (unit, emulator integration, infra)
	scripts/with-emulator.sh scripts/test-rust.sh --workspace --all-targets
	@if grep -q '^infra-test:' infra/Makefile.fragment 2>/dev/null; then $(MAKE) --no-print-directory infra-test; fi

test-rust: venv ## Only the Rust tests (unit pass, then emulator pass, against a moto server started for them)
	scripts/with-emulator.sh scripts/test-rust.sh --workspace --all-targets

lint: ## cargo fmt --check and clippy -D warnings
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: ## Format the Rust code
	cargo fmt --all

emulator-up: venv ## Start a moto server in the background (prints its URL)
	@scripts/emulator.sh start

emulator-down: ## Stop the moto server started by emulator-up
	@scripts/emulator.sh stop

clean: ## Remove build outputs and the venv
	cargo clean
	rm -rf $(VENV) .run infra/cdk.out
