#!/usr/bin/env bash
# PostgreSQL for local development and tests.
#
#   deploy/postgres/postgres.sh start    start the private cluster (initdb on first use) and ensure role/db
#   deploy/postgres/postgres.sh stop     pg_ctl stop -m fast (PG_STOP_MODE=immediate: as a crash would, for
#                                        the fault suite: no checkpoint, every connection cut)
#   deploy/postgres/postgres.sh status   exit 0 if the server accepts connections
#   deploy/postgres/postgres.sh url      print the SQLAlchemy URL (postgresql+psycopg2://...)
#
# If DATABASE_URL is set (and is not this private cluster's own URL), that server is used: start/stop
# only check that it answers. Otherwise a PRIVATE cluster runs from the newest /usr/lib/postgresql/*/bin
# (apt-get installs postgresql if there is none): data in $PHONEUNIFY_LOCAL_DIR/postgres/data, port
# PG_PORT (15432) on 127.0.0.1 only, unix socket in $PHONEUNIFY_LOCAL_DIR/postgres/run, run as the
# `postgres` system user. The machine's default cluster is never touched.
# Role and database `phoneunify` (password `phoneunify`, CREATEDB so tests can create their own databases).
#
# Environment (all optional): PG_PORT (15432), PHONEUNIFY_LOCAL_DIR (<repo>/.local), PG_USER (postgres),
#   PG_START_TIMEOUT (60 s), PG_STOP_TIMEOUT (60 s), DATABASE_URL.
set -euo pipefail

# shellcheck disable=SC2034  # used by log/die in lib.sh
LOG_TAG=postgres
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/../lib.sh"

PG_PORT="${PG_PORT:-15432}"
[[ "$PG_PORT" =~ ^[0-9]+$ ]] || die "PG_PORT must be a number (got '$PG_PORT')"
PG_USER="${PG_USER:-postgres}"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"
STOP_TIMEOUT="${PG_STOP_TIMEOUT:-60}"
DB_NAME=phoneunify
DB_ROLE=phoneunify
DB_PASSWORD=phoneunify
PRIVATE_URL="postgresql+psycopg2://$DB_ROLE:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
LOG_FILE="$LOG_DIR/postgres.log"

# External server mode: DATABASE_URL given by the environment. The private cluster's own URL (for
# example after `eval "$(deploy/infra.sh env)"` in a shell) still means the private cluster.
EXTERNAL_URL=""
if [[ -n "${DATABASE_URL:-}" && "${DATABASE_URL}" != "$PRIVATE_URL" ]]; then
  EXTERNAL_URL="$DATABASE_URL"
fi

# ---------------------------------------------------------------------------------------------------
# Where the cluster lives. The postgres user must be able to traverse every directory down to the data
# dir; a repo under a root-only path (e.g. a 0700 home) is not, and then the cluster goes under the
# postgres user's own home, in a directory named after the repo path so that clones do not share it.
pg_can_reach() { (cd / && runuser -u "$PG_USER" -- test -x "$1" -a -r "$1") 2>/dev/null; }

choose_cluster_dir() {
  local want="$LOCAL_DIR/postgres"
  mkdir -p "$want" && chmod 755 "$want"
  if pg_can_reach "$want"; then
    PG_DIR="$want"
  else
    local home tag
    home="$(getent passwd "$PG_USER" | cut -d: -f6)"
    [[ -n "$home" && -d "$home" ]] || home=/var/lib/postgresql
    tag="$(printf '%s' "$LOCAL_DIR" | sha256sum | cut -c1-12)"
    PG_DIR="$home/phoneunify-$tag"
    install -d -o "$PG_USER" -g "$(id -gn "$PG_USER")" -m 700 "$PG_DIR"
    # A pointer for humans, in the place where the cluster would have been.
    printf '%s\n' "$PG_DIR" >"$want/LOCATION"
    if [[ ! -d "$PG_DIR/data" ]]; then
      log "user $PG_USER cannot traverse to $want: the cluster lives in $PG_DIR instead"
    fi
  fi
  PG_DATA="$PG_DIR/data"
  PG_SOCK="$PG_DIR/run"
}

