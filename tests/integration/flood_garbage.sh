#!/usr/bin/env bash
# A storm of 20,000 bad frames at tapird over its TAP, from a seeded Python program (the same
# frames every run): random lengths and bytes; every valid frame of each protocol (ARP, ICMP,
# UDP, TCP, IGMP, IPv4 with options) cut short at every length, with the IP header left as it
# was and with it fixed up to the cut; bad IPv4, ICMP, UDP, TCP and IGMP checksums; bad IPv4
# versions, header and total lengths, sources and protocols; every one of the 256 TCP flag
# combinations at the listening echo port (7), at a closed one, and with data; TCP segments
# with bad data offsets and malformed option lists; malformed IPv4 option lists; UDP length
# fields that disagree with the datagram; ICMP of every type with garbage inside (errors
# quoting truncated or random headers); IGMP of every kind and length; overlapping, oversize
# and misaligned fragments; and valid frames with a few bytes changed at random. Scapy builds
# the valid frames; the rest are made from them or byte by byte, with checksums redone where
# the check under test lies past the checksum.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux; the storm)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#
# Afterwards tapird still answers ping and a TCP echo, exits cleanly on SIGINT, and its
# counters account for every frame: the frames it read (Linux counts them: tap0's tx_packets,
# tx_bytes) are each a drop under a named Ethernet counter or a delivery to ARP or IPv4; each
# ARP packet is a request, a reply or an error; each IPv4 datagram is a header error under its
# reason, not for us, a fragment, or delivered, and each delivered one is counted by its
# protocol; and each layer's drop counters moved.
# (ifInErrors, frames shorter than an Ethernet header, is not tested: Linux refuses to send a
# frame under 14 bytes through a packet socket, so none can reach the TAP from here.)
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd ping nc sha256sum
require_python
"$PY" -c 'import scapy' 2>/dev/null || die "scapy is not installed (scripts/setup installs python3-scapy)"

FRAMES=20000
RATE=10000 # frames a second: the storm lasts about 2 s
SEED=1984

# garbage.py IFNAME LINUX_MAC TAPIR_MAC COUNT RATE SEED: the storm, on IFNAME through an
# AF_PACKET socket. Prints "category N" lines and "sent N refused M in S s" at the end (refused:
# frames Linux would not send, e.g. longer than the MTU).
ns_tmpdir_init
TMP=$_ns_tmp
GARBAGE_PY=$TMP/garbage.py
cat >"$GARBAGE_PY" <<'EOF'
import random, socket, struct, sys, time
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption_RR, IPOption_Router_Alert, Raw, raw

ifname, lmac_s, tmac_s, count, rate, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
rng = random.Random(seed)
LMAC, TMAC = bytes.fromhex(lmac_s.replace(":", "")), bytes.fromhex(tmac_s.replace(":", ""))
BCAST, ALLHOSTS_MAC = b"\xff" * 6, bytes.fromhex("01005e000001")
L, T = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")
SUBNET_BCAST, OTHER = socket.inet_aton("10.0.0.255"), socket.inet_aton("10.0.0.77")
ALLHOSTS = socket.inet_aton("224.0.0.1")
frames = []  # (category, bytes)

def add(cat, frame):
    frames.append((cat, bytes(frame)))

def rbytes(n):
    return rng.randbytes(n)

def csum(b):
    b = bytes(b)
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def eth(payload, etype=0x0800, dst=None, src=None):
    return (dst or TMAC) + (src or LMAC) + struct.pack("!H", etype) + bytes(payload)

