#!/usr/bin/env bash
# Two tapir hosts on one Linux bridge, no Linux stack in between: tapir-udp-echo --server on
# one, --client on the other, and tapir-ping between them. The datagrams come back
# byte-identical, from a short message up to 30000 and 65507 bytes (the largest UDP datagram,
# 45 fragments each way, fragmented and reassembled by tapir at both ends); a datagram to a
# closed port gets ECONNREFUSED.
#
#   namespace N:  bridge br0 (no address), ports t1 and t2 (TAPs, no address)
#     t1 <-TAP-> tapir-udp-echo --server 7000 --tap t1 --ip 10.0.0.1/24
#     t2 <-TAP-> tapir-udp-echo --client 10.0.0.1:7000 / tapir-ping  --tap t2 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-udp-echo tapir-ping

ns_new N bridge || die "cannot create a namespace"
# Only the tapir hosts speak on the bridge: no IPv6 from the Linux ports.
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ip -n "$N" link add br0 type bridge forward_delay 0 stp_state 0 || die "cannot create br0"
for t in t1 t2; do
  ip -n "$N" tuntap add mode tap name "$t" || die "cannot create TAP $t"
  ip -n "$N" link set "$t" master br0 || die "cannot enslave $t"
  ip -n "$N" link set "$t" up || die "cannot bring up $t"
done
ip -n "$N" link set br0 up || die "cannot bring up br0"

start_app S "$N" tapir-udp-echo --tap t1 --ip 10.0.0.1/24 --server 7000 --stats ||
  die "tapir-udp-echo --server did not start"
NL=$'\n'
CLIENT=("$IT_BIN/tapir-udp-echo" --tap t2 --ip 10.0.0.2/24 --client 10.0.0.1:7000 --timeout 5)

run "$N" "${CLIENT[@]}" --message 'hello from t2, across the bridge' --count 3
assert_eq "client --message --count 3: exit status" 0 "$RC"
assert_eq "client --message --count 3: lines '32 bytes from 10.0.0.1:7000: hello from t2, ...'" 3 \
  "$(printf '%s\n' "$OUT" | grep -c '^32 bytes from 10\.0\.0\.1:7000: hello from t2, across the bridge$')"
assert_match "client --message --count 3: verdict" \
  "(^|$NL)3 datagrams of 32 bytes echoed back identical\$" "$OUT"

for size in 1472 30000 65507; do
  run "$N" "${CLIENT[@]}" --size "$size"
  assert_eq "client --size $size: exit status" 0 "$RC"
  assert_match "client --size $size: echoed back identical" \
    "(^|$NL)1 datagram of $size bytes echoed back identical\$" "$OUT"
done

# Binary bytes from stdin (every byte value), one datagram.
run "$N" sh -c "$PY -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' | $(printf '%q ' "${CLIENT[@]}")"
assert_eq "client, 1024 bytes of every value from stdin: exit status" 0 "$RC"
assert_match "client, 1024 binary bytes from stdin: echoed back identical" \
  "(^|$NL)1 datagram of 1024 bytes echoed back identical\$" "$OUT"

# Nothing listens on port 7001: t1's host answers port unreachable, the connected client's
# recv fails with ECONNREFUSED (RFC 1122 §4.1.3.3).
run "$N" "$IT_BIN/tapir-udp-echo" --tap t2 --ip 10.0.0.2/24 --client 10.0.0.1:7001 --message hi
assert_eq "client to closed port 7001: exit status" 1 "$RC"
assert_eq "client to closed port 7001: error" "tapir-udp-echo: recv: Connection refused" "$OUT"

# tapir-ping from t2's host to the echo server's host: tapir answers echo requests itself.
run "$N" "$IT_BIN/tapir-ping" --tap t2 --ip 10.0.0.2/24 -c 3 -i 0.2 -W 2 10.0.0.1
assert_eq "tapir-ping 10.0.0.1: exit status" 0 "$RC"
assert_ping "$OUT" 3 "tapir-ping -c 3 10.0.0.1 across the bridge"
assert_eq "tapir-ping: reply lines" \
  "64 bytes from 10.0.0.1: icmp_seq=1 ttl=64;64 bytes from 10.0.0.1: icmp_seq=2 ttl=64;64 bytes from 10.0.0.1: icmp_seq=3 ttl=64;" \
  "$(printf '%s\n' "$OUT" | sed -nE 's/^(.* bytes from .*) time=[0-9.]+ ms$/\1/p' | tr '\n' ';')"

run "$N" "$IT_BIN/tapir-ping" --tap t2 --ip 10.0.0.2/24 -c 2 -i 0.2 -s 20000 -W 2 10.0.0.1
assert_ping "$OUT" 2 "tapir-ping -c 2 -s 20000 10.0.0.1 across the bridge"
assert_match "tapir-ping -s 20000: 20008-byte replies" "20008 bytes from 10\.0\.0\.1: icmp_seq=1 ttl=64" "$OUT"

stop_tapird "$S" INT
rc=$?
assert_eq "tapir-udp-echo --server exit status after SIGINT" 0 "$rc"
served=$(tapird_output "$S")
assert_eq "server: datagrams echoed (3 + 3 sizes + stdin)" 7 "$(printf '%s\n' "$served" | grep -c '^echoed [0-9]* bytes to 10\.0\.0\.2:')"
for size in 1472 30000 65507 1024; do
  assert_match "server: echoed the $size-byte datagram" "(^|$NL)echoed $size bytes to 10\.0\.0\.2:[0-9]+" "$served"
done
assert_eq "server ipReasmOKs (30000, 65507 and the two 20000-byte pings)" 4 \
  "$(printf '%s\n' "$served" | awk 'NF == 2 && $1 == "ipReasmOKs" { print $2 }')"
# Replies leave in 1480-byte pieces: 30000 → 21, 65507 → 45, each 20000-byte ping → 14.
assert_eq "server ipFragCreates" $((21 + 45 + 2 * 14)) \
  "$(printf '%s\n' "$served" | awk 'NF == 2 && $1 == "ipFragCreates" { print $2 }')"
assert_eq "server icmpOutEchoReps" 5 \
  "$(printf '%s\n' "$served" | awk 'NF == 2 && $1 == "icmpOutEchoReps" { print $2 }')"
finish
