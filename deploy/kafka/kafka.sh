#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1, run from Maven Central jars.
#
#   deploy/kafka/kafka.sh fetch    copy the broker's runtime jars into the cache (Maven; skipped when warm)
#   deploy/kafka/kafka.sh start    fetch, format storage once, start in the background, wait until serving
#   deploy/kafka/kafka.sh stop     SIGTERM, wait, SIGKILL after a deadline
#   deploy/kafka/kafka.sh kill     SIGKILL at once, as a crash would (the fault suite's)
#   deploy/kafka/kafka.sh status   exit 0 if running and serving, 1 otherwise
#
# Environment (all optional):
#   KAFKA_PORT (19092)  KAFKA_CONTROLLER_PORT (19093)
#   PHONEUNIFY_LOCAL_DIR (<repo>/.local): data in kafka/, log in logs/kafka.log
#   PHONEUNIFY_KAFKA_JARS (${XDG_CACHE_HOME:-$HOME/.cache}/phoneunify/kafka-4.3.1/jars)
#   KAFKA_HEAP_OPTS ("-Xms256m -Xmx512m")  KAFKA_START_TIMEOUT (90 s)  KAFKA_STOP_TIMEOUT (30 s)
#   KAFKA_FETCH_TIMEOUT (900 s)  JAVA (java)  MVN (mvn)
set -euo pipefail

# shellcheck disable=SC2034  # used by log/die in lib.sh
LOG_TAG=kafka
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/../lib.sh"

KAFKA_VERSION=4.3.1
HERE="$REPO_ROOT/deploy/kafka"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
JAR_DIR="${PHONEUNIFY_KAFKA_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/phoneunify/kafka-$KAFKA_VERSION/jars}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
FETCH_TIMEOUT="${KAFKA_FETCH_TIMEOUT:-900}"
JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"

KDIR="$LOCAL_DIR/kafka"
DATA_DIR="$KDIR/data"
TMP_DIR="$KDIR/tmp"          # java.io.tmpdir and the zstd/snappy native-library unpack dir
CONF="$KDIR/server.properties"
CLUSTER_ID_FILE="$KDIR/cluster.id"
PID_FILE="$KDIR/kafka.pid"
LOG_FILE="$LOG_DIR/kafka.log"
LOCK_FILE="$KDIR/.lock"
MAIN_CLASS=kafka.Kafka

for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] || die "ports must be numbers (KAFKA_PORT=$KAFKA_PORT KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT)"
done
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

with_lock() {
  mkdir -p "$KDIR"
  exec 9>"$LOCK_FILE"
  flock -w 120 9 || die "another kafka.sh holds $LOCK_FILE for over 120 s"
}