find_pg_bin() {
  local d
  d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then PG_BIN="$d"; return 0; fi
  return 1
}

ensure_server_binaries() {
  if ! find_pg_bin; then
    apt_install postgresql
    find_pg_bin || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
  fi
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "creating system user $PG_USER"
    useradd --system --user-group --home-dir /var/lib/postgresql --create-home --shell /bin/bash "$PG_USER" \
      || die "could not create system user $PG_USER"
  fi
}

as_pg() { (cd / && runuser -u "$PG_USER" -- "$@"); }
pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }
psql_super() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

# libpq understands postgresql://... but not SQLAlchemy's postgresql+driver://...
libpq_url() { printf '%s' "$1" | sed -E 's#^postgres(ql)?(\+[a-z0-9_]+)?://#postgresql://#'; }

ready() {
  local url="$1" isready
  isready="$(command -v pg_isready || true)"
  [[ -n "${PG_BIN:-}" && -x "$PG_BIN/pg_isready" ]] && isready="$PG_BIN/pg_isready"
  if [[ -n "$isready" ]]; then
    timeout 10 "$isready" -q -t 5 -d "$(libpq_url "$url")"
  else
    local hostport host port
    hostport="$(printf '%s' "$url" | sed -E 's#^[^/]*//([^@/]*@)?([^/?]*).*#\2#')"
    host="${hostport%:*}"; port="${hostport##*:}"
    [[ "$port" == "$hostport" ]] && port=5432
    port_open "$host" "$port"
  fi
}

