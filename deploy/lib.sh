# shellcheck shell=bash disable=SC2034
# Shared helpers for deploy/*.sh (sourced, not run). Bash only. (SC2034: LOG_DIR etc. are used by the callers.)
# Sets REPO_ROOT and LOCAL_DIR (PHONEUNIFY_LOCAL_DIR, default <repo>/.local) and LOG_DIR.

_lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$_lib_dir/.." && pwd -P)"
LOCAL_DIR="${PHONEUNIFY_LOCAL_DIR:-$REPO_ROOT/.local}"
case "$LOCAL_DIR" in /*) ;; *) LOCAL_DIR="$REPO_ROOT/$LOCAL_DIR" ;; esac
LOG_DIR="$LOCAL_DIR/logs"

# Messages go to stderr so that stdout stays machine-readable (env, url).
log() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${LOG_TAG:-infra}" "$*" >&2; exit 1; }

# port_open HOST PORT: true if something accepts TCP connections there (1 s bound).
port_open() {
  # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# pid_alive PID PATTERN: the process exists and its command line contains PATTERN
# (guards against a stale pid file whose pid was reused by another program).
pid_alive() {
  local pid="$1" pattern="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# rotate_log FILE: keep one previous run's log as FILE.1.
rotate_log() {
  local f="$1"
  if [[ -s "$f" ]]; then mv -f "$f" "$f.1"; fi
  : >"$f"
}

# apt_install PKG...: non-interactive install (the machine's user is root; CI machines are fresh).
apt_install() {
  [[ "$(id -u)" == 0 ]] || die "need root to apt-get install $* (install it by hand or run as root)"
  log "installing with apt-get: $*"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq || die "apt-get update failed"
  timeout 900 apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}
