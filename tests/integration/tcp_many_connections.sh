#!/usr/bin/env bash
# 1000 TCP connections one after another to tapird's echo (Linux closes first), then 50 to
# daytime (tapird closes first, so its side goes through TIME_WAIT): every one works, and
# afterwards tapird holds nothing: tcpCurrEstab 0 at once, tcpConnections (connection blocks,
# TIME_WAIT included) 0 once TIME_WAIT is over. tapird runs with --msl 1: TIME_WAIT (2 MSL,
# RFC 793 §3.5) lasts 2 s instead of the default 60 s.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, Python)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_python

ECHO_CONNECTIONS=1000
DAYTIME_CONNECTIONS=50

# many.py HOST N_ECHO N_DAYTIME SECONDS: sequential connections, each connect, send a line,
# read it back, close (echo) or connect, read to EOF, close (daytime), all within SECONDS.
# Prints one count line per service and the first error, if any.
ns_tmpdir_init
MANY_PY=$_ns_tmp/many.py
cat >"$MANY_PY" <<'EOF'
import socket, sys, time
host, n_echo, n_day = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + float(sys.argv[4])
errors = []

def one(i, port):
    """One connection; True if the service answered as it should."""
    if time.monotonic() > deadline:
        raise TimeoutError("out of time")
    with socket.create_connection((host, port), timeout=5) as s:
        want = b"connection %d\n" % i
        if port == 7:
            s.sendall(want)
        got = b""
        while port != 7 or len(got) < len(want):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    good = got == want if port == 7 else got.endswith(b"\r\n") and got.count(b"\n") == 1
    if not good:
        errors.append("port %d, connection %d: got %r" % (port, i, got))
    return good

for port, n in ((7, n_echo), (13, n_day)):
    ok = 0
    for i in range(n):
        try:
            ok += one(i, port)
        except OSError as e:  # TimeoutError and ConnectionError included
            errors.append("port %d, connection %d: %s" % (port, i, e))
            if time.monotonic() > deadline:
                break
    print("port %d: %d of %d" % (port, ok, n))
if errors:
    print("%d errors, the first: %s" % (len(errors), errors[0]))
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --msl 1 --stats || die "tapird did not start"

t0=$(now_ms)
run "$N" "$PY" "$MANY_PY" 10.0.0.2 "$ECHO_CONNECTIONS" "$DAYTIME_CONNECTIONS" 60
echo "  $((ECHO_CONNECTIONS + DAYTIME_CONNECTIONS)) connections took $(($(now_ms) - t0)) ms"
assert_eq "connections to echo (7) and daytime (13)" \
  "port 7: $ECHO_CONNECTIONS of $ECHO_CONNECTIONS"$'\n'"port 13: $DAYTIME_CONNECTIONS of $DAYTIME_CONNECTIONS" \
  "$OUT"

# Right after the last daytime connection its block is in TIME_WAIT (2 s with --msl 1).
counters_now "$T" || die "tapird printed no counters on SIGUSR1"
assert_ge "tcpConnections right after the daytime connections (TIME_WAIT)" 1 "$(counter tcpConnections)"
assert_eq "tcpPassiveOpens" $((ECHO_CONNECTIONS + DAYTIME_CONNECTIONS)) "$(counter tcpPassiveOpens)"
assert_eq "tcpAttemptFails" 0 "$(counter tcpAttemptFails)"
assert_eq "tcpEstabResets" 0 "$(counter tcpEstabResets)"

# Nothing announces the end of TIME_WAIT, so here (only here) the counters are polled: read
# again (SIGUSR1) every 50 ms until both are 0, for at most 15 s (TIME_WAIT is 2 s).
# shellcheck disable=SC2317 # called through wait_until
nothing_left() {
  counters_now "$T" && [[ $(counter tcpCurrEstab) == 0 && $(counter tcpConnections) == 0 ]]
}
t0=$(now_ms)
if wait_until 15 nothing_left; then
  _it_ok "tcpCurrEstab 0 and tcpConnections 0, $(($(now_ms) - t0)) ms after the last connection"
else
  _it_bad "tcpCurrEstab and tcpConnections back to 0 within 15 s" \
    "tcpCurrEstab $(counter tcpCurrEstab), tcpConnections $(counter tcpConnections)"
fi

stop_tapird_checked "$T"
assert_eq "tapird tcpCurrEstab at exit" 0 "$(tapird_counter "$T" tcpCurrEstab)"
finish
