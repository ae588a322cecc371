# shellcheck shell=bash
# scripts/labs/lib.sh — topologies that outlive the script that built them, for the labs.
#
# A lab script (scripts/labs/NN-name) sources this file, defines lab_up, lab_solve and
# lab_check, and ends with `lab_main "$@"`. Unlike scripts/lib/netns.sh's tests, whose
# namespaces vanish when the script exits, a lab stays up until `down`: everything it made is
# recorded under $LAB_DIR (/run/tapir-labs/NN/) so that a later `down` (or `check`) finds it:
#
#   namespaces   one namespace name a line, in creation order
#   NAME.pid     the PID of the background program NAME (tapird, an app, tcpdump)
#   NAME.out     its stdout (tapird's "ready" line)
#   NAME.err     its stderr (--trace lines, the counters SIGUSR1 prints)
#   procs        one program NAME a line, in start order
#
# `down` ends the recorded programs by PID, newest first, then kills by PID whatever still
# runs inside a recorded namespace, deletes the namespaces, and removes $LAB_DIR. Nothing
# else on the machine is touched.
#
# Knobs (environment): TAPIR_BIN (default build/bin of this tree), TAPIR_LAB_RUN (default
# /run/tapir-labs), TAPIR_LAB_PREFIX (namespace prefix, default "lab": lab01-host).
#
#   lab_ns VAR TAG               make namespace PREFIXNN-TAG (lo up, no IPv6); name into VAR
#   lab_bridge NS BR PORT...     bridge BR in NS (no STP, no forward delay) with PORTs, all up
#   lab_spawn NAME NS CMD...     run CMD in NS in the background, recorded as NAME
#   lab_tapird NAME NS ARGS...   lab_spawn tapird --stats ARGS; wait (bounded) for "ready"
#   lab_app NAME NS APP ARGS...  the same for build/bin/APP (a tapir program)
#   lab_stop NAME [SIGNAL]       signal NAME (default TERM), wait (bounded), forget its PID
#   lab_running NAME             NAME's recorded process is alive
#   lab_counter NAME COUNTER     a counter of a running tapir program, asked with SIGUSR1
#   check_pass WHAT / check_fail WHAT MISSING   one result line each (see scripts/labs/check)

set -uo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_TREE=$(cd "$LAB_SRC/../.." && pwd)
: "${TAPIR_BIN:=$LAB_TREE/build/bin}"
: "${TAPIR_LAB_RUN:=/run/tapir-labs}"
: "${TAPIR_LAB_PREFIX:=lab}"
# The stateless helpers (ns_tap, ns_veth, ns_offloads_off). netns.sh's exit trap only ends
# what its own ns_new/ns_spawn made, which the labs do not use.
TAPIR_NS_PREFIX=$TAPIR_LAB_PREFIX
# shellcheck source=scripts/lib/netns.sh
source "$LAB_TREE/scripts/lib/netns.sh"

LAB_NN=""
LAB_DIR=""
LAB_SCRIPT=""
_lab_failures=0
_lab_checks=0

lab_die() {
  echo "lab $LAB_NN: $*" >&2
  exit 1
}

# lab_init NN: the lab's number and state directory.
lab_init() {
  LAB_NN=$1
  LAB_DIR=$TAPIR_LAB_RUN/$LAB_NN
  LAB_SCRIPT=$(basename "$0")
}

lab_is_up() { [[ -f $LAB_DIR/namespaces ]]; }

lab_ns() {
  local -n __lab_ns_out=$1
  local __name="${TAPIR_LAB_PREFIX}${LAB_NN}-$2"
  # Recorded before it exists, so a `down` after a half-made `up` still finds it.
  echo "$__name" >>"$LAB_DIR/namespaces"
  ip netns add "$__name" || return 1
  ip -n "$__name" link set lo up || return 1
  # No IPv6: router solicitations and MLD would crowd the students' captures.
  ip netns exec "$__name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0 || return 1
  __lab_ns_out=$__name
}

lab_bridge() {
  local ns=$1 br=$2 port
  shift 2
  ip -n "$ns" link add "$br" type bridge forward_delay 0 stp_state 0 || return 1
  for port in "$@"; do
    ip -n "$ns" link set "$port" master "$br" || return 1
    ip -n "$ns" link set "$port" up || return 1
  done
  ip -n "$ns" link set "$br" up
}

lab_pid() { cat -- "$LAB_DIR/$1.pid" 2>/dev/null; }

