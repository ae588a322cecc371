#!/usr/bin/env bash
# bench/tcp-loss.sh — TCP through a lossy link: tapir's sender beside Linux's over the very same
# injected link, for reno and cubic at 1% and 5% loss with a 20 ms round trip (docs/TCP.md,
# "Loss recovery and congestion control"). bench/tcp.sh runs it as its loss section.
#   tapir -> Linux   tapir-bulk --send --congestion CC  to  linux-bulk --recv (Linux measures)
#   Linux -> tapir   linux-bulk --send (the route's congctl CC)  to  tapir-bulk --recv
# The link is tapir's seeded fault injector (this kernel has no tc netem) on tapir's side, both
# directions: --fault loss=P,delay=10ms,seed=S, so a round trip is 20 ms and each direction
# loses P of its frames, data or ACKs, whichever way the data goes. The two directions of one
# row are the same link with the same seeds: the only difference is which stack sends.
# Each figure is the median over --rounds seeds. The transfers of one loss rate run at the same
# time, each on its own namespace and TAP (they wait on the delay and on recovery, a few Mbit/s
# each, not on a CPU). It prints figures, never pass/fail.
#
#   bench/tcp-loss.sh [--build DIR] [--rounds R] [--bytes1 N] [--bytes5 N] [--record]
#     --build DIR   the CMake build directory (default $TAPIR_BUILD_DIR or build)
#     --rounds R    seeds per figure (default 3)
#     --bytes1 N    bytes per transfer at 1% loss (default 10000000)
#     --bytes5 N    bytes per transfer at 5% loss (default 4000000)
#     --record      also append the run (date, command, machine, table) to bench/RESULTS.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${TAPIR_BUILD_DIR:-build}
rounds=3
bytes1=10000000
bytes5=4000000
record=0
command_line="bench/tcp-loss.sh $*"
die_usage() { echo "tcp-loss: $1 (try --help)" >&2; exit 2; }
while (($#)); do
  case $1 in
    --build) [[ -d ${2:-} ]] || die_usage "--build expects a directory"; build=$2; shift 2 ;;
    --rounds) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--rounds expects a positive integer"; rounds=$2; shift 2 ;;
    --bytes1) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--bytes1 expects a positive number"; bytes1=$2; shift 2 ;;
    --bytes5) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die_usage "--bytes5 expects a positive number"; bytes5=$2; shift 2 ;;
    --record) record=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die_usage "unknown flag $1" ;;
  esac
done
((EUID == 0)) || { echo "tcp-loss: needs root (network namespaces, TAP devices)" >&2; exit 1; }
bin=$(cd "$build/bin" 2>/dev/null && pwd) || { echo "tcp-loss: $build/bin does not exist (scripts/setup)" >&2; exit 1; }
for p in tapir-bulk linux-bulk; do
  [[ -x $bin/$p ]] || { echo "tcp-loss: $bin/$p is not built (scripts/setup)" >&2; exit 1; }
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

TAPIR_NS_PREFIX=tapir-lossbench
# shellcheck source=scripts/lib/netns.sh
source scripts/lib/netns.sh
ns_tmpdir_init
T=$_ns_tmp
log() { echo "tcp-loss: $*" >&2; }

