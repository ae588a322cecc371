#!/usr/bin/env bash
# The ping tests again with tapird on AF_PACKET (--packet) instead of a TAP: tapird owns an
# address-less veth end in its own namespace; Linux has the other end.
#
#   namespace L: veth0 10.0.1.1/24 (Linux)  <-veth->  namespace P: veth1 (no IP)
#                                                      tapird --packet veth1 --ip 10.0.1.2/24
#
# Offloads are off on both ends so frames are whole and carry real checksums.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd ping ethtool

ns_new L linux || die "cannot create a namespace"
ns_new P tapird || die "cannot create a namespace"
ns_veth "$L" veth0 "$P" veth1 || die "cannot create the veth pair"
ns_offloads_off "$L" veth0 || die "cannot turn offloads off on veth0"
ns_offloads_off "$P" veth1 || die "cannot turn offloads off on veth1"
# The kernel in P must stay silent on veth1: no IPv6 (router solicitations, DAD).
ns_exec "$P" sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1
ip -n "$L" addr add 10.0.1.1/24 dev veth0 || die "cannot address veth0"

start_tapird T "$P" --packet veth1 --ip 10.0.1.2/24 --stats || die "tapird did not start"

run "$L" ping -n -q -c 1000 -i 0.001 -W 1 -w 30 10.0.1.2
assert_ping "$OUT" 1000 "ping -c 1000 -i 0.001 over AF_PACKET"

run "$L" ping -n -c 5 -s 4000 -i 0.2 -W 2 -w 20 10.0.1.2
assert_ping "$OUT" 5 "ping -c 5 -s 4000 over AF_PACKET"
assert_match "the 4000-byte replies came back whole (4008 bytes)" "4008 bytes from 10\.0\.1\.2" "$OUT"

run "$L" arping -c 1 -w 5 -I veth0 10.0.1.2
assert_eq "arping over AF_PACKET exit status" 0 "$RC"

stop_tapird_checked "$T"
assert_eq "tapird icmpOutEchoReps" 1005 "$(tapird_counter "$T" icmpOutEchoReps)"
assert_eq "tapird ipReasmOKs" 5 "$(tapird_counter "$T" ipReasmOKs)"
assert_eq "tapird ipFragCreates" 15 "$(tapird_counter "$T" ipFragCreates)"
finish
