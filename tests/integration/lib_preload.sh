# shellcheck shell=bash
# tests/integration/lib_preload.sh — helpers for the tests that run unmodified Linux programs
# over tapir with tapir-run (libtapir-preload.so). Source it after lib.sh, lib_apps.sh and
# lib_tcp.sh:
#
#   require_preload            tapir-run and the library must be built (else FAIL)
#   preload_asan               true in an AddressSanitizer build (see below)
#   preload_env                the env(1) words that preload the library by hand
#   TAPIR_RUN                  the tapir-run to use ($IT_BIN/tapir-run)
#   preload_server VAR NS ERE CMD...
#                              start CMD (a tapir-run command line or a Linux server) in NS in
#                              the background, its stdout and stderr both read (bounded) until a
#                              line matches ERE; VAR gets its PID (stop it with stop_listener)
#
# Topology used by these tests: one namespace with tap0, Linux's end 10.0.0.1/24, tapir-run's
# programs at 10.0.0.2/24 on the same TAP.

TAPIR_RUN=$IT_BIN/tapir-run

require_preload() {
  [[ -x $TAPIR_RUN ]] || die "tapir-run not found at $TAPIR_RUN (build it: scripts/setup)"
  local lib
  lib=$(_preload_library)
  [[ -r $lib ]] || die "libtapir-preload.so not found at $lib (build it: scripts/setup)"
}

# Whether this build's library is AddressSanitizer's (the asan preset): tapir-run then preloads
# the ASan runtime before it (preload/tapir_run.cpp), which some programs cannot take.
preload_asan() {
  readelf -d "$(_preload_library)" 2>/dev/null | grep -q 'libasan'
}

# What LD_PRELOAD must hold to preload the library by hand (the ASan runtime first in an ASan
# build, as tapir-run does), and ASAN_OPTIONS to go with it, as env(1) arguments.
preload_env() {
  local lib asan
  lib=$(_preload_library)
  if preload_asan; then
    asan=$(ldd "$lib" | awk '$1 ~ /^libasan/ { print $3 }')
    echo "LD_PRELOAD=$asan:$lib ASAN_OPTIONS=detect_leaks=0"
  else
    echo "LD_PRELOAD=$lib"
  fi
}

_preload_library() {
  local dir
  dir=$(dirname "$TAPIR_RUN")
  for lib in "$dir"/../lib/libtapir-preload.so "$dir"/../lib/*/libtapir-preload.so; do
    [[ -e $lib ]] && { echo "$lib"; return; }
  done
  echo "$dir/../lib/libtapir-preload.so"
}

# Servers print their ready line on stdout (python's http.server, iperf3) or stderr (nc, socat):
# both go to the watched stream.
preload_server() {
  local __var=$1 __ns=$2 __ere=$3
  shift 3
  start_listener "$__var" "$__ns" "$__ere" sh -c 'exec "$@" 1>&2' sh "$@"
}
