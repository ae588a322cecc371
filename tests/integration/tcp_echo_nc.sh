#!/usr/bin/env bash
# Linux talks to tapird's TCP services (RFC 862 echo, 863 discard, 867 daytime, 864 chargen)
# with netcat-openbsd: the echo gives back a few lines and 1 MiB of random bytes byte-exact,
# discard takes 100 kB and answers nothing, daytime sends one line and closes, chargen streams
# RFC 864's rotating pattern until the reader goes away (and tapird carries on).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, nc)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd nc socat od sha256sum
require_python

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats || die "tapird did not start"

# --- echo (7): -N sends FIN after stdin's end; the echo answers everything, then closes, and
# nc ends at that close (-w 10 only bounds a silence).
run "$N" sh -c "printf 'one\ntwo\r\nthree, with \\001 and \\377\n' | nc -N -w 10 10.0.0.2 7 | od -An -tx1 -v | tr -d ' \n'"
assert_eq "echo: a few lines, byte-exact (hex)" \
  "$(printf 'one\ntwo\r\nthree, with \001 and \377\n' | od -An -tx1 -v | tr -d ' \n')" "$OUT"

random_file "$TMP/echo.in" 1048576
run "$N" sh -c "timeout 60 nc -N -w 10 10.0.0.2 7 <'$TMP/echo.in' >'$TMP/echo.out'"
assert_eq "echo of 1 MiB: nc exit status" 0 "$RC"
assert_eq "echo of 1 MiB: bytes back" 1048576 "$(stat -c %s "$TMP/echo.out")"
assert_eq "echo of 1 MiB: SHA-256 of what came back" "$(sha256_of "$TMP/echo.in")" \
  "$(sha256_of "$TMP/echo.out")"

# --- socat, the other classic client: 256 kB through the echo service with shut-down
# semantics of its own (it half-closes after stdin's EOF and waits for tapird's FIN).
random_file "$TMP/socat.in" 262144
run "$N" sh -c "timeout 60 socat -t 10 - TCP:10.0.0.2:7 <'$TMP/socat.in' >'$TMP/socat.out'"
assert_eq "socat echo of 256 KiB: exit status" 0 "$RC"
assert_eq "socat echo of 256 KiB: SHA-256 of what came back" "$(sha256_of "$TMP/socat.in")" \
  "$(sha256_of "$TMP/socat.out")"

# --- discard (9): 100 kB go in, nothing comes out, and the close is clean (nc exits 0).
random_file "$TMP/discard.in" 100000
run "$N" sh -c "timeout 30 nc -N -w 10 10.0.0.2 9 <'$TMP/discard.in' >'$TMP/discard.out'"
assert_eq "discard: nc exit status" 0 "$RC"
assert_eq "discard: bytes that came back" 0 "$(stat -c %s "$TMP/discard.out")"

# --- daytime (13): one line, then tapird closes; nc (-d: sends nothing) ends at that FIN,
# long before its -w 5 silence limit would end it.
day0=$(date -u '+%A, %B %d, %Y')
t0=$(now_ms)
run "$N" timeout 20 nc -d -w 5 10.0.0.2 13
elapsed=$(($(now_ms) - t0))
day1=$(date -u '+%A, %B %d, %Y')
assert_eq "daytime: nc exit status" 0 "$RC"
assert_eq "daytime: lines in the answer" 1 "$(grep -c . <<<"$OUT")"
assert_match "daytime: the line is 'Weekday, Month DD, YYYY HH:MM:SS-UTC' CRLF" \
  '^[A-Z][a-z]+day, [A-Z][a-z]+ [0-9]{2}, [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}-UTC'$'\r''$' "$OUT"
if [[ $OUT == "$day1"* ]]; then day0=$day1; fi # the run may straddle midnight
assert_eq "daytime: the date (UTC)" "$day0" "${OUT%% [0-9][0-9]:*}"
if ((RC == 0 && elapsed < 3000)) && [[ -n $OUT ]]; then
  _it_ok "daytime: tapird closed the connection after the line (${elapsed} ms)"
else
  _it_bad "daytime: tapird closed the connection after the line" "expected: nc done in < 3000 ms" \
    "got:      ${elapsed} ms (did tapird close?)"
fi

# --- chargen (19): a stream of lines of 72 of the 95 printable characters plus CRLF, each
# line starting one character further on. head takes 100000 bytes and exits; nc dies of
# SIGPIPE at its next write and Linux resets the connection, which tapird must survive.
run "$N" sh -c "timeout 30 nc -d -w 10 10.0.0.2 19 | head -c 100000 >'$TMP/chargen.out'"
assert_eq "chargen: bytes read" 100000 "$(stat -c %s "$TMP/chargen.out")"
cat >"$TMP/chargen.py" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read().decode("latin-1")
cycle = "".join(chr(32 + i) for i in range(95))
lines = data.split("\r\n")
first = lines[0]
ok = len(first) == 72 and first in (cycle + cycle)
start = cycle.index(first[0]) if first else 0
for n, line in enumerate(lines[:-1]):
    want = "".join(cycle[(start + n + i) % 95] for i in range(72))
    if line != want:
        ok = False
        print("line %d is %r, expected %r" % (n, line, want))
        break
last = lines[-1]  # the cut at 100000 bytes lands mid-line
want = "".join(cycle[(start + len(lines) - 1 + i) % 95] for i in range(72))
ok = ok and want.startswith(last.rstrip("\r"))
# tapird's pattern starts at the first printable character, the space, as the UDP one does.
print("first line: the 72 characters from ' '" if first == cycle[:72] else "first line %r" % first)
print("the pattern" if ok else "NOT the pattern")
EOF
run "$N" "$PY" "$TMP/chargen.py" "$TMP/chargen.out"
assert_match "chargen: the first line is RFC 864's first line (' ' to 'g', CRLF)" \
  "^first line: the 72 characters from ' '" "$OUT"
assert_match "chargen: all 100000 bytes are RFC 864's rotating pattern" $'(^|\n)the pattern$' "$OUT"

# tapird is still serving after the reset: one more echo.
run "$N" sh -c "printf 'still here\n' | timeout 20 nc -N -w 10 10.0.0.2 7"
assert_eq "echo after chargen's reset" "still here" "$OUT"

stop_tapird_checked "$T"
assert_ge "tapird tcpPassiveOpens (2 echo, discard, daytime, chargen, echo)" 6 \
  "$(tapird_counter "$T" tcpPassiveOpens)"
assert_eq "tapird tcpAttemptFails" 0 "$(tapird_counter "$T" tcpAttemptFails)"
finish
