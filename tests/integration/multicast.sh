#!/usr/bin/env bash
# UDP multicast between tapir's multicast apps and Linux socat, both ways (RFC 1112 §6):
# tapir-mcast-recv joins 239.1.2.3 and hears what Linux sends to it; Linux joins 239.1.2.3
# (ip-add-membership) and hears tapir-mcast-send's datagrams, sent with TTL 1.
#
#   namespace N:  tap0 10.0.0.1/24, route 224.0.0.0/4 dev tap0 (Linux: socat)
#                   <-TAP->  tapir-mcast-recv / tapir-mcast-send --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-mcast-send tapir-mcast-recv
require_cmd socat

ns_new N host || die "cannot create a namespace"
# No IPv6 chatter on tap0: the only datagrams are the test's.
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ip -n "$N" tuntap add mode tap name tap0 || die "cannot create tap0"
ip -n "$N" addr add 10.0.0.1/24 dev tap0 || die "cannot address tap0"
ip -n "$N" link set tap0 up || die "cannot bring tap0 up"
ip -n "$N" route add 224.0.0.0/4 dev tap0 || die "cannot route 224/4 via tap0"

READY='starting data transfer loop' # socat -d -d: every address is open (bound)

# output_is PID TEXT: the listener's stdout is exactly TEXT (trailing newlines included).
# shellcheck disable=SC2317 # called through wait_until
output_is() { [[ "$(listener_output "$1" && echo x)" == "${2}x" ]]; }

# --- Linux → tapir: tapir-mcast-recv joins, socat sends to the group twice (another group
# in between, which tapir has not joined, must not reach it).
start_app R "$N" tapir-mcast-recv --tap tap0 --ip 10.0.0.2/24 --group 239.1.2.3 --port 5000 \
  --count 2 || die "tapir-mcast-recv did not start"
for text in 'hello group' 'not joined' 'hello again'; do
  group=239.1.2.3
  [[ $text == 'not joined' ]] && group=239.9.9.9
  run "$N" sh -c "printf '%s\n' '$text' |
    socat -u - UDP4-DATAGRAM:$group:5000,ip-multicast-if=10.0.0.1,bind=:40000,reuseaddr"
  assert_eq "socat to $group:5000 ($text): exit status" 0 "$RC"
done
rc=0
wait_exit "$R" 10 || rc=$?
assert_eq "tapir-mcast-recv --count 2: exit status (after 2 datagrams)" 0 "$rc"
heard=$(tapird_output "$R" | grep -v '^ready ')
assert_eq "tapir-mcast-recv heard the group's datagrams only" \
  $'from 10.0.0.1:40000 to 239.1.2.3 12 bytes: hello group\\n\nfrom 10.0.0.1:40000 to 239.1.2.3 12 bytes: hello again\\n' \
  "$heard"

# --- tapir → Linux: socat joins 239.1.2.3 on tap0 and prints what comes; tapir sends.
before_delivers=$(linux_ip_counter "$N" InDelivers)
start_listener L "$N" "$READY" socat -d -d -d -u \
  UDP4-RECV:5000,ip-add-membership=239.1.2.3:10.0.0.1,reuseaddr - ||
  die "socat (239.1.2.3:5000) did not start"
run "$N" "$IT_BIN/tapir-mcast-send" --tap tap0 --ip 10.0.0.2/24 --group 239.1.2.3 --port 5000 \
  --message $'to the group\n' --count 2 --interval 0.05
assert_eq "tapir-mcast-send: exit status" 0 "$RC"
assert_eq "tapir-mcast-send: output" \
  $'sent 13 bytes to 239.1.2.3:5000\nsent 13 bytes to 239.1.2.3:5000' "$(grep -v '^ready ' <<<"$OUT")"
# From stdin, with --ttl and --interface.
run "$N" sh -c "printf 'from stdin\n' | '$IT_BIN/tapir-mcast-send' --tap tap0 --ip 10.0.0.2/24 \
  --group 239.1.2.3 --port 5000 --ttl 4 --interface 10.0.0.2"
assert_eq "tapir-mcast-send (stdin, --ttl 4): exit status" 0 "$RC"
wait_until 5 output_is "$L" $'to the group\nto the group\nfrom stdin\n'
stop_listener "$L"
assert_eq "socat (member of 239.1.2.3) heard tapir's datagrams" \
  $'to the group\nto the group\nfrom stdin' "$(listener_output "$L")"
from=$(listener_stderr "$L" | grep -oE 'received packet with [0-9]+ bytes from AF=2 [0-9.]+' | sort -u | tr '\n' ';')
assert_eq "socat: sources and sizes" \
  "received packet with 11 bytes from AF=2 10.0.0.2;received packet with 13 bytes from AF=2 10.0.0.2;" "$from"
after_delivers=$(linux_ip_counter "$N" InDelivers)
assert_ge "Linux delivered at least the 3 datagrams" 3 "$((after_delivers - before_delivers))"

# A bad group is one line and exit status 2.
run "$N" "$IT_BIN/tapir-mcast-send" --tap tap0 --ip 10.0.0.2/24 --group 10.0.0.9 --port 5000
assert_eq "tapir-mcast-send --group 10.0.0.9: exit status" 2 "$RC"
assert_match "tapir-mcast-send --group 10.0.0.9: message" 'expected a multicast address' "$OUT"
finish
