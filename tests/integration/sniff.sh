#!/usr/bin/env bash
# tapir-sniff on a TAP sees Linux ping it: the ARP exchange and both echoes, each frame once,
# in or out, decoded on one line; with -x each frame is dumped from its IP header in the
# classic 16-bytes-per-line hex + ASCII layout.
#
#   namespace N:  tap0 10.0.0.1/24 <-TAP-> tapir-sniff --tap tap0 --ip 10.0.0.2/24 -c 6 -x
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-sniff

ns_new N sniff || die "cannot create a namespace"
# No IPv6 chatter (router solicitations, MLD) from the Linux side: only the ping's frames.
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"

start_app S "$N" tapir-sniff --tap tap0 --ip 10.0.0.2/24 -c 6 -x || die "tapir-sniff did not start"
run "$N" ping -c 2 -i 0.2 -W 2 10.0.0.2
assert_ping "$OUT" 2 "Linux ping -c 2 10.0.0.2 (watched by tapir-sniff)"
rc=0
wait_exit "$S" 10 || rc=$?
assert_eq "tapir-sniff -c 6: exit status after six frames" 0 "$rc"
out=$(tapird_output "$S")
T='[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}'
NL=$'\n'

summaries=$(printf '%s\n' "$out" | grep -E "^$T tap0 " | sed -E "s/^$T //; s/, id [0-9]+,/, id ID,/")
want="tap0 in ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 42
tap0 out ARP, Reply 10.0.0.2 is-at 02:00:0a:00:00:02, length 60
tap0 in IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id ID, seq 1, length 98
tap0 out IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id ID, seq 1, length 98
tap0 in IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id ID, seq 2, length 98
tap0 out IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id ID, seq 2, length 98"
assert_eq "tapir-sniff: one summary line per frame, in order" "$want" "$summaries"

# -x: 84 bytes of IP (20 header + 8 ICMP + 56 data) = 6 lines per echo, starting at offset 0
# with the header's first bytes (version/IHL 45, total length 0x0054).
assert_match "tapir-sniff -x: the dump of an echo starts with the IP header" \
  "(^|$NL)0000  45 00 00 54 " "$out"
assert_eq "tapir-sniff -x: dump lines at offset 0050 (the last of each 84-byte echo)" 4 \
  "$(printf '%s\n' "$out" | grep -cE '^0050  ')"
finish
