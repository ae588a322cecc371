#!/usr/bin/env bash
# socat, unmodified, as a relay over tapir: it listens on tapir (10.0.0.2:7000) and connects
# onward, also over tapir, to Linux's echo (10.0.0.1:7001); Linux's socat client sends 1 MiB in
# through the relay and gets it back byte-exact (SHA-256), with socat's half-close passed along
# both hops. Then socat over tapir as a UDP client of Linux's UDP echo.
#
#   Linux client -> 10.0.0.2:7000 [socat over tapir] 10.0.0.2:* -> 10.0.0.1:7001 [Linux echo]
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
require_cmd socat sha256sum

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN="'$TAPIR_RUN' --tap tap0 --ip 10.0.0.2/24 --"
random_file "$TMP/in.bin" 1048576

start_listener E "$N" 'listening on' socat -d -d TCP4-LISTEN:7001,bind=10.0.0.1,reuseaddr EXEC:cat ||
  die "Linux's socat echo did not start"
preload_server R "$N" 'listening on' \
  sh -c "exec $RUN socat -d -d TCP4-LISTEN:7000,bind=10.0.0.2,reuseaddr TCP4:10.0.0.1:7001" ||
  die "socat relay over tapir did not start"
run "$N" sh -c "timeout 60 socat -t 10 - TCP4:10.0.0.2:7000 <'$TMP/in.bin' >'$TMP/out.bin'"
assert_eq "Linux socat -> relay over tapir -> Linux echo: exit status" 0 "$RC"
assert_eq "Linux socat -> relay over tapir -> Linux echo: SHA-256 of 1 MiB back" \
  "$(sha256_of "$TMP/in.bin")" "$(sha256_of "$TMP/out.bin")"
wait_pid "$R" 10
assert_eq "the relay over tapir ended by itself once both sides closed" 0 "$?"
assert_match "the relay accepted Linux's connection on tapir" \
  'accepting connection from AF=2 10\.0\.0\.1:' "$(listener_stderr "$R")"
assert_match "Linux's echo saw the relay's onward connection come from tapir (10.0.0.2)" \
  'accepting connection from AF=2 10\.0\.0\.2:' "$(listener_stderr "$E")"
wait_pid "$E" 10

# --- UDP: socat over tapir sends a datagram (its stdin, three lines) to Linux's UDP echo and
# reads it back.
start_listener U "$N" 'receiving on' \
  socat -d -d UDP4-RECVFROM:7002,bind=10.0.0.1,fork EXEC:cat || die "Linux's UDP echo did not start"
run "$N" sh -c "printf 'one\ntwo\nthree\n' | timeout 20 $RUN socat -t 2 - UDP4:10.0.0.1:7002"
assert_eq "socat over tapir, UDP: exit status" 0 "$RC"
assert_eq "socat over tapir, UDP: the echo" $'one\ntwo\nthree' "$OUT"
stop_listener "$U"
assert_match "Linux's UDP echo got the datagram from tapir (10.0.0.2)" \
  'from AF=2 10\.0\.0\.2:' "$(listener_stderr "$U")"
finish
