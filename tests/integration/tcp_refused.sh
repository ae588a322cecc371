#!/usr/bin/env bash
# A Linux connect() to a TCP port where tapird listens for nothing fails at once with
# ECONNREFUSED: tapird answers the SYN with a RST (RFC 793 §3.4, "If the connection does not
# exist (CLOSED) then a reset is sent"), not silence, which would leave Linux retrying its SYN
# for two minutes. To a listening port (echo, 7) the same connect() succeeds.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd nc
require_python

# connect.py HOST PORT: one blocking connect() bounded by 5 s, one line: how it ended and how
# long it took ("refused promptly" under 1 s: before Linux's first SYN retransmission).
ns_tmpdir_init
CONNECT_PY=$_ns_tmp/connect.py
cat >"$CONNECT_PY" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5.0)
t0 = time.monotonic()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except ConnectionRefusedError:
    took = time.monotonic() - t0
    print("ECONNREFUSED %s (%.3f s)" % ("promptly" if took < 1.0 else "LATE", took))
except socket.timeout:
    print("timed out")
except OSError as e:
    print("error %s" % e)
else:
    print("connected")
    s.close()
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats || die "tapird did not start"

for port in 9999 1 8080; do
  run "$N" "$PY" "$CONNECT_PY" 10.0.0.2 "$port"
  assert_match "connect() to closed port $port" "^ECONNREFUSED promptly " "$OUT"
done

run "$N" "$PY" "$CONNECT_PY" 10.0.0.2 7
assert_eq "connect() to open port 7 (echo)" "connected" "$OUT"

run "$N" nc -v -n -z -w 3 10.0.0.2 9999
assert_eq "nc -z to closed port 9999: exit status" 1 "$RC"
assert_match "nc -z to closed port 9999: says so" "port 9999 \(tcp\) failed: Connection refused" "$OUT"
run "$N" nc -v -n -z -w 3 10.0.0.2 7
assert_eq "nc -z to open port 7: exit status" 0 "$RC"
assert_match "nc -z to open port 7: says so" "Connection to 10\.0\.0\.2 7 port .* succeeded" "$OUT"

stop_tapird_checked "$T"
# Four SYNs to closed ports (three from Python, one from nc), each answered by one RST.
assert_ge "tapird tcpOutRsts" 4 "$(tapird_counter "$T" tcpOutRsts)"
assert_ge "tapird tcpPassiveOpens (Python and nc -z to port 7)" 2 \
  "$(tapird_counter "$T" tcpPassiveOpens)"
finish
