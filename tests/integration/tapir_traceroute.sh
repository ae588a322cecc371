#!/usr/bin/env bash
# tapir-traceroute (a tapir host on a TAP) traces through a Linux router to a Linux host, with
# UDP probes (the default; B answers port unreachable) and with -I (ICMP echo; B answers echo
# reply): hop 1 is the router, hop 2 the destination, and the trace ends there. A hop that
# stays silent prints "* * *", and a trace that never reaches DEST stops at -m and exits 1.
#
#   namespace R (Linux router, ip_forward=1)                    namespace B (ip_forward=0)
#   tap0 10.0.0.1/24 <-TAP-> tapir-traceroute --tap tap0        vb 10.1.0.2/24
#                            --ip 10.0.0.2/24 --gw 10.0.0.1     default via 10.1.0.1
#   vr 10.1.0.1/24 ───────────────────veth──────────────────────┘
#   10.3.0.0/24 via 10.1.0.2 (B does not forward: it drops those datagrams without a word)
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-traceroute

ns_new R router || die "cannot create a namespace"
ns_new B hostb || die "cannot create a namespace"
# Linux's per-destination ICMP rate limit (1/s after a burst of 6) is off in R and B so that
# every probe gets its answer: tapir-traceroute is under test, not Linux's limiter.
ns_exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 ||
  die "cannot set sysctls in R"
ns_exec "$B" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.icmp_ratelimit=0 ||
  die "cannot set sysctls in B"
ns_tap "$R" tap0 10.0.0.1/24 || die "cannot create tap0"
ns_veth "$R" vr "$B" vb || die "cannot create the veth pair"
ip -n "$R" addr add 10.1.0.1/24 dev vr || die "cannot address vr"
ip -n "$R" route add 10.3.0.0/24 via 10.1.0.2 || die "cannot add R's route to 10.3.0.0/24"
ip -n "$B" addr add 10.1.0.2/24 dev vb || die "cannot address vb"
ip -n "$B" route add default via 10.1.0.1 || die "cannot route B"

TRACE=("$IT_BIN/tapir-traceroute" --tap tap0 --ip 10.0.0.2/24 --gw 10.0.0.1)
NL=$'\n'
T3='( +[0-9]+\.[0-9]{3} ms){3}' # three answered probes, no "*", no "!H"-style annotation

# hops OUTPUT: the address each hop line names, space-separated ("1:10.0.0.1 2:10.1.0.2");
# a hop with no answer at all reads "N:*".
hops() {
  printf '%s\n' "$1" | awk '$1 ~ /^[0-9]+$/ { printf "%s%s:%s", sep, $1, $2; sep = " " }'
}

for mode in UDP ICMP; do
  flags=()
  [[ $mode == ICMP ]] && flags=(-I)
  run "$R" "${TRACE[@]}" "${flags[@]}" -w 2 -m 5 10.1.0.2
  assert_eq "tapir-traceroute ($mode) 10.1.0.2: exit status" 0 "$RC"
  assert_match "tapir-traceroute ($mode): header line" \
    "^traceroute to 10\.1\.0\.2 \(10\.1\.0\.2\), 5 hops max, 60 byte packets$NL" "$OUT"
  assert_eq "tapir-traceroute ($mode): hops" "1:10.0.0.1 2:10.1.0.2" "$(hops "$OUT")"
  assert_match "tapir-traceroute ($mode): hop 1 is the router, 3 probes answered" \
    "$NL 1  10\.0\.0\.1$T3$NL" "$OUT"
  assert_match "tapir-traceroute ($mode): hop 2 is 10.1.0.2, 3 probes answered, the last line" \
    "$NL 2  10\.1\.0\.2$T3\$" "$OUT"
done

# One hop: the router's own address.
run "$R" "${TRACE[@]}" -w 2 -m 5 10.0.0.1
assert_eq "tapir-traceroute 10.0.0.1: exit status" 0 "$RC"
assert_eq "tapir-traceroute 10.0.0.1: hops" "1:10.0.0.1" "$(hops "$OUT")"

# -f 2 -q 1: one probe, starting at TTL 2.
run "$R" "${TRACE[@]}" -f 2 -q 1 -w 2 -m 5 10.1.0.2
assert_eq "tapir-traceroute -f 2 -q 1: exit status" 0 "$RC"
assert_match "tapir-traceroute -f 2 -q 1: one line, hop 2, one probe" \
  "hops max, 60 byte packets$NL 2  10\.1\.0\.2 +[0-9]+\.[0-9]{3} ms\$" "$OUT"

# Silence: past the router nobody answers (B drops what it cannot forward); -m 3 ends it.
run "$R" "${TRACE[@]}" -w 1 -m 3 10.3.0.1
assert_eq "tapir-traceroute to a silent network: exit status" 1 "$RC"
assert_eq "tapir-traceroute to a silent network: hops" "1:10.0.0.1 2:* 3:*" "$(hops "$OUT")"
assert_match "tapir-traceroute to a silent network: hops 2 and 3 print '* * *'" \
  "$NL 2  \* \* \*$NL 3  \* \* \*\$" "$OUT"
finish
