#!/usr/bin/env bash
# The Rust tests in two passes, then one line each saying what ran:
#   1. unit pass:     cargo test <selection>              (no AWS_ENDPOINT_URL;
#                                                          emulator tests: ignored)
#   2. emulator pass: cargo test <selection> -- --ignored (against AWS_ENDPOINT_URL)
# Emulator tests are marked #[ignore = "emulator: run via make test"], so a
# plain `cargo test` lists them as ignored instead of passing them without an
# emulator. A moto-only test that finds another emulator prints
# `SKIPPED(moto-only): <test>: <reason>` and is counted as skipped here. The
# unit pass runs without AWS_ENDPOINT_URL, so an emulator test that lacks the
# #[ignore] fails there (its helper panics) instead of passing unnoticed.
# Run it through scripts/with-emulator.sh (make test does):
#   scripts/with-emulator.sh scripts/test-rust.sh [cargo test selection]
# The selection defaults to --workspace --all-targets.
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  echo "test-rust: AWS_ENDPOINT_URL is not set; run through scripts/with-emulator.sh" >&2
  exit 2
fi
sel=("$@")
[[ ${#sel[@]} -gt 0 ]] || sel=(--workspace --all-targets)
logs=$(mktemp -d "${TMPDIR:-/tmp}/playback-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT

env -u AWS_ENDPOINT_URL cargo test --no-fail-fast "${sel[@]}" 2>&1 | tee "$logs/unit.log"
unit_rc=${PIPESTATUS[0]}
echo "==> emulator pass ($AWS_ENDPOINT_URL): the #[ignore = \"emulator: ...\"] tests"
cargo test --no-fail-fast "${sel[@]}" -- --ignored 2>&1 | tee "$logs/emulator.log"
emulator_rc=${PIPESTATUS[0]}

# Sums a count ("passed", "failed", "ignored") over the libtest summary lines
# `test result: ok. 15 passed; 0 failed; 2 ignored; 0 measured; ...`.
count() {
  awk -v what="$2" '/^test result: / {
    for (i = 2; i <= NF; i++) { w = $i; sub(/[;,.]$/, "", w); if (w == what) n += $(i - 1) }
  } END { print n + 0 }' "$1"
}
# moto-only tests that skipped (the line may share a line of output with the
# harness', so match it anywhere; each test counts once).
skipped=$(grep -o 'SKIPPED(moto-only): [A-Za-z0-9_:]*' "$logs/emulator.log" | sort -u | wc -l)
unit_passed=$(count "$logs/unit.log" passed)
unit_failed=$(count "$logs/unit.log" failed)
unit_ignored=$(count "$logs/unit.log" ignored)
emu_passed=$(count "$logs/emulator.log" passed)
emu_failed=$(count "$logs/emulator.log" failed)

rc=0
[[ $unit_rc -eq 0 && $emulator_rc -eq 0 ]] || rc=1
if [[ $((emu_passed + emu_failed)) -eq 0 ]]; then
  echo "test-rust: the emulator pass ran no test" >&2
  rc=1
elif [[ $((emu_passed + emu_failed)) -ne $unit_ignored ]]; then
  echo "test-rust: $unit_ignored tests ignored in the unit pass, but $((emu_passed + emu_failed)) ran in the emulator pass" >&2
  rc=1
fi
# On moto itself nothing may skip: a skip there means the detection broke.
if [[ $skipped -gt 0 ]] && curl -fsS -m 5 -o /dev/null "${AWS_ENDPOINT_URL%/}/moto-api/" 2>/dev/null; then
  echo "test-rust: $skipped moto-only tests skipped although $AWS_ENDPOINT_URL is moto" >&2
  rc=1
fi
grep -o 'SKIPPED(moto-only): .*' "$logs/emulator.log" | sort -u || true
echo "unit: $unit_passed passed, $unit_failed failed ($unit_ignored emulator tests ignored there, run in the emulator pass)"
echo "emulator: $((emu_passed - skipped)) passed, $emu_failed failed, $skipped skipped"
exit $rc