# ---------------------------------------------------------------------------------------------------
init_cluster() {
  install -d -o "$PG_USER" -g "$(id -gn "$PG_USER")" -m 700 "$PG_DATA"
  install -d -o "$PG_USER" -g "$(id -gn "$PG_USER")" -m 755 "$PG_SOCK"
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  log "initdb into $PG_DATA ($("$PG_BIN/postgres" --version))"
  # Local socket: peer (only the postgres OS user is the superuser). TCP: passwords (scram).
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$LOG_FILE" 2>&1 \
    || { tail -n 30 "$LOG_FILE" >&2; die "initdb failed (log above)"; }
  printf "\n# Settings for phoneunify's private test cluster (deploy/postgres/postgres.sh).\ninclude_if_exists = 'phoneunify.conf'\n" \
    | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

write_conf() {
  # Rendered on every start, so that PG_PORT changes apply.
  as_pg tee "$PG_DATA/phoneunify.conf" >/dev/null <<EOF
# Generated by deploy/postgres/postgres.sh on every start: edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
# A resolver transaction holds up to 3 advisory locks per message (PHONEUNIFY_RESOLVE_BATCH_SIZE
# of them): room for several workers' batches at once.
max_locks_per_transaction = 256
shared_buffers = 128MB
work_mem = 4MB
maintenance_work_mem = 64MB
# Durability stays on: the tests check it.
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 512MB
# Logging to stderr, which pg_ctl hands to $LOG_FILE.
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = -1
log_lock_waits = on
EOF
}

ensure_role_and_db() {
  psql_super <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE') THEN
    CREATE ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE $DB_ROLE LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SQL
  if [[ "$(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
    log "creating database $DB_NAME"
    psql_super -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
  fi
}

# A server on PG_PORT that is not ours but accepts our role's password (for example the private cluster
# of another checkout, while CI runs in a fresh clone on the same machine): usable as it is.
foreign_usable() {
  port_open 127.0.0.1 "$PG_PORT" || return 1
  PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 timeout 15 "$PG_BIN/psql" -X -q -tA \
    -h 127.0.0.1 -p "$PG_PORT" -U "$DB_ROLE" -d "$DB_NAME" -c 'select 1' </dev/null 2>/dev/null | grep -qx 1
}

private_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && pg_ctl_ status >/dev/null 2>&1; }

cmd_start() {
  if [[ -n "$EXTERNAL_URL" ]]; then
    ready "$EXTERNAL_URL" || die "DATABASE_URL is set but that server does not answer"
    log "using the server from DATABASE_URL (answers); not starting a private cluster"
    return 0
  fi
  ensure_server_binaries
  choose_cluster_dir
  mkdir -p "$LOG_DIR"
  exec 9>"$LOCAL_DIR/postgres/.lock"
  flock -w 120 9 || die "another postgres.sh holds $LOCAL_DIR/postgres/.lock for over 120 s"
  if private_running; then
    log "already running ($PG_DATA, 127.0.0.1:$PG_PORT)"
  else
    if foreign_usable; then
      log "127.0.0.1:$PG_PORT is already served by another PostgreSQL (another checkout's cluster?) that" \
          "accepts $DB_ROLE/$DB_PASSWORD: using it; stop it from there, or pick another PG_PORT"
      return 0
    fi
    port_open 127.0.0.1 "$PG_PORT" && die "port 127.0.0.1:$PG_PORT is in use by another program (set PG_PORT)"
    rotate_log "$LOG_FILE"
    init_cluster
    write_conf
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DATA), log $LOG_FILE"
    # No -l: the server's stderr is inherited from pg_ctl, whose output root opens here, so the log can
    # live where the postgres user could not write. -w -t: wait, bounded.
    # 9>&-: the server must not inherit (and so hold forever) the lock.
    if ! pg_ctl_ start -w -t "$START_TIMEOUT" -s >>"$LOG_FILE" 2>&1 </dev/null 9>&-; then
      tail -n 30 "$LOG_FILE" >&2
      die "PostgreSQL did not start within ${START_TIMEOUT}s (log above)"
    fi
  fi
  ensure_role_and_db
  ready "$PRIVATE_URL" || die "started, but 127.0.0.1:$PG_PORT does not answer"
  log "ready: $PRIVATE_URL"
}

cmd_stop() {
  if [[ -n "$EXTERNAL_URL" ]]; then
    log "DATABASE_URL points at an external server: nothing to stop"
    return 0
  fi
  if ! find_pg_bin; then log "no PostgreSQL installed: nothing to stop"; return 0; fi
  choose_cluster_dir
  exec 9>"$LOCAL_DIR/postgres/.lock"
  flock -w 120 9 || die "another postgres.sh holds $LOCAL_DIR/postgres/.lock for over 120 s"
  if ! private_running; then log "not running (from this checkout)"; return 0; fi
  local mode="${PG_STOP_MODE:-fast}"
  [[ "$mode" == fast || "$mode" == immediate ]] || die "PG_STOP_MODE must be fast or immediate (got '$mode')"
  log "stopping ($PG_DATA, $mode mode, up to ${STOP_TIMEOUT}s)"
  pg_ctl_ stop -m "$mode" -w -t "$STOP_TIMEOUT" -s \
    || { log "fast shutdown timed out: immediate"; pg_ctl_ stop -m immediate -w -t 30 -s; }
  log "stopped"
}

cmd_status() {
  if [[ -n "$EXTERNAL_URL" ]]; then
    if ready "$EXTERNAL_URL"; then echo "postgres: external server from DATABASE_URL answers"; return 0; fi
    echo "postgres: external server from DATABASE_URL does not answer"; return 1
  fi
  if ! find_pg_bin; then echo "postgres: not installed"; return 1; fi
  choose_cluster_dir
  if private_running && ready "$PRIVATE_URL"; then
    echo "postgres: running, 127.0.0.1:$PG_PORT, data $PG_DATA, log $LOG_FILE"
    return 0
  fi
  if foreign_usable; then
    echo "postgres: 127.0.0.1:$PG_PORT served by another PostgreSQL (not this checkout's) that accepts $DB_ROLE"
    return 0
  fi
  echo "postgres: stopped (data $PG_DATA)"
  return 1
}

cmd_url() {
  if [[ -n "$EXTERNAL_URL" ]]; then echo "$EXTERNAL_URL"; else echo "$PRIVATE_URL"; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) cmd_url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