# ready NAME PID: until NAME.out has a "ready" line (0) or PID exits / 10 s pass (1).
ready() {
  local i
  for ((i = 0; i < 200; i++)); do
    grep -q '^ready' "$T/$1.out" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# start LOSS CC SEED: both directions of one (loss, cc, seed) in two fresh namespaces, in the
# background; the PIDs to wait for go into waits.
waits=()
start() {
  local loss=$1 cc=$2 seed=$3 bytes=$4 key="$1-$2-$3" ns pid
  local tapir=(--tap tap0 --ip 10.0.0.2/24 --congestion "$cc" --stats
    --fault "loss=$loss%,delay=10ms,seed=$seed")
  # tapir → Linux.
  ns_new ns "o$key"
  ns_tap "$ns" tap0 10.0.0.1/24
  ns_spawn pid "$ns" "$bin/linux-bulk" --recv --port 5001 --timeout 30 >"$T/o$key.out" 2>"$T/o$key.err"
  if ready "o$key" "$pid"; then
    waits+=("$pid")
    ns_spawn pid "$ns" timeout 300 "$bin/tapir-bulk" "${tapir[@]}" --send 10.0.0.1:5001 \
      --bytes "$bytes" >"$T/o$key.tapir" 2>&1
    waits+=("$pid")
  fi
  # Linux → tapir.
  ns_new ns "i$key"
  ns_tap "$ns" tap0 10.0.0.1/24
  ip -n "$ns" route replace 10.0.0.0/24 dev tap0 congctl "$cc"
  ns_spawn pid "$ns" timeout 300 "$bin/tapir-bulk" "${tapir[@]}" --recv --port 5001 \
    >"$T/i$key.tapir" 2>&1
  for ((i = 0; i < 200; i++)); do
    grep -q '^ready' "$T/i$key.tapir" 2>/dev/null && break
    sleep 0.05
  done
  waits+=("$pid")
  ns_spawn pid "$ns" timeout 300 "$bin/linux-bulk" --send 10.0.0.2:5001 --bytes "$bytes" \
    --connect-timeout 5 --timeout 30 >"$T/i$key.out" 2>"$T/i$key.err"
  waits+=("$pid")
}

# Both stacks negotiate SACK here, so "reno" is Reno's window over SACK-based recovery on both
# (Linux has no separate newreno: its reno without SACK is NewReno).
declare -A fig=() detail=()
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
value() { awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$1" 2>/dev/null; }

for loss in 1 5; do
  bytes=$bytes1
  ((loss == 5)) && bytes=$bytes5
  waits=()
  for cc in reno cubic; do
    for ((s = 1; s <= rounds; s++)); do start "$loss" "$cc" "$s" "$bytes"; done
  done
  log "$loss% loss: $((${#waits[@]} / 2)) transfers of $bytes bytes at once (reno and cubic, both ways, $rounds seeds) ..."
  for pid in "${waits[@]}"; do
    timeout 320 tail -s 0.2 --pid="$pid" -f /dev/null 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    _ns_forget_pid "$pid"
  done
  for cc in reno cubic; do
    for dir in o i; do
      vals=() rto=() res=()
      for ((s = 1; s <= rounds; s++)); do
        f=$T/$dir$loss-$cc-$s
        v=$(value "$f.out" throughput)
        [[ -n $v && $(value "$f.out" bytes) == "$bytes" ]] && vals+=("$v")
        if [[ $dir == o ]]; then
          rto+=("$(value "$f.tapir" tcpTimeouts)")
          res+=("$(value "$f.tapir" tcpRetransSegs)")
        fi
      done
      fig[$dir$loss$cc]=$(printf '%s\n' "${vals[@]}" | median)
      detail[$dir$loss$cc]="${#vals[@]}/$rounds complete"
      if [[ $dir == o ]]; then
        detail[$dir$loss$cc]+="; tapir resent $(printf '%s\n' "${res[@]:-0}" | median | cut -d. -f1) segments, $(printf '%s\n' "${rto[@]:-0}" | median | cut -d. -f1) RTOs (medians)"
      fi
    done
  done
  # The namespaces of this loss rate go now, not at exit: the next rate makes its own.
  for ns in "${_ns_created[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  _ns_created=()
done

table() {
  printf '%-30s %16s %16s %8s   %s\n' "loss (each way), 20 ms RTT" "tapir -> Linux" "Linux -> tapir" ratio "detail (tapir -> Linux)"
  for loss in 1 5; do
    for cc in reno cubic; do
      local o=${fig[o$loss$cc]:-} i=${fig[i$loss$cc]:-} r
      r=$(awk -v a="$o" -v b="$i" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }')
      printf '%-30s %11s Mbit/s %9s Mbit/s %8s   %s\n' "$loss%, $cc" "${o:-n/a}" "${i:-n/a}" "$r" "${detail[o$loss$cc]}"
    done
  done
}

machine="$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null | head -n 1) ]]; then revision+=" (with uncommitted changes)"; fi
notes="--fault loss=P,delay=10ms on tapir's side, both ways; medians of $rounds seeds; $bytes1 bytes at 1%, $bytes5 at 5%; ratio: tapir's sender over Linux's on the same link (aim >= 1.0x)"

echo
echo "$when — $machine — load average before: $load_before — tapir $revision"
echo "$notes"
table
if ((record)); then
  {
    echo
    echo "## $when — TCP through loss"
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
