#!/usr/bin/env bash
# Source filters (RFC 3376 §3, RFC 3678): tapir-mcast-recv --source S joins 239.1.2.3 for S
# only (INCLUDE {S}); --block S joins for everyone but S (EXCLUDE {S}). Two Linux senders with
# different addresses send in turn; datagrams cross the TAP in order, so the first line tapir
# prints shows whether the filtered sender's datagram (sent first) got through.
#
#   namespace N:  tap0 10.0.0.1/24 + 10.0.0.3/24, route 224.0.0.0/4 dev tap0 (Linux: socat)
#                   <-TAP->  tapir-mcast-recv --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-mcast-recv
require_cmd socat

ns_new N host || die "cannot create a namespace"
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ip -n "$N" tuntap add mode tap name tap0 || die "cannot create tap0"
ip -n "$N" addr add 10.0.0.1/24 dev tap0 || die "cannot address tap0"
ip -n "$N" addr add 10.0.0.3/24 dev tap0 || die "cannot add 10.0.0.3 to tap0"
ip -n "$N" link set tap0 up || die "cannot bring tap0 up"
ip -n "$N" route add 224.0.0.0/4 dev tap0 || die "cannot route 224/4 via tap0"

# send_from ADDR TEXT: one datagram from ADDR:40000 to 239.1.2.3:5000.
send_from() {
  run "$N" sh -c "printf '%s\n' '$2' |
    socat -u - UDP4-DATAGRAM:239.1.2.3:5000,ip-multicast-if=10.0.0.1,bind=$1:40000"
  assert_eq "socat from $1: exit status" 0 "$RC"
}

# filtered FLAG: tapir-mcast-recv FLAG ... --count 1 hears only 10.0.0.3 of the two senders.
filtered() {
  local flag=$1 addr=$2 pid rc=0
  start_app pid "$N" tapir-mcast-recv --tap tap0 --ip 10.0.0.2/24 --group 239.1.2.3 --port 5000 \
    "$flag" "$addr" --count 1 || die "tapir-mcast-recv $flag $addr did not start"
  send_from 10.0.0.1 'from the filtered sender'
  send_from 10.0.0.3 'from the allowed sender'
  wait_exit "$pid" 10 || rc=$?
  assert_eq "tapir-mcast-recv $flag $addr --count 1: exit status" 0 "$rc"
  assert_eq "tapir-mcast-recv $flag $addr heard only 10.0.0.3" \
    'from 10.0.0.3:40000 to 239.1.2.3 24 bytes: from the allowed sender\n' \
    "$(tapird_output "$pid" | grep -v '^ready ')"
}

filtered --source 10.0.0.3
filtered --block 10.0.0.1
finish
