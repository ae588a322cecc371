#!/usr/bin/env bash
# tapir as an IGMP host behind a Linux bridge that snoops and queries (mcast_snooping 1,
# mcast_querier 1): tapir-mcast-recv's group shows in the bridge's mdb (`bridge mdb show`),
# tapir answers the querier's queries (tcpdump on its bridge port), and once tapir leaves the
# group (the receiver stops, its socket closes) the entry goes.
#
#   namespace N:  br0 10.0.0.1/24 (snooping, querier: query interval 2 s, response 1 s)
#                   ├─ tap0  <-TAP->  tapir-mcast-recv --tap tap0 --ip 10.0.0.2/24
#                   └─ vb0   <-veth-> vh0 10.0.0.3/24 in namespace H (a Linux host)
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_apps tapir-mcast-recv
require_cmd tcpdump
require_cmd bridge

ns_new N bridge || die "cannot create a namespace"
ns_new H host || die "cannot create a namespace"
for ns in "$N" "$H"; do
  ns_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
    die "cannot set sysctls in $ns"
done
# Centiseconds: queries every 2 s (the first two 1 s apart), reports within 1 s. The queries
# come from 0.0.0.0, the bridge's default (RFC 4541 §2.1.1), which tapir accepts for IGMP.
ip -n "$N" link add br0 type bridge mcast_snooping 1 mcast_querier 1 \
  mcast_query_interval 200 mcast_query_response_interval 100 \
  mcast_startup_query_count 2 mcast_startup_query_interval 100 || die "cannot create br0"
ip -n "$N" tuntap add mode tap name tap0 || die "cannot create tap0"
ip -n "$N" link add vb0 type veth peer name vh0 netns "$H" || die "cannot create the veth pair"
ip -n "$N" link set tap0 master br0 || die "cannot add tap0 to br0"
ip -n "$N" link set vb0 master br0 || die "cannot add vb0 to br0"
ip -n "$N" addr add 10.0.0.1/24 dev br0 || die "cannot address br0"
ip -n "$H" addr add 10.0.0.3/24 dev vh0 || die "cannot address vh0"
for dev in tap0 vb0 br0; do ip -n "$N" link set "$dev" up || die "cannot bring $dev up"; done
ip -n "$H" link set vh0 up || die "cannot bring vh0 up"

# tapir's IGMP on its bridge port, one line per message (-l: line-buffered).
start_listener DUMP "$N" 'listening on' tcpdump -i tap0 -n -l -p igmp ||
  die "tcpdump on tap0 did not start"

start_app R "$N" tapir-mcast-recv --tap tap0 --ip 10.0.0.2/24 --group 239.1.2.3 --port 5000 ||
  die "tapir-mcast-recv did not start"

# shellcheck disable=SC2317 # called through wait_until
in_mdb() { bridge -n "$N" mdb show dev br0 | grep -q "port tap0 grp 239.1.2.3"; }
# Reports from tapir that followed a query: a join sends at most robustness (2) unsolicited
# reports, so more than 2 reports after the first query means tapir answered queries.
# shellcheck disable=SC2317 # called through wait_until
reports_after_query() {
  listener_output "$DUMP" | awk '
    / 0\.0\.0\.0 > 224\.0\.0\.1: igmp query/ { q = 1 }
    q && / 10\.0\.0\.2 > .*igmp v[123] report/ { n++ }
    END { print n + 0 }'
}
# shellcheck disable=SC2317 # called through wait_until
answered() { (($(reports_after_query) > 2)); }

wait_until 10 in_mdb
assert_match "bridge mdb lists tapir's group on tap0" 'port tap0 grp 239\.1\.2\.3' \
  "$(bridge -n "$N" mdb show dev br0)"
wait_until 15 answered
assert_ge "tapir's reports after the querier's queries" 3 "$(reports_after_query)"
assert_match "tcpdump saw the querier's query (from 0.0.0.0) on tap0" '0\.0\.0\.0 > 224\.0\.0\.1: igmp query' \
  "$(listener_output "$DUMP")"

# Leaving: stop the receiver; its socket's close leaves the group (a leave or a v3 state
# change), the querier asks the group once more (last member query), nobody answers.
stop_tapird "$R" INT
assert_eq "tapir-mcast-recv exit status after SIGINT" 0 "$?"
# shellcheck disable=SC2317 # called through wait_until
gone() { ! in_mdb; }
wait_until 15 gone
assert_eq "bridge mdb no longer lists 239.1.2.3 on tap0" "" \
  "$(bridge -n "$N" mdb show dev br0 | grep 'port tap0 grp 239.1.2.3')"
stop_listener "$DUMP"
assert_match "tapir said it left (a leave, or a v3 report with a change to INCLUDE {})" \
  '10\.0\.0\.2 > 224\.0\.0\.(2: igmp leave|22: igmp v3 report)' "$(listener_output "$DUMP")"
finish
