#!/usr/bin/env bash
# netcat-openbsd, unmodified, over tapir (tapir-run) in both roles against Linux's nc, moving
# 1 MiB each way byte-exact (SHA-256); nc over tapir through Linux's socat echo (stdin and the
# socket in one poll); and nc -q 0, which exits as soon as its input ends: the stack must still
# deliver what nc left in its send buffer, and the FIN, before the process is gone.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: nc, socat)  <-TAP->  tapir-run --tap tap0 --ip 10.0.0.2/24 -- nc
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
# shellcheck source=tests/integration/lib_preload.sh
source "$IT_DIR/lib_preload.sh"
require_root
require_preload
require_cmd nc socat sha256sum

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN="'$TAPIR_RUN' --tap tap0 --ip 10.0.0.2/24 --"
random_file "$TMP/one.bin" 1048576

# --- tapir's nc connects, Linux's listens: 1 MiB up; nc -N sends the FIN after stdin's end.
start_listener L "$N" '^Listening on' sh -c "nc -l -n -v 10.0.0.1 5001 >'$TMP/up.out'" ||
  die "Linux nc -l did not start"
run "$N" sh -c "timeout 30 $RUN nc -N -w 10 10.0.0.1 5001 <'$TMP/one.bin'"
assert_eq "nc over tapir -> Linux nc -l: exit status" 0 "$RC"
wait_pid "$L" 10
# Linux's own address is 10.0.0.1 too: a connection from 10.0.0.2 is what shows it was tapir's.
assert_match "Linux nc -l saw the connection come from tapir (10.0.0.2)" \
  "Connection received on 10\\.0\\.0\\.2 " "$(listener_stderr "$L")"
assert_eq "nc over tapir -> Linux nc -l: SHA-256 of 1 MiB" "$(sha256_of "$TMP/one.bin")" \
  "$(sha256_of "$TMP/up.out")"

# --- tapir's nc listens (-4: an IPv4 socket, which is tapir's), Linux's connects: 1 MiB down.
start_listener T "$N" '^Listening on' sh -c "$RUN nc -4 -l -n -v 10.0.0.2 5002 >'$TMP/down.out'" ||
  die "nc -l over tapir did not start"
run "$N" sh -c "timeout 30 nc -N -w 10 10.0.0.2 5002 <'$TMP/one.bin'"
assert_eq "Linux nc -> nc -l over tapir: exit status" 0 "$RC"
wait_pid "$T" 10
assert_eq "Linux nc -> nc -l over tapir: SHA-256 of 1 MiB" "$(sha256_of "$TMP/one.bin")" \
  "$(sha256_of "$TMP/down.out")"
assert_match "nc -l over tapir saw the connection from Linux" "Connection received on 10\\.0\\.0\\.1" \
  "$(listener_stderr "$T")"

# --- both directions at once: nc over tapir through Linux's socat echo; nc polls its stdin
# (a file, the kernel's) and the socket (tapir's) together.
start_listener E "$N" 'listening on' socat -d -d TCP4-LISTEN:5003,bind=10.0.0.1,reuseaddr EXEC:cat ||
  die "socat echo did not start"
run "$N" sh -c "timeout 30 $RUN nc -N -w 10 10.0.0.1 5003 <'$TMP/one.bin' >'$TMP/echo.out'"
assert_eq "nc over tapir through Linux's echo: exit status" 0 "$RC"
assert_eq "nc over tapir through Linux's echo: SHA-256 of 1 MiB back" \
  "$(sha256_of "$TMP/one.bin")" "$(sha256_of "$TMP/echo.out")"
wait_pid "$E" 10
assert_match "socat echo saw the connection come from tapir (10.0.0.2)" \
  "accepting connection from AF=2 10\\.0\\.0\\.2:" "$(listener_stderr "$E")"

# --- nc -q 0 quits the moment its input ends: what it wrote is still in tapir's send buffer,
# and the library's exit handler lets the stack deliver it (and the FIN) before the end.
start_listener L2 "$N" '^Listening on' sh -c "nc -l -n -v 10.0.0.1 5004 >'$TMP/quit.out'" ||
  die "Linux nc -l did not start"
run "$N" sh -c "timeout 30 $RUN nc -q 0 10.0.0.1 5004 <'$TMP/one.bin'"
assert_eq "nc -q 0 over tapir: exit status" 0 "$RC"
wait_pid "$L2" 10
assert_eq "nc -q 0 over tapir: Linux nc -l saw the FIN (exited by itself)" 0 "$?"
assert_eq "nc -q 0 over tapir: all 1 MiB arrived (SHA-256)" "$(sha256_of "$TMP/one.bin")" \
  "$(sha256_of "$TMP/quit.out")"
finish
