#!/usr/bin/env bash
# bench/tcp.sh — TCP over a TAP: tapir's bulk throughput, 64-byte transactions/s and connections/s
# beside the raw TAP frame-rate limit, lwIP on the same TAP and the Linux kernel over a veth, all
# in one run:
#   raw TAP      build/bin/tap-raw: 1514-byte frames written into / read out of a plain TAP fd
#                (no stack), the ceiling for any user-space stack doing one frame per syscall
#   tapir (TAP)  tapir-bulk (or tapird's discard/chargen) and tapird's TCP echo (port 7),
#                against Linux kernel sockets (build/bin/linux-bulk, build/bin/linux-rr)
#   lwIP (TAP)   build/bin/lwip-host (bench/lwip: Debian's lwIP 2.1.3, built when liblwip-dev is
#                installed) in tapir's place on the same kind of TAP: Linux → its discard (9),
#                its chargen (19) → Linux for --seconds, and its TCP echo (7)
#   Linux (veth) the same two programs on both ends of a veth pair between two namespaces,
#                with the default offloads (TSO/GRO) and with them off (1500-byte segments)
# Each group gets fresh namespaces, removed on exit however the script ends; every process is
# started and ended by PID; every wait is bounded. The tapir side (tapir-bulk, tapird, lwip-host,
# tap-raw's TAP end, the Linux servers) runs on CPU 1, the Linux client/peer on CPU 0. A figure that
# cannot be measured (TCP not there yet, a program not built) prints "n/a (reason)"; the rest
# still print. It prints figures, never pass/fail. Then the loss section, bench/tcp-loss.sh:
# tapir's sender beside Linux's through the same injected 1% and 5% loss, reno and cubic.
#
#   bench/tcp.sh [--build DIR] [--seconds S] [--bytes N] [--bulk-via tapir-bulk|tapird]
#                [--no-sha256] [--max-seconds S] [--tapir-cpu N] [--linux-cpu N] [--no-loss]
#                [--record]
#     --build DIR      the CMake build directory (default $TAPIR_BUILD_DIR or build); programs
#                      are taken from DIR/bin
#     --seconds S      length of each timed figure (default 3)
#     --bytes N        bytes per tapir-bulk transfer (default 300000000)
#     --bulk-via X     tapir's bulk end: tapir-bulk (default when built) or tapird (discard,
#                      port 9, and chargen, port 19, for --seconds)
#     --no-sha256      do not check that both ends of a bulk transfer hashed the same bytes
#                      (by default linux-bulk hashes on the Linux CPU, tapir-bulk prints its
#                      own sha256, and the table says whether they agree)
#     --max-seconds S  give up on one tapir bulk transfer after S s (default 60)
#     --tapir-cpu N    CPU for tapir and the servers (default 1), --linux-cpu N for the
#                      Linux clients (default 0)
#     --no-loss        leave out the loss section (bench/tcp-loss.sh, about a minute)
#     --record         also append the run (date, command, machine, table) to bench/RESULTS.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${TAPIR_BUILD_DIR:-build}
seconds=3
bytes=300000000
bulk_via=auto
sha=1
max_seconds=60
tapir_cpu=""
linux_cpu=0
record=0
loss_section=1
command_line="bench/tcp.sh $*"
die_usage() { echo "tcp: $1 (try --help)" >&2; exit 2; }
while (($#)); do
  case $1 in
    --build) [[ -d ${2:-} ]] || die_usage "--build expects a directory"; build=$2; shift 2 ;;
    --seconds) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--seconds expects a positive integer"; seconds=$2; shift 2 ;;
    --bytes) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--bytes expects a positive number"; bytes=$2; shift 2 ;;
    --bulk-via) [[ ${2:-} == tapir-bulk || ${2:-} == tapird ]] || die_usage "--bulk-via expects tapir-bulk or tapird"; bulk_via=$2; shift 2 ;;
    --no-sha256) sha=0; shift ;;
    --max-seconds) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--max-seconds expects a positive integer"; max_seconds=$2; shift 2 ;;
    --tapir-cpu) [[ ${2:-} =~ ^[0-9]+$ ]] || die_usage "--tapir-cpu expects a CPU number"; tapir_cpu=$2; shift 2 ;;
    --linux-cpu) [[ ${2:-} =~ ^[0-9]+$ ]] || die_usage "--linux-cpu expects a CPU number"; linux_cpu=$2; shift 2 ;;
    --no-loss) loss_section=0; shift ;;
    --record) record=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die_usage "unknown flag $1" ;;
  esac
