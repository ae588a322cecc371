#!/usr/bin/env bash
# tapird as a router (--forward) with two TAPs between two Linux hosts.
#
#   namespace A                namespace R                                   namespace B
#   va 10.1.0.1/24 ──veth── ra ┐                              ┌ rb ──veth── vb 10.2.0.1/24
#   default via 10.1.0.254     br-a (bridge) ─ ta ═╗   ╔═ tb ─ br-b (bridge)  default via 10.2.0.254
#                                                  tapird --forward
#                                                  --tap ta --ip 10.1.0.254/24
#                                                  --tap tb --ip 10.2.0.254/24
#
# In R the Linux side of each TAP is a bridge port next to a veth end; nothing in R has an
# IP address and R's kernel does not forward, so every packet between A and B crosses tapird.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd ping tracepath

ns_new A hosta || die "cannot create a namespace"
ns_new B hostb || die "cannot create a namespace"
ns_new R router || die "cannot create a namespace"
ns_exec "$R" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1 \
  net.ipv6.conf.default.disable_ipv6=1 || die "cannot set sysctls in R"

for side in a b; do
  [[ $side == a ]] && H=$A || H=$B
  ns_veth "$H" "v$side" "$R" "r$side" || die "cannot create veth v$side/r$side"
  ip -n "$R" link add "br-$side" type bridge forward_delay 0 stp_state 0 || die "cannot create br-$side"
  ip -n "$R" tuntap add mode tap name "t$side" || die "cannot create TAP t$side"
  ip -n "$R" link set "r$side" master "br-$side" || die "cannot enslave r$side"
  ip -n "$R" link set "t$side" master "br-$side" || die "cannot enslave t$side"
  ip -n "$R" link set "t$side" up || die "cannot bring up t$side"
  ip -n "$R" link set "br-$side" up || die "cannot bring up br-$side"
done
ip -n "$A" addr add 10.1.0.1/24 dev va || die "cannot address va"
ip -n "$A" route add default via 10.1.0.254 || die "cannot route A"
ip -n "$B" addr add 10.2.0.1/24 dev vb || die "cannot address vb"
ip -n "$B" route add default via 10.2.0.254 || die "cannot route B"

start_tapird T "$R" --forward --tap ta --ip 10.1.0.254/24 --tap tb --ip 10.2.0.254/24 --stats ||
  die "tapird did not start"

run "$A" ping -n -c 5 -i 0.2 -W 2 -w 20 10.1.0.254
assert_ping "$OUT" 5 "A pings the router's near address 10.1.0.254"

run "$A" ping -n -c 10 -i 0.1 -W 2 -w 20 10.2.0.1
assert_ping "$OUT" 10 "A pings B (10.2.0.1) across tapird"
assert_match "replies from B crossed one router (ttl 63)" "from 10\.2\.0\.1: icmp_seq=[0-9]+ ttl=63" "$OUT"

run "$B" ping -n -c 5 -i 0.2 -W 2 -w 20 10.1.0.1
assert_ping "$OUT" 5 "B pings A (10.1.0.1) across tapird"

run "$A" ping -n -c 3 -s 3000 -i 0.2 -W 2 -w 20 10.2.0.1
assert_ping "$OUT" 3 "A pings B with -s 3000 (fragments forwarded)"

run "$A" ping -n -c 1 -t 1 -W 2 -w 5 10.2.0.1
assert_match "ping -t 1 gets time exceeded from 10.1.0.254" \
  "From 10\.1\.0\.254 icmp_seq=1 Time to live exceeded" "$OUT"

NL=$'\n'
# tracepath: hop 1 is tapird's near address, the destination is reached at hop 2.
run "$A" timeout 30 tracepath -n -m 5 10.2.0.1
assert_match "tracepath hop 1 is 10.1.0.254" "(^|$NL) *1: +10\.1\.0\.254 " "$OUT"
assert_match "tracepath reaches 10.2.0.1 at hop 2" "(^|$NL) *2: +10\.2\.0\.1 " "$OUT"

stop_tapird_checked "$T"
# A→B: 10 + 3×3 fragments; B→A: 5 echo requests; plus the replies both ways.
assert_ge "tapird ipForwDatagrams" $((2 * (10 + 5) + 2 * 3 * 3)) "$(tapird_counter "$T" ipForwDatagrams)"
assert_ge "tapird icmpOutTimeExcds" 1 "$(tapird_counter "$T" icmpOutTimeExcds)"
finish
