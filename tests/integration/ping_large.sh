#!/usr/bin/env bash
# Linux pings tapird over a TAP with 4000- and 60000-byte payloads: the requests arrive
# fragmented (tapird reassembles) and the replies leave fragmented (tapird fragments).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, MTU 1500)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd ping

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats || die "tapird did not start"

run "$N" ping -n -c 5 -s 4000 -i 0.2 -W 2 -w 20 10.0.0.2
assert_ping "$OUT" 5 "ping -c 5 -s 4000"
assert_match "the 4000-byte replies came back whole (4008 bytes)" "4008 bytes from 10\.0\.0\.2" "$OUT"

run "$N" ping -n -c 3 -s 60000 -i 0.2 -W 2 -w 20 10.0.0.2
assert_ping "$OUT" 3 "ping -c 3 -s 60000"
assert_match "the 60000-byte replies came back whole (60008 bytes)" "60008 bytes from 10\.0\.0\.2" "$OUT"

stop_tapird_checked "$T"
# 4000 bytes → 3 fragments each way, 60000 → 41: 5 + 3 datagrams reassembled and sent fragmented.
assert_eq "tapird ipReasmOKs" 8 "$(tapird_counter "$T" ipReasmOKs)"
assert_eq "tapird ipFragCreates" $((5 * 3 + 3 * 41)) "$(tapird_counter "$T" ipFragCreates)"
assert_eq "tapird icmpOutEchoReps" 8 "$(tapird_counter "$T" icmpOutEchoReps)"
finish
