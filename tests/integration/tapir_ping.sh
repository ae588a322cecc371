#!/usr/bin/env bash
# tapir-ping (a tapir host on a TAP) pings Linux: the router namespace's own address (one
# link), a host behind the router (the replies' TTL is one less), with -t 1 the router answers
# time exceeded, and an address nobody has is "Destination Host Unreachable". The output is
# checked line by line as iputils ping prints it.
#
#   namespace R (Linux router, ip_forward=1)                    namespace B
#   tap0 10.0.0.1/24 <-TAP-> tapir-ping --tap tap0              vb 10.1.0.2/24
#                            --ip 10.0.0.2/24 --gw 10.0.0.1     default via 10.1.0.1
#   vr 10.1.0.1/24 ───────────────────veth──────────────────────┘
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-ping

ns_new R router || die "cannot create a namespace"
ns_new B hostb || die "cannot create a namespace"
# Linux's per-destination ICMP rate limit is off: every time exceeded is sent.
ns_exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 ||
  die "cannot set sysctls in R"
ns_tap "$R" tap0 10.0.0.1/24 || die "cannot create tap0"
ns_veth "$R" vr "$B" vb || die "cannot create the veth pair"
ip -n "$R" addr add 10.1.0.1/24 dev vr || die "cannot address vr"
ip -n "$B" addr add 10.1.0.2/24 dev vb || die "cannot address vb"
ip -n "$B" route add default via 10.1.0.1 || die "cannot route B"

TAPIR_PING=("$IT_BIN/tapir-ping" --tap tap0 --ip 10.0.0.2/24 --gw 10.0.0.1)
NL=$'\n'

# check_replies LABEL OUTPUT COUNT BYTES FROM TTL: the reply lines are exactly
# "BYTES bytes from FROM: icmp_seq=N ttl=TTL time=T ms" for N = 1..COUNT, in order, and the
# summary says COUNT transmitted, COUNT received, 0% loss, with min <= avg <= max.
check_replies() {
  local label=$1 out=$2 count=$3 bytes=$4 from=$5 ttl=$6 want="" got="" n rtt
  for ((n = 1; n <= count; n++)); do want+="$bytes bytes from $from: icmp_seq=$n ttl=$ttl;"; done
  got=$(printf '%s\n' "$out" | sed -nE 's/^([0-9]+ bytes from [0-9.]+: icmp_seq=[0-9]+ ttl=[0-9]+) time=[0-9.]+ ms$/\1/p' |
    tr '\n' ';')
  assert_eq "$label: reply lines (bytes, from, icmp_seq, ttl; each with time=T ms)" "$want" "$got"
  assert_eq "$label: reply lines in all" "$count" "$(printf '%s\n' "$out" | grep -c ' bytes from ')"
  assert_ping "$out" "$count" "$label: summary"
  assert_match "$label: summary line" \
    "(^|$NL)$count packets transmitted, $count received, 0% packet loss, time [0-9]+ms($NL|\$)" "$out"
  rtt=$(printf '%s\n' "$out" | sed -nE 's|^rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms$|\1 \2 \3|p')
  assert_eq "$label: rtt min/avg/max/mdev line, min <= avg <= max" ok \
    "$(awk -v r="$rtt" 'BEGIN { n = split(r, v, " "); print (n == 3 && v[1] <= v[2] && v[2] <= v[3]) ? "ok" : "rtt: " r }')"
}

# --- one link: Linux (R) answers on tap0.
run "$R" "${TAPIR_PING[@]}" -c 3 -i 0.2 -W 2 10.0.0.1
assert_eq "tapir-ping 10.0.0.1: exit status" 0 "$RC"
assert_match "tapir-ping 10.0.0.1: header line" "^PING 10\.0\.0\.1 \(10\.0\.0\.1\) 56\(84\) bytes of data\." "$OUT"
check_replies "tapir-ping -c 3 10.0.0.1" "$OUT" 3 64 10.0.0.1 64

# -s 3000: fragmented both ways (tapir fragments the request, Linux the reply).
run "$R" "${TAPIR_PING[@]}" --stats -c 2 -i 0.2 -s 3000 -W 2 10.0.0.1
assert_eq "tapir-ping -s 3000 10.0.0.1: exit status" 0 "$RC"
check_replies "tapir-ping -c 2 -s 3000 10.0.0.1" "$OUT" 2 3008 10.0.0.1 64
# --stats: "NAME VALUE" lines after the summary.
counter() { printf '%s\n' "$OUT" | awk -v n="$1" 'NF == 2 && $1 == n { print $2 }'; }
assert_eq "tapir-ping -s 3000: ipFragCreates (2 requests x 3 fragments)" 6 "$(counter ipFragCreates)"
assert_eq "tapir-ping -s 3000: ipReasmOKs (2 replies)" 2 "$(counter ipReasmOKs)"

# -q: only the header and the summary.
run "$R" "${TAPIR_PING[@]}" -q -c 2 -i 0.2 -W 2 10.0.0.1
assert_eq "tapir-ping -q: exit status" 0 "$RC"
assert_eq "tapir-ping -q: reply lines" 0 "$(printf '%s\n' "$OUT" | grep -c ' bytes from ')"
assert_ping "$OUT" 2 "tapir-ping -q -c 2: summary"

# --- through the Linux router: B's replies arrive with TTL 64 - 1.
run "$R" "${TAPIR_PING[@]}" -c 3 -i 0.2 -W 2 10.1.0.2
assert_eq "tapir-ping 10.1.0.2 (via R): exit status" 0 "$RC"
check_replies "tapir-ping -c 3 10.1.0.2 (via R)" "$OUT" 3 64 10.1.0.2 63

# -t 1: the router says time to live exceeded; no reply, so exit status 1 as iputils.
run "$R" "${TAPIR_PING[@]}" -c 1 -t 1 -W 2 10.1.0.2
assert_eq "tapir-ping -t 1 10.1.0.2: exit status" 1 "$RC"
assert_match "tapir-ping -t 1: time exceeded from the router" \
  "(^|$NL)From 10\.0\.0\.1 icmp_seq=1 Time to live exceeded($NL|\$)" "$OUT"
assert_match "tapir-ping -t 1: summary" \
  "(^|$NL)1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time [0-9]+ms" "$OUT"

# --- nobody has 10.0.0.99: ARP gives up (about 3 s) and tapir's own stack reports the host
# unreachable, as Linux does for iputils.
run "$R" "${TAPIR_PING[@]}" -c 1 -W 5 10.0.0.99
assert_eq "tapir-ping 10.0.0.99 (no such host): exit status" 1 "$RC"
assert_match "tapir-ping 10.0.0.99: host unreachable from tapir's own address" \
  "(^|$NL)From 10\.0\.0\.2 icmp_seq=1 Destination Host Unreachable($NL|\$)" "$OUT"
assert_match "tapir-ping 10.0.0.99: summary" \
  "(^|$NL)1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time [0-9]+ms" "$OUT"
finish
