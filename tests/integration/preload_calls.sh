#!/usr/bin/env bash
# The calls the other preload tests' programs do not make, as an ordinary Linux program uses
# them under tapir-run (tests/preload/socket_calls.cpp): sendmmsg and recvmmsg against Linux's
# UDP echo; writev, FIONREAD, readv, SO_RCVTIMEO, dup2 and F_DUPFD_CLOEXEC copies, sendfile of
# 1 MiB from a file (byte-exact back), and sendfile from a socket (EINVAL) against Linux's TCP
# echo. Each check is one line of the program's output.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: socat echoes)  <-TAP->  tapir-run ... 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_preload.sh
source "$IT_DIR/lib_preload.sh"
require_root
require_preload
require_apps socket-calls
require_cmd socat

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_listener U "$N" 'receiving on' socat -d -d UDP4-RECVFROM:7009,bind=10.0.0.1,fork EXEC:cat ||
  die "Linux's UDP echo did not start"
start_listener T "$N" 'listening on' socat -d -d TCP4-LISTEN:7010,bind=10.0.0.1,reuseaddr EXEC:cat ||
  die "Linux's TCP echo did not start"

run "$N" timeout 60 "$TAPIR_RUN" --tap tap0 --ip 10.0.0.2/24 -- "$IT_BIN/socket-calls" 10.0.0.1 7009 7010
assert_eq "socket-calls: exit status" 0 "$RC"
while IFS= read -r line; do
  case $line in
    "ok "*) _it_ok "${line#ok }" ;;
    "FAIL "*) _it_bad "${line#FAIL }" ;;
  esac
done <<<"$OUT"
assert_ge "socket-calls: checks reported" 18 "$(grep -cE '^(ok|FAIL) ' <<<"$OUT")"
assert_match "Linux's TCP echo saw the connection come from tapir (10.0.0.2)" \
  'accepting connection from AF=2 10\.0\.0\.2:' "$(listener_stderr "$T")"
stop_listener U
stop_listener T
finish