done
((EUID == 0)) || { echo "tcp: needs root (network namespaces, TAP devices)" >&2; exit 1; }
[[ -d $build/bin ]] || { echo "tcp: $build/bin does not exist (build first: scripts/setup, or --build DIR)" >&2; exit 1; }
bin=$(cd "$build/bin" && pwd)
if [[ -z $tapir_cpu ]]; then tapir_cpu=1; (($(nproc) < 2)) && tapir_cpu=0; fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

TAPIR_NS_PREFIX=tapir-tcpbench
# shellcheck source=scripts/lib/netns.sh
source scripts/lib/netns.sh
ns_tmpdir_init
T=$_ns_tmp

log() { echo "tcp: $*" >&2; }
have() { [[ -x $bin/$1 ]]; }

# spawn VAR NS CPU NAME CMD...: CMD in NS on CPU, in the background; stdout in $T/NAME.out,
# stderr in $T/NAME.err; its PID into VAR.
spawn() {
  local -n __spawn_pid=$1
  local __ns=$2 __cpu=$3 __name=$4
  shift 4
  ns_spawn __spawn_pid "$__ns" env --default-signal=INT taskset -c "$__cpu" "$@" \
    >"$T/$__name.out" 2>"$T/$__name.err"
}

# run NS CPU NAME LIMIT CMD...: CMD in NS on CPU in the foreground, stopped (SIGTERM, then
# SIGKILL 3 s later) after LIMIT s; output as for spawn. Its status (124: the time limit) in RC.
RC=0
run() {
  local ns=$1 cpu=$2 name=$3 limit=$4
  shift 4
  RC=0
  ns_run "$ns" timeout -k 3 "$limit" taskset -c "$cpu" "$@" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
}

# wait_ready NAME PID LIMIT: until NAME.out has a line starting with "ready" (status 0), PID
# exits (1) or LIMIT s pass (2).
wait_ready() {
  local name=$1 pid=$2 limit=$3 i
  for ((i = 0; i < limit * 20; i++)); do
    grep -q '^ready' "$T/$name.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 2
}

# finish PID LIMIT: give PID LIMIT s to exit by itself, then SIGTERM, then SIGKILL; reap it.
# Its exit status in RC.
finish() {
  local pid=$1 limit=$2
  if ! timeout "$limit" tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    timeout 3 tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  RC=0
  wait "$pid" 2>/dev/null || RC=$?
  _ns_forget_pid "$pid"
}

# get NAME KEY [FIELD]: field FIELD (default 2) of NAME.out's last line whose first word is KEY.
get() { awk -v k="$2" -v f="${3:-2}" '$1 == k { v = $f } END { print v }' "$T/$1.out" 2>/dev/null; }
# rest NAME KEY: everything after KEY on that line.
rest() { awk -v k="$2" '$1 == k { sub(/^[^ ]+ /, ""); v = $0 } END { print v }' "$T/$1.out" 2>/dev/null; }
# why NAME STATUS [LIMIT]: a short reason a program gave no figure.
why() {
  local name=$1 status=$2 limit=${3:-} line
  if [[ $status == 124 || $status == 137 ]]; then
    echo "${name%%-*} timed out${limit:+ after $limit s}"
    return
  fi
  line=$(grep -v '^[[:space:]]*$' "$T/$name.err" 2>/dev/null | tail -n 1 | tr -s ' \t' ' ')
  [[ -n $line ]] || line="exit status $status, no message"
  echo "${line:0:90}"
}

declare -A fig=() unit=() detail=() na=()
set_na() { na[$1]=$2; }