ensure_tools() {
  local need=()
  command -v "$JAVA" >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  if [[ "${1:-}" == mvn ]] && ! command -v "$MVN" >/dev/null 2>&1; then need+=(maven); fi
  if ((${#need[@]})); then apt_install "${need[@]}"; fi
  local jv
  jv="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  if ! [[ "${jv%%.*}" =~ ^[0-9]+$ ]] || ((${jv%%.*} < 17)); then
    die "Kafka $KAFKA_VERSION needs Java 17+, found '$jv' ($JAVA)"
  fi
}

# The cache is complete when its stamp matches the pom that produced it.
pom_stamp() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }
cache_complete() {
  [[ -f "$JAR_DIR/.complete" ]] && [[ "$(cat "$JAR_DIR/.complete")" == "$(pom_stamp)" ]] \
    && compgen -G "$JAR_DIR/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null
}

cmd_fetch() {
  if cache_complete; then
    log "jars cached: $JAR_DIR ($(find "$JAR_DIR" -name '*.jar' | wc -l) jars)"
    return 0
  fi
  ensure_tools mvn
  local parent tmp t0
  parent="$(dirname "$JAR_DIR")"
  mkdir -p "$parent"
  tmp="$(mktemp -d "$parent/.jars.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  log "fetching Kafka $KAFKA_VERSION runtime jars with Maven into $JAR_DIR (bounded to ${FETCH_TIMEOUT}s)"
  t0=$SECONDS
  # Run from the temporary dir so that nothing Maven writes lands in the work tree. Debian's Maven 3.8
  # prints bare colour-reset codes even with -q -B: strip them (pipefail keeps Maven's exit status).
  if ! (cd "$tmp" && timeout "$FETCH_TIMEOUT" "$MVN" -q -B -Dstyle.color=never \
          -Dmaven.wagon.http.retryHandler.count=3 \
          -f "$HERE/pom.xml" dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$tmp/jars") 2>&1 \
       | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
    die "Maven could not fetch the Kafka jars (see the output above; is Maven Central reachable?)"
  fi
  [[ -f "$tmp/jars/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  pom_stamp >"$tmp/jars/.complete"
  rm -rf "$JAR_DIR"
  mv "$tmp/jars" "$JAR_DIR"
  rm -rf "$tmp"
  trap - EXIT
  log "fetched $(find "$JAR_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - t0)) s"
}

running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  pid_alive "$pid" "$MAIN_CLASS $CONF" || return 1
  echo "$pid"
}

# foreign_broker: prints the pid of a Kafka broker from ANOTHER checkout (other .local dir) that serves
# 127.0.0.1:$KAFKA_PORT, e.g. the developer's broker while CI runs in a fresh clone on the same machine.
foreign_broker() {
  local cmdf pid conf
  for cmdf in /proc/[0-9]*/cmdline; do
    pid="${cmdf#/proc/}"; pid="${pid%/cmdline}"
    conf="$(tr '\0' '\n' <"$cmdf" 2>/dev/null | grep -A1 -x "$MAIN_CLASS" | tail -n +2 || true)"
    [[ -n "$conf" && "$conf" != "$CONF" && -r "$conf" ]] || continue
    if grep -Eq "^listeners=.*//127\.0\.0\.1:$KAFKA_PORT(,|$)" "$conf"; then echo "$pid $conf"; return 0; fi
  done
  return 1
}

render_config() {
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_DATA_DIR@|$DATA_DIR|g" \
      "$HERE/server.properties.in" >"$CONF.tmp"
  mv -f "$CONF.tmp" "$CONF"
}

java_cmd() {
  # shellcheck disable=SC2206
  local heap=($KAFKA_HEAP_OPTS)
  JAVA_CMD=("$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent
    -Djava.awt.headless=true -Djava.io.tmpdir="$TMP_DIR"
    -DZstdTempFolder="$TMP_DIR" -Dorg.xerial.snappy.tempdir="$TMP_DIR"
    -Dlog4j2.configurationFile="$HERE/log4j2.xml"
    -cp "$JAR_DIR/*")
}

format_storage() {
  java_cmd
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    "${JAVA_CMD[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE" | grep -E "^[A-Za-z0-9_-]{22}$" | tail -n1 >"$CLUSTER_ID_FILE.tmp" || true
    [[ -s "$CLUSTER_ID_FILE.tmp" ]] || die "could not generate a cluster id (see $LOG_FILE)"
    mv -f "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
  fi
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  log "formatting storage in $DATA_DIR (cluster id $(cat "$CLUSTER_ID_FILE"))"
  "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$(cat "$CLUSTER_ID_FILE")" -c "$CONF" \
    --ignore-formatted >>"$LOG_FILE" 2>&1 || { tail -n 30 "$LOG_FILE" >&2; die "storage format failed"; }
}

cmd_start() {
  with_lock
  local pid
  if pid="$(running_pid)"; then
    if port_open 127.0.0.1 "$KAFKA_PORT"; then
      log "already running (pid $pid), serving on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    log "process $pid is running but 127.0.0.1:$KAFKA_PORT does not answer yet; waiting"
  else
    local other
    if port_open 127.0.0.1 "$KAFKA_PORT" && other="$(foreign_broker)"; then
      log "127.0.0.1:$KAFKA_PORT is already served by a Kafka broker of another checkout (pid ${other% *}," \
          "config ${other#* }): using it; stop it from there, or pick another KAFKA_PORT / KAFKA_CONTROLLER_PORT"
      return 0
    fi
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      port_open 127.0.0.1 "$p" && die "port 127.0.0.1:$p is in use by another program (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
    done
    cmd_fetch
    ensure_tools
    mkdir -p "$DATA_DIR" "$TMP_DIR" "$LOG_DIR"
    rotate_log "$LOG_FILE"
    render_config
    format_storage
    java_cmd
    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT), log $LOG_FILE"
    # setsid: its own session, so that the broker outlives the calling shell (make, CI step, terminal).
    # 9>&-: the broker must not inherit (and so hold forever) the lock.
    (cd "$KDIR" && exec setsid "${JAVA_CMD[@]}" "$MAIN_CLASS" "$CONF" </dev/null >>"$LOG_FILE" 2>&1 9>&-) &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi
  local deadline=$((SECONDS + START_TIMEOUT)) t0=$SECONDS
  while ! port_open 127.0.0.1 "$KAFKA_PORT"; do
    if ! pid_alive "$pid" "$MAIN_CLASS"; then
      rm -f "$PID_FILE"
      tail -n 40 "$LOG_FILE" >&2 || true
      die "Kafka exited during startup (log above, full log $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LOG_FILE" >&2 || true
      die "Kafka did not serve on 127.0.0.1:$KAFKA_PORT within ${START_TIMEOUT}s (still running as pid $pid; log above)"
    fi
    sleep 0.5
  done
  log "ready: 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - t0)) s)"
}

cmd_stop() {
  with_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (from this checkout)"
    return 0
  fi
  log "stopping pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$pid" "$MAIN_CLASS"; do
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_kill() {
  with_lock
  local pid
  if pid="$(running_pid)"; then
    log "killing pid $pid (SIGKILL)"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid" "$MAIN_CLASS"; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open 127.0.0.1 "$KAFKA_PORT"; then
      echo "kafka: running (pid $pid), bootstrap 127.0.0.1:$KAFKA_PORT, data $DATA_DIR, log $LOG_FILE"
      return 0
    fi
    echo "kafka: process $pid running but 127.0.0.1:$KAFKA_PORT not serving (starting, or stuck: see $LOG_FILE)"
    return 1
  fi
  local other
  if port_open 127.0.0.1 "$KAFKA_PORT" && other="$(foreign_broker)"; then
    echo "kafka: 127.0.0.1:$KAFKA_PORT served by a broker of another checkout (pid ${other% *}, config ${other#* })"
    return 0
  fi
  echo "kafka: stopped (data $DATA_DIR)"
  return 1
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) cmd_kill ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|kill|status|fetch" >&2; exit 2 ;;
esac