def ipv4(proto, payload, src=L, dst=T, ttl=64, ident=None, frag=0, options=b"", total=None,
         ihl=None, version=4, bad_csum=False, tos=0):
    options = bytes(options) + b"\0" * (-len(options) % 4)
    hl = 20 + len(options)
    h = bytearray(struct.pack("!BBHHHBBH4s4s", (version << 4) | ((hl // 4 if ihl is None else ihl) & 15),
                              tos, (hl + len(payload) if total is None else total) & 0xFFFF,
                              rng.getrandbits(16) if ident is None else ident, frag, ttl, proto, 0, src, dst))
    h += options
    c = csum(h)
    if bad_csum:
        c ^= rng.randint(1, 0xFFFF)
    h[10:12] = struct.pack("!H", c)
    return bytes(h) + bytes(payload)

def l4sum(proto, src, dst, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + bytes(seg))

def tcp(sport, dport, flags, seq=None, ack=None, payload=b"", options=b"", doff=None, window=65535,
        src=L, dst=T, bad_csum=False, urg=0):
    options = bytes(options) + b"\0" * (-len(options) % 4)
    d = (20 + len(options)) // 4 if doff is None else doff
    seg = bytearray(struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32) if seq is None else seq,
                                rng.getrandbits(32) if ack is None else ack, (d & 15) << 4, flags & 0xFF,
                                window, 0, urg)) + options + bytes(payload)
    c = l4sum(6, src, dst, seg)
    if bad_csum:
        c ^= rng.randint(1, 0xFFFF)
    seg[16:18] = struct.pack("!H", c)
    return bytes(seg)

def udp(sport, dport, payload, length=None, src=L, dst=T, bad_csum=False):
    seg = bytearray(struct.pack("!HHHH", sport, dport, (8 + len(payload) if length is None else length) & 0xFFFF, 0))
    seg += bytes(payload)
    c = l4sum(17, src, dst, seg) or 0xFFFF
    if bad_csum:
        c = (c ^ rng.randint(1, 0xFFFE)) or 1
    seg[6:8] = struct.pack("!H", c)
    return bytes(seg)

def icmp_like(typ, code, rest, payload=b"", bad_csum=False):  # ICMP and IGMP share the checksum
    m = bytearray(struct.pack("!BBH", typ, code, 0)) + bytes(rest) + bytes(payload)
    c = csum(m)
    if bad_csum:
        c ^= rng.randint(1, 0xFFFF)
    m[2:4] = struct.pack("!H", c)
    return bytes(m)

def igmp_frame(msg, bad_ip_opts=False):
    return eth(ipv4(2, msg, dst=ALLHOSTS, ttl=1, options=b"\x94\x04\x00\x00"), dst=ALLHOSTS_MAC)

def fix_ip(frame):
    """Frame with its IPv4 total length set to what is there and the header checksum redone."""
    f = bytearray(frame)
    hl = (f[14] & 15) * 4
    f[16:18] = struct.pack("!H", len(f) - 14)
    f[24:26] = b"\0\0"
    f[24:26] = struct.pack("!H", csum(f[14:14 + hl]))
    return bytes(f)

def sport():  # below Linux's ephemeral ports: never the 4-tuple of the nc echo afterwards
    return rng.randint(1024, 30000)

# --- Valid frames (scapy), the material of the truncations and byte changes.
E = Ether(dst=tmac_s, src=lmac_s)
tcp_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
valid = {
    "arp": raw(E / ARP(op=1, hwsrc=lmac_s, psrc="10.0.0.1", pdst="10.0.0.2")),
    "icmp": raw(E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(id=7, seq=1) / Raw(b"x" * 32)),
    "udp": raw(E / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=2000, dport=7) / Raw(b"hello")),
    "tcp-syn": raw(E / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=2001, dport=7, flags="S", options=tcp_opts)),
    "tcp-data": raw(E / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=2002, dport=7, flags="PA") / Raw(b"data")),
    "ip-options": raw(E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / ICMP()),
    "igmp": igmp_frame(icmp_like(0x11, 100, b"\0\0\0\0")),
}

# 1. Random frames: random length and bytes, mostly for tapird's MAC with an EtherType it reads.
for _ in range(3000):
    n = rng.randint(14, 1514)
    f = bytearray(rbytes(n))
    r = rng.random()
    if r < 0.75:
        f[0:6] = TMAC
    if r < 0.6:
        f[12:14] = struct.pack("!H", rng.choice((0x0800, 0x0806, 0x86DD)))
    add("random", f)

# 2. Every valid frame cut short at every length past the Ethernet header: once as it is (the
#    IPv4 total length then says more than is there), once with the IPv4 header made to agree
#    (so the cut reaches the transport's own length checks).
for name, f in valid.items():
    for n in range(14, len(f)):
        add("truncated", f[:n])
        if name != "arp" and n >= 14 + ((f[14] & 15) * 4):
            add("truncated", fix_ip(f[:n]))

