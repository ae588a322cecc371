#!/usr/bin/env bash
# tapirctl against a running tapird: the control socket appears under --name, and list,
# neigh, route (show, add, del), addr, ss, trace and stats report what the stack holds — the
# Linux neighbour's real MAC, the routes, a TCP connection Linux holds open to the echo port —
# and every mistake (bad command, unknown name, a program that went away) is one line on
# stderr and exit status 1.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24 --name it
#
# The control sockets go to a directory of this test's own (TAPIR_CTL_DIR), not /run/tapir.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_tapird
require_apps tapirctl
require_python
require_cmd ping

CTL=$IT_BIN/tapirctl
ns_tmpdir_init
export TAPIR_CTL_DIR=$_ns_tmp/ctl
NAME=it-$$

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --name "$NAME" --stats || die "tapird did not start"

assert_eq "the control socket exists" yes "$([[ -S $TAPIR_CTL_DIR/$NAME.sock ]] && echo yes)"
assert_match "tapirctl list names it" "(^|$'\n')$NAME($|$'\n')" "$("$CTL" list)"
assert_eq "tapirctl ping" pong "$("$CTL" -n "$NAME" ping)"

run "$N" ping -n -c 2 -i 0.2 -W 2 10.0.0.2
assert_ping "$OUT" 2 "ping -c 2"
linux_mac=$(ip -n "$N" -o link show tap0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
assert_match "neigh: Linux's entry with its MAC" \
  "^10\.0\.0\.1 dev tap0 lladdr $linux_mac REACHABLE" "$("$CTL" -n "$NAME" neigh)"

assert_eq "route: the connected route" "10.0.0.0/24 dev tap0 scope link" "$("$CTL" -n "$NAME" route)"
"$CTL" -n "$NAME" route add 10.9.0.0/16 via 10.0.0.1
assert_eq "route add: status" 0 "$?"
assert_match "route add: the route is in the table" "10\.9\.0\.0/16 via 10\.0\.0\.1 dev tap0" \
  "$("$CTL" -n "$NAME" route show)"
# The stack uses it: a ping from tapir's side is not possible here, but a route to a host
# behind 10.0.0.1 now resolves through it rather than "no route" — shown by del/del.
"$CTL" -n "$NAME" route del 10.9.0.0/16
assert_eq "route del: status" 0 "$?"
err=$("$CTL" -n "$NAME" route del 10.9.0.0/16 2>&1)
assert_eq "route del of a missing route: status" 1 "$?"
assert_eq "route del of a missing route: message" \
  "tapirctl: $NAME: route del: no route to 10.9.0.0/16" "$err"
err=$("$CTL" -n "$NAME" route add 10.9.0.0/16 via 10.5.0.1 2>&1)
assert_eq "route add via an unreachable gateway: status" 1 "$?"
assert_match "route add via an unreachable gateway: message" "not on a connected network" "$err"

assert_match "addr: the interface and its address" \
  "tap0: mtu 1500.*link/ether 02:00:0a:00:00:02.*inet 10\.0\.0\.2/24" "$("$CTL" -n "$NAME" addr | tr '\n' ' ')"

# A connection Linux holds open to the echo port: ESTABLISHED, with cwnd and rto.
start_listener C "$N" '^connected' "$PY" -c '
import socket, sys
s = socket.create_connection(("10.0.0.2", 7), timeout=30)
print("connected %d" % s.getsockname()[1], file=sys.stderr, flush=True)
s.recv(1)
' || die "the client did not connect"
port=$(listener_stderr "$C" | awk '/^connected/ { print $2 }')
ss_out=$("$CTL" -n "$NAME" ss)
assert_match "ss: the header" "^Netid State +Recv-Q Send-Q Local Address:Port +Peer Address:Port" "$ss_out"
assert_match "ss: the echo listener" "tcp +LISTEN +0 +[0-9]+ \*:7 " "$ss_out"
assert_match "ss: the connection, with cwnd and rto" \
  "tcp +ESTABLISHED +0 +0 10\.0\.0\.2:7 +10\.0\.0\.1:$port +cubic cwnd 10 ssthresh inf mss 14[0-9][0-9] rtt [0-9.]+/[0-9.]+ rto [0-9.]+ retrans 0" \
  "$ss_out"
assert_match "ss: the UDP echo endpoint" "udp +UNCONN .* \*:7 " "$ss_out"
stop_listener "$C"

# trace: switched on at run time, one line per ping in tapird's stderr; off again.
"$CTL" -n "$NAME" trace icmp on
assert_eq "trace icmp on: status" 0 "$?"
run "$N" ping -n -c 1 -W 2 10.0.0.2
wait_until 10 grep -q "icmp in type 8" "${_tapird_err[$T]}"
assert_eq "trace: an icmp line in tapird's stderr" 0 "$?"
"$CTL" -n "$NAME" trace icmp off
err=$("$CTL" -n "$NAME" trace nosuch on 2>&1)
assert_eq "trace of an unknown layer: status" 1 "$?"
assert_eq "trace of an unknown layer: message" "tapirctl: $NAME: trace: unknown layer \"nosuch\"" "$err"

assert_match "stats: the echo requests counted" "icmpInEchos 3" "$("$CTL" -n "$NAME" stats)"

err=$("$CTL" -n "$NAME" frobnicate 2>&1)
assert_eq "an unknown command: status" 1 "$?"
assert_match "an unknown command: message" "^tapirctl: $NAME: unknown command 'frobnicate'" "$err"
err=$("$CTL" -n nosuch-$$ stats 2>&1)
assert_eq "an unknown name: status" 1 "$?"
assert_eq "an unknown name: message" \
  "tapirctl: no tapir program named nosuch-$$ is running (tapirctl list shows those that are)" "$err"

stop_tapird_checked "$T"
assert_eq "the control socket is gone after exit" no "$([[ -e $TAPIR_CTL_DIR/$NAME.sock ]] && echo yes || echo no)"
err=$("$CTL" -n "$NAME" stats 2>&1)
assert_eq "a program that went away: status" 1 "$?"
assert_match "a program that went away: message" "no tapir program named $NAME" "$err"

# The same name twice: the second program refuses to start, in one line.
start_tapird T2 "$N" --tap tap0 --ip 10.0.0.2/24 --name "$NAME" || die "tapird did not start"
run "$N" "$TAPIRD" --tap tap0 --ip 10.0.0.3/24 --name "$NAME"
assert_ge "a second program with the same --name: status" 1 "$RC"
assert_match "a second program with the same --name: message" "another program has this --name" "$OUT"
stop_tapird_checked "$T2"
finish
