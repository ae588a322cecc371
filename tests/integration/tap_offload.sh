#!/usr/bin/env bash
# TAP offloads: with the default --offload on, tapir opens its TAP with IFF_VNET_HDR and
# TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), so the kernel turns on TSO for the device and hands
# Linux's TCP super-frames (up to 64 KiB, partial checksum) to tapir unsplit; tapir completes
# each checksum and takes the segment whole. 20 MiB from nc arrive byte-exact (SHA-256) in far
# fewer segments than 1448-byte packets would make. With --offload off the same transfer comes
# as one frame per packet and the kernel shows TSO off.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: nc)  <-TAP->  tapir-bulk --recv --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_apps tapir-bulk
require_cmd nc sha256sum ethtool

ns_tmpdir_init
BYTES=$((20 * 1024 * 1024))
random_file "$_ns_tmp/data.bin" "$BYTES"
SHA=$(sha256_of "$_ns_tmp/data.bin")
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"

# transfer LABEL ARGS...: nc sends the file to tapir-bulk --recv ARGS; sets BULK to its pid.
transfer() {
  local label=$1
  shift
  start_app BULK "$N" tapir-bulk --tap tap0 --ip 10.0.0.2/24 --timeout 60 --stats --recv \
    --port 5001 "$@" || die "$label: tapir-bulk --recv did not start"
  TSO=$(ip netns exec "$N" ethtool -k tap0 | awk -F': ' '/^tcp-segmentation-offload/ { print $2 }')
  run "$N" sh -c "timeout 60 nc -N -n -w 30 10.0.0.2 5001 <'$_ns_tmp/data.bin'"
  assert_eq "$label: nc exit status" 0 "$RC"
  wait_exit "$BULK" 30
  assert_eq "$label: tapir-bulk exit status" 0 "$?"
  assert_eq "$label: tapir-bulk's sha256 = the file's" "$SHA" \
    "$(bulk_value "$(tapird_output "$BULK")" sha256)"
  echo "  $label: $(bulk_value "$(tapird_output "$BULK")" throughput)"
}

transfer "offload on (the default)"
assert_eq "offload on: the kernel turned TSO on for tap0" on "$TSO"
gso=$(tapird_counter "$BULK" tap0.rxGsoFrames)
segs=$(tapird_counter "$BULK" tcpInSegs)
assert_ge "offload on: super-frames received (tap0.rxGsoFrames)" 1 "$gso"
assert_ge "offload on: partial checksums completed (tap0.rxCsumCompleted)" 1 \
  "$(tapird_counter "$BULK" tap0.rxCsumCompleted)"
assert_eq "offload on: no vnet header refused (tap0.rxVnetDrops)" 0 \
  "$(tapird_counter "$BULK" tap0.rxVnetDrops)"
assert_eq "offload on: no bad TCP checksum (tcpInErrs)" 0 "$(tapird_counter "$BULK" tcpInErrs)"
# 20 MiB in 1448-byte segments is 14,483 of them; super-frames make far fewer.
assert_eq "offload on: $segs segments in, fewer than half of $((BYTES / 1448))" 1 \
  "$((segs < BYTES / 1448 / 2))"
echo "  offload on: $segs TCP segments in, $gso of them super-frames"

transfer "offload off" --offload off
assert_eq "offload off: TSO off on tap0" off "$TSO"
assert_eq "offload off: no super-frames" 0 "$(tapird_counter "$BULK" tap0.rxGsoFrames)"
segs=$(tapird_counter "$BULK" tcpInSegs)
assert_ge "offload off: at least one segment per 1448 bytes" $((BYTES / 1448)) "$segs"
finish
