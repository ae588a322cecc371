#!/usr/bin/env bash
# An ARP flood against tapird --limit arp-entries=256: 1,000,000 ARP packets for tapird's
# address (requests and replies by turns) from as many random senders (a locally administered
# unicast MAC and an address in 10.128.0.0/9 each), sent by a Python AF_PACKET sender on
# Linux's side of the TAP. Each one for tapird makes an entry (RFC 826), so the table reaches
# its cap and from then on every new sender evicts the idlest entry (arpCacheEvictions), never
# the real neighbour's: Linux (10.0.0.1) pings tapird all through the flood, its entry carries
# the replies, and tapird never has to ask for it again (arpOutRequests does not move). The
# ping keeps being answered during the flood and after it, and tapird exits cleanly.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: ping; the flood)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                                                                     --limit arp-entries=256
#
# The sender builds each frame from fixed pieces and 8 random bytes, and could send the million
# in about 10 s here; it is paced to 50,000 a second (about 20 s) instead, because tapird reads
# fewer than that (about 75,000 a second on this 2-core machine with a build running beside
# it), and an overflowing TAP queue would drop the ping's frames with the flood's: what is
# tested is the ARP table, not the TAP's queue. Some frames may still be dropped by the TAP
# when the machine is busy; they are counted (tap0 tx_dropped) and the ping is allowed 1 in
# 10 lost during the flood (none after).
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

PACKETS=1000000
RATE=50000
ENTRIES=256
# Of the table: what Linux's own ARP requests may add to the count below (its first request
# made its entry; later ones, unicast probes every ~30 s, only confirm it).
LINUX_ARP_SLACK=5

# arpflood.py IFNAME TARGET_IP TARGET_MAC COUNT RATE: COUNT ARP packets for TARGET_IP, even ones
# broadcast requests, odd ones replies unicast to TARGET_MAC, each from a random sender
# (02:xx:xx:xx:xx:xx, 10.128.0.0/9; the same random bytes for the Ethernet source and ARP's
# sender fields). "flooding" on stderr once a tenth is out; "sent N in S s" at the end.
ns_tmpdir_init
ARP_PY=$_ns_tmp/arpflood.py
cat >"$ARP_PY" <<'EOF'
import random, socket, sys, time

ifname, target_ip, target_mac, count, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((ifname, 0))
tip = socket.inet_aton(target_ip)
tmac = bytes.fromhex(target_mac.replace(":", ""))
arp_type = b"\x08\x06"
kinds = [  # (Ethernet destination, ARP fixed part up to the sender, target MAC and IP)
    (b"\xff" * 6, bytes.fromhex("0001080006040001"), b"\x00" * 6 + tip),  # who-has TARGET_IP
    (tmac, bytes.fromhex("0001080006040002"), tmac + tip),                  # TARGET_IP is-at
]
pool = random.Random(826).randbytes(8 * count)
send = sock.send
start = time.monotonic()
sent = 0
for i in range(count):
    if i == count // 10:
        print("flooding", file=sys.stderr, flush=True)
    dst, fixed, target = kinds[i & 1]
    o = 8 * i
    mac = b"\x02" + pool[o:o + 5]
    ip = b"\x0a" + bytes((pool[o + 5] | 0x80,)) + pool[o + 6:o + 8]
    try:
        send(dst + mac + arp_type + fixed + mac + ip + target)
        sent += 1
    except OSError:  # ENOBUFS: the device queue was full for a moment
        pass
    if i % 1000 == 999:
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)  # pacing only: nothing waits on anything here
print("sent %d in %.2f s" % (sent, time.monotonic() - start), flush=True)
EOF

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --limit arp-entries=$ENTRIES --stats ||
  die "tapird did not start"
