#!/usr/bin/env bash
# A ping flood against tapird --limit echo-rate=100: Linux sends 5000 echo requests at
# 1 ms intervals (about 1000 a second for about 5 s) and tapird answers only what its token
# bucket allows, 100 a second after a burst of 50 (icmp::Config::echo_burst); the rest are
# counted under icmpOutEchoRateLimited. Every request that reached tapird is counted in
# icmpInEchos, and TCP is not held back: an echo over TCP (port 7) comes back byte-exact while
# the flood is going on and after it.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: ping, nc)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                                                              --limit echo-rate=100
#
# iputils ping needs help to flood a host that does not answer: ping -f sends one request per
# reply or one every 10 ms, and so does -i 0.001 while requests are unanswered (it then sleeps
# in 10 ms steps), about 200 a second here. A preload (-l 20) lets each 10 ms step send the
# 10 requests that fell due, so -i 0.001 -l 20 sends about 1000 a second whatever comes back.
# (-i 0.0002 is 0 to iputils, which counts in whole milliseconds: the same as -f.) There is no
# -w: with a deadline -c counts replies, not requests, and ping would send until the deadline.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd ping nc sha256sum

RATE=100  # --limit echo-rate
BURST=50  # icmp::Config::echo_burst
COUNT=5000
INTERVAL=0.001
PRELOAD=20

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --limit echo-rate=$RATE --stats ||
  die "tapird did not start"

# tcp_echo LABEL BYTES: BYTES random bytes through tapird's TCP echo; they must come back whole.
tcp_echo() {
  random_file "$TMP/$1.in" "$2"
  run "$N" sh -c "timeout 20 nc -N -w 10 10.0.0.2 7 <'$TMP/$1.in' >'$TMP/$1.out'"
  assert_eq "$1: nc exit status" 0 "$RC"
  assert_eq "$1: SHA-256 of the $2 bytes that came back" "$(sha256_of "$TMP/$1.in")" \
    "$(sha256_of "$TMP/$1.out")"
}

# Before the flood (this also resolves ARP both ways, so the flood's first request is not
# held in Linux's ARP queue).
tcp_echo "TCP echo before the flood" 4096

# tx_dropped of Linux's tap0: frames the TAP's queue dropped because tapird read too slowly.
tap_tx_dropped() {
  ip -n "$N" -s -j link show tap0 | "$PY" -c \
    'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'
}
require_python
drops_before=$(tap_tx_dropped)

t0=$(now_ms)
ns_spawn P "$N" timeout 30 ping -n -q -i "$INTERVAL" -l "$PRELOAD" -c "$COUNT" -W 1 10.0.0.2 >"$TMP/ping.out" 2>&1

# The flood is on once tapird has refused a reply; then the TCP echo, while ping still runs.
# shellcheck disable=SC2317 # called through wait_until
limited_now() {
  counters_now "$T" && _is_int "$(counter icmpOutEchoRateLimited)" &&
    (($(counter icmpOutEchoRateLimited) > 0))
}
wait_until 10 limited_now || die "tapird refused no echo reply within 10 s of the flood's start"
echo "  the flood is on: icmpInEchos $(counter icmpInEchos)," \
  "icmpOutEchoRateLimited $(counter icmpOutEchoRateLimited)"
tcp_echo "TCP echo during the flood" 65536
if kill -0 "$P" 2>/dev/null; then
  _it_ok "the ping flood was still going when the TCP echo was done"
else
  _it_bad "the ping flood was still going when the TCP echo was done" "ping had already ended"
fi

# ping ends by itself: COUNT requests at INTERVAL, then a moment for the last replies;
# timeout 30 bounds it, and this wait bounds that.
if timeout 40 tail -s 0.05 --pid="$P" -f /dev/null 2>/dev/null; then
  wait "$P"
  ping_rc=$?
else
  ping_rc=124
fi
_ns_reap "$P"
_ns_forget_pid "$P"
t1=$(now_ms)
duration_ms=$((t1 - t0))
OUT=$(<"$TMP/ping.out")
printf '%s\n' "$OUT" | sed 's/^/  | /' | tail -n 4

tx="" rx=""
if [[ $OUT =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
  tx=${BASH_REMATCH[1]}
  rx=${BASH_REMATCH[2]}
fi
# Without -w, ping exits 0 when any reply came (1 if none did, 2 on an error, 124: timeout).
assert_eq "ping exit status" 0 "$ping_rc"
assert_eq "requests ping sent" "$COUNT" "$tx"
# The bucket gives at most BURST + RATE x (the time requests were arriving) replies; the
# flood's whole duration (start of ping to its end) bounds that time. Slack (a tenth and 20)
# for the clocks: tapird's bucket and this script's watch do not start at the same instant.
max_rx=$((BURST + RATE * duration_ms * 11 / 10000 + 20))
echo "  the flood took $duration_ms ms: at most $max_rx replies allowed"
if _is_int "$rx" && ((rx <= max_rx)); then
  _it_ok "replies received $rx (<= $max_rx: $BURST + $RATE/s over $duration_ms ms)"
else
  _it_bad "replies received at most $max_rx" "got: ${rx:-<empty>}"
fi
# And no fewer than the burst and half the rate over the time requests were sent (the
# duration less a second for starting ping and its wait for the last replies).
min_rx=$((BURST + RATE * (duration_ms - 1000) / 2000))
assert_ge "replies received (>= the burst and half the rate: $min_rx)" "$min_rx" "$rx"
if _is_int "$rx" && _is_int "$tx" && ((rx * 5 < tx)); then
  _it_ok "replies ($rx) are far fewer than requests ($tx): under a fifth"
else
  _it_bad "replies far fewer than requests (under a fifth)" "got: ${rx:-?} of ${tx:-?}"
fi

# After the flood: TCP still answers.
tcp_echo "TCP echo after the flood" 65536

drops=$(($(tap_tx_dropped) - drops_before))
stop_tapird_checked "$T"
in_echos=$(tapird_counter "$T" icmpInEchos)
out_reps=$(tapird_counter "$T" icmpOutEchoReps)
limited=$(tapird_counter "$T" icmpOutEchoRateLimited)
echo "  icmpInEchos $in_echos, icmpOutEchoReps $out_reps, icmpOutEchoRateLimited $limited," \
  "tap0 tx_dropped during the run $drops"
# Every request ping sent reached tapird unless the TAP's queue dropped it (counted by Linux).
assert_eq "icmpInEchos (requests sent $tx less the TAP queue's drops $drops)" \
  "$((${tx:-0} - drops))" "$in_echos"
assert_ge "icmpOutEchoRateLimited" 1 "$limited"
assert_eq "icmpOutEchoReps + icmpOutEchoRateLimited (every request answered or counted)" \
  "$in_echos" "$((out_reps + limited))"
assert_eq "icmpOutEchoReps (every reply sent reached ping)" "$rx" "$out_reps"
finish
