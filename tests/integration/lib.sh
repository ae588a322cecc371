# shellcheck shell=bash
# tests/integration/lib.sh — shared setup and assertions for the integration tests.
#
# A test script is run by ctest as `bash TEST.sh BIN_DIR` and exits 0 (pass), 1 (fail) or
# 77 (skipped: not root, or no network namespaces here). Source this file first:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   require_root; require_tapird
#   ...assertions...
#   finish
#
# Namespaces are named tapir-it-<test>-<pid>-<tag> and are always deleted on exit (see
# scripts/lib/netns.sh); processes the test started are killed by PID.

set -uo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_NAME=$(basename "$0" .sh)
IT_BIN=${1:-}
if [[ -z $IT_BIN ]]; then
  echo "usage: bash $0 BIN_DIR   (e.g. build/bin)" >&2
  exit 1
fi
IT_BIN=$(cd "$IT_BIN" 2>/dev/null && pwd) || {
  echo "FAIL: bin dir '$1' does not exist" >&2
  exit 1
}
TAPIRD=$IT_BIN/tapird
TAPIR_NS_PREFIX="tapir-it-$IT_NAME"
export TAPIRD TAPIR_NS_PREFIX

# shellcheck source=scripts/lib/netns.sh
source "$IT_DIR/../../scripts/lib/netns.sh"

_it_failures=0
_it_checks=0

# A test stops itself (SIGTERM → the cleanup trap) before ctest's TIMEOUT would kill it
# outright, so that its namespaces are deleted even when something hangs.
: "${IT_TIMEOUT:=100}"
(
  trap '' INT # Ctrl-C ends the test through its own trap, which then ends this watchdog
  trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$IT_TIMEOUT" 2>/dev/null &
  s=$!
  wait "$s" && echo "FAIL: $IT_NAME: gave up after ${IT_TIMEOUT}s" >&2 && kill -TERM $$
) >/dev/null &
_ns_pids+=("$!")

skip() {
  echo "SKIP: $IT_NAME: $*"
  exit 77
}

# A setup step that cannot go on: report and stop (the EXIT trap still cleans up).
die() {
  echo "FAIL: $IT_NAME: $*" >&2
  exit 1
}

require_root() {
  ((EUID == 0)) || skip "needs root (network namespaces, TAP devices)"
  local probe="${TAPIR_NS_PREFIX}-$$-probe"
  if ! ip netns add "$probe" 2>/dev/null; then
    skip "cannot create network namespaces here"
  fi
  ip netns del "$probe"
  [[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
}

require_tapird() {
  [[ -x $TAPIRD ]] || die "tapird not found at $TAPIRD (build it: scripts/setup)"
}

require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "'$c' is not installed (scripts/setup installs it)"
  done
}

_it_ok() {
  _it_checks=$((_it_checks + 1))
  echo "ok   - $1"
}

_it_bad() {
  _it_checks=$((_it_checks + 1))
  _it_failures=$((_it_failures + 1))
  echo "FAIL - $1"
  shift
  local l
  for l in "$@"; do echo "       $l"; done
}

# assert_eq WHAT EXPECTED GOT
assert_eq() {
  if [[ $3 == "$2" ]]; then _it_ok "$1 = $2"; else _it_bad "$1" "expected: $2" "got:      ${3:-<empty>}"; fi
}

_is_int() { [[ $1 =~ ^-?[0-9]+$ ]]; }

# assert_ge WHAT MIN GOT   (integers; an empty or non-numeric GOT fails)
assert_ge() {
  if _is_int "$3" && (($3 >= $2)); then
    _it_ok "$1 = $3 (>= $2)"
  else
    _it_bad "$1" "expected: >= $2" "got:      ${3:-<empty>}"
  fi
}

# assert_match WHAT ERE TEXT   (bash regex, matched anywhere in TEXT)
assert_match() {
  if [[ $3 =~ $2 ]]; then
    _it_ok "$1"
  else
    _it_bad "$1" "expected to match: $2" "got:" "$(printf '%s\n' "$3" | sed 's/^/         | /' | tail -n 15)"
  fi
}

# assert_ping OUTPUT COUNT LABEL: "COUNT packets transmitted, COUNT received, 0% packet loss".
assert_ping() {
  local out=$1 count=$2 label=$3 tx="" rx="" loss=""
  if [[ $out =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
    tx=${BASH_REMATCH[1]}
    rx=${BASH_REMATCH[2]}
  fi
  if [[ $out =~ ([0-9.]+)%\ packet\ loss ]]; then loss=${BASH_REMATCH[1]}%; fi
  if [[ $tx == "$count" && $rx == "$count" && $loss == 0% ]]; then
    _it_ok "$label: $tx transmitted, $rx received, $loss loss"
  else
    _it_bad "$label" "expected: $count transmitted, $count received, 0% packet loss" \
      "got:      ${tx:-?} transmitted, ${rx:-?} received, ${loss:-?} loss" \
      "ping said: $(printf '%s\n' "$OUT" | tail -n 4 | tr '\n' ' ')"
  fi
}

# run NS CMD...: echo CMD, run it in namespace NS (ns_run), show the end of its output;
# then OUT = its combined output, RC = its exit status.
OUT=""
RC=0
# shellcheck disable=SC2034 # OUT and RC are read by the test scripts
run() {
  local ns=$1
  shift
  echo "+ $*"
  ns_tmpdir_init
  ns_run "$ns" "$@" >"$_ns_tmp/run.out" 2>&1
  RC=$?
  OUT=$(<"$_ns_tmp/run.out")
  printf '%s\n' "$OUT" | sed 's/^/  | /' | tail -n 12
  return 0
}

# Stop tapird (SIGINT), check it exited 0, and keep its --stats output for counters.
stop_tapird_checked() {
  local pid=$1 rc=0
  stop_tapird "$pid" INT || rc=$?
  assert_eq "tapird exit status after SIGINT" 0 "$rc"
  if ((_it_failures)); then tapird_dump "$pid"; fi
}

finish() {
  if ((_it_failures)); then
    echo "$IT_NAME: $_it_failures of $_it_checks checks failed"
    exit 1
  fi
  if ((_it_checks == 0)); then
    echo "$IT_NAME: no checks ran"
    exit 1
  fi
  echo "$IT_NAME: all $_it_checks checks passed"
  exit 0
}
