#!/usr/bin/env bash
# Starts/stops the local AWS emulator (moto server) on 127.0.0.1 and a free port.
#   scripts/emulator.sh start   -> prints the endpoint URL; state in .run/
#   scripts/emulator.sh stop    -> stops only the server this script started
#   scripts/emulator.sh url     -> prints the running endpoint URL
# With AWS_ENDPOINT_URL already set (e.g. LocalStack), nothing is started.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${EMULATOR_STATE:-.run}   # another dir = another, independent server
VENV=${VENV:-.venv}
mkdir -p "$RUN"

healthy() { curl -fsS -o /dev/null "$1/moto-api/" 2>/dev/null || curl -fsS -o /dev/null "$1/_localstack/health" 2>/dev/null; }

case "${1:-}" in
start)
  if [[ -f $RUN/moto.pid ]] && kill -0 "$(cat $RUN/moto.pid)" 2>/dev/null; then
    cat $RUN/moto.url; exit 0
  fi
  port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$RUN/moto.log" 2>&1 &
  echo $! >"$RUN/moto.pid"
  echo "$url" >"$RUN/moto.url"
  for _ in $(seq 1 100); do
    if healthy "$url"; then echo "$url"; exit 0; fi
    kill -0 "$(cat $RUN/moto.pid)" 2>/dev/null || { echo "moto server died; see $RUN/moto.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "moto server did not become healthy on $url; see $RUN/moto.log" >&2; exit 1 ;;
stop)
  if [[ -f $RUN/moto.pid ]]; then
    pid=$(cat $RUN/moto.pid)
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f $RUN/moto.pid $RUN/moto.url
  fi ;;
url)
  cat $RUN/moto.url ;;
*)
  echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
