#!/usr/bin/env bash
# Headless Chromium and its chromedriver from Debian's packages, for the console's browser tests
# (tests/browser). Installs them when missing; never downloads a browser from anywhere else.
#
#   deploy/browser.sh          make sure both are installed
#   deploy/browser.sh check    exit 1 when either is missing
set -euo pipefail
LOG_TAG=browser
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM="${PHONEUNIFY_CHROMIUM:-/usr/bin/chromium}"
CHROMEDRIVER="${PHONEUNIFY_CHROMEDRIVER:-/usr/bin/chromedriver}"

present() { [[ -x "$CHROMIUM" && -x "$CHROMEDRIVER" ]]; }

case "${1:-ensure}" in
  check) present ;;
  ensure)
    if present; then
      log "chromium and chromedriver present ($("$CHROMIUM" --version 2>/dev/null || echo '?'))"
    else
      apt_install chromium chromium-driver
      present || die "chromium or chromedriver still missing after apt-get install"
    fi
    ;;
  *) die "usage: $0 [ensure|check]" ;;
esac