# bulk_result KEY NAME STATUS: the throughput linux-bulk printed in NAME.out.
bulk_result() {
  local key=$1 name=$2 status=$3 mbit got secs inc
  mbit=$(get "$name" throughput)
  got=$(get "$name" bytes)
  secs=$(get "$name" seconds)
  inc=$(rest "$name" incomplete)
  if [[ -z $mbit || -z $got || $got == 0 ]]; then
    set_na "$key" "$(why "$name" "$status")"
    return
  fi
  fig[$key]=$mbit
  unit[$key]="Mbit/s"
  detail[$key]="$(awk -v b="$got" 'BEGIN { printf "%.0f MB", b / 1e6 }') in $secs s"
  if [[ -n $inc ]]; then detail[$key]+="; INCOMPLETE: $inc"; fi
}

# sha_note KEY A B: whether the sha256 lines of A.out and B.out agree (unless --no-sha256).
sha_note() {
  ((sha)) || return 0
  local a b
  a=$(get "$2" sha256)
  b=$(get "$3" sha256)
  if [[ -z $a || -z $b ]]; then
    detail[$1]+="; sha256 not compared"
  elif [[ $a == "$b" ]]; then
    detail[$1]+="; sha256 equal"
  else
    detail[$1]+="; SHA256 DIFFERS"
  fi
}

# rr_result KEY NAME STATUS WHAT: the rate linux-rr printed (WHAT: transactions|connections).
rr_result() {
  local key=$1 name=$2 status=$3 what=$4 rate p50 p99 stopped
  rate=$(get "$name" "$what/s")
  p50=$(get "$name" latency_us 3)
  p99=$(get "$name" latency_us 5)
  stopped=$(rest "$name" stopped)
  if [[ -z $rate || $(get "$name" "$what") == 0 ]]; then
    set_na "$key" "$(why "$name" "$status")"
    return
  fi
  fig[$key]=$rate
  unit[$key]="/s"
  detail[$key]="p50 $p50 µs, p99 $p99 µs"
  if [[ -n $stopped ]]; then detail[$key]+="; stopped early: $stopped"; fi
}

# A client namespace may make tens of thousands of connections in a few seconds: widen its
# ephemeral ports and let it reuse TIME_WAIT ports (both per namespace).
client_sysctls() {
  ns_exec "$1" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
    >/dev/null 2>&1 || true
}

sha_flag=() tapir_sha_flag=()
if ((sha)); then
  # tapir-bulk prints its sha256 always, or (if it has the flag) with --sha256.
  if have tapir-bulk; then
    tapir_help=$("$bin/tapir-bulk" --help 2>&1 || true)
    if [[ $tapir_help == *--sha256* ]]; then tapir_sha_flag=(--sha256); fi
  fi
  # linux-bulk refuses --sha256 (status 2) when it was built without OpenSSL.
  if have linux-bulk && { "$bin/linux-bulk" --send 127.0.0.1:1 --bytes 1 --sha256 \
    --connect-timeout 0.01 >/dev/null 2>&1 || (($? != 2)); }; then
    sha_flag=(--sha256)
  else
    log "linux-bulk has no --sha256 (built without OpenSSL); streams are not compared"
  fi
fi

# cpu_share NAME KEY: "got 41% of a CPU" from NAME.out's KEY (CPU seconds) over its seconds.
# Below ~95% the machine was busy and the raw figure is what that share allows.
cpu_share() {
  awk -v c="$(get "$1" "$2")" -v s="$(get "$1" seconds)" \
    'BEGIN { if (c == "" || s == "" || s == 0) print "CPU share unknown"; else printf "got %.0f%% of a CPU\n", 100 * c / s }'
}

