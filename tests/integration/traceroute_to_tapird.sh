#!/usr/bin/env bash
# Linux traceroute (UDP probes to ports 33434+, and -I) and tracepath to tapird end at
# tapird: its ICMP port unreachable (or echo reply) says the destination was reached. From the
# router namespace tapird is one hop away; from the client behind the Linux router, two.
# Also: fragmented 3000-byte probes, and raw protocol 253 probes (protocol unreachable, !P).
#
#   namespace C                   namespace R (Linux router, ip_forward=1)
#   vc 10.0.1.1/24 ───veth─── vr 10.0.1.254/24
#   default via 10.0.1.254        tap0 10.0.2.1/24  <-TAP->  tapird --tap tap0 --ip 10.0.2.2/24
#                                                                   --gw 10.0.2.1
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd traceroute tracepath

ns_new C client || die "cannot create a namespace"
ns_new R router || die "cannot create a namespace"
# R forwards; Linux's per-destination ICMP rate limit (1/s after a burst of 6) is off so that
# every probe of every run gets its time exceeded: tapird is under test, not Linux's limiter.
ns_exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 ||
  die "cannot set sysctls in R"
ns_veth "$C" vc "$R" vr || die "cannot create the veth pair"
ip -n "$C" addr add 10.0.1.1/24 dev vc || die "cannot address vc"
ip -n "$C" route add default via 10.0.1.254 || die "cannot route C"
ip -n "$R" addr add 10.0.1.254/24 dev vr || die "cannot address vr"
ns_tap "$R" tap0 10.0.2.1/24 || die "cannot create tap0"
start_tapird T "$R" --tap tap0 --ip 10.0.2.2/24 --gw 10.0.2.1 --stats || die "tapird did not start"

NL=$'\n'
T3='( +[0-9.]+ ms){3}' # three answered probes, no "*", no "!H"-style annotation

# hops OUTPUT: the address each hop line names, space-separated ("1:10.0.1.254 2:10.0.2.2").
hops() {
  printf '%s\n' "$1" | awk '$1 ~ /^[0-9]+$/ { printf "%s%s:%s", sep, $1, $2; sep = " " }'
}

# --- one hop: traceroute from R itself.
run "$R" traceroute -n -w 2 -m 5 10.0.2.2
assert_eq "traceroute (UDP) from R: exit status" 0 "$RC"
assert_eq "traceroute (UDP) from R: hops" "1:10.0.2.2" "$(hops "$OUT")"
assert_match "traceroute (UDP) from R: hop 1 is tapird, 3 probes answered" \
  "${NL} 1  10\.0\.2\.2$T3\$" "$OUT"

run "$R" traceroute -n -I -w 2 -m 5 10.0.2.2
assert_eq "traceroute -I from R: exit status" 0 "$RC"
assert_match "traceroute -I from R: hop 1 is tapird, 3 probes answered" "${NL} 1  10\.0\.2\.2$T3\$" "$OUT"

# 3000-byte probes: tapird reassembles each (3 fragments) before it answers.
run "$R" traceroute -n -w 2 -m 5 10.0.2.2 3000
assert_eq "traceroute (UDP, 3000-byte probes) from R: exit status" 0 "$RC"
assert_match "traceroute (UDP, 3000-byte probes) from R: hop 1 is tapird, 3 probes answered" \
  "${NL} 1  10\.0\.2\.2$T3\$" "$OUT"

# Raw IP protocol 253 (RFC 3692 experimentation): tapird has no such protocol and answers
# protocol unreachable, which traceroute prints as !P.
run "$R" traceroute -n -P 253 -w 2 -m 5 10.0.2.2
assert_eq "traceroute -P 253 from R: exit status" 0 "$RC"
assert_match "traceroute -P 253 from R: hop 1 is tapird, protocol unreachable (!P) x3" \
  "${NL} 1  10\.0\.2\.2( +[0-9.]+ ms !P){3}\$" "$OUT"

run "$R" timeout 30 tracepath -n -m 5 10.0.2.2
assert_match "tracepath from R: reached 10.0.2.2 at hop 1" "(^|$NL) *1: +10\.0\.2\.2 +[0-9.]+ms reached" "$OUT"
assert_match "tracepath from R: Resume: pmtu 1500 hops 1 back 1" "Resume: pmtu 1500 hops 1 back 1 *\$" "$OUT"

# --- two hops: traceroute from C, behind the Linux router.
run "$C" traceroute -n -w 2 -m 5 10.0.2.2
assert_eq "traceroute (UDP) from C: exit status" 0 "$RC"
assert_eq "traceroute (UDP) from C: hops" "1:10.0.1.254 2:10.0.2.2" "$(hops "$OUT")"
assert_match "traceroute (UDP) from C: hop 2 is tapird, 3 probes answered" \
  "${NL} 2  10\.0\.2\.2$T3\$" "$OUT"

run "$C" traceroute -n -I -w 2 -m 5 10.0.2.2
assert_eq "traceroute -I from C: exit status" 0 "$RC"
assert_eq "traceroute -I from C: hops" "1:10.0.1.254 2:10.0.2.2" "$(hops "$OUT")"
assert_match "traceroute -I from C: hop 2 is tapird, 3 probes answered" "${NL} 2  10\.0\.2\.2$T3\$" "$OUT"

run "$C" timeout 30 tracepath -n -m 5 10.0.2.2
assert_match "tracepath from C: hop 1 is the router 10.0.1.254" "(^|$NL) *1: +10\.0\.1\.254 " "$OUT"
assert_match "tracepath from C: reached 10.0.2.2 at hop 2" "(^|$NL) *2: +10\.0\.2\.2 +[0-9.]+ms reached" "$OUT"
assert_match "tracepath from C: Resume: pmtu 1500 hops 2 back 2" "Resume: pmtu 1500 hops 2 back 2 *\$" "$OUT"

stop_tapird_checked "$T"
# Every UDP probe that reached tapird was to a closed port and got its port unreachable;
# every protocol-253 probe its protocol unreachable.
assert_ge "tapird udpNoPorts" 9 "$(tapird_counter "$T" udpNoPorts)"
assert_ge "tapird ipInUnknownProtos" 3 "$(tapird_counter "$T" ipInUnknownProtos)"
assert_eq "tapird icmpOutDestUnreachs = udpNoPorts + ipInUnknownProtos" \
  $(($(tapird_counter "$T" udpNoPorts) + $(tapird_counter "$T" ipInUnknownProtos))) \
  "$(tapird_counter "$T" icmpOutDestUnreachs)"
assert_eq "tapird icmpOutRateLimited" 0 "$(tapird_counter "$T" icmpOutRateLimited)"
finish
