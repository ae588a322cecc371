#!/usr/bin/env bash
# tapir-bulk moves 100 MiB each way between tapir and Linux's netcat, and both ends agree on
# the SHA-256 of what went through: tapir sends to `nc -l`, Linux sends to tapir-bulk --recv.
# Then the other two shapes, tapir listening and sending, tapir connecting and receiving, with
# 10 MiB. tapir-bulk prints "bytes N", "seconds S", "throughput X Mbit/s" and "sha256 HEX".
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, nc)  <-TAP->  tapir-bulk --tap tap0 --ip 10.0.0.2/24
#                                                        (one at a time)
# A slow stack still has 200 s for each 100 MiB (4 Mbit/s); ctest's TIMEOUT for this test is 300.
IT_TIMEOUT=280
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
BIG=$((100 * 1024 * 1024))
SMALL=$((10 * 1024 * 1024))
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
BULK=(--tap tap0 --ip 10.0.0.2/24 --timeout 60)

# check_bulk LABEL OUTPUT BYTES SHA256: tapir-bulk's result lines say BYTES and SHA256.
check_bulk() {
  local label=$1 out=$2 bytes=$3 sha=$4
  assert_eq "$label: tapir-bulk's bytes" "$bytes" "$(bulk_value "$out" bytes)"
  assert_match "$label: Linux's SHA-256 is 64 hex digits" '^[0-9a-f]{64}$' "$sha"
  assert_eq "$label: tapir-bulk's sha256 = Linux's" "$sha" "$(bulk_value "$out" sha256)"
  echo "  $label: $(bulk_value "$out" throughput) in $(bulk_value "$out" seconds) s"
}

# --- tapir sends 100 MiB to Linux: nc -l hashes what it gets and exits at tapir's FIN.
start_listener L "$N" '^Listening on' sh -c 'nc -l -n -v 5001 | sha256sum' ||
  die "nc -l 5001 did not start"
run "$N" timeout 200 "$IT_BIN/tapir-bulk" "${BULK[@]}" --send 10.0.0.1:5001 --bytes "$BIG"
assert_eq "tapir → Linux: tapir-bulk --send exit status" 0 "$RC"
wait_pid "$L" 30
assert_eq "tapir → Linux: nc -l ended at the end of the stream" 0 "$?"
check_bulk "tapir → Linux, 100 MiB" "$OUT" "$BIG" "$(listener_output "$L" | cut -d' ' -f1)"

# --- Linux sends 100 MiB to tapir-bulk --recv: nc -N sends FIN after the file.
random_file "$TMP/big.bin" "$BIG"
start_app R "$N" tapir-bulk "${BULK[@]}" --recv --port 5002 || die "tapir-bulk --recv did not start"
run "$N" sh -c "timeout 200 nc -N -n -w 30 10.0.0.2 5002 <'$TMP/big.bin'"
assert_eq "Linux → tapir: nc exit status" 0 "$RC"
wait_exit "$R" 30
assert_eq "Linux → tapir: tapir-bulk --recv exit status" 0 "$?"
check_bulk "Linux → tapir, 100 MiB" "$(tapird_output "$R")" "$BIG" "$(sha256_of "$TMP/big.bin")"
rm -f -- "$TMP/big.bin"

# --- tapir listens and sends 10 MiB; Linux connects and reads to EOF (-d: sends nothing).
start_app S "$N" tapir-bulk "${BULK[@]}" --listen 5003 --send --bytes "$SMALL" ||
  die "tapir-bulk --listen --send did not start"
run "$N" sh -c "timeout 60 nc -d -n -w 30 10.0.0.2 5003 | sha256sum | cut -d' ' -f1"
linux_sha=$OUT
wait_exit "$S" 30
assert_eq "tapir --listen --send: exit status" 0 "$?"
check_bulk "tapir --listen --send → Linux, 10 MiB" "$(tapird_output "$S")" "$SMALL" "$linux_sha"

# --- tapir connects and receives 10 MiB from nc -l (-N: FIN after the file).
random_file "$TMP/small.bin" "$SMALL"
start_listener L2 "$N" '^Listening on' sh -c "nc -l -N -n -v 5004 <'$TMP/small.bin'" ||
  die "nc -l 5004 did not start"
run "$N" timeout 60 "$IT_BIN/tapir-bulk" "${BULK[@]}" --connect 10.0.0.1:5004 --recv
assert_eq "tapir --connect --recv: exit status" 0 "$RC"
wait_pid "$L2" 30
assert_eq "tapir --connect --recv: nc -l ended after tapir's close" 0 "$?"
check_bulk "Linux → tapir --connect --recv, 10 MiB" "$OUT" "$SMALL" "$(sha256_of "$TMP/small.bin")"
finish