# --- 1. Raw TAP: one namespace, tap0 10.0.0.1/24; 10.0.0.3 a permanent neighbour through it.
raw_tap() {
  local ns pid
  if ! have tap-raw; then
    set_na raw_write "tap-raw not built"
    set_na raw_read "tap-raw not built"
    return 0
  fi
  ns_new ns raw
  ns_tap "$ns" tap0 10.0.0.1/24
  ip -n "$ns" neigh replace 10.0.0.3 lladdr 02:00:00:00:ec:03 dev tap0 nud permanent

  # (a) frames into the TAP: UDP to 10.0.0.1:9000, where a kernel socket drains them.
  spawn pid "$ns" "$linux_cpu" raw-sink "$bin/tap-raw" --udp-sink --port 9000 --seconds $((seconds + 30))
  if wait_ready raw-sink "$pid" 5; then
    log "raw TAP: writing 1514-byte frames for ${seconds} s ..."
    run "$ns" "$tapir_cpu" raw-write $((seconds + 15)) "$bin/tap-raw" --tap tap0 --write \
      --dst-ip 10.0.0.1 --src-ip 10.0.0.2 --port 9000 --seconds "$seconds"
    if [[ -n $(get raw-write frames/s) && $(get raw-write frames) != 0 ]]; then
      fig[raw_write]=$(get raw-write frames/s)
      unit[raw_write]="frames/s"
      detail[raw_write]="$(get raw-write gbit/s) Gbit/s; $(awk -v d="$(get raw-write delivered)" \
        -v f="$(get raw-write frames)" 'BEGIN { printf "%.0f%%", f ? 100 * d / f : 0 }') reached the socket"
      detail[raw_write]+="; $(cpu_share raw-write writer_cpu_seconds)"
    else
      set_na raw_write "$(why raw-write "$RC" $((seconds + 15)))"
    fi
  else
    set_na raw_write "the UDP sink did not start: $(why raw-sink 1)"
  fi
  finish "$pid" 0.1

  # (b) frames out of the TAP: a kernel UDP sender (a thread of tap-raw, on the Linux CPU)
  # sends 1472-byte datagrams to 10.0.0.3, at most 900 unread; the reader busy-polls the TAP.
  log "raw TAP: reading 1514-byte frames for ${seconds} s ..."
  run "$ns" "$linux_cpu,$tapir_cpu" raw-read $((seconds + 15)) "$bin/tap-raw" --tap tap0 --read \
    --from-kernel 10.0.0.3:9000 --size 1472 --window 900 --reader-cpu "$tapir_cpu" \
    --sender-cpu "$linux_cpu" --seconds "$seconds"
  if [[ -n $(get raw-read frames/s) && $(get raw-read frames) != 0 ]]; then
    fig[raw_read]=$(get raw-read frames/s)
    unit[raw_read]="frames/s"
    detail[raw_read]="$(get raw-read gbit/s) Gbit/s; $(cpu_share raw-read reader_cpu_seconds)"
  else
    set_na raw_read "no frames read: $(why raw-read "$RC" $((seconds + 15)))"
  fi
  ip netns del "$ns"
}

# --- 2. Linux ↔ Linux over a veth: namespace L (clients, 10.0.2.1) — K (servers, 10.0.2.2).
veth_bulk() { # KEY LABEL: linux-bulk from L to K
  local key=$1 pid
  spawn pid "$K" "$tapir_cpu" "$key-recv" "$bin/linux-bulk" --recv --port 5001 --timeout 10
  if ! wait_ready "$key-recv" "$pid" 5; then
    set_na "$key" "linux-bulk --recv did not start: $(why "$key-recv" 1)"
    finish "$pid" 0.1
    return 0
  fi
  log "Linux→Linux over veth ($2): ${seconds} s ..."
  run "$L" "$linux_cpu" "$key-send" $((seconds + 30)) "$bin/linux-bulk" --send 10.0.2.2:5001 \
    --seconds "$seconds" --timeout 10
  finish "$pid" 12
  bulk_result "$key" "$key-recv" "$RC"
}