lab_running() {
  local pid
  pid=$(lab_pid "$1") && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# setsid: the program leaves the terminal's process group, so a Ctrl-C typed later in the
# shell that ran `up` does not reach it. A background job of a script is not a group leader,
# so setsid execs in place and $! is the program's own PID (the subshell execs it too).
# Every descriptor above 2 is closed first: netns.sh keeps a copy of the script's stderr
# (exec {_ns_stderr}>&2), and a program that outlives `up` holding it would keep the pipe of
# whoever ran `up` open (`up | tee`, ctest, CI) until `down`.
lab_spawn() {
  local name=$1 ns=$2
  shift 2
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec ip netns exec "$ns" setsid "$@" </dev/null >"$LAB_DIR/$name.out" 2>"$LAB_DIR/$name.err"
  ) &
  echo "$!" >"$LAB_DIR/$name.pid"
  echo "$name" >>"$LAB_DIR/procs"
}

# lab_wait_line NAME FILE ERE [SECONDS]: until FILE (NAME's .out or .err) has a line
# matching ERE; fails at once if NAME exited, or after SECONDS (default 10).
lab_wait_line() {
  local name=$1 file=$LAB_DIR/$1.$2 ere=$3 limit=${4:-10} deadline
  deadline=$((SECONDS + limit))
  while ((SECONDS <= deadline)); do
    grep -Eq -- "$ere" "$file" 2>/dev/null && return 0
    lab_running "$name" || { grep -Eq -- "$ere" "$file" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}

_lab_report_start_failure() {
  echo "lab $LAB_NN: $1 did not print 'ready' (stderr: $LAB_DIR/$1.err):" >&2
  tail -n 5 "$LAB_DIR/$1.err" >&2
}

lab_tapird() {
  local name=$1 ns=$2
  shift 2
  lab_spawn "$name" "$ns" "$TAPIR_BIN/tapird" --stats "$@"
  lab_wait_line "$name" out '^ready' || { _lab_report_start_failure "$name"; return 1; }
}

lab_app() {
  local name=$1 ns=$2 app=$3
  shift 3
  lab_spawn "$name" "$ns" "$TAPIR_BIN/$app" "$@"
  lab_wait_line "$name" out '^ready' || { _lab_report_start_failure "$name"; return 1; }
}

lab_stop() {
  local name=$1 sig=${2:-TERM} pid
  pid=$(lab_pid "$name") || return 0
  [[ -n $pid ]] || return 0
  if kill -"$sig" "$pid" 2>/dev/null; then
    timeout 5 tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f -- "$LAB_DIR/$name.pid"
}

# lab_counters NAME: the counters NAME prints on SIGUSR1 (on stderr, after a "tapir counters"
# line). Asked twice: the first block is known to be whole once the second one has begun.
lab_counters() {
  local name=$1 pid file=$LAB_DIR/$1.err n
  pid=$(lab_pid "$name") && kill -0 "$pid" 2>/dev/null || return 1
  n=$(grep -c '^tapir counters$' "$file")
  kill -USR1 "$pid" && _lab_wait_blocks "$file" $((n + 1)) || return 1
  kill -USR1 "$pid" && _lab_wait_blocks "$file" $((n + 2)) || return 1
  awk -v k=$((n + 1)) '
    /^tapir counters$/ { b++; next }
    b == k && NF == 2 && $2 ~ /^[0-9]+$/ { print }' "$file"
}

_lab_wait_blocks() {
  local file=$1 want=$2 i
  for ((i = 0; i < 100; i++)); do
    (($(grep -c '^tapir counters$' "$file") >= want)) && return 0
    sleep 0.05
  done
  return 1
}

# lab_counter NAME COUNTER: its value (0 when not printed: only non-zero ones are), or ""
# when NAME is not running.
lab_counter() {
  local block
  block=$(lab_counters "$1") || return 1
  awk -v c="$2" '$1 == c { v = $2 } END { print v + 0 }' <<<"$block"
}

# Everything `up` made, by PID and by recorded name. Safe to run twice, or on a half `up`.
lab_down() {
  local name ns pid
  [[ -d $LAB_DIR ]] || return 0
  if [[ -f $LAB_DIR/procs ]]; then
    tac "$LAB_DIR/procs" | while read -r name; do lab_stop "$name"; done
  fi
  if [[ -f $LAB_DIR/namespaces ]]; then
    tac "$LAB_DIR/namespaces" | while read -r ns; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
    done
  fi
  rm -rf -- "$LAB_DIR"
}

# --- checks: one line each, PASS or FAIL with what is missing --------------------------
check_pass() {
  _lab_checks=$((_lab_checks + 1))
  printf 'PASS  %s\n' "$1"
}

check_fail() {
  _lab_checks=$((_lab_checks + 1))
  _lab_failures=$((_lab_failures + 1))
  printf 'FAIL  %s — %s\n' "$1" "$2"
}

# check_that WHAT MISSING CMD...: PASS if CMD succeeds, else FAIL saying MISSING.
check_that() {
  local what=$1 missing=$2
  shift 2
  if "$@" >/dev/null 2>&1; then check_pass "$what"; else check_fail "$what" "$missing"; fi
}

# check_ge WHAT MIN GOT MISSING
check_ge() {
  if [[ $3 =~ ^[0-9]+$ ]] && (($3 >= $2)); then
    check_pass "$1 ($3 >= $2)"
  else
    check_fail "$1" "$4 (got ${3:-nothing}, want >= $2)"
  fi
}

# pcap_has FILE FILTER [MIN] [GREP-ERE]: FILE holds at least MIN (1) packets matching the
# tcpdump FILTER (and, if given, whose tcpdump line matches GREP-ERE).
pcap_has() {
  local file=$1 filter=$2 min=${3:-1} ere=${4:-.} n
  [[ -s $file ]] || return 1
  n=$(tcpdump -nn -r "$file" "$filter" 2>/dev/null | grep -Ec -- "$ere")
  ((n >= min))
}

# lab_wait_pcap FILE FILTER ERE [SECONDS]: until tcpdump -U has written a packet matching
# FILTER and ERE into FILE (a capture is stopped only once its last packet is in the file).
lab_wait_pcap() {
  local file=$1 filter=$2 ere=$3 deadline=$((SECONDS + ${4:-5}))
  while ((SECONDS <= deadline)); do
    pcap_has "$file" "$filter" 1 "$ere" && return 0
    sleep 0.05
  done
  echo "lab $LAB_NN: $file never got '$filter' ($ere)" >&2
  return 1
}

# lab_capture NAME NS DEV FILE FILTER...: tcpdump in the background until lab_stop NAME INT;
# returns once it listens.
lab_capture() {
  local name=$1 ns=$2 dev=$3 file=$4
  shift 4
  lab_spawn "$name" "$ns" tcpdump -U --immediate-mode -nn -i "$dev" -w "$file" "$@" || return 1
  lab_wait_line "$name" err 'listening on'
}

_lab_usage() {
  echo "usage: $LAB_SCRIPT up | down | solve | check | status" >&2
  exit 2
}

lab_main() {
  ((EUID == 0)) || lab_die "needs root (network namespaces, TAP devices)"
  # `down` needs no binary: a lab must come down even while its tapird is being rebuilt.
  if [[ ${1:-} != down && ! -x $TAPIR_BIN/tapird ]]; then
    lab_die "$TAPIR_BIN/tapird is not built (scripts/setup)"
  fi
  case ${1:-} in
    up)
      lab_is_up && lab_die "is already up ($LAB_SCRIPT down first, or check it)"
      mkdir -p "$LAB_DIR" && : >"$LAB_DIR/namespaces" && : >"$LAB_DIR/procs" ||
        lab_die "cannot create $LAB_DIR"
      if ! lab_up; then
        echo "lab $LAB_NN: up failed; removing what it made" >&2
        lab_down
        exit 1
      fi
      echo "lab $LAB_NN is up: namespaces $(paste -sd' ' "$LAB_DIR/namespaces"); files in $LAB_DIR"
      ;;
    down) lab_down && echo "lab $LAB_NN is down" ;;
    solve)
      lab_is_up || lab_die "is not up ($LAB_SCRIPT up)"
      lab_solve || lab_die "a solution step failed"
      ;;
    check)
      lab_is_up || lab_die "is not up ($LAB_SCRIPT up)"
      lab_check
      echo "lab $LAB_NN: $((_lab_checks - _lab_failures)) of $_lab_checks checks passed"
      ((_lab_failures == 0 && _lab_checks > 0))
      ;;
    status)
      lab_is_up || { echo "lab $LAB_NN is down"; exit 1; }
      echo "namespaces: $(paste -sd' ' "$LAB_DIR/namespaces")"
      local name
      while read -r name; do
        if lab_running "$name"; then echo "$name: running, PID $(lab_pid "$name")"; else echo "$name: not running"; fi
      done <"$LAB_DIR/procs"
      ;;
    *) _lab_usage ;;
  esac
}
