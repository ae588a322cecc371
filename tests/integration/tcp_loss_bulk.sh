#!/usr/bin/env bash
# TCP through steady loss, against Linux: 50 MB each way at 1% and at 5% loss with a 20 ms
# round trip, every byte arriving in order, once (SHA-256 at both ends), and tapir's sender
# repairing the losses with SACK-based recovery (RFC 6675, RACK-TLP RFC 8985) rather than
# waiting out its retransmission timer.
#
# The damage is tapir's own seeded fault injector (this kernel has no tc netem), on tapir's
# side of the TAP and in both directions: --fault loss=P,delay=10ms drops a fraction P of the
# frames tapir sends and of those it receives and holds each 10 ms, so the round trip is
# 20 ms, as `netem delay 20ms` on one side would make it, and a round trip loses about 2P.
#
# The four transfers run at the same time, each on its own namespace and TAP: they wait on
# the delay and on loss recovery, not on the CPU. The slowest, Linux → tapir at 5%, moves
# about 2.3 Mbit/s here (cubic, 8 MB measured by hand), so 50 MB takes about 3 minutes; the
# others end sooner (tapir → Linux at 5%: 2.8 Mbit/s; at 1%: 9.0 and 7.1 Mbit/s).
#
#   namespace O<P>:  tap0 10.0.0.1/24 (Linux, nc -l)  <-TAP->  tapir-bulk --send --fault ...
#   namespace I<P>:  tap0 10.0.0.1/24 (Linux, nc)     <-TAP->  tapir-bulk --recv --fault ...
BYTES=${TAPIR_LOSS_BYTES:-50000000}
LIMIT=${TAPIR_LOSS_SECONDS:-280}
IT_TIMEOUT=$((LIMIT + 20))
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_apps tapir-bulk
require_cmd nc sha256sum

ns_tmpdir_init
TMP=$_ns_tmp
random_file "$TMP/bulk.bin" "$BYTES"
SHA=$(sha256_of "$TMP/bulk.bin")

declare -A OUT_NC OUT_T0 OUT_BULK IN_NC IN_BULK
for loss in 1 5; do
  fault=(--fault "loss=$loss%,delay=10ms,seed=$((loss + 10))")
  common=(--tap tap0 --ip 10.0.0.2/24 --timeout "$LIMIT" --stats "${fault[@]}")

  # tapir → Linux: tapir-bulk --send to nc -l, which hashes what it reads.
  ns_new O "o$loss" || die "cannot create a namespace"
  ns_tap "$O" tap0 10.0.0.1/24 || die "cannot create tap0"
  # (nc -l's pipeline also prints when it ended, for the transfer's time: tapir-bulk's own
  # "seconds" ends when its last byte is queued, a send buffer early.)
  start_listener L "$O" '^Listening on' sh -c 'nc -l -n -v 5001 | sha256sum; date +%s%N' ||
    die "nc -l 5001 did not start"
  OUT_NC[$loss]=$L
  OUT_T0[$loss]=$(date +%s%N)
  ip netns exec "$O" timeout "$LIMIT" "$IT_BIN/tapir-bulk" "${common[@]}" \
    --send 10.0.0.1:5001 --file "$TMP/bulk.bin" >"$TMP/out$loss.out" 2>"$TMP/out$loss.err" &
  OUT_BULK[$loss]=$!
  _ns_pids+=("${OUT_BULK[$loss]}")

  # Linux → tapir: nc sends the file to tapir-bulk --recv, which hashes what it reads. nc
  # ends at tapir's FIN, or after 30 s of silence if the injector drops that FIN and
  # tapir-bulk is gone before it is resent; tapir-bulk's own lines say whether all arrived.
  ns_new I "i$loss" || die "cannot create a namespace"
  ns_tap "$I" tap0 10.0.0.1/24 || die "cannot create tap0"
  # Linux's sender runs cubic, as tapir's does by default (this machine's default is bbr,
  # which does not back off on loss).
  ip -n "$I" route replace 10.0.0.0/24 dev tap0 congctl cubic || die "cannot set congctl cubic"
  start_app R "$I" tapir-bulk "${common[@]}" --recv --port 5002 ||
    die "tapir-bulk --recv did not start"
  IN_BULK[$loss]=$R
  ip netns exec "$I" timeout "$LIMIT" nc -N -n -w 30 10.0.0.2 5002 <"$TMP/bulk.bin" \
    >/dev/null 2>"$TMP/in$loss.nc" &
  IN_NC[$loss]=$!
  _ns_pids+=("${IN_NC[$loss]}")