veth_rr() { # KEY WHAT [FLAGS]: linux-rr from L against linux-rr --server in K
  local key=$1 what=$2 pid
  shift 2
  spawn pid "$K" "$tapir_cpu" "$key-server" "$bin/linux-rr" --server --port 7 --seconds $((seconds + 40))
  if ! wait_ready "$key-server" "$pid" 5; then
    set_na "$key" "linux-rr --server did not start: $(why "$key-server" 1)"
    finish "$pid" 0.1
    return 0
  fi
  log "Linux over veth: $what for ${seconds} s ..."
  run "$L" "$linux_cpu" "$key" $((seconds + 30)) "$bin/linux-rr" --connect 10.0.2.2:7 \
    --seconds "$seconds" "$@"
  finish "$pid" 0.1
  rr_result "$key" "$key" "$RC" "$what"
}

linux_veth() {
  if ! have linux-bulk || ! have linux-rr; then
    local k
    for k in veth_bulk veth1500_bulk veth_rr veth_conn; do set_na "$k" "linux-bulk/linux-rr not built"; done
    return 0
  fi
  ns_new L veth-client
  ns_new K veth-server
  ns_veth "$L" veth0 "$K" veth1
  ip -n "$L" addr add 10.0.2.1/24 dev veth0
  ip -n "$K" addr add 10.0.2.2/24 dev veth1
  client_sysctls "$L"
  ns_exec "$L" ping -n -q -c 2 -i 0.05 -W 1 10.0.2.2 >/dev/null 2>&1 || true
  veth_bulk veth_bulk "offloads on"
  veth_rr veth_rr transactions
  veth_rr veth_conn connections --connections
  if ns_offloads_off "$L" veth0 && ns_offloads_off "$K" veth1; then
    veth_bulk veth1500_bulk "offloads off"
  else
    set_na veth1500_bulk "could not turn the veth offloads off (ethtool)"
  fi
  ip netns del "$L"
  ip netns del "$K"
}

# --- 3. tapir over a TAP: namespace N, tap0 10.0.0.1/24 (Linux); tapir at 10.0.0.2/24.
TAPIR_IF=(--tap tap0 --ip 10.0.0.2/24)

tapir_bulk_out() { # tapir-bulk --send → linux-bulk --recv (Linux measures)
  local pid
  ip -n "$N" neigh flush dev tap0 2>/dev/null || true
  spawn pid "$N" "$linux_cpu" out-recv "$bin/linux-bulk" --recv --port 5001 --timeout 10 "${sha_flag[@]}"
  if ! wait_ready out-recv "$pid" 5; then
    set_na tapir_out "linux-bulk --recv did not start: $(why out-recv 1)"
    finish "$pid" 0.1
    return 0
  fi
  log "tapir→Linux: tapir-bulk sends $bytes bytes (at most $max_seconds s) ..."
  run "$N" "$tapir_cpu" out-send "$max_seconds" "$bin/tapir-bulk" "${TAPIR_IF[@]}" \
    --send 10.0.0.1:5001 --bytes "$bytes" "${tapir_sha_flag[@]}"
  local send_rc=$RC
  finish "$pid" 12
  bulk_result tapir_out out-recv "$RC"
  if [[ -n ${na[tapir_out]:-} ]]; then na[tapir_out]=$(why out-send "$send_rc" "$max_seconds"); fi
  sha_note tapir_out out-recv out-send
}

tapir_bulk_in() { # linux-bulk --send → tapir-bulk --recv (Linux measures, to the last ACK)
  local pid
  ip -n "$N" neigh flush dev tap0 2>/dev/null || true
  spawn pid "$N" "$tapir_cpu" in-recv "$bin/tapir-bulk" "${TAPIR_IF[@]}" --recv --port 5001 "${tapir_sha_flag[@]}"
  if ! wait_ready in-recv "$pid" 10; then
    set_na tapir_in "tapir-bulk --recv did not start: $(why in-recv 1)"
    finish "$pid" 0.1
    return 0
  fi
  log "Linux→tapir: linux-bulk sends $bytes bytes (at most $max_seconds s) ..."
  run "$N" "$linux_cpu" in-send "$max_seconds" "$bin/linux-bulk" --send 10.0.0.2:5001 \
    --bytes "$bytes" --connect-timeout 5 --timeout 10 "${sha_flag[@]}"
  local send_rc=$RC
  finish "$pid" 12
  bulk_result tapir_in in-send "$send_rc"
  sha_note tapir_in in-send in-recv
}

