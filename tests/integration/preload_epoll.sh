#!/usr/bin/env bash
# One wait over a tapir socket and a kernel pipe: tests/preload/epoll_mix.cpp, an ordinary
# Linux program run under tapir-run, streams 4 MiB from a pipe through Linux's socat echo and
# back, waiting on both with epoll (level- and edge-triggered), poll and select in turn, and
# checks the echo byte-exact (SHA-256); the descriptor numbers are the kernel's, so the socket,
# the pipe and the epoll set never share one. Then tests/preload/fork_child.cpp:
# a child's calls on an inherited tapir socket fail at once with ENETDOWN, close() works, an
# exec'd child reads end of file, and the parent's connection goes on.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: socat echo)  <-TAP->  tapir-run ... 10.0.0.2/24
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
require_apps epoll-mix fork-child
require_cmd socat

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN=("$TAPIR_RUN" --tap tap0 --ip 10.0.0.2/24 --)
BYTES=$((4 * 1024 * 1024))

# An echo server for every connection of the test (fork: one cat per connection, on Linux).
start_listener E "$N" 'listening on' socat -d -d TCP4-LISTEN:5005,bind=10.0.0.1,reuseaddr,fork EXEC:cat ||
  die "socat echo did not start"

for mode in epoll-lt epoll-et poll select; do
  run "$N" timeout 60 "${RUN[@]}" "$IT_BIN/epoll-mix" "$mode" 10.0.0.1 5005 "$BYTES"
  assert_eq "$mode: epoll-mix exit status" 0 "$RC"
  # The kernel numbers everything, lowest free first: the pipe (made first) below the socket,
  # the epoll set after it. (The stack, started by the socket, takes numbers of its own — its
  # TAP, its wake-up eventfd, its control socket — so the gaps depend on it and on what the
  # test was given open; what matters is that no two are the same.)
  if [[ $OUT =~ fds\ socket=([0-9]+)\ pipe=([0-9]+),([0-9]+)\ epoll=([0-9]+) ]]; then
    s=${BASH_REMATCH[1]} r=${BASH_REMATCH[2]} w=${BASH_REMATCH[3]} e=${BASH_REMATCH[4]}
    if ((w == r + 1 && s > w && e > s)); then
      _it_ok "$mode: kernel descriptor numbers, none shared (pipe $r,$w, socket $s, epoll $e)"
    else
      _it_bad "$mode: kernel descriptor numbers, none shared" "pipe $r,$w, socket $s, epoll $e"
    fi
  else
    _it_bad "$mode: epoll-mix printed its descriptors" "$OUT"
  fi
  sent=$(sed -nE 's/^sent ([0-9]+) sha256 ([0-9a-f]+)$/\1 \2/p' <<<"$OUT")
  received=$(sed -nE 's/^received ([0-9]+) sha256 ([0-9a-f]+)$/\1 \2/p' <<<"$OUT")
  assert_eq "$mode: bytes sent through the socket" "$BYTES" "${sent%% *}"
  assert_eq "$mode: the echo, byte-exact (count and SHA-256)" "$sent" "$received"
done
assert_match "the echo server's connections came from tapir (10.0.0.2)" \
  "accepting connection from AF=2 10\\.0\\.0\\.2:" "$(listener_stderr "$E")"

# --- fork: what a child may do with an inherited tapir socket.
run "$N" timeout 30 "${RUN[@]}" "$IT_BIN/fork-child" calls 10.0.0.1 5005
assert_eq "fork: fork-child exit status" 0 "$RC"
assert_match "fork: the child's read fails at once with ENETDOWN" \
  'child: read: Network is down, as expected' "$OUT"
assert_match "fork: the child's send fails with ENETDOWN" 'child: send: Network is down, as expected' "$OUT"
assert_match "fork: the child cannot make an AF_INET socket (ENETDOWN)" \
  'child: socket\(AF_INET\): Network is down, as expected' "$OUT"
assert_match "fork: the child's other sockets are the kernel's" 'child: socket\(AF_UNIX\): works' "$OUT"
assert_match "fork: the child's close works" 'child: close: works' "$OUT"
assert_match "fork: the parent's connection still echoes" 'parent: echo hello' "$OUT"

run "$N" timeout 30 "${RUN[@]}" "$IT_BIN/fork-child" exec 10.0.0.1 5005
assert_eq "fork + exec: fork-child exit status" 0 "$RC"
assert_match "fork + exec: the exec'd child reads the inherited socket to its end, no hang" \
  'child: cat read to the end, status 0' "$OUT"
assert_match "fork + exec: the parent's connection still echoes" 'parent: echo hello' "$OUT"
stop_listener "$E"
finish