tapir_mac=$(tapird_output "$T" | awk '/^ready/ { print $4; exit }')
[[ $tapir_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || die "no MAC in tapird's ready line"

tap_tx_dropped() {
  ip -n "$N" -s -j link show tap0 | "$PY" -c \
    'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'
}

# Linux resolves tapird and tapird learns Linux (from Linux's request): the entry to keep.
run "$N" ping -n -c 1 -W 5 10.0.0.2
assert_ping "$OUT" 1 "ping before the flood"
counters_now "$T" || die "tapird printed no counters on SIGUSR1"
arp_out_before=$(counter arpOutRequests)
drops_before=$(tap_tx_dropped)

# The ping runs through the whole flood (20 pings a second), and is stopped (SIGINT: it then
# prints its statistics) once the flood is over; timeout bounds it if the script never gets
# there. ping sets its own SIGINT handler, so being a background job does not matter.
ns_spawn P "$N" timeout 90 ping -n -q -i 0.05 -W 1 10.0.0.2 >"$_ns_tmp/ping.out" 2>&1
start_listener F "$N" '^flooding' "$PY" "$ARP_PY" tap0 10.0.0.2 "$tapir_mac" "$PACKETS" "$RATE" ||
  die "the flood did not start"
wait_pid "$F" 60
assert_eq "the flood ended by itself" 0 "$?"
flood_out=$(listener_output "$F")
echo "  flood: $flood_out"
sent=$(sed -nE 's/^sent ([0-9]+) in .*/\1/p' <<<"$flood_out")
assert_eq "ARP packets the flood sent" "$PACKETS" "$sent"

# The ping during the flood: stop it (timeout passes SIGINT on to ping).
ping_alive=0
kill -0 "$P" 2>/dev/null && ping_alive=1
assert_eq "the ping was still going when the flood ended" 1 "$ping_alive"
kill -INT "$P" 2>/dev/null
timeout 10 tail -s 0.05 --pid="$P" -f /dev/null 2>/dev/null
_ns_reap "$P"
_ns_forget_pid "$P"
OUT=$(<"$_ns_tmp/ping.out")
printf '%s\n' "$OUT" | sed 's/^/  | /' | tail -n 3
tx="" rx=""
if [[ $OUT =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
  tx=${BASH_REMATCH[1]}
  rx=${BASH_REMATCH[2]}
fi
assert_ge "pings sent during the flood (20 a second)" 100 "$tx"
if _is_int "$tx" && _is_int "$rx" && ((rx * 10 >= tx * 9)); then
  _it_ok "ping during the flood: $rx of $tx answered (at least 9 in 10)"
else
  _it_bad "ping during the flood: at least 9 in 10 answered" "got: ${rx:-?} of ${tx:-?}"
fi

# After the flood: every ping answered, at once.
run "$N" ping -n -q -c 20 -i 0.05 -W 2 10.0.0.2
assert_ping "$OUT" 20 "ping after the flood"

drops=$(($(tap_tx_dropped) - drops_before))
assert_eq "tapird is alive after the flood" 0 "$(kill -0 "$T" 2>/dev/null; echo $?)"
stop_tapird_checked "$T"
requests=$(tapird_counter "$T" arpInRequests)
replies=$(tapird_counter "$T" arpInReplies)
spoof=$(tapird_counter "$T" arpInSpoofRejected)
evictions=$(tapird_counter "$T" arpCacheEvictions)
full=$(tapird_counter "$T" arpCacheFullDrops)
arp_out=$(tapird_counter "$T" arpOutRequests)
echo "  arpInRequests $requests, arpInReplies $replies, arpInSpoofRejected $spoof," \
  "arpCacheEvictions $evictions, arpCacheFullDrops $full, arpOutReplies" \
  "$(tapird_counter "$T" arpOutReplies); tap0 dropped $drops of the flood's frames"
# tapird read every frame the TAP did not drop (Linux's few ARP requests are on top).
read_in=$((requests + replies))
assert_ge "ARP packets tapird read (the flood less the TAP's drops)" $((PACKETS - drops)) "$read_in"
# Each packet from a new sender made an entry; one from a sender already in the table with
# another MAC was refused (a random address met twice: arpInSpoofRejected). So what the table
# holds at the end is what was made less what was evicted: at most the cap (and Linux's
# extra requests, which made nothing).
held=$((read_in - spoof - evictions - full))
if ((held <= ENTRIES + LINUX_ARP_SLACK)); then
  _it_ok "entries the flood left in the table: $held (<= $ENTRIES, the cap, + Linux's requests)"
else
  _it_bad "entries left in the table at most $ENTRIES + $LINUX_ARP_SLACK" "got: $held"
fi
assert_ge "arpCacheEvictions (all but the cap's worth of the flood)" \
  $((read_in - spoof - ENTRIES - LINUX_ARP_SLACK)) "$evictions"
# There was always an idle entry to evict (a flood's own): no new sender was refused.
assert_eq "arpCacheFullDrops" 0 "$full"
# The neighbour's entry was never evicted: tapird never had to resolve 10.0.0.1 again.
assert_eq "arpOutRequests (unchanged since before the flood: 10.0.0.1 never re-resolved)" \
  "$arp_out_before" "$arp_out"
finish
