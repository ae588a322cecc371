# shellcheck shell=bash
# tests/integration/lib_tcp.sh — helpers for the TCP tests: counters read from a running
# tapird, tapir-bulk's result lines, hashes and timings. Source it after lib.sh and lib_apps.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   source "$IT_DIR/lib_apps.sh"
#   source "$IT_DIR/lib_tcp.sh"
#
#   counters_now PID         ask a --stats tapird for its counters (SIGUSR1); COUNTERS = the
#                            block it printed (bounded waits; status 1 if none came)
#   counter NAME             NAME's value in COUNTERS (print_stats lists non-zero ones: 0 if absent)
#   bulk_value TEXT KEY      the value of tapir-bulk's "KEY VALUE" line in TEXT (bytes, seconds,
#                            throughput, sha256)
#   sha256_of FILE           the hex SHA-256 of FILE
#   random_file FILE BYTES   BYTES from /dev/urandom into FILE
#   now_ms                   a monotonic-enough millisecond clock for "promptly" checks
#   wait_pid PID SECONDS     wait (bounded) for a start_listener process to end by itself;
#                            0 if it did, 124 if it had to be stopped

COUNTERS=""

_counter_blocks() {
  tapird_stderr "$1" | grep -c '^tapir counters$'
}

_counter_blocks_reach() {
  (($(_counter_blocks "$1") >= $2))
}

# SIGUSR1 makes tapird print its counters on stderr, a line at a time with no end marker: a
# block is known to be whole once the next one has begun. So two signals go, each only after
# the previous block's header is there (two pending SIGUSR1s would merge into one).
counters_now() {
  local pid=$1 n
  n=$(_counter_blocks "$pid")
  kill -USR1 "$pid" 2>/dev/null || return 1
  wait_until 5 _counter_blocks_reach "$pid" $((n + 1)) || return 1
  kill -USR1 "$pid" 2>/dev/null || return 1
  wait_until 5 _counter_blocks_reach "$pid" $((n + 2)) || return 1
  COUNTERS=$(tapird_stderr "$pid" |
    awk -v k=$((n + 1)) '/^tapir counters$/ { b++; next } b == k && NF == 2')
}

counter() {
  awk -v n="$1" '$1 == n { v = $2 } END { print (v == "" ? 0 : v) }' <<<"$COUNTERS"
}

bulk_value() {
  printf '%s\n' "$1" | sed -nE "s/^$2 (.*)\$/\\1/p" | tail -n 1
}

sha256_of() {
  sha256sum -- "$1" | cut -d' ' -f1
}

random_file() {
  head -c "$2" /dev/urandom >"$1"
}

now_ms() {
  local t
  t=$(date +%s%N)
  echo $((t / 1000000))
}

wait_pid() {
  local pid=$1 secs=$2
  if timeout "$secs" tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null; then
    stop_listener "$pid" # already gone: this only reaps it and its drainer
    return 0
  fi
  echo "process $pid did not exit by itself within ${secs}s; stopping it" >&2
  stop_listener "$pid"
  return 124
}
