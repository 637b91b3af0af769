#!/usr/bin/env bash
# Runs a command with AWS_ENDPOINT_URL pointing at an emulator: the one given
# in the environment (LocalStack users set it), else a moto server started for
# the command and stopped after it, whatever the command's outcome.
# A given endpoint is probed first (moto's /moto-api/, LocalStack's
# /_localstack/health, until EMULATOR_WAIT_S, default 60 s): nothing runs
# against an emulator that is not there, or a LocalStack without the services
# the suite uses.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
# The services the tests, the demo and deploy-check call (docker-compose.yml
# starts LocalStack with these).
SERVICES=(kinesis dynamodb sqs s3 sns firehose iam lambda sts)

# Prints "moto" or "localstack" once the endpoint answers as one; fails with
# what it saw at the deadline.
probe() {
  local url=${1%/} deadline=$((SECONDS + ${EMULATOR_WAIT_S:-60})) seen="no answer" body
  while :; do
    if curl -fsS -m 5 -o /dev/null "$url/moto-api/" 2>/dev/null; then
      echo moto; return 0
    fi
    if body=$(curl -fsS -m 5 "$url/_localstack/health" 2>/dev/null); then
      # Ready once every service the suite uses is available or running.
      if seen=$(python3 - "$body" "${SERVICES[@]}" <<'EOF'
import json, sys
health, wanted = json.loads(sys.argv[1]), sys.argv[2:]
states = health.get("services", {})
bad = [f"{s}={states.get(s, 'absent')}" for s in wanted if states.get(s) not in ("available", "running")]
print(f"LocalStack {health.get('version', '?')} ({health.get('edition', '?')}): " + (", ".join(bad) or "ok"))
sys.exit(1 if bad else 0)
EOF
      ); then
        echo "emulator: $seen" >&2
        echo localstack; return 0
      fi
    fi
    if ((SECONDS >= deadline)); then
      echo "emulator: $url is not ready after ${EMULATOR_WAIT_S:-60} s ($seen)." >&2
      echo "  Expected moto (GET $url/moto-api/) or LocalStack (GET $url/_localstack/health" >&2
      echo "  with ${SERVICES[*]} available). For LocalStack: docker compose up -d --wait" >&2
      return 1
    fi
    sleep 1
  done
}

if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  # A private server per command, so concurrent runs never stop each other's.
  EMULATOR_STATE=$(mktemp -d "${TMPDIR:-/tmp}/playback-moto.XXXXXX")
  export EMULATOR_STATE
  trap 'scripts/emulator.sh stop; rm -rf "$EMULATOR_STATE"' EXIT
  AWS_ENDPOINT_URL=$(scripts/emulator.sh start)
  export AWS_ENDPOINT_URL
  kind=moto
else
  kind=$(probe "$AWS_ENDPOINT_URL")
fi
echo "emulator: $AWS_ENDPOINT_URL ($kind)" >&2
"$@"
