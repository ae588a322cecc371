#!/usr/bin/env bash
# iputils arping asks for tapird's address over a TAP and gets a reply carrying tapird's MAC
# (the first request is broadcast, the next ones unicast to the learned MAC).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24 --mac 02:00:5e:00:00:02
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd arping

MAC=02:00:5e:00:00:02
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --mac "$MAC" --stats || die "tapird did not start"

run "$N" arping -c 3 -w 10 -I tap0 10.0.0.2
assert_eq "arping exit status" 0 "$RC"
assert_match "the replies carry tapird's MAC" "reply from 10\.0\.0\.2 \[$MAC\]" "${OUT,,}"
received=""
if [[ $OUT =~ Received\ ([0-9]+)\ response ]]; then received=${BASH_REMATCH[1]}; fi
assert_eq "arping responses received" 3 "$received"

# The kernel's own resolution (for a ping) must learn the same MAC.
run "$N" ping -n -c 1 -W 2 10.0.0.2
assert_ping "$OUT" 1 "ping -c 1"
run "$N" ip neigh show 10.0.0.2 dev tap0
assert_match "Linux neighbour entry for 10.0.0.2 has tapird's MAC" "lladdr $MAC" "$OUT"

stop_tapird_checked "$T"
finish
