#!/usr/bin/env bash
# A SYN flood against tapird's TCP echo: 50,000 SYNs from random ports of an address nobody
# answers for (10.0.1.66, inside the namespace's second subnet) fill the echo listener's SYN
# queue (256), and tapird answers the rest with SYN cookies (RFC 4987 §3.6), keeping no state
# for them. Meanwhile real clients (nc) each complete an echo in under a second, and the
# cookie counters move.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: nc)     <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                 tap1 10.0.1.1/24 (the flood)     <-TAP->         --tap tap1 --ip 10.0.1.2/24
#
# The flood comes in on a link of its own: what is tested is the listener's SYN queue, not a
# TAP's queue of frames, which overflows whenever tapird reads slower than the flood comes (a
# sanitizer build on a busy machine does) and would drop a client's SYN along with the flood's,
# cookies or not. tapird serves its links in turn, so the clients' link is never starved.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd nc ping
require_python
"$PY" -c 'import scapy' 2>/dev/null || die "scapy is not installed (scripts/setup installs python3-scapy)"

SYNS=50000
RATE=25000 # SYNs a second: the flood lasts about 2 s
CLIENTS=5
MAX_SYN_BACKLOG=256 # tcp::Config::max_syn_backlog

# flood.py DST PORT COUNT RATE SRC: COUNT SYNs to DST:PORT from SRC, random source ports and
# ISNs, as Linux's SYNs look (MSS, SACK-permitted, timestamps, window scale). Scapy builds the
# first; the rest are that one with the port, ISN and TSval patched and the checksum redone, so
# that the flood is fast enough. It says "flooding" on stderr once a tenth is out (the clients
# then start), and "sent N in S s" on stdout at the end. The rate is paced in batches.
ns_tmpdir_init
FLOOD_PY=$_ns_tmp/flood.py
cat >"$FLOOD_PY" <<'EOF'
import random, socket, struct, sys, time
from scapy.all import IP, TCP, raw

dst, port, count, rate, src = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
options = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
template = bytearray(raw(IP(src=src, dst=dst, ttl=64) /
                         TCP(sport=1024, dport=port, flags="S", seq=1, window=64240, options=options)))
ihl = (template[0] & 0x0F) * 4
tcp_len = len(template) - ihl
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, tcp_len)
ts_at = ihl + 20 + 2 + 2 + 2 + 2  # MSS (4), SACK-permitted (2), kind and length of timestamps (2)

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rng = random.Random(4987)
start = time.monotonic()
sent = 0
for i in range(count):
    if i == count // 10:
        print("flooding", file=sys.stderr, flush=True)
    pkt = template
    struct.pack_into("!H", pkt, ihl, rng.randint(1024, 65535))
    struct.pack_into("!I", pkt, ihl + 4, rng.getrandbits(32))
    struct.pack_into("!I", pkt, ts_at, rng.getrandbits(32))
    struct.pack_into("!H", pkt, ihl + 16, 0)
    struct.pack_into("!H", pkt, ihl + 16, checksum(pseudo + bytes(pkt[ihl:])))
    try:
        sock.sendto(pkt, (dst, 0))
        sent += 1
    except OSError:  # ENOBUFS: the device queue was full for a moment
        pass
    if i % 250 == 249:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)  # pacing only: nothing waits on anything here
print("sent %d in %.2f s" % (sent, time.monotonic() - start), flush=True)
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
ns_tap "$N" tap1 10.0.1.1/24 || die "cannot create tap1"
# The flood comes from one address, which by default may hold only 64 of the 256 places
# (--limit syn-per-source): the clients would then find room in the queue and never need a
# cookie. Here that source may fill the whole queue, so that the clients come in on cookies.
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --tap tap1 --ip 10.0.1.2/24 --syn-cookies on \
  --limit syn-per-source=$MAX_SYN_BACKLOG --stats || die "tapird did not start"

# echo_timed LINE: one nc echo of LINE, timed inside the namespace (from nc's start to its
# end, without the cost of entering the namespace); OUT = what came back, MS = the time.
MS=""
echo_timed() {
  run "$N" sh -c "t0=\$(date +%s%N); printf '$1\n' | timeout 5 nc -N -w 3 10.0.0.2 7;
    echo \"ms \$(( (\$(date +%s%N) - t0) / 1000000 ))\""
  MS=$(sed -nE 's/^ms ([0-9]+)$/\1/p' <<<"$OUT")
  OUT=$(grep -v '^ms ' <<<"$OUT")
}

