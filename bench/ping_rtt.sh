#!/usr/bin/env bash
# bench/ping_rtt.sh — ping RTT (min/p50/p99) from Linux to four responders, side by side:
#   tapird       over a TAP   (the tapir stack, build/bin/tapird)
#   lwIP         over a TAP   (build/bin/lwip-host: Debian's lwIP 2.1.3, bench/lwip; built when
#                              liblwip-dev is installed)
#   tap-echo     over a TAP   (build/bin/tap-echo: answers ARP/echo in place, the TAP's floor)
#   Linux        over a veth  (the kernel answering in the peer namespace)
# Each in a fresh network namespace; ping is pinned to CPU 0, tapird, lwip-host and tap-echo
# to CPU 1.
# It prints figures, never pass/fail.
#
#   bench/ping_rtt.sh [--count N] [--server-cpu N] [--bin DIR] [--record]
#     --count N       pings per responder (default 10000, 1 ms apart)
#     --server-cpu N  CPU for tapird, lwip-host and tap-echo (default 1; 0 puts them beside ping)
#     --bin DIR       where tapird, lwip-host and tap-echo are (default build/bin)
#     --record        also append the run (date, command, machine, table) to bench/RESULTS.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

count=10000
server_cpu=""
bin=build/bin
record=0
command_line="bench/ping_rtt.sh $*"
while (($#)); do
  case $1 in
    --count)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "ping_rtt: --count expects a positive number" >&2; exit 2; }
      count=$2
      shift 2
      ;;
    --server-cpu)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "ping_rtt: --server-cpu expects a CPU number" >&2; exit 2; }
      server_cpu=$2
      shift 2
      ;;
    --bin)
      [[ -d ${2:-} ]] || { echo "ping_rtt: --bin expects a directory" >&2; exit 2; }
      bin=$2
      shift 2
      ;;
    --record) record=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "ping_rtt: unknown flag $1 (try --help)" >&2; exit 2 ;;
  esac
done
((EUID == 0)) || { echo "ping_rtt: needs root (network namespaces, TAP devices)" >&2; exit 1; }
bin=$(cd "$bin" && pwd)
load_before=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews the tails

PING_CPU=0
SERVER_CPU=${server_cpu:-1}
if [[ -z $server_cpu ]] && (($(nproc) < 2)); then SERVER_CPU=0; fi

TAPIR_NS_PREFIX=tapir-bench
# shellcheck source=scripts/lib/netns.sh
source scripts/lib/netns.sh
ns_tmpdir_init
TAPIRD_WRAP=(taskset -c "$SERVER_CPU")

# measure NS ADDR NAME: warm up (ARP, caches), then COUNT pings at 1 ms; keep the RTTs (µs).
measure() {
  local ns=$1 addr=$2 name=$3
  ns_run "$ns" ping -n -q -c 5 -i 0.01 -W 1 "$addr" >/dev/null || true
  ns_run "$ns" taskset -c "$PING_CPU" \
    ping -n -c "$count" -i 0.001 -W 1 -w $((count / 250 + 10)) "$addr" >"$_ns_tmp/$name.ping" 2>&1 || true
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { sub(/^time=/, "", $i); printf "%.0f\n", $i * 1000 } }' \
    "$_ns_tmp/$name.ping" | sort -n >"$_ns_tmp/$name.rtt"
}

# stats NAME: "min p50 p99 received" (µs), or "- - - 0" when nothing came back.
stats() {
  awk -v sent="$count" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { printf "- - - 0/%d\n", sent; exit }
      p50 = int(NR * 0.50 + 0.999999); p99 = int(NR * 0.99 + 0.999999)
      printf "%d %d %d %d/%d\n", v[1], v[p50], v[p99], NR, sent
    }' "$_ns_tmp/$1.rtt"
}