tapird_bulk() { # with tapird running: Linux → discard (port 9), chargen (port 19) → Linux
  log "Linux→tapird discard: ${seconds} s ..."
  run "$N" "$linux_cpu" in-send $((seconds + 30)) "$bin/linux-bulk" --send 10.0.0.2:9 \
    --seconds "$seconds" --connect-timeout 5 --timeout 10
  bulk_result tapir_in in-send "$RC"
  [[ -n ${na[tapir_in]:-} ]] || detail[tapir_in]+="; tapird discard"
  log "tapird chargen→Linux: ${seconds} s ..."
  run "$N" "$linux_cpu" out-recv $((seconds + 30)) "$bin/linux-bulk" --connect 10.0.0.2:19 --recv \
    --seconds "$seconds" --connect-timeout 5 --timeout 10
  bulk_result tapir_out out-recv "$RC"
  [[ -n ${na[tapir_out]:-} ]] || detail[tapir_out]+="; tapird chargen"
}

tapir_tap() {
  local k pid via=$bulk_via
  if ! have linux-bulk || ! have linux-rr; then
    for k in tapir_out tapir_in tapir_rr tapir_conn; do set_na "$k" "linux-bulk/linux-rr not built"; done
    return 0
  fi
  if [[ $via == auto ]]; then
    via=tapird
    have tapir-bulk && via=tapir-bulk
  fi
  ns_new N tap
  ns_tap "$N" tap0 10.0.0.1/24
  client_sysctls "$N"
  if [[ $via == tapir-bulk ]]; then
    if have tapir-bulk; then
      tapir_bulk_out
      tapir_bulk_in
    else
      set_na tapir_out "tapir-bulk not built"
      set_na tapir_in "tapir-bulk not built"
    fi
  fi
  if ! have tapird; then
    for k in tapir_rr tapir_conn; do set_na "$k" "tapird not built"; done
    if [[ $via == tapird ]]; then
      for k in tapir_out tapir_in; do set_na "$k" "neither tapir-bulk nor tapird is built"; done
    fi
  else
    ip -n "$N" neigh flush dev tap0 2>/dev/null || true
    TAPIRD=$bin/tapird
    TAPIRD_WRAP=(taskset -c "$tapir_cpu")
    if start_tapird pid "$N" "${TAPIR_IF[@]}" 2>"$T/tapird.start.err"; then
      ns_exec "$N" ping -n -q -c 2 -i 0.05 -W 1 10.0.0.2 >/dev/null 2>&1 || true
      if [[ $via == tapird ]]; then tapird_bulk; fi
      log "tapird echo: transactions for ${seconds} s ..."
      run "$N" "$linux_cpu" tapir_rr $((seconds + 30)) "$bin/linux-rr" --connect 10.0.0.2:7 \
        --seconds "$seconds" --connect-timeout 5
      rr_result tapir_rr tapir_rr "$RC" transactions
      log "tapird echo: connections for ${seconds} s ..."
      run "$N" "$linux_cpu" tapir_conn $((seconds + 30)) "$bin/linux-rr" --connect 10.0.0.2:7 \
        --connections --seconds "$seconds" --connect-timeout 5
      rr_result tapir_conn tapir_conn "$RC" connections
      stop_tapird "$pid" TERM >/dev/null 2>&1 || true
    else
      for k in tapir_rr tapir_conn; do set_na "$k" "tapird did not start"; done
      if [[ $via == tapird ]]; then for k in tapir_out tapir_in; do set_na "$k" "tapird did not start"; done; fi
    fi
  fi
  ip netns del "$N"
}

