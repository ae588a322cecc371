# shellcheck shell=bash
# tests/integration/lib_apps.sh — helpers for the tests that run tapir's sample apps
# (build/bin/tapir-*) and Linux listeners (socat) in namespaces. Source it after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   source "$IT_DIR/lib_apps.sh"
#
#   require_apps APP...           each $IT_BIN/APP must be built (else FAIL, as require_tapird)
#   start_app VAR NS APP ARGS...  run $IT_BIN/APP ARGS in NS like tapird (start_tapird): wait
#                                 (bounded) for its "ready" line; stop it with stop_tapird
#   wait_exit PID SECONDS         wait (bounded) for a start_app process to end by itself;
#                                 returns its status (124 if it had to be stopped)
#   start_listener VAR NS ERE CMD...
#                                 run a Linux CMD in NS in the background, its stdout into a
#                                 file (listener_output PID), and read its stderr (bounded) until
#                                 a line matches ERE, e.g. socat -d -d's "starting data transfer"
#   stop_listener PID             SIGTERM, bounded wait, reap
#   wait_until SECONDS CMD...     run CMD every 50 ms until it succeeds (0) or time is up (1)
#   linux_ip_counter NS NAME      a counter of the "Ip:" lines of NS's /proc/net/snmp
#
# Everything started here is killed by PID by netns.sh's EXIT trap if the test stops early.

PY=/usr/bin/python3 # Debian's python (the one scripts/setup installs), not one on PATH
_listener_n=0
declare -A _listener_out=() _listener_err=() _listener_drain=()

require_apps() {
  local a
  for a in "$@"; do
    [[ -x $IT_BIN/$a ]] || die "$a not found at $IT_BIN/$a (build it: scripts/setup)"
  done
}

require_python() {
  [[ -x $PY ]] || die "$PY is not installed (scripts/setup installs python3)"
}

# The apps print the same "ready IF ADDR MAC" line as tapird once they can be reached, so
# start_tapird runs them as they are (with $TAPIRD pointing at the app for this one call).
start_app() {
  local __start_app_var=$1 __start_app_ns=$2 __start_app_bin=$IT_BIN/$3
  shift 3
  TAPIRD=$__start_app_bin start_tapird "$__start_app_var" "$__start_app_ns" "$@"
}

wait_exit() {
  local pid=$1 secs=$2 rc=0
  if timeout "$secs" tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null; then
    stop_tapird "$pid" INT || rc=$? # already gone: no signal reaches it; this reaps it
    return "$rc"
  fi
  echo "process $pid did not exit by itself within ${secs}s; stopping it" >&2
  stop_tapird "$pid" INT
  return 124
}

start_listener() {
  local -n __start_listener_out=$1
  local __ns=$2 __ere=$3
  shift 3
  ns_tmpdir_init
  local __n=$((_listener_n++))
  # shellcheck disable=SC2154 # _ns_tmp is netns.sh's (sourced by lib.sh)
  local __fifo="$_ns_tmp/listener.$__n.fifo" __out="$_ns_tmp/listener.$__n.out"
  local __err="$_ns_tmp/listener.$__n.err" __pid __fd __drain
  mkfifo "$__fifo"
  : >"$__out"
  : >"$__err"
  ip netns exec "$__ns" "$@" >"$__out" 2>"$__fifo" &
  __pid=$!
  _ns_pids+=("$__pid")
  exec {__fd}<"$__fifo"
  rm -f -- "$__fifo"
  _listener_out[$__pid]=$__out
  _listener_err[$__pid]=$__err

  # In a subshell, as start_tapird's wait: a signal meanwhile is handled once it is done.
  local __ready=0
  if (_wait_line "$__fd" "$__err" "$__ere"); then __ready=1; fi
  cat <&"$__fd" >>"$__err" &
  __drain=$!
  _ns_pids+=("$__drain")
  _listener_drain[$__pid]=$__drain
  exec {__fd}<&-

  __start_listener_out=$__pid
  ((__ready)) && return 0
  echo "$1 printed no line matching /$__ere/ within ${TAPIRD_READY_TIMEOUT}s; its stderr:" >&2
  sed 's/^/  | /' -- "$__err" >&2
  return 1
}

# Copy lines from FD into FILE until one matches ERE (0), EOF (1) or the ready timeout (2).
_wait_line() {
  local fd=$1 file=$2 ere=$3 line partial="" rc deadline=$((SECONDS + TAPIRD_READY_TIMEOUT))
  while ((SECONDS <= deadline)); do
    if IFS= read -r -t 1 -u "$fd" line; then
      line=$partial$line
      partial=""
      printf '%s\n' "$line" >>"$file"
      [[ $line =~ $ere ]] && return 0
    else
      rc=$?
      if ((rc > 128)); then
        partial+=$line
        continue
      fi
      [[ -n $partial$line ]] && printf '%s\n' "$partial$line" >>"$file"
      return 1
    fi
  done
  return 2
}

listener_output() {
  cat -- "${_listener_out[$1]}"
}

listener_stderr() {
  cat -- "${_listener_err[$1]}"
}

stop_listener() {
  local pid=$1 drain=${_listener_drain[$1]:-}
  _ns_reap "$pid"
  _ns_forget_pid "$pid"
  if [[ -n $drain ]]; then
    timeout 5 tail -s 0.05 --pid="$drain" -f /dev/null 2>/dev/null || kill -KILL "$drain" 2>/dev/null
    wait "$drain" 2>/dev/null
    _ns_forget_pid "$drain"
  fi
}

# wait_until SECS CMD...: until CMD succeeds, or SECS pass (then status 1). For conditions
# that announce themselves with no event to block on (a bridge's mdb, a file another process
# appends to): the short pause only paces the re-check; the condition is what synchronises.
wait_until() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

linux_ip_counter() {
  # shellcheck disable=SC2016 # an awk program
  ip netns exec "$1" awk -v n="$2" '
    $1 == "Ip:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
    $1 == "Ip:" && h { print $col[n]; exit }' /proc/net/snmp
}
