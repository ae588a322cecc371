#!/usr/bin/env bash
# tapird --fault impairs its link in both directions: Linux pings it through
# loss=20%,duplicate=10%,delay=15ms,jitter=10ms and sees lost replies, duplicates ("DUP!") and
# round trips of at least 30 ms (15 to 25 ms each way); --stats counts what the injector did per
# direction. A bad SPEC is one line and exit status 2. (No TCP here: this checks the flag the
# TCP fault test, tcp_faults.sh, relies on.)
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, ping)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                                                          --fault ...
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd ping

# --- a bad SPEC: one line on stderr, exit 2, before any device is touched.
err=$("$TAPIRD" --tap tap0 --ip 10.0.0.2/24 --fault loss=5 2>&1 >/dev/null)
rc=$?
assert_eq "--fault loss=5: exit status" 2 "$rc"
assert_eq "--fault loss=5: the error line" \
  'tapird: --fault: expected loss as a probability from 0% to 100% like 5% or 0.05, got "5"' "$err"
err=$("$TAPIRD" --tap tap0 --ip 10.0.0.2/24 --fault drop=1% 2>&1 >/dev/null)
assert_match "--fault drop=1%: names the keys" \
  '^tapird: --fault: expected KEY=VALUE with KEY one of loss, duplicate, reorder, delay, jitter, reorder-delay, seed, got "drop=1%"$' \
  "$err"

ns_new N host || die "cannot create a namespace"
# No IPv6 chatter (router solicitations, MLD) through the injector: only ARP and the pings.
ns_exec "$N" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
  die "cannot set sysctls in N"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats \
  --fault loss=20%,duplicate=10%,delay=15ms,jitter=10ms,seed=7 || die "tapird did not start"

# 200 pings 10 ms apart; -W 2 waits for the last late replies. With 20 % loss each way about
# 64 % come back: fewer than 200 and more than 0, whatever the seed does (the chance of either
# is below 10^-30). A duplicated request or reply is one more reply, which ping marks DUP!.
run "$N" ping -n -c 200 -i 0.01 -W 2 10.0.0.2
echo "  $(printf '%s\n' "$OUT" | grep -E 'packets transmitted')"
if [[ $OUT =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
  received=${BASH_REMATCH[2]}
else
  received=""
fi
assert_ge "ping: replies received" 1 "$received"
if [[ -n $received ]] && ((received < 200)); then
  _it_ok "ping: some of the 200 lost ($received received)"
else
  _it_bad "ping: some of the 200 lost" "got: ${received:-?} received"
fi
assert_match "ping: duplicates" "\+[0-9]+ duplicates" "$OUT"
# rtt min/avg/max/mdev = a/b/c/d ms: each way is 15 ms plus up to 10 ms, so no round trip
# is under 30 ms. (No upper bound is checked: on a loaded machine a late wake-up of the
# loop adds to the 50 ms.)
if [[ $OUT =~ rtt\ min/avg/max/mdev\ =\ ([0-9]+)\.[0-9]+/ ]]; then
  assert_ge "ping: min RTT in whole ms (2 × 15 ms delay)" 30 "${BASH_REMATCH[1]}"
else
  _it_bad "ping: an rtt summary line" "got: $(printf '%s\n' "$OUT" | tail -n 2)"
fi

stop_tapird_checked "$T"
assert_ge "tapird tap0.faultRxFrames (the requests and ARP)" 200 \
  "$(tapird_counter "$T" tap0.faultRxFrames)"
for c in tap0.faultTxFrames tap0.faultRxLost tap0.faultTxLost tap0.faultRxDuplicated \
  tap0.faultTxDuplicated; do
  assert_ge "tapird $c" 1 "$(tapird_counter "$T" "$c")"
done
assert_eq "tapird tap0.faultRxReordered (reorder not asked for)" 0 \
  "$(tapird_counter "$T" tap0.faultRxReordered)"
finish