done

# The counter NAME in the last --stats block of FILE (0 when not listed).
file_counter() {
  awk -v n="$2" '/^tapir counters$/ { v = 0 } $1 == n { v = $2 } END { print v + 0 }' "$1"
}

for loss in 1 5; do
  # tapir → Linux.
  timeout "$LIMIT" tail -s 0.2 --pid="${OUT_BULK[$loss]}" -f /dev/null 2>/dev/null
  wait "${OUT_BULK[$loss]}"
  assert_eq "tapir → Linux at $loss%: tapir-bulk --send exit status" 0 "$?"
  out=$(<"$TMP/out$loss.out")
  wait_pid "${OUT_NC[$loss]}" 40
  assert_eq "tapir → Linux at $loss%: nc -l ended at the end of the stream" 0 "$?"
  assert_eq "tapir → Linux at $loss%: tapir-bulk's bytes" "$BYTES" "$(bulk_value "$out" bytes)"
  assert_eq "tapir → Linux at $loss%: Linux's SHA-256" "$SHA" \
    "$(listener_output "${OUT_NC[$loss]}" | head -n 1 | cut -d' ' -f1)"
  counters=$TMP/out$loss.out # --stats prints on stdout, after the bulk lines
  assert_ge "tapir → Linux at $loss%: the link lost frames tapir sent" 1 \
    "$(file_counter "$counters" tap0.faultTxLost)"
  assert_ge "tapir → Linux at $loss%: losses repaired in SACK recovery (tcpSackRecovery)" 1 \
    "$(file_counter "$counters" tcpSackRecovery)"
  t1=$(listener_output "${OUT_NC[$loss]}" | sed -n 2p)
  ms=$(((t1 - OUT_T0[$loss]) / 1000000))
  echo "  tapir → Linux at $loss%: $(awk -v b="$BYTES" -v ms="$ms" 'BEGIN { printf "%.1f", b * 8 / (ms > 0 ? ms : 1) / 1000 }') Mbit/s in $ms ms (start to nc's end)," \
    "$(file_counter "$counters" tcpRetransSegs) segments resent, $(file_counter "$counters" tcpTimeouts) timeouts," \
    "$(file_counter "$counters" tcpLossProbes) loss probes"

  # Linux → tapir.
  timeout "$LIMIT" tail -s 0.2 --pid="${IN_NC[$loss]}" -f /dev/null 2>/dev/null
  wait "${IN_NC[$loss]}"
  assert_eq "Linux → tapir at $loss%: nc exit status" 0 "$?"
  wait_exit "${IN_BULK[$loss]}" 40
  assert_eq "Linux → tapir at $loss%: tapir-bulk --recv exit status" 0 "$?"
  out=$(tapird_output "${IN_BULK[$loss]}")
  assert_eq "Linux → tapir at $loss%: tapir-bulk's bytes" "$BYTES" "$(bulk_value "$out" bytes)"
  assert_eq "Linux → tapir at $loss%: tapir-bulk's SHA-256" "$SHA" "$(bulk_value "$out" sha256)"
  assert_ge "Linux → tapir at $loss%: the link lost frames tapir received" 1 \
    "$(tapird_counter "${IN_BULK[$loss]}" tap0.faultRxLost)"
  echo "  Linux → tapir at $loss%: $(bulk_value "$out" throughput) in $(bulk_value "$out" seconds) s"
done
finish