# --- 4. lwIP over a TAP: the same topology as tapir's (namespace W, tap0 10.0.0.1/24; lwip-host
# at 10.0.0.2/24 on the tapir CPU), the same Linux programs against its services.
lwip_tap() {
  local k pid
  if ! have lwip-host; then
    for k in lwip_out lwip_in lwip_rr lwip_conn; do set_na "$k" "lwip-host not built: no liblwip-dev; scripts/setup installs it"; done
    return 0
  fi
  if ! have linux-bulk || ! have linux-rr; then
    for k in lwip_out lwip_in lwip_rr lwip_conn; do set_na "$k" "linux-bulk/linux-rr not built"; done
    return 0
  fi
  ns_new W lwip
  ns_tap "$W" tap0 10.0.0.1/24
  client_sysctls "$W"
  TAPIRD=$bin/lwip-host
  TAPIRD_WRAP=(taskset -c "$tapir_cpu")
  if ! start_tapird pid "$W" --tap tap0 --ip 10.0.0.2/24 2>"$T/lwip.start.err"; then
    # The last line of what it printed (its error), not the dump's closing "---".
    local reason
    reason=$(grep -v -e '^---' -e '^[[:space:]]*$' "$T/lwip.start.err" | tail -n 1)
    for k in lwip_out lwip_in lwip_rr lwip_conn; do set_na "$k" "lwip-host did not start: ${reason:0:70}"; done
    ip netns del "$W"
    return 0
  fi
  ns_exec "$W" ping -n -q -c 2 -i 0.05 -W 1 10.0.0.2 >/dev/null 2>&1 || true
  log "Linux→lwIP discard: ${seconds} s ..."
  run "$W" "$linux_cpu" lwip-in $((seconds + 30)) "$bin/linux-bulk" --send 10.0.0.2:9 \
    --seconds "$seconds" --connect-timeout 5 --timeout 10
  bulk_result lwip_in lwip-in "$RC"
  [[ -n ${na[lwip_in]:-} ]] || detail[lwip_in]+="; lwip-host discard"
  log "lwIP chargen→Linux: ${seconds} s ..."
  run "$W" "$linux_cpu" lwip-out $((seconds + 30)) "$bin/linux-bulk" --connect 10.0.0.2:19 --recv \
    --seconds "$seconds" --connect-timeout 5 --timeout 10
  bulk_result lwip_out lwip-out "$RC"
  [[ -n ${na[lwip_out]:-} ]] || detail[lwip_out]+="; lwip-host chargen"
  log "lwIP echo: transactions for ${seconds} s ..."
  run "$W" "$linux_cpu" lwip_rr $((seconds + 30)) "$bin/linux-rr" --connect 10.0.0.2:7 \
    --seconds "$seconds" --connect-timeout 5
  rr_result lwip_rr lwip_rr "$RC" transactions
  log "lwIP echo: connections for ${seconds} s ..."
  run "$W" "$linux_cpu" lwip_conn $((seconds + 30)) "$bin/linux-rr" --connect 10.0.0.2:7 \
    --connections --seconds "$seconds" --connect-timeout 5
  rr_result lwip_conn lwip_conn "$RC" connections
  stop_tapird "$pid" TERM >/dev/null 2>&1 || true
  ip netns del "$W"
}

raw_tap
linux_veth
tapir_tap
lwip_tap

# --- The table.
ratio() { # a b [scale] → a/(b*scale) as "0.42x", or "-"
  awk -v a="${1:-}" -v b="${2:-}" -v s="${3:-1}" \
    'BEGIN { if (a == "" || b == "" || b * s == 0) print "-"; else printf "%.2fx\n", a / (b * s) }'
}
mbit_of_frames() { # frames/s → Gbit/s of 1514-byte frames, in Mbit/s for the ratio
  [[ -n ${fig[$1]:-} ]] || return 0
  awk -v f="${fig[$1]}" 'BEGIN { printf "%.1f\n", f * 1514 * 8 / 1e6 }'
}

row() { # LABEL KEY [RATIO...]
  local label=$1 key=$2
  shift 2
  if [[ -n ${na[$key]:-} ]]; then
    printf '%-38s n/a (%s)\n' "$label" "${na[$key]}"
    return
  fi
  local figure
  figure=$(awk -v v="${fig[$key]}" 'BEGIN { printf "%.0f", v }')
  printf '%-38s %10s %-8s %9s %9s %9s %9s   %s\n' "$label" "$figure" "${unit[$key]}" "$@" "${detail[$key]}"
}

