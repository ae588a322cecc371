#!/usr/bin/env bash
# A fragment flood against tapird's IP reassembly, capped with --limit reasm-bytes=262144,
# reasm-bytes-per-source=131072: 50,000 first fragments (MF set, offset 0, 1000 bytes of
# payload, each with an ID of its own) that never complete, all from 10.0.1.1. tapird holds
# what its cap allows of them (97: each costs 1000 bytes + 20 of header + 64 per fragment +
# 256 per datagram, ip::Reassembler) and refuses the rest, counting them; meanwhile and after,
# a fragmented ping from the other link (ping -s 4000: three fragments each way) is
# reassembled and answered, because the flood's source holds only its share of the cap.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: ping -s 4000)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                 tap1 10.0.1.1/24 (the flood)            <-TAP->         --tap tap1 --ip 10.0.1.2/24
#
# The flood comes in on a link of its own (as in tcp_syn_cookies.sh): what is tested is the
# reassembly cap, not the TAP's queue of frames, which overflows whenever tapird reads slower
# than the flood comes and would drop the ping's fragments along with the flood's.
# The flood lasts about 5 s, well inside the 30 s reassembly timeout, so nothing it left
# behind has expired (and been freed) by the end: the count of fragments held is exact.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd ping
require_python

FRAGMENTS=50000
RATE=10000 # fragments a second
PAYLOAD=1000
REASM_BYTES=262144
PER_SOURCE=131072
# What one flood fragment costs (payload, header, fragment_overhead 64, datagram_overhead 256)
# and so how many of them the flood's source may hold.
COST=$((PAYLOAD + 20 + 64 + 256))
HELD_MAX=$((PER_SOURCE / COST))

# frag.py SRC DST COUNT RATE PAYLOAD: COUNT first fragments from SRC to DST (UDP, MF set,
# offset 0) with distinct random IDs, through a raw socket (IP_HDRINCL: Linux fills in only
# the checksum). "flooding" on stderr once a tenth is out; "sent N in S s" on stdout at the end.
ns_tmpdir_init
FRAG_PY=$_ns_tmp/frag.py
cat >"$FRAG_PY" <<'EOF'
import random, socket, struct, sys, time

src, dst, count, rate, payload = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ids = random.Random(791).sample(range(1, 65536), count)  # distinct: each fragment a datagram of its own
body = bytes(random.Random(815).getrandbits(8) for _ in range(payload))
header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload, 0, 0x2000, 64, 17, 0,
                               socket.inet_aton(src), socket.inet_aton(dst)))
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
start = time.monotonic()
sent = 0
for i in range(count):
    if i == count // 10:
        print("flooding", file=sys.stderr, flush=True)
    struct.pack_into("!H", header, 4, ids[i])
    try:
        sock.sendto(bytes(header) + body, (dst, 0))
        sent += 1
    except OSError:  # ENOBUFS: the device queue was full for a moment
        pass
    if i % 100 == 99:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)  # pacing only: nothing waits on anything here
print("sent %d in %.2f s" % (sent, time.monotonic() - start), flush=True)
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
ns_tap "$N" tap1 10.0.1.1/24 || die "cannot create tap1"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --tap tap1 --ip 10.0.1.2/24 \
  --limit reasm-bytes=$REASM_BYTES,reasm-bytes-per-source=$PER_SOURCE --stats ||
  die "tapird did not start"

# A plain ping on each link first: ARP both ways (the flood's first fragments are not held
# in Linux's ARP queue), and the links work.
run "$N" ping -n -c 1 -W 5 10.0.1.2
assert_ping "$OUT" 1 "ping on the flood's link"
run "$N" ping -n -c 1 -W 5 10.0.0.2
assert_ping "$OUT" 1 "ping on the ping's link"

start_listener F "$N" '^flooding' "$PY" "$FRAG_PY" 10.0.1.1 10.0.1.2 "$FRAGMENTS" "$RATE" "$PAYLOAD" ||
  die "the flood did not start"

# During the flood: three fragmented echoes, each reassembled by tapird (and its reply by Linux).
run "$N" ping -n -q -s 4000 -c 3 -i 0.2 -W 2 10.0.0.2
assert_ping "$OUT" 3 "ping -s 4000 during the flood"
if kill -0 "$F" 2>/dev/null; then
  _it_ok "the flood was still going when the ping was done"
else
  _it_bad "the flood was still going when the ping was done" "it had already ended"
fi

wait_pid "$F" 30
assert_eq "the flood ended by itself" 0 "$?"
flood_out=$(listener_output "$F")
echo "  flood: $flood_out"
sent=$(sed -nE 's/^sent ([0-9]+) in .*/\1/p' <<<"$flood_out")
assert_eq "fragments the flood sent" "$FRAGMENTS" "$sent"
assert_eq "tapird is alive after the flood" 0 "$(kill -0 "$T" 2>/dev/null; echo $?)"

# After the flood (its fragments still held: they expire only 30 s after they came).
run "$N" ping -n -q -s 4000 -c 3 -i 0.2 -W 2 10.0.0.2
assert_ping "$OUT" 3 "ping -s 4000 after the flood"

stop_tapird_checked "$T"
reqds=$(tapird_counter "$T" ipReasmReqds)
oks=$(tapird_counter "$T" ipReasmOKs)
fails=$(tapird_counter "$T" ipReasmFails)
mem=$(tapird_counter "$T" ipReasmMemoryDrops)
src=$(tapird_counter "$T" ipReasmSourceLimitDrops)
other=$(($(tapird_counter "$T" ipReasmOverlaps) + $(tapird_counter "$T" ipReasmOversize) +
  $(tapird_counter "$T" ipReasmTimeout)))
echo "  ipReasmReqds $reqds, ipReasmOKs $oks, ipReasmFails $fails, ipReasmMemoryDrops $mem," \
  "ipReasmSourceLimitDrops $src, overlaps+oversize+timeouts $other"
assert_ge "ipReasmOKs (the six pings)" 6 "$oks"
# The flood's source hit its share long before the whole cap: refused as a source.
assert_ge "ipReasmSourceLimitDrops" 1 "$src"
assert_eq "ipReasmMemoryDrops (the flood's share leaves room for the rest)" 0 "$mem"
assert_eq "ipReasmFails (the refusals and nothing else)" "$((mem + src))" "$fails"
assert_eq "overlaps, oversize datagrams and timeouts" 0 "$other"
# Every fragment that came in is counted: three per ping, the ones held, the ones refused.
held=$((reqds - 3 * oks - mem - src))
assert_eq "flood fragments held ($PER_SOURCE / $COST bytes each)" "$HELD_MAX" "$held"
# The TAP's queue may have dropped some of the flood before tapird read it; what is not
# accounted for above is what it dropped.
received=$((reqds - 3 * oks))
echo "  tapird read $received of the flood's $FRAGMENTS fragments"
assert_ge "flood fragments tapird read (at least a tenth)" $((FRAGMENTS / 10)) "$received"
finish