# 3. Bad checksums at every layer.
for _ in range(60):
    add("bad checksum", eth(ipv4(1, icmp_like(8, 0, struct.pack("!HH", 7, rng.getrandbits(16)), b"y" * 16), bad_csum=True)))
    add("bad checksum", eth(ipv4(1, icmp_like(8, 0, struct.pack("!HH", 7, rng.getrandbits(16)), b"y" * 16, bad_csum=True))))
    add("bad checksum", eth(ipv4(17, udp(sport(), 7, b"bad", bad_csum=True))))
    add("bad checksum", eth(ipv4(6, tcp(sport(), 7, 0x02, bad_csum=True))))
    add("bad checksum", eth(ipv4(6, tcp(sport(), 7, 0x18, payload=b"zz", bad_csum=True))))
    add("bad checksum", igmp_frame(icmp_like(0x11, 100, b"\0\0\0\0", bad_csum=True)))

# 4. IPv4 header fields (the checksum right, so each check is reached).
echo = icmp_like(8, 0, b"\0\7\0\1", b"z" * 8)
for _ in range(40):
    add("ip header", eth(ipv4(1, echo, version=rng.choice([v for v in range(16) if v != 4]))))
    add("ip header", eth(ipv4(1, echo, ihl=rng.randint(0, 4))))
    add("ip header", eth(ipv4(1, b"", ihl=rng.randint(6, 15))))                   # IHL past the frame
    add("ip header", eth(ipv4(1, echo, total=rng.randint(0, 19))))               # total < header
    add("ip header", eth(ipv4(1, echo, total=rng.randint(20 + len(echo) + 1, 65535))))  # truncated
    add("ip header", eth(ipv4(1, echo, ttl=0)))
    add("ip header", eth(ipv4(rng.choice((0, 41, 47, 50, 132, 253, 255)), rbytes(20))))  # no such protocol
for src in ("255.255.255.255", "224.0.0.5", "239.1.2.3", "240.0.0.1", "127.0.0.1", "0.0.0.9", "10.0.0.255"):
    for _ in range(10):
        add("ip header", eth(ipv4(1, echo, src=socket.inet_aton(src))))
for _ in range(30):
    add("ip header", eth(ipv4(1, echo, dst=OTHER)))                              # not for us
    add("ip header", eth(ipv4(1, echo, dst=socket.inet_aton("127.0.0.1"))))

# 5. Every TCP flag combination (CWR ECE URG ACK PSH RST SYN FIN): at the echo listener, at a
#    closed port, and carrying data (and an urgent pointer) at the listener.
for flags in range(256):
    add("tcp flags", eth(ipv4(6, tcp(sport(), 7, flags))))
    add("tcp flags", eth(ipv4(6, tcp(sport(), 9999, flags))))
    add("tcp flags", eth(ipv4(6, tcp(sport(), 7, flags, payload=rbytes(rng.randint(1, 64)), urg=rng.getrandbits(16)))))

# 6. TCP: bad data offsets, malformed and random option lists, to broadcast and multicast.
bad_tcp_options = [
    b"\x02", b"\x02\x00", b"\x02\x01", b"\x02\x05\x05\xb4", b"\x02\x28", b"\x03\x02", b"\x03\x03",
    b"\x03\x03\x0f", b"\x08\x0a\x00\x00", b"\x05\x03\x00\x00", b"\x05\x0b" + b"\0" * 9,
    b"\x04\x03\x00\x00", b"\x01" * 3 + b"\x08", b"\x13\x12" + b"\0" * 10, b"\xfe\x00", b"\xff\xff\xff\xff",
    b"\x02\x04\x00\x00", b"\x03\x03\xff", b"\x05\x02", b"\x08\x09" + b"\0" * 7,
]
for opts in bad_tcp_options:
    for flags in (0x02, 0x10, 0x12, 0x18, 0x11, 0x04):
        add("tcp options", eth(ipv4(6, tcp(sport(), 7, flags, options=opts))))
for _ in range(600):
    n = rng.randint(1, 40)
    add("tcp options", eth(ipv4(6, tcp(sport(), rng.choice((7, 7, 9, 13, 19, 9999)), rng.choice((0x02, 0x10, 0x12, 0x18, 0x00, 0xFF)), options=rbytes(n)))))