table() {
  local rw rr
  rw=$(mbit_of_frames raw_write)
  rr=$(mbit_of_frames raw_read)
  # bulk_row LABEL KEY RAW: a bulk row with its /raw TAP (over RAW), /veth and /veth-1500, and
  # for tapir's rows /lwIP over the lwIP key given as $4.
  bulk_row() {
    local by_lwip=-
    [[ -z $4 ]] || by_lwip=$(ratio "${fig[$2]:-}" "${fig[$4]:-}")
    row "$1" "$2" "$(ratio "${fig[$2]:-}" "$3")" "$(ratio "${fig[$2]:-}" "${fig[veth_bulk]:-}")" \
      "$(ratio "${fig[$2]:-}" "${fig[veth1500_bulk]:-}")" "$by_lwip"
  }
  printf '%-38s %10s %-8s %9s %9s %9s %9s   %s\n' "MTU 1500; ${seconds} s per figure" figure unit \
    "/raw TAP" "/veth" "/veth-1500" "/lwIP" detail
  row "raw TAP write, 1514-B frames -> kernel" raw_write - - - -
  row "raw TAP read, kernel -> 1514-B frames" raw_read - - - -
  bulk_row "bulk tapir -> Linux (TAP)" tapir_out "$rw" lwip_out
  bulk_row "bulk lwIP -> Linux (TAP)" lwip_out "$rw" ""
  bulk_row "bulk Linux -> tapir (TAP)" tapir_in "$rr" lwip_in
  bulk_row "bulk Linux -> lwIP (TAP)" lwip_in "$rr" ""
  row "bulk Linux -> Linux (veth)" veth_bulk - - - -
  row "bulk Linux -> Linux (veth, no offloads)" veth1500_bulk - - - -
  row "64-B transactions: tapird echo (TAP)" tapir_rr - "$(ratio "${fig[tapir_rr]:-}" "${fig[veth_rr]:-}")" - \
    "$(ratio "${fig[tapir_rr]:-}" "${fig[lwip_rr]:-}")"
  row "64-B transactions: lwIP echo (TAP)" lwip_rr - "$(ratio "${fig[lwip_rr]:-}" "${fig[veth_rr]:-}")" - -
  row "64-B transactions: Linux (veth)" veth_rr - - - -
  row "connections: tapird echo (TAP)" tapir_conn - "$(ratio "${fig[tapir_conn]:-}" "${fig[veth_conn]:-}")" - \
    "$(ratio "${fig[tapir_conn]:-}" "${fig[lwip_conn]:-}")"
  row "connections: lwIP echo (TAP)" lwip_conn - "$(ratio "${fig[lwip_conn]:-}" "${fig[veth_conn]:-}")" - -
  row "connections: Linux (veth)" veth_conn - - - -
}

machine="$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null | head -n 1) ]]; then revision+=" (with uncommitted changes)"; fi
notes="tapir side and servers on CPU $tapir_cpu, Linux clients on CPU $linux_cpu; /raw TAP: Mbit/s over the raw frame rate × 1514 B × 8 (payload ceiling ≈ 0.96x); /veth, /veth-1500: over Linux→Linux with offloads on / off; /lwIP: tapir over lwIP 2.1.3 (lwip-host) on the same TAP and CPU"

echo
echo "$when — $machine — load average before: $load_before — tapir $revision"
echo "$notes"
table

if ((record)); then
  {
    echo
    echo "## $when — TCP"
    echo
    echo "- command: \`$command_line\`"
    echo "- machine: $machine; load average before the run: $load_before"
    echo "- tapir: $revision"
    echo "- $notes"
    echo
    echo '```'
    table
    echo '```'
  } >>bench/RESULTS.md
  log "appended to bench/RESULTS.md"
fi

if ((loss_section)); then
  loss_flags=(--build "$build")
  ((record)) && loss_flags+=(--record)
  bench/tcp-loss.sh "${loss_flags[@]}" || log "the loss section (bench/tcp-loss.sh) failed"
fi
