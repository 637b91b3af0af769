#!/usr/bin/env bash
# Runs a command with AWS_ENDPOINT_URL pointing at an emulator: the one given
# in the environment (LocalStack users set it), else a moto server started for
# the command and stopped after it, whatever the command's outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  # A private server per command, so concurrent runs never stop each other's.
  EMULATOR_STATE=$(mktemp -d "${TMPDIR:-/tmp}/playback-moto.XXXXXX")
  export EMULATOR_STATE
  trap 'scripts/emulator.sh stop; rm -rf "$EMULATOR_STATE"' EXIT
  AWS_ENDPOINT_URL=$(scripts/emulator.sh start)
  export AWS_ENDPOINT_URL
fi
echo "emulator: $AWS_ENDPOINT_URL" >&2
"$@"
