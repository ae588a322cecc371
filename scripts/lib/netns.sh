# shellcheck shell=bash
# scripts/lib/netns.sh — namespaces, TAPs, veths and tapird processes for tapir's scripts
# and integration tests, with a cleanup that always runs.
#
# Source it from a bash script. It installs an EXIT trap (and INT/TERM traps that exit
# through it) which kills, by PID, every process started with ns_spawn or start_tapird,
# then every process still inside a namespace made with ns_new, and deletes those
# namespaces and the temporary directory. Nothing else on the machine is touched.
#
#   ns_new VAR TAG              make namespace "<prefix>-<pid>-TAG", lo up; name into VAR
#   ns_exec NS CMD...           run CMD inside NS (foreground)
#   ns_run NS CMD...            the same, but interruptible: Ctrl-C/SIGTERM clean up at once
#   ns_spawn VAR NS CMD...      run CMD inside NS in the background; its PID into VAR
#   ns_tap NS DEV [ADDR/PREFIX] create TAP DEV in NS (IFF_NO_PI), optionally addressed, up
#   ns_veth NS1 DEV1 NS2 DEV2   veth pair between two namespaces (both ends up, no address)
#   ns_offloads_off NS DEV      ethtool -K DEV tx off rx off gso off tso off gro off
#   start_tapird VAR NS ARGS... start $TAPIRD ARGS in NS; wait (bounded) for its "ready" line
#   stop_tapird PID [SIGNAL]    signal tapird (default INT), wait (bounded); returns its status
#   tapird_output PID           everything tapird wrote on stdout (ready line, counters)
#   tapird_counter PID NAME     value of counter NAME in tapird's --stats output (0 if not
#                               listed, "" if tapird printed no counters at all)
#
# Knobs (environment): TAPIR_NS_PREFIX (default "tapir"), TAPIRD (path of the binary),
# TAPIRD_WRAP (array, e.g. (taskset -c 1) to prefix the tapird command),
# TAPIRD_READY_TIMEOUT (s, default 10), TAPIRD_STOP_TIMEOUT (s, default 10).

[[ -n ${_TAPIR_NETNS_SH:-} ]] && return 0
_TAPIR_NETNS_SH=1

: "${TAPIR_NS_PREFIX:=tapir}"
: "${TAPIRD_READY_TIMEOUT:=10}"
: "${TAPIRD_STOP_TIMEOUT:=10}"
[[ -v TAPIRD_WRAP ]] || TAPIRD_WRAP=()

_ns_created=()          # namespaces this script made, in creation order
_ns_pids=()             # background processes this script started
_ns_tmp=""              # private temporary directory (fifos, logs)
exec {_ns_stderr}>&2    # the script's stderr, for cleanup messages even mid-redirection
declare -A _tapird_out=() _tapird_err=() _tapird_drain=()

# One private temporary directory per script, made on first use.
ns_tmpdir_init() {
  if [[ -z $_ns_tmp ]]; then
    _ns_tmp=$(mktemp -d "${TMPDIR:-/tmp}/${TAPIR_NS_PREFIX}.$$.XXXXXX")
  fi
}

_ns_forget_pid() {
  local pid=$1 i
  for i in "${!_ns_pids[@]}"; do
    [[ ${_ns_pids[$i]} == "$pid" ]] && unset '_ns_pids[i]'
  done
  _ns_pids=("${_ns_pids[@]}")
}

# Terminate one process we started: TERM, a bounded wait, then KILL.
_ns_reap() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  if ! timeout 3 tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}

