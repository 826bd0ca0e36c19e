#!/usr/bin/env bash
# phoneunify's own processes (ingest, workers, resolver, writer, profiles, api) in the background, on top of
# the infrastructure from deploy/infra.sh, under a supervisor (phoneunify/supervisor.py): a process
# that exits is started again with backoff and counted; one that keeps exiting (or exits 78, a
# configuration error) is reported FATAL instead of restarted forever. State in .local/run/, logs
# in .local/logs/ (one per process, and supervisor.log). `workers` runs the extract stage and
# `resolver` (also `phoneunify workers`) the resolve and admin-command stages, as docker-compose.yml
# runs them.
#
#   deploy/stack.sh start    migrate, create topics, start the supervisor and wait until all serve
#   deploy/stack.sh stop     stop the supervisor, which stops every process (SIGTERM, then SIGKILL)
#   deploy/stack.sh status   each process: state, pid, restarts, last exit (exit 1 unless all run)
#   deploy/stack.sh exec CMD...   run CMD with the development environment below (make demo)
#
# deploy/dev.env sets development mode (PHONEUNIFY_ENV=dev) for variables the environment does not
# set at all; a variable set, even to the empty string, is left as it is. Ports: the processes'
# PHONEUNIFY_*_PORT settings, STACK_RESOLVER_PORT (6067) and STACK_SUPERVISOR_PORT (9110, the
# supervisor's /metrics).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL="${PHONEUNIFY_LOCAL_DIR:-$ROOT/.local}"
RUN="$LOCAL/run"
LOGS="$LOCAL/logs"
BIN="$ROOT/.venv/bin"
PID_FILE="$RUN/supervisor.pid"
# The resolver's /healthz and /metrics (the workers' is PHONEUNIFY_WORKER_WEB_PORT, 6066).
RESOLVER_PORT="${STACK_RESOLVER_PORT:-6067}"
SUPERVISOR_PORT="${STACK_SUPERVISOR_PORT:-9110}"
mkdir -p "$RUN" "$LOGS"

while IFS='=' read -r key value; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  [[ -z "${!key+set}" ]] && export "$key=$value"
done <"$ROOT/deploy/dev.env"

supervisor_alive() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF phoneunify.supervisor
}

status() { "$BIN/python" -m phoneunify.supervisor status --state-dir "$RUN"; }

wait_http() {  # name url: bounded wait until the process answers, or the supervisor gave up on it
  local name=$1 url=$2 deadline=$((SECONDS + 90))
  until curl -fs -m 2 -o /dev/null "$url"; do
    if ! supervisor_alive; then
      echo "[stack] the supervisor exited; last lines of its log:" >&2
      tail -n 30 "$LOGS/supervisor.log" >&2
      return 1
    fi
    if status 2>/dev/null | grep -q "^$name: FATAL"; then
      echo "[stack] $name keeps exiting and was given up; last log lines:" >&2
      tail -n 30 "$LOGS/$name.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "[stack] $name did not answer at $url within 90 s" >&2
      tail -n 30 "$LOGS/$name.log" >&2
      return 1
    fi
    sleep 0.3
  done
}

start() {
  if supervisor_alive; then
    echo "[stack] already running (supervisor pid $(cat "$PID_FILE")); deploy/stack.sh status for details"
    return
  fi
  "$BIN/phoneunify" migrate
  "$BIN/phoneunify" topics
  local pu="$BIN/phoneunify"
  nohup "$BIN/python" -m phoneunify.supervisor run --state-dir "$RUN" --log-dir "$LOGS" \
    --metrics-port "$SUPERVISOR_PORT" \
    "workers=env PHONEUNIFY_WORKER_STAGES=extract $pu workers" \
    "resolver=env PHONEUNIFY_WORKER_STAGES=resolve,commands PHONEUNIFY_WORKER_WEB_PORT=$RESOLVER_PORT $pu workers" \
    "writer=$pu writer" "profiles=$pu profiles" "ingest=$pu ingest" "api=$pu api" >>"$LOGS/supervisor.log" 2>&1 &
  echo $! >"$PID_FILE"
  echo "[stack] supervisor started (pid $!, log $LOGS/supervisor.log, metrics :$SUPERVISOR_PORT)"
  wait_http workers "http://127.0.0.1:${PHONEUNIFY_WORKER_WEB_PORT:-6066}/healthz"
  wait_http resolver "http://127.0.0.1:$RESOLVER_PORT/healthz"
  wait_http writer "http://127.0.0.1:${PHONEUNIFY_WRITER_METRICS_PORT:-9108}/metrics"
  wait_http profiles "http://127.0.0.1:${PHONEUNIFY_PROFILE_METRICS_PORT:-9111}/metrics"
  wait_http ingest "http://127.0.0.1:${PHONEUNIFY_INGEST_PORT:-8080}/healthz"
  wait_http api "http://127.0.0.1:${PHONEUNIFY_API_PORT:-8090}/healthz"
  echo "[stack] up: ingest :${PHONEUNIFY_INGEST_PORT:-8080}, api :${PHONEUNIFY_API_PORT:-8090}, logs in $LOGS"
}

stop() {
  if supervisor_alive; then
    local pid deadline
    pid="$(cat "$PID_FILE")"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 40))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "[stack] stopped"
  fi
  rm -f "$PID_FILE"
  # A supervisor killed outright leaves its programs running: stop them by the pids it recorded.
  if [[ -f "$RUN/supervisor.json" ]]; then
    "$BIN/python" - "$RUN/supervisor.json" <<'PY'
import json, os, signal, sys
for name, program in json.load(open(sys.argv[1]))["programs"].items():
    pid = program.get("pid")
    try:
        if pid and b"phoneunify" in open(f"/proc/{pid}/cmdline", "rb").read():
            os.killpg(pid, signal.SIGTERM)
            print(f"[stack] {name}: stopped an orphan (pid {pid})")
    except (OSError, ProcessLookupError):
        pass
PY
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  exec)
    shift
    exec "$@"
    ;;
  *)
    echo "usage: $0 start|stop|status|exec CMD..." >&2
    exit 2
    ;;
esac