for _ in range(60):
    add("tcp offset", eth(ipv4(6, tcp(sport(), 7, 0x02, doff=rng.randint(0, 4)))))
    add("tcp offset", eth(ipv4(6, tcp(sport(), 7, 0x10, doff=rng.randint(6, 15)))))   # past the segment
for _ in range(20):
    add("tcp to a group", eth(ipv4(6, tcp(sport(), 7, 0x02, dst=SUBNET_BCAST), dst=SUBNET_BCAST), dst=BCAST))
    add("tcp to a group", eth(ipv4(6, tcp(sport(), 7, 0x02, dst=ALLHOSTS), dst=ALLHOSTS), dst=ALLHOSTS_MAC))

# 7. IPv4 options: malformed lists and random ones (the checksum right).
bad_ip_options = [
    b"\x07", b"\x07\x00", b"\x07\x01", b"\x07\x28\x04", b"\x44\x02", b"\x44\x00\x05\x00", b"\x83\x03",
    b"\x89\x27\x04", b"\x94\x01", b"\x01\x01\x01\x07", b"\x88\x04\x00", b"\xfe\xff", b"\x07\x03\x01\x00" + b"\x44",
]
for opts in bad_ip_options:
    for _ in range(5):
        add("ip options", eth(ipv4(1, echo, options=opts)))
for _ in range(800):
    add("ip options", eth(ipv4(rng.choice((1, 6, 17)), rbytes(rng.randint(0, 40)), options=rbytes(rng.randint(1, 40)))))

# 8. UDP length fields that disagree with the datagram, and datagrams to every service.
for _ in range(200):
    p = rbytes(rng.randint(0, 32))
    add("udp length", eth(ipv4(17, udp(sport(), 7, p, length=rng.choice((0, 1, 7, 8 + len(p) + rng.randint(1, 500)))))))
for port in (7, 9, 13, 19, 9999):
    for _ in range(10):
        add("udp", eth(ipv4(17, udp(sport(), port, rbytes(rng.randint(0, 64))))))

# 9. ICMP: every type and code, with garbage, and errors quoting cut or random headers.
for typ in range(256):
    add("icmp types", eth(ipv4(1, icmp_like(typ, rng.getrandbits(8), rbytes(4), rbytes(rng.randint(0, 40))))))
inner_ok = ipv4(6, tcp(7, 2003, 0x12, src=T, dst=L), src=T, dst=L)[:28]
for _ in range(500):
    typ = rng.choice((3, 4, 5, 11, 12))
    kind = rng.randint(0, 3)
    if kind == 0:
        inner = rbytes(rng.randint(0, 60))
    elif kind == 1:
        inner = inner_ok[:rng.randint(0, 27)]
    elif kind == 2:
        inner = bytearray(inner_ok)
        inner[0] = rng.getrandbits(8)
    else:
        inner = ipv4(rng.choice((1, 6, 17, 2)), rbytes(8), src=T, dst=L)
    add("icmp errors", eth(ipv4(1, icmp_like(typ, rng.randint(0, 15), rbytes(4), inner))))
for _ in range(40):  # ICMP messages shorter than an ICMP header
    add("icmp short", eth(ipv4(1, rbytes(rng.randint(0, 7)))))

# 10. IGMP: every type, short and long, queries whose source count overruns them, bad checksums.
for _ in range(400):
    typ = rng.choice((0x11, 0x12, 0x16, 0x17, 0x22, rng.getrandbits(8)))
    body = rbytes(rng.choice((0, 1, 3, 4, 8, 12, rng.randint(0, 64))))
    if typ == 0x11 and len(body) >= 8:
        body = bytearray(body)
        body[6:8] = struct.pack("!H", rng.randint(1, 2000))  # number of sources
    msg = icmp_like(typ, rng.getrandbits(8), b"", body, bad_csum=rng.random() < 0.3)
    if rng.random() < 0.2:
        msg = msg[:rng.randint(0, len(msg))]
    add("igmp", igmp_frame(msg))
    add("igmp", eth(ipv4(2, msg)))  # to tapird's unicast address

