#!/usr/bin/env bash
# UDP broadcast between tapir-broadcast and Linux socat, both ways, to the limited broadcast
# 255.255.255.255 and to the subnet-directed broadcast 10.0.0.255 (RFC 919, RFC 1122 §3.3.6).
# Linux receivers bound to one broadcast address each prove which destination a datagram
# really had; one bound to INADDR_ANY hears both.
#
#   namespace N:  tap0 10.0.0.1/24 brd 10.0.0.255 (Linux: socat)
#                   <-TAP->  tapir-broadcast --tap tap0 --ip 10.0.0.2/24 (--send / --listen)
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-broadcast
require_cmd socat

ns_new N host || die "cannot create a namespace"
# No IPv6 chatter on tap0: the only datagrams are the test's.
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ip -n "$N" tuntap add mode tap name tap0 || die "cannot create tap0"
ip -n "$N" addr add 10.0.0.1/24 broadcast + dev tap0 || die "cannot address tap0"
ip -n "$N" link set tap0 up || die "cannot bring tap0 up"

BCAST=("$IT_BIN/tapir-broadcast" --tap tap0 --ip 10.0.0.2/24)
READY='starting data transfer loop' # socat -d -d: every address is open (bound)

# output_is PID TEXT: the listener's stdout is exactly TEXT (trailing newlines included).
# shellcheck disable=SC2317 # called through wait_until
output_is() { [[ "$(listener_output "$1" && echo x)" == "${2}x" ]]; }

# --- tapir → Linux: three socat receivers on port 5000 (all with SO_REUSEADDR).
start_listener ANY "$N" "$READY" socat -d -d -d -u UDP4-RECV:5000,reuseaddr - ||
  die "socat (0.0.0.0:5000) did not start"
start_listener LIM "$N" "$READY" socat -d -d -d -u UDP4-RECV:5000,bind=255.255.255.255,reuseaddr - ||
  die "socat (255.255.255.255:5000) did not start"
start_listener SUB "$N" "$READY" socat -d -d -d -u UDP4-RECV:5000,bind=10.0.0.255,reuseaddr - ||
  die "socat (10.0.0.255:5000) did not start"

run "$N" "${BCAST[@]}" --send 5000 --message $'to all ones\n'
assert_eq "tapir-broadcast --send 5000: exit status" 0 "$RC"
assert_eq "tapir-broadcast --send 5000: output" "sent 12 bytes to 255.255.255.255:5000" "$OUT"
run "$N" "${BCAST[@]}" --send 5000 --to 10.0.0.255 --message $'to the subnet\n'
assert_eq "tapir-broadcast --send 5000 --to 10.0.0.255: exit status" 0 "$RC"
assert_eq "tapir-broadcast --send 5000 --to 10.0.0.255: output" "sent 14 bytes to 10.0.0.255:5000" "$OUT"

wait_until 5 output_is "$ANY" $'to all ones\nto the subnet\n'
wait_until 5 output_is "$LIM" $'to all ones\n'
wait_until 5 output_is "$SUB" $'to the subnet\n'
for s in "$ANY" "$LIM" "$SUB"; do stop_listener "$s"; done
assert_eq "socat on 0.0.0.0:5000 heard both" $'to all ones\nto the subnet' "$(listener_output "$ANY")"
assert_eq "socat on 255.255.255.255:5000 heard the limited broadcast" "to all ones" "$(listener_output "$LIM")"
assert_eq "socat on 10.0.0.255:5000 heard the subnet broadcast" "to the subnet" "$(listener_output "$SUB")"
# socat -d -d -d logs each datagram's source: tapir's address.
from=$(listener_stderr "$ANY" | grep -oE 'received packet with [0-9]+ bytes from AF=2 [0-9.]+' | tr '\n' ';')
assert_eq "socat on 0.0.0.0:5000: sources and sizes" \
  "received packet with 12 bytes from AF=2 10.0.0.2;received packet with 14 bytes from AF=2 10.0.0.2;" "$from"

# --- Linux → tapir: tapir-broadcast --listen, socat sends (limited broadcast needs an
# interface: no route covers 255.255.255.255, so socat binds to tap0).
start_app L "$N" tapir-broadcast --tap tap0 --ip 10.0.0.2/24 --listen 5001 --count 2 ||
  die "tapir-broadcast --listen did not start"
run "$N" sh -c "printf 'from Linux to all ones\n' |
  socat -u - UDP4-DATAGRAM:255.255.255.255:5001,broadcast,so-bindtodevice=tap0,bind=:40001"
assert_eq "socat to 255.255.255.255:5001: exit status" 0 "$RC"
run "$N" sh -c "printf 'from Linux to the subnet\n' |
  socat -u - UDP4-DATAGRAM:10.0.0.255:5001,broadcast,bind=:40002"
assert_eq "socat to 10.0.0.255:5001: exit status" 0 "$RC"
rc=0
wait_exit "$L" 10 || rc=$?
assert_eq "tapir-broadcast --listen 5001 --count 2: exit status (after 2 datagrams)" 0 "$rc"
heard=$(tapird_output "$L" | grep -v '^ready ')
assert_eq "tapir-broadcast --listen heard both" \
  $'from 10.0.0.1:40001 23 bytes: from Linux to all ones\\n\nfrom 10.0.0.1:40002 25 bytes: from Linux to the subnet\\n' \
  "$heard"
finish