# One echo before the flood, and a ping on the flood's link (which resolves tapird's MAC there
# for the flood's first SYNs).
run "$N" ping -c 1 -W 5 10.0.1.2
assert_ping "$OUT" 1 "ping on the flood's link"
echo_timed before
before_ms=$MS
assert_eq "echo before the flood" "before" "$OUT"

start_listener F "$N" '^flooding' "$PY" "$FLOOD_PY" 10.0.1.2 7 "$SYNS" "$RATE" 10.0.1.66 ||
  die "the flood did not start"

# The clients, one after another while the flood goes on: each an echo within 1 s.
times=()
for i in $(seq 1 "$CLIENTS"); do
  echo_timed "client $i"
  times+=("$MS")
  assert_eq "client $i: its echo during the flood" "client $i" "$OUT"
  if _is_int "$MS" && ((MS < 1000)); then
    _it_ok "client $i: done in $MS ms (< 1000)"
  else
    _it_bad "client $i: done in under 1000 ms" "got: ${MS:-?} ms"
  fi
done
flood_running=0
kill -0 "$F" 2>/dev/null && flood_running=1

wait_pid "$F" 30
assert_eq "the flood ended by itself" 0 "$?"
flood_out=$(listener_output "$F")
echo "  flood: $flood_out; the clients took ${times[*]} ms (${before_ms} ms before the flood)"
sent=$(sed -nE 's/^sent ([0-9]+) in .*/\1/p' <<<"$flood_out")
assert_ge "SYNs the flood sent" $((SYNS * 9 / 10)) "$sent"
# (Had the flood ended first, the SYN queue would still be full: its entries wait for an
# address nobody answers for, so the clients' SYNs met cookies all the same.)
if ((flood_running)); then
  echo "  the flood was still going when the last client was done"
else
  echo "  the flood had ended before the last client"
fi

# After the flood: the SYN queue's connections, the clients' (closed by now) and nothing more.
counters_now "$T" || die "tapird printed no counters on SIGUSR1"
conns=$(counter tcpConnections)
if _is_int "$conns" && ((conns <= MAX_SYN_BACKLOG + CLIENTS)); then
  _it_ok "tcpConnections $conns: the SYN queue's at most (no state for cookies)"
else
  _it_bad "tcpConnections at most $((MAX_SYN_BACKLOG + CLIENTS))" "got: ${conns:-<empty>}"
fi
echo "  tcpInSegs $(counter tcpInSegs), tcpSyncookiesSent $(counter tcpSyncookiesSent)"

stop_tapird_checked "$T"
cookies_sent=$(tapird_counter "$T" tcpSyncookiesSent)
cookies_recv=$(tapird_counter "$T" tcpSyncookiesRecv)
cookies_failed=$(tapird_counter "$T" tcpSyncookiesFailed)
echo "  tcpSyncookiesSent $cookies_sent, tcpSyncookiesRecv $cookies_recv," \
  "tcpSyncookiesFailed $cookies_failed, tcpListenDrops $(tapird_counter "$T" tcpListenDrops)"
# How much of the flood tapird reads depends on its speed (the TAP's queue drops the rest: a
# sanitizer build reads about half); a tenth is plenty to show that cookies answered it.
assert_ge "tcpSyncookiesSent (a good part of the flood)" $((SYNS / 10)) "$cookies_sent"
# Of the segments tapird read, all but the SYN queue's, the clients' and the few SYNs that
# repeat a queued 4-tuple were flood SYNs answered with a cookie: at least 9 in 10.
in_segs=$(tapird_counter "$T" tcpInSegs)
assert_ge "tcpSyncookiesSent, of tcpInSegs $in_segs (9 in 10)" $((in_segs * 9 / 10)) "$cookies_sent"
assert_ge "tcpSyncookiesRecv (the clients came in on cookies)" 1 "$cookies_recv"
assert_eq "tcpSyncookiesFailed" 0 "$cookies_failed"
assert_eq "tcpListenDrops (no SYN dropped: cookies instead)" 0 "$(tapird_counter "$T" tcpListenDrops)"
finish