# 11. Fragments: overlapping, past 65535 octets, not a multiple of 8, empty.
for _ in range(60):
    ident = rng.getrandbits(16)
    add("fragments", eth(ipv4(17, rbytes(16), ident=ident, frag=0x2000)))
    add("fragments", eth(ipv4(17, rbytes(16), ident=ident, frag=0x2000 | 1)))           # overlaps
    add("fragments", eth(ipv4(17, rbytes(64), frag=0x2000 | 8185)))                      # 65480 + 64 > 65535
    add("fragments", eth(ipv4(17, rbytes(rng.choice((1, 7, 13, 100))), frag=0x2000 | rng.randint(0, 100))))
    add("fragments", eth(ipv4(17, b"", frag=rng.choice((0x2000, 0x2000 | 5, 40)))))
    add("fragments", eth(ipv4(6, rbytes(8), frag=0x2000)))                                # a TCP header cut in two

# 12. The rest: valid frames with 1 to 4 bytes past the MAC addresses changed at random.
templates = list(valid.values())
while len(frames) < count:
    f = bytearray(rng.choice(templates))
    for _ in range(rng.randint(1, 4)):
        f[rng.randint(12, len(f) - 1)] = rng.getrandbits(8)
    add("changed bytes", f)
del frames[count:]
rng.shuffle(frames)

cats = {}
for c, _ in frames:
    cats[c] = cats.get(c, 0) + 1
for c in sorted(cats):
    print("category %s %d" % (c.replace(" ", "-"), cats[c]))

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((ifname, 0))
start = time.monotonic()
sent = refused = 0
for i, (_, f) in enumerate(frames):
    try:
        sock.send(f)
        sent += 1
    except OSError:  # too long for the MTU, or ENOBUFS
        refused += 1
    if i % 200 == 199:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)  # pacing only: nothing waits on anything here
