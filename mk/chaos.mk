# The fault-injection run: the demo's scenario while the local runner is
# SIGKILLed and restarted (a short version runs in `make test`).
.PHONY: chaos

CHAOS_ARGS ?=

chaos: venv ## SIGKILL the local runner 8 times during 90 s of load; prints kills, restarts, lost / double counted / DLQ / alerts (CHAOS_ARGS="--kills 12")
	cargo build --quiet -p demo --bins
	scripts/with-emulator.sh cargo run --quiet -p demo --bin playback-chaos -- $(CHAOS_ARGS)
