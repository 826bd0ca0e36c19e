#!/usr/bin/env bash
# phoneunify's own processes (ingest, workers, resolver, writer, api) in the background, on top of
# the infrastructure from deploy/infra.sh. Pid files in .local/run/, logs in .local/logs/.
# `workers` runs the extract stage and `resolver` (also `phoneunify workers`) the resolve and
# admin-command stages, as docker-compose.yml runs them.
#
#   deploy/stack.sh start    start every process that is not already running (harmless twice)
#   deploy/stack.sh stop     stop them (SIGTERM, then SIGKILL after a deadline)
#   deploy/stack.sh status   report each
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL="${PHONEUNIFY_LOCAL_DIR:-$ROOT/.local}"
RUN="$LOCAL/run"
LOGS="$LOCAL/logs"
BIN="$ROOT/.venv/bin"
PROCESSES=(workers resolver writer ingest api)
# The resolver's /healthz and /metrics (the workers' is PHONEUNIFY_WORKER_WEB_PORT, 6066).
RESOLVER_PORT="${STACK_RESOLVER_PORT:-6067}"
mkdir -p "$RUN" "$LOGS"

# Development secrets for variables the environment does not set already.
while IFS='=' read -r key value; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  [[ -z "${!key:-}" ]] && export "$key=$value"
done <"$ROOT/deploy/dev.env"

alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_one() {  # name: runs `phoneunify <name>`, except the two workers processes
  local name=$1
  if alive "$name"; then
    echo "[stack] $name already running (pid $(cat "$RUN/$name.pid"))"
    return
  fi
  local command=("$BIN/phoneunify" "$name")
  case "$name" in
    workers) command=(env PHONEUNIFY_WORKER_STAGES=extract "$BIN/phoneunify" workers) ;;
    resolver)
      command=(env PHONEUNIFY_WORKER_STAGES=resolve,commands PHONEUNIFY_WORKER_WEB_PORT="$RESOLVER_PORT"
        "$BIN/phoneunify" workers)
      ;;
  esac
  nohup "${command[@]}" >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
  echo "[stack] $name started (pid $!, log $LOGS/$name.log)"
}

wait_http() {  # name url: bounded wait until the process answers
  local name=$1 url=$2 deadline=$((SECONDS + 60))
  until curl -fs -m 2 -o /dev/null "$url"; do
    if ! alive "$name"; then
      echo "[stack] $name exited; last log lines:" >&2
      tail -n 30 "$LOGS/$name.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "[stack] $name did not answer at $url within 60 s" >&2
      tail -n 30 "$LOGS/$name.log" >&2
      return 1
    fi
    sleep 0.3
  done
}

stop_one() {
  local name=$1
  if ! alive "$name"; then
    rm -f "$RUN/$name.pid"
    return
  fi
  local pid deadline
  pid=$(cat "$RUN/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
  echo "[stack] $name stopped"
}

case "${1:-}" in
  start)
    "$BIN/phoneunify" migrate
    "$BIN/phoneunify" topics
    for p in "${PROCESSES[@]}"; do start_one "$p"; done
    wait_http workers "http://127.0.0.1:${PHONEUNIFY_WORKER_WEB_PORT:-6066}/healthz"
    wait_http resolver "http://127.0.0.1:$RESOLVER_PORT/healthz"
    wait_http writer "http://127.0.0.1:${PHONEUNIFY_WRITER_METRICS_PORT:-9108}/metrics"
    wait_http ingest "http://127.0.0.1:${PHONEUNIFY_INGEST_PORT:-8080}/healthz"
    wait_http api "http://127.0.0.1:${PHONEUNIFY_API_PORT:-8090}/healthz"
    echo "[stack] up: ingest :${PHONEUNIFY_INGEST_PORT:-8080}, api :${PHONEUNIFY_API_PORT:-8090}, logs in $LOGS"
    ;;
  stop)
    for p in api ingest workers resolver writer; do stop_one "$p"; done
    ;;
  status)
    for p in "${PROCESSES[@]}"; do
      if alive "$p"; then echo "$p: running (pid $(cat "$RUN/$p.pid"))"; else echo "$p: stopped"; fi
    done
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