print("sent %d refused %d in %.2f s" % (sent, refused, time.monotonic() - start), flush=True)
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --stats || die "tapird did not start"
tapir_mac=$(tapird_output "$T" | awk '/^ready/ { print $4; exit }')
[[ $tapir_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || die "no MAC in tapird's ready line"
linux_mac=$(ip -n "$N" -j link show tap0 | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')

# tap0's tx counters: frames (bytes) tapird read from the TAP. Linux counts a frame when
# tapird reads it (tun_put_user), so these are the frames tapird saw, not those queued.
tap_tx() {
  ip -n "$N" -s -j link show tap0 | "$PY" -c \
    "import json, sys; print(json.load(sys.stdin)[0]['stats64']['tx']['$1'])"
}

# Before the storm: ARP both ways, so that tapird has Linux's real MAC for 10.0.0.1 (a storm
# frame claiming 10.0.0.1 cannot replace a resolved entry: arpInSpoofRejected).
run "$N" ping -n -c 1 -W 5 10.0.0.2
assert_ping "$OUT" 1 "ping before the storm"

run "$N" timeout 60 "$PY" "$GARBAGE_PY" tap0 "$linux_mac" "$tapir_mac" "$FRAMES" "$RATE" "$SEED"
assert_eq "the storm's exit status" 0 "$RC"
storm=$OUT
sent=$(sed -nE 's/^sent ([0-9]+) refused .*/\1/p' <<<"$storm")
refused=$(sed -nE 's/^sent [0-9]+ refused ([0-9]+) .*/\1/p' <<<"$storm")
echo "  the storm: $(tail -n 1 <<<"$storm"); $(grep -c '^category' <<<"$storm") categories"
assert_ge "frames the storm sent" $((FRAMES * 9 / 10)) "$sent"
assert_eq "tapird is alive after the storm" 0 "$(kill -0 "$T" 2>/dev/null; echo $?)"

# After: ping and a TCP echo (the ping also shows that tapird has read the whole storm: the TAP
# is a FIFO, and the request came after it).
run "$N" ping -n -q -c 5 -i 0.1 -W 2 10.0.0.2
assert_ping "$OUT" 5 "ping after the storm"
random_file "$TMP/echo.in" 65536
run "$N" sh -c "timeout 20 nc -N -w 10 10.0.0.2 7 <'$TMP/echo.in' >'$TMP/echo.out'"
assert_eq "TCP echo after the storm: nc exit status" 0 "$RC"
assert_eq "TCP echo after the storm: SHA-256 of the 65536 bytes back" "$(sha256_of "$TMP/echo.in")" \
  "$(sha256_of "$TMP/echo.out")"
run "$N" sh -c "printf 'still here\n' | timeout 20 nc -N -w 10 10.0.0.2 7"
assert_eq "TCP echo after the storm: a line" "still here" "$OUT"

stop_tapird_checked "$T"
c() { tapird_counter "$T" "$1"; }
tx_packets=$(tap_tx packets)
tx_bytes=$(tap_tx bytes)
echo "  tapird read $tx_packets frames ($tx_bytes bytes); the storm sent $sent, refused ${refused:-?}"
assert_ge "frames tapird read (the storm and the rest)" "$sent" "$tx_packets"

# Every frame read is accounted for by the Ethernet layer...
eth_sum=$(($(c ifInErrors) + $(c ifInDiscards) + $(c ifInUnknownProtos) + $(c ifInUcastPkts) +
  $(c ifInNUcastPkts)))
assert_eq "frames read = ifInErrors + ifInDiscards + ifInUnknownProtos + ifInUcastPkts + ifInNUcastPkts" \
  "$tx_packets" "$eth_sum"
assert_eq "bytes read = ifInOctets" "$tx_bytes" "$(c ifInOctets)"
# ...what it delivered, by ARP and IPv4 (the two EtherTypes tapird speaks)...
assert_eq "ifInUcastPkts + ifInNUcastPkts = ipInReceives + arpInRequests + arpInReplies + arpInErrors" \
  "$(($(c ifInUcastPkts) + $(c ifInNUcastPkts)))" \
  "$(($(c ipInReceives) + $(c arpInRequests) + $(c arpInReplies) + $(c arpInErrors)))"
# ...and each datagram by IPv4: a header error under its reason, a bad source, not for us, a
# fragment (those reassembled are delivered again, whole), or delivered to a protocol or none.
ip_sum=$(($(c ipInTruncatedPkts) + $(c ipInBadVersion) + $(c ipInBadHeaderLength) +
  $(c ipInBadTotalLength) + $(c ipInCsumErrors) + $(c ipInBadOptions) + $(c ipInBadSource) +
  $(c ipInAddrErrors) + $(c ipReasmReqds) + $(c ipInDelivers) + $(c ipInUnknownProtos) -
  $(c ipReasmOKs)))
assert_eq "ipInReceives = the sum of its outcomes" "$(c ipInReceives)" "$ip_sum"
# ...and each delivered datagram is counted by its protocol as it came in (UDP: delivered, no
# port, or an error; one socket per port here, so a datagram is delivered at most once).
assert_eq "ipInDelivers = icmpInMsgs + igmpInMsgs + udpInDatagrams + udpNoPorts + udpInErrors + tcpInSegs" \
  "$(c ipInDelivers)" "$(($(c icmpInMsgs) + $(c igmpInMsgs) + $(c udpInDatagrams) + $(c udpNoPorts) +
    $(c udpInErrors) + $(c tcpInSegs)))"

# The drop counters of each layer moved.
for name in ifInDiscards ifInUnknownProtos arpInErrors \
  ipInHdrErrors ipInBadVersion ipInBadHeaderLength ipInBadTotalLength ipInCsumErrors \
  ipInBadOptions ipInBadSource ipInTruncatedPkts ipInAddrErrors ipInUnknownProtos \
  ipReasmOverlaps ipReasmOversize \
  icmpInErrors icmpInCsumErrors \
  udpInErrors udpInBadLength udpInCsumErrors udpNoPorts \
  tcpInErrs tcpInCsumErrors tcpInOptionErrors tcpInBadAddr tcpOutRsts \
  igmpInErrors igmpInCsumErrors igmpInUnknownTypes; do
  assert_ge "$name" 1 "$(c "$name")"
done
echo "  counters at exit:"
tapird_output "$T" | awk '/^tapir counters$/ { b = 1; next } b && NF == 2' | paste -sd' ' | fold -s -w 100 |
  sed 's/^/    /'
finish