_ns_cleanup() {
  local rc=$? pid ns i
  trap - EXIT INT TERM
  set +e
  case $rc in
    130) echo "interrupted; cleaning up" >&"$_ns_stderr" ;;
    143) echo "terminated; cleaning up" >&"$_ns_stderr" ;;
  esac
  # Newest first: drainers and helpers after the processes that feed them.
  for ((i = ${#_ns_pids[@]} - 1; i >= 0; i--)); do _ns_reap "${_ns_pids[$i]}"; done
  for ((i = ${#_ns_created[@]} - 1; i >= 0; i--)); do
    ns=${_ns_created[$i]}
    # Anything still running inside a namespace we made was started by this script
    # (e.g. a ping interrupted by Ctrl-C): end it by PID so the namespace really goes.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  [[ -n $_ns_tmp ]] && rm -rf -- "$_ns_tmp"
  exit "$rc"
}
trap _ns_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# (Functions that return a value through a variable name keep their own locals prefixed
# with __ so that the caller's variable, found by name, is never shadowed by one of them.)
ns_new() {
  local -n __ns_new_out=$1
  local __name="${TAPIR_NS_PREFIX}-$$-$2"
  ip netns add "$__name" || return 1
  _ns_created+=("$__name")
  ip -n "$__name" link set lo up || return 1
  __ns_new_out=$__name
}

ns_exec() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ns_run NS CMD...: run CMD in NS and wait for it. It runs as a background job that we wait
# for, so that SIGTERM (a test's own time limit) or Ctrl-C reaches this script's trap at
# once: bash postpones a trap until a foreground command has finished, and may drop a
# SIGINT that the command (ping, for one) handled itself.
ns_run() {
  local ns=$1 pid rc
  shift
  ip netns exec "$ns" "$@" &
  pid=$!
  _ns_pids+=("$pid")
  wait "$pid"
  rc=$?
  _ns_forget_pid "$pid"
  return "$rc"
}

# `ip netns exec` execs the command without forking, so $! is the command's own PID.
ns_spawn() {
  local -n __ns_spawn_out=$1
  local __ns=$2
  shift 2
  ip netns exec "$__ns" "$@" &
  __ns_spawn_out=$!
  _ns_pids+=("$__ns_spawn_out")
}

ns_tap() {
  local ns=$1 dev=$2 addr=${3:-}
  ip -n "$ns" tuntap add mode tap name "$dev" || return 1
  if [[ -n $addr ]]; then ip -n "$ns" addr add "$addr" dev "$dev" || return 1; fi
  ip -n "$ns" link set "$dev" up
}

ns_veth() {
  local ns1=$1 dev1=$2 ns2=$3 dev2=$4
  ip -n "$ns1" link add name "$dev1" type veth peer name "$dev2" netns "$ns2" || return 1
  ip -n "$ns1" link set "$dev1" up && ip -n "$ns2" link set "$dev2" up
}

ns_offloads_off() {
  local ns=$1 dev=$2
  if ! command -v ethtool >/dev/null; then
    echo "ethtool is missing (scripts/setup installs it)" >&2
    return 1
  fi
  # Whole, checksummed frames on the wire, as an AF_PACKET reader expects them.
  ip netns exec "$ns" ethtool -K "$dev" tx off rx off gso off tso off gro off >/dev/null 2>&1 ||
    ip netns exec "$ns" ethtool -K "$dev" tx off rx off gso off tso off >/dev/null
}

# start_tapird VAR NS ARGS...: tapird's stdout goes through a fifo that we read with a
# timeout until the "ready" line (or EOF: tapird exited); after that a drainer copies the
# rest (counters at exit) into a log so tapird can never block on a full pipe.
start_tapird() {
  local -n __start_tapird_out=$1
  local __ns=$2
  shift 2
  local __bin=${TAPIRD:?TAPIRD is not set}
  ns_tmpdir_init
  local __n=${#_tapird_out[@]}
  local __fifo="$_ns_tmp/tapird.$__n.fifo" __out="$_ns_tmp/tapird.$__n.out" __err="$_ns_tmp/tapird.$__n.err"
  mkfifo "$__fifo"
  : >"$__out"
  local __pid __fd
  # The writer's open (in the background child) and ours rendezvous: neither can block
  # the other forever because the child opens the fifo before it execs anything.
  # A shell without job control starts background commands with SIGINT ignored; a program
  # that does not install its own handler (or block it, as tapird does) would never see
  # our SIGINT. env --default-signal starts tapird with the ordinary disposition.
  ip netns exec "$__ns" env --default-signal=INT,QUIT "${TAPIRD_WRAP[@]}" "$__bin" "$@" \
    >"$__fifo" 2>"$__err" &
  __pid=$!
  _ns_pids+=("$__pid")
  exec {__fd}<"$__fifo"
  rm -f -- "$__fifo"
  _tapird_out[$__pid]=$__out
  _tapird_err[$__pid]=$__err

  # The wait runs in a subshell: a signal that arrives meanwhile is handled by this shell
  # once the subshell is done (bash 5.2 can crash if a trap exits during `read -t`).
  local __ready=0
  if (_tapird_wait_ready "$__fd" "$__out"); then __ready=1; fi

  local __drain
  cat <&"$__fd" >>"$__out" &
  __drain=$!
  _ns_pids+=("$__drain")
  _tapird_drain[$__pid]=$__drain
  exec {__fd}<&-

  __start_tapird_out=$__pid
  if ((__ready)); then return 0; fi
  if kill -0 "$__pid" 2>/dev/null; then
    echo "${__bin##*/} ($*) printed no 'ready' line within ${TAPIRD_READY_TIMEOUT}s" >&2
  else
    wait "$__pid"
    echo "${__bin##*/} ($*) exited with status $? before printing 'ready'" >&2
  fi
  tapird_dump "$__pid" >&2
  return 1
}

# Read tapird's stdout into its log until a line starting with "ready" (status 0), or
# EOF, i.e. tapird exited (status 1), or TAPIRD_READY_TIMEOUT seconds (status 2).
_tapird_wait_ready() {
  local fd=$1 out=$2 line partial="" rc deadline=$((SECONDS + TAPIRD_READY_TIMEOUT))
  while ((SECONDS <= deadline)); do
    if IFS= read -r -t 1 -u "$fd" line; then
      line=$partial$line
      partial=""
      printf '%s\n' "$line" >>"$out"
      [[ $line == ready* ]] && return 0
    else
      rc=$?
      if ((rc > 128)); then # timeout; keep what came of a partial line
        partial+=$line
        continue
      fi
      [[ -n $partial$line ]] && printf '%s\n' "$partial$line" >>"$out"
      return 1
    fi
  done
  return 2
}

# Print tapird's stdout and the tail of its stderr (for a failure report).
tapird_dump() {
  local pid=$1
  echo "--- tapird $pid stdout:"
  cat -- "${_tapird_out[$pid]}" 2>/dev/null
  echo "--- tapird $pid stderr (last 30 lines):"
  tail -n 30 -- "${_tapird_err[$pid]}" 2>/dev/null
  echo "---"
}

stop_tapird() {
  local pid=$1 sig=${2:-INT} rc
  kill -"$sig" "$pid" 2>/dev/null
  if ! timeout "$TAPIRD_STOP_TIMEOUT" tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null; then
    echo "tapird $pid did not exit within ${TAPIRD_STOP_TIMEOUT}s of SIG$sig; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid"
  rc=$?
  _ns_forget_pid "$pid"
  local drain=${_tapird_drain[$pid]:-}
  if [[ -n $drain ]]; then
    # The drainer ends at EOF, which came when tapird exited; bounded all the same.
    timeout 5 tail -s 0.05 --pid="$drain" -f /dev/null 2>/dev/null || kill -KILL "$drain" 2>/dev/null
    wait "$drain" 2>/dev/null
    _ns_forget_pid "$drain"
  fi
  return "$rc"
}

tapird_output() {
  cat -- "${_tapird_out[$1]}"
}

tapird_stderr() {
  cat -- "${_tapird_err[$1]}"
}

# tapird prints only the counters that are not zero: a counter missing from a --stats
# block that was printed reads 0; with no counters printed at all it reads "".
tapird_counter() {
  local pid=$1 name=$2
  awk -v n="$name" '
    NF == 2 && $2 ~ /^[0-9]+$/ { seen = 1 }
    $1 == n && NF == 2 { v = $2 }
    END { if (v != "") print v; else if (seen) print 0 }' "${_tapird_out[$pid]}"
}