declare -A result
# A TAP responder: namespace with tap0 10.0.0.1/24 on Linux's side, the program at 10.0.0.2.
run_tap() {
  local name=$1 program=$2 pid ns
  shift 2
  if [[ ! -x $program ]]; then
    echo "ping_rtt: $program is not built; skipping $name" >&2
    result[$name]="- - - not-built"
    return 0
  fi
  ns_new ns "$name"
  ns_tap "$ns" tap0 10.0.0.1/24
  TAPIRD=$program
  if ! start_tapird pid "$ns" "$@"; then
    result[$name]="- - - did-not-start"
    return 0
  fi
  echo "ping_rtt: $name: $count pings ..." >&2
  measure "$ns" 10.0.0.2 "$name"
  stop_tapird "$pid" TERM >/dev/null 2>&1 || true
  result[$name]=$(stats "$name")
  ip netns del "$ns"
}

run_tap tapird "$bin/tapird" --tap tap0 --ip 10.0.0.2/24
run_tap lwip "$bin/lwip-host" --tap tap0 --ip 10.0.0.2/24
run_tap tap-echo "$bin/tap-echo" --tap tap0 --ip 10.0.0.2 --mac 02:00:00:00:ec:01

# The Linux kernel: namespace L (ping) — veth — namespace K (the kernel answers).
ns_new L linux-ping
ns_new K linux-echo
ns_veth "$L" veth0 "$K" veth1
ip -n "$L" addr add 10.0.2.1/24 dev veth0
ip -n "$K" addr add 10.0.2.2/24 dev veth1
echo "ping_rtt: linux: $count pings ..." >&2
measure "$L" 10.0.2.2 linux
result[linux]=$(stats linux)

ratio() { # a b → a/b with two decimals, or "-"
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx\n", a / b }'
}

table() {
  local t w e l
  read -r -a t <<<"${result[tapird]}"
  read -r -a w <<<"${result[lwip]}"
  read -r -a e <<<"${result[tap-echo]}"
  read -r -a l <<<"${result[linux]}"
  printf '%-22s %9s %9s %9s   %s\n' "ping RTT (µs)" min p50 p99 received
  printf '%-22s %9s %9s %9s   %s\n' "tapird (TAP)" "${t[@]}"
  printf '%-22s %9s %9s %9s   %s\n' "lwIP 2.1.3 (TAP)" "${w[@]}"
  printf '%-22s %9s %9s %9s   %s\n' "tap-echo (TAP)" "${e[@]}"
  printf '%-22s %9s %9s %9s   %s\n' "Linux kernel (veth)" "${l[@]}"
  printf '%-22s %9s %9s %9s\n' "tapird / tap-echo" "$(ratio "${t[0]}" "${e[0]}")" \
    "$(ratio "${t[1]}" "${e[1]}")" "$(ratio "${t[2]}" "${e[2]}")"
  printf '%-22s %9s %9s %9s\n' "tapird / lwIP" "$(ratio "${t[0]}" "${w[0]}")" \
    "$(ratio "${t[1]}" "${w[1]}")" "$(ratio "${t[2]}" "${w[2]}")"
  printf '%-22s %9s %9s %9s\n' "tapird / Linux" "$(ratio "${t[0]}" "${l[0]}")" \
    "$(ratio "${t[1]}" "${l[1]}")" "$(ratio "${t[2]}" "${l[2]}")"
}

machine="$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null | head -n 1) ]]; then revision+=" (with uncommitted changes)"; fi

echo
echo "$count pings at 1 ms per responder; ping on CPU $PING_CPU, tapird/lwip-host/tap-echo on CPU $SERVER_CPU"
echo "$when — $machine — load average before: $load_before — tapir $revision"
table

if ((record)); then
  {
    echo
    echo "## $when"
    echo
    echo "- command: \`$command_line\`"
    echo "- machine: $machine; load average before the run: $load_before"
    echo "- tapir: $revision"
    echo
    echo '```'
    table
    echo '```'
  } >>bench/RESULTS.md
  echo "ping_rtt: appended to bench/RESULTS.md"
fi
