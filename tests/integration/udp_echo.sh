#!/usr/bin/env bash
# Linux talks to tapird's UDP services (RFC 862 echo, 863 discard, 867 daytime, 864 chargen)
# with netcat-openbsd and a Python UDP socket: the echo is byte-exact, also for one
# 30000-byte datagram (fragmented by Linux on the way in, by tapird on the way back), for the
# largest (65507 bytes) and for an empty one; daytime answers one line; chargen RFC 864's
# pattern; discard answers nothing; a closed port answers ICMP port unreachable, which Linux
# reports as ECONNREFUSED on a connected socket.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, MTU 1500)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_tapird
require_cmd nc od
require_python

# udp.py HOST PORT MODE [SIZE]: one connected UDP socket, one result line.
#   echo SIZE  send SIZE random bytes in one datagram, print how the echo compares
#   silent     send one datagram, expect nothing back within 1 s (no data, no ICMP error)
#   refused    send one datagram, expect ECONNREFUSED (ICMP port unreachable) within 3 s
#   chargen    send one datagram, check the answer is RFC 864's rotating pattern
ns_tmpdir_init
UDP_PY=$_ns_tmp/udp.py
cat >"$UDP_PY" <<'EOF'
import os, socket, sys
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout({"silent": 1.0, "echo": 5.0}.get(mode, 3.0))
data = os.urandom(int(sys.argv[4])) if mode == "echo" else b"tapir integration test\n"
assert s.send(data) == len(data)  # one sendto: one datagram, fragmented by IP as needed
try:
    reply = s.recv(65536)
except socket.timeout:
    print("nothing came back")
except ConnectionRefusedError:
    print("ECONNREFUSED")
else:
    if mode == "echo":
        print("echo of %d bytes: %d bytes, %s" % (len(data), len(reply),
              "identical" if reply == data else "DIFFERENT"))
    elif mode == "chargen":
        # Lines of 72 of the 95 printable characters, CRLF-terminated, each line starting
        # one character further on; the datagram (0..512 bytes) may end mid-line.
        cycle = "".join(chr(32 + i) for i in range(95))
        text = reply.decode("latin-1")
        lines = (text[:-1] if text.endswith("\r") else text).split("\r\n")
        def in_pattern(l):
            return all(c == cycle[(cycle.index(l[0]) + i) % 95] for i, c in enumerate(l))
        ok = (len(reply) <= 512 and all(in_pattern(l) for l in lines)
              and all(len(l) == 72 for l in lines[:-1])
              and all(cycle.index(b[0]) == (cycle.index(a[0]) + 1) % 95
                      for a, b in zip(lines, lines[1:]) if b))
        print("chargen: %d bytes, %s" % (len(reply),
              "the pattern" if ok else "NOT the pattern: %r" % text))
    else:
        print("got %d bytes: %r" % (len(reply), reply[:40]))
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats || die "tapird did not start"

# --- echo (7) with nc: one datagram out, the same bytes back (-W 1: quit after one reply).
PAYLOAD='tapir UDP echo: tab\there, bytes \001\177\200\377, end\n'
# shellcheck disable=SC2059 # PAYLOAD is a printf format on purpose (the \ooo escapes)
want=$(printf "$PAYLOAD" | od -An -tx1 -v | tr -d ' \n')
run "$N" sh -c "printf '$PAYLOAD' | nc -u -W 1 -w 3 10.0.0.2 7 | od -An -tx1 -v | tr -d ' \n'"
assert_eq "nc -u echo: the reply's bytes (hex)" "$want" "$OUT"

# --- echo of one 30000-byte datagram: 21 fragments each way at MTU 1500.
reasm0=$(linux_ip_counter "$N" ReasmOKs)
frag0=$(linux_ip_counter "$N" FragCreates)
run "$N" "$PY" "$UDP_PY" 10.0.0.2 7 echo 30000
assert_eq "30000-byte datagram to echo" "echo of 30000 bytes: 30000 bytes, identical" "$OUT"
assert_eq "Linux fragmented the request (FragCreates delta)" 21 \
  "$(($(linux_ip_counter "$N" FragCreates) - frag0))"
assert_eq "Linux reassembled the echo (ReasmOKs delta)" 1 "$(($(linux_ip_counter "$N" ReasmOKs) - reasm0))"

# --- the largest datagram (65507 bytes: 45 fragments each way) and the empty one.
for size in 65507 0; do
  run "$N" "$PY" "$UDP_PY" 10.0.0.2 7 echo "$size"
  assert_eq "$size-byte datagram to echo" "echo of $size bytes: $size bytes, identical" "$OUT"
done

# --- daytime (13): exactly one line, "Weekday, Month DD, YYYY HH:MM:SS-UTC" CRLF, today (UTC).
day0=$(date -u '+%A, %B %d, %Y')
run "$N" sh -c "printf '\n' | nc -u -W 1 -w 3 10.0.0.2 13"
day1=$(date -u '+%A, %B %d, %Y')
assert_eq "daytime: lines in the answer" 1 "$(printf '%s\n' "$OUT" | wc -l)"
assert_match "daytime: the line is 'Weekday, Month DD, YYYY HH:MM:SS-UTC' CRLF" \
  '^[A-Z][a-z]+day, [A-Z][a-z]+ [0-9]{2}, [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}-UTC'$'\r''$' "$OUT"
if [[ $OUT == "$day1"* ]]; then day0=$day1; fi # the run may straddle midnight
assert_eq "daytime: the date (UTC)" "$day0" "${OUT%% [0-9][0-9]:*}"

# --- chargen (19): up to 512 characters of the rotating 72-column pattern.
run "$N" "$PY" "$UDP_PY" 10.0.0.2 19 chargen
assert_match "chargen: RFC 864's pattern, at most 512 bytes" "^chargen: [0-9]+ bytes, the pattern$" "$OUT"

# --- discard (9): nothing comes back, neither data nor an ICMP error.
run "$N" "$PY" "$UDP_PY" 10.0.0.2 9 silent
assert_eq "discard answers" "nothing came back" "$OUT"

# --- a closed port: ICMP port unreachable, seen as ECONNREFUSED and by nc -z.
run "$N" "$PY" "$UDP_PY" 10.0.0.2 9999 refused
assert_eq "datagram to closed port 9999" "ECONNREFUSED" "$OUT"
run "$N" nc -v -u -z -w 2 10.0.0.2 9999
assert_eq "nc -v -u -z to closed port 9999: exit status" 1 "$RC"
run "$N" nc -v -u -z -w 2 10.0.0.2 7
assert_eq "nc -v -u -z to open port 7 (echo): exit status" 0 "$RC"

stop_tapird_checked "$T"
assert_eq "tapird ipReasmOKs (the 30000- and 65507-byte requests)" 2 "$(tapird_counter "$T" ipReasmOKs)"
assert_eq "tapird ipFragCreates (their echoes: 21 + 45 fragments)" 66 "$(tapird_counter "$T" ipFragCreates)"
assert_ge "tapird udpNoPorts" 2 "$(tapird_counter "$T" udpNoPorts)"
assert_eq "tapird icmpOutDestUnreachs = udpNoPorts" "$(tapird_counter "$T" udpNoPorts)" \
  "$(tapird_counter "$T" icmpOutDestUnreachs)"
finish
