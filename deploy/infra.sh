#!/usr/bin/env bash
# Local infrastructure for phoneunify, without Docker: a real single-node Apache Kafka (KRaft) and a
# private PostgreSQL cluster, both on 127.0.0.1, state under .local/ (PHONEUNIFY_LOCAL_DIR).
#
#   deploy/infra.sh up       fetch Kafka's jars if needed, start Kafka and PostgreSQL, wait until both serve
#   deploy/infra.sh down     stop both
#   deploy/infra.sh status   report both; exit 0 only if both serve
#   deploy/infra.sh env      print `export KAFKA_BOOTSTRAP=...` and `export DATABASE_URL=...` for eval
#
# Ports: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), PG_PORT (15432). A DATABASE_URL already in
# the environment means an external PostgreSQL (see deploy/postgres/postgres.sh). Logs: .local/logs/.
set -euo pipefail

# shellcheck disable=SC2034  # used by log/die in lib.sh
LOG_TAG=infra
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

KAFKA_SH="$HERE/kafka/kafka.sh"
PG_SH="$HERE/postgres/postgres.sh"

case "${1:-}" in
  up)
    t0=$SECONDS
    "$KAFKA_SH" start
    "$PG_SH" start
    log "up in $((SECONDS - t0)) s: KAFKA_BOOTSTRAP=127.0.0.1:${KAFKA_PORT:-19092} DATABASE_URL=$("$PG_SH" url)"
    ;;
  down)
    rc=0
    "$KAFKA_SH" stop || rc=1
    "$PG_SH" stop || rc=1
    exit "$rc"
    ;;
  status)
    rc=0
    "$KAFKA_SH" status || rc=1
    "$PG_SH" status || rc=1
    exit "$rc"
    ;;
  env)
    # %q: shell-quoted only where needed, so `eval "$(deploy/infra.sh env)"` is safe.
    printf 'export KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:${KAFKA_PORT:-19092}"
    printf 'export DATABASE_URL=%q\n' "$("$PG_SH" url)"
    ;;
  *)
    echo "usage: $0 up|down|status|env" >&2
    exit 2
    ;;
esac
