// ARP (RFC 826, RFC 1122 §2.3.2): replies, announcements, queueing, retries, aging, defences.
#include <catch2/catch.hpp>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

const Ipv4Address kPeer{10, 0, 0, 1};
const std::string kZeroMac = "00:00:00:00:00:00";
const std::string kHostMacText = "02:00:00:00:00:02";
const std::string kPeerMacText = "02:00:00:00:00:01";

// The peer asks who has our address (a broadcast request).
Tins::EthernetII request_from_peer(const std::string& target_ip = kHostIp) {
  return arp_packet(Tins::ARP::REQUEST, kPeerMacText, kPeerIp, kZeroMac, target_ip);
}

// `ip` is-at `mac`, sent to us (a reply to our request, or an unsolicited one).
Tins::EthernetII reply_from(const std::string& ip, const std::string& mac) {
  return arp_packet(Tins::ARP::REPLY, mac, ip, kHostMacText, kHostIp, kHostMacText);
}

// Checks that `frame` is our broadcast request for `target`.
void check_request_for(const Bytes& frame, const std::string& target) {
  Tins::EthernetII eth = decode(frame);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("ff:ff:ff:ff:ff:ff"));
  CHECK(eth.src_addr() == Tins::HWAddress<6>(kHostMacText));
  CHECK(eth.payload_type() == 0x0806);
  const auto& arp = eth.rfind_pdu<Tins::ARP>();
  CHECK(arp.opcode() == Tins::ARP::REQUEST);
  CHECK(arp.sender_hw_addr() == Tins::HWAddress<6>(kHostMacText));
  CHECK(arp.sender_ip_addr() == Tins::IPv4Address(kHostIp));
  CHECK(arp.target_hw_addr() == Tins::HWAddress<6>(kZeroMac));
  CHECK(arp.target_ip_addr() == Tins::IPv4Address(target));
}

// The IPv4 frames among `frames`, and the ARP ones.
std::size_t count_type(const std::vector<Bytes>& frames, std::uint16_t ethertype) {
  std::size_t n = 0;
  for (const auto& f : frames) n += load16(f.data() + 12) == ethertype ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a request for our address gets a unicast reply with exact fields (RFC 826)", "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  const Bytes expected = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // to the requester, not broadcast
                          0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // from us
                          0x08, 0x06,                          // ARP
                          0x00, 0x01, 0x08, 0x00, 0x06, 0x04,  // Ethernet, IPv4, 6, 4
                          0x00, 0x02,                          // reply
                          0x02, 0x00, 0x00, 0x00, 0x00, 0x02,  // sender: our MAC
                          10,   0,    0,    2,                 // sender: our IP
                          0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // target: the requester's MAC
                          10,   0,    0,    1,                 // target: the requester's IP
                          0,    0,    0,    0,    0,    0,    0, 0, 0,
                          0,    0,    0,    0,    0,    0,    0, 0, 0};  // padding
  CHECK(sent[0] == expected);
  CHECK(h.stats().arpInRequests == 1);
  CHECK(h.stats().arpOutReplies == 1);
  // RFC 826: the target of a request learns the requester, who is about to talk to it.
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::resolved);
  CHECK(entry->mac == kPeerMac);
}

TEST_CASE("a request for another address is not answered and teaches nothing", "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer("10.0.0.7"));
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().arpInRequests == 1);
  CHECK(h.stats().arpInIgnored == 1);
  CHECK(h.stats().arpOutReplies == 0);
  CHECK(h.stack().arp().find(0, kPeer) == nullptr);
  CHECK(h.stack().arp().size() == 0);
}

TEST_CASE("an ARP probe (sender 0.0.0.0) for our address is answered and teaches nothing",
          "[arp]") {
  Harness h(StackConfig{}, false);
  // RFC 5227 §2.1.1: a host checking whether our address is free; we defend it.
  h.inject(arp_packet(Tins::ARP::REQUEST, kPeerMacText, "0.0.0.0", kZeroMac, kHostIp));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMacText));
  const auto& arp = eth.rfind_pdu<Tins::ARP>();
  CHECK(arp.opcode() == Tins::ARP::REPLY);
  CHECK(arp.sender_ip_addr() == Tins::IPv4Address(kHostIp));
  CHECK(arp.target_ip_addr() == Tins::IPv4Address("0.0.0.0"));
  CHECK(h.stack().arp().size() == 0);
}

TEST_CASE("adding an interface announces its address with a gratuitous ARP request", "[arp]") {
  Stack stack;
  std::vector<Bytes> sent;
  NetifConfig config{"tap0", kHostMac, 1500, Ipv4Cidr::parse("10.0.0.2/24")};
  stack.add_netif(
      config, [&](std::span<const std::uint8_t> f) { sent.emplace_back(f.begin(), f.end()); },
      Instant::from_micros(0));
  REQUIRE(sent.size() == 1);
  // RFC 5227 §2.3: an announcement is a broadcast request whose sender and target IP are ours.
  const Bytes expected = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
                          0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,  // request
                          0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 10,   0,    0,    2,     // sender
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10,   0,    0,    2,     // target
                          0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                          0,    0,    0,    0,    0,    0};
  CHECK(sent[0] == expected);
  CHECK(stack.stats().arpOutRequests == 1);
  CHECK(stack.stats().ifOutNUcastPkts == 1);

  // An interface without an address has nothing to announce.
  stack.add_netif(
      NetifConfig{"tap1", *MacAddress::parse("02:00:00:00:01:02"), 1500, std::nullopt},
      [&](std::span<const std::uint8_t> f) { sent.emplace_back(f.begin(), f.end()); },
      Instant::from_micros(0));
  CHECK(sent.size() == 1);
  CHECK(stack.stats().arpOutRequests == 1);
}

TEST_CASE(
    "the first ping to an unresolved address is queued and answered once ARP resolves "
    "(RFC 1122 §2.3.2.2)",
    "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(echo_request(0x42, 1, 56));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], kPeerIp);
  CHECK(h.stats().arpOutRequests == 2);  // the announcement and this request
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::incomplete);
  CHECK(entry->pending.size() == 1);
  CHECK(h.stack().arp().pending_bytes() == 20 + 8 + 56);

  h.advance(300ms);
  h.inject(reply_from(kPeerIp, kPeerMacText));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMacText));
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REPLY);
  CHECK(icmp.id() == 0x42);
  CHECK(icmp.sequence() == 1);
  CHECK(eth.rfind_pdu<Tins::RawPDU>().payload() == pattern(56));
  entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::resolved);
  CHECK(entry->pending.empty());
  CHECK(h.stack().arp().pending_bytes() == 0);
  CHECK(h.stats().arpInReplies == 1);

  // Resolved: the next reply goes out at once, with no further request.
  h.inject(echo_request(0x42, 2, 56));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(decode(sent[0]).rfind_pdu<Tins::ICMP>().sequence() == 2);
  CHECK(h.stats().arpOutRequests == 2);
  // The retry timer was stopped by the reply: nothing more is sent.
  h.advance(5s);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a request from the address being resolved resolves it too (RFC 826 merge)", "[arp]") {
  Harness h(StackConfig{}, false);
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 9, 1, pattern(8)));
  REQUIRE(h.take_bytes().size() == 1);  // our request
  h.inject(request_from_peer());
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 2);
  // The queued echo request leaves first (resolution), then the reply to the peer's request.
  Tins::EthernetII echo = decode(sent[0]);
  CHECK(echo.dst_addr() == Tins::HWAddress<6>(kPeerMacText));
  CHECK(echo.rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::ECHO_REQUEST);
  CHECK(decode(sent[1]).rfind_pdu<Tins::ARP>().opcode() == Tins::ARP::REPLY);
}

TEST_CASE("a fragmented datagram queued on an ARP miss goes out whole once resolved", "[arp]") {
  Harness h(StackConfig{}, false);
  // A 4000-byte ping arrives in three fragments; its reply needs the peer's MAC.
  const Bytes request = echo_request_datagram(0x99, 4, 4000);
  for (const Bytes& f : split_datagram(request, 1480)) h.inject_datagram(f);
  CHECK(h.stats().ipReasmOKs == 1);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], kPeerIp);
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->pending.size() == 3);
  CHECK(h.stack().arp().pending_bytes() == 1500 + 1500 + 1068);

  h.inject(reply_from(kPeerIp, kPeerMacText));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 3);
  Bytes icmp;
  for (std::size_t i = 0; i < 3; ++i) {
    Tins::EthernetII eth = decode(sent[i]);
    CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMacText));
    const auto& ip = eth.rfind_pdu<Tins::IP>();
    CHECK(ip.fragment_offset() == i * 185);
    CHECK(((ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0) == (i < 2));
    const Bytes datagram = ipv4_of(sent[i]);
    icmp.insert(icmp.end(), datagram.begin() + 20, datagram.end());
  }
  REQUIRE(icmp.size() == 8 + 4000);
  CHECK(icmp[0] == 0);  // echo reply
  CHECK(load16(&icmp[4]) == 0x99);
  CHECK(internet_checksum(icmp) == 0);
  CHECK(Bytes(icmp.begin() + 8, icmp.end()) == pattern(4000));
  CHECK(h.stack().arp().pending_bytes() == 0);
}

TEST_CASE(
    "an unanswered address is asked 3 times 1 s apart, then the local sender gets ICMP "
    "host unreachable",
    "[arp]") {
  Harness h(StackConfig{}, false);
  struct Seen {
    Ipv4Address from, original_dst;
    icmp::Type type;
    std::uint8_t code;
    std::uint8_t original_protocol;
    Bytes original_payload;
  };
  std::vector<Seen> errors;
  h.stack().icmp().on_error(ip::protocol::icmp, [&](const icmp::ErrorReport& r) {
    errors.push_back(Seen{r.from, r.original.dst, r.message.type, r.message.code,
                          r.original.protocol,
                          Bytes(r.original_payload.begin(), r.original_payload.end())});
  });
  const Ipv4Address silent{10, 0, 0, 9};
  REQUIRE(h.stack().icmp().send_echo_request(silent, 7, 1, pattern(32)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], "10.0.0.9");

  h.advance(999ms);
  CHECK(h.take_bytes().empty());  // RFC 1122 §2.3.2.1: at most one request a second
  h.advance(1ms);
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], "10.0.0.9");
  h.advance(1s);
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], "10.0.0.9");
  CHECK(h.stats().arpResolveFailures == 0);
  CHECK(errors.empty());

  h.advance(1s);
  CHECK(h.take_bytes().empty());  // no fourth request; the error stays inside the host
  CHECK(h.stats().arpOutRequests == 1 + 3);
  CHECK(h.stats().arpResolveFailures == 1);
  CHECK(h.stats().icmpOutDestUnreachs == 1);
  CHECK(h.stats().icmpInDestUnreachs == 1);
  CHECK(h.stats().ipOutLoopback == 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].type == icmp::Type::dest_unreachable);
  CHECK(errors[0].code == icmp::unreachable::host);
  CHECK(errors[0].from == Ipv4Address(10, 0, 0, 2));
  CHECK(errors[0].original_dst == silent);
  CHECK(errors[0].original_protocol == ip::protocol::icmp);
  REQUIRE(errors[0].original_payload.size() == 8);  // the echo header: type 8, id 7, seq 1
  CHECK(errors[0].original_payload[0] == 8);
  CHECK(load16(&errors[0].original_payload[4]) == 7);
  CHECK(load16(&errors[0].original_payload[6]) == 1);
  CHECK(h.stack().arp().find(0, silent) == nullptr);
  CHECK(h.stack().arp().pending_bytes() == 0);

  h.advance(10s);
  CHECK(h.take_bytes().empty());
  CHECK(errors.size() == 1);
}

TEST_CASE("a resolved entry ages out after reachable_time and the next datagram re-resolves",
          "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());  // learnt at t = 0 (of this test)
  h.take_bytes();
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 1, pattern(8)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(load16(sent[0].data() + 12) == 0x0800);  // straight out: resolved

  h.advance(59s + 999ms);
  REQUIRE(h.stack().arp().find(0, kPeer) != nullptr);
  h.advance(1ms);
  CHECK(h.stack().arp().find(0, kPeer) == nullptr);  // RFC 1122 §2.3.2.1: entries time out

  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 2, pattern(8)));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], kPeerIp);
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::incomplete);
  CHECK(entry->pending.size() == 1);
}

TEST_CASE("an ARP packet confirming a resolved entry's MAC restarts its aging", "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());
  h.advance(30s);
  h.inject(reply_from(kPeerIp, kPeerMacText));  // same MAC: a confirmation
  h.advance(59s);
  CHECK(h.stack().arp().find(0, kPeer) != nullptr);  // 89 s after learning, 59 s after refresh
  h.advance(1s);
  CHECK(h.stack().arp().find(0, kPeer) == nullptr);
  CHECK(h.stats().arpInSpoofRejected == 0);
}

TEST_CASE(
    "an unsolicited reply that would change a resolved MAC is refused "
    "(arpInSpoofRejected)",
    "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());
  h.take_bytes();
  const std::string attacker = "02:00:00:00:00:66";
  h.inject(reply_from(kPeerIp, attacker));
  CHECK(h.stats().arpInSpoofRejected == 1);
  // A gratuitous request claiming the address is refused the same way.
  h.inject(arp_packet(Tins::ARP::REQUEST, attacker, kPeerIp, kZeroMac, kPeerIp));
  CHECK(h.stats().arpInSpoofRejected == 2);
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::resolved);
  CHECK(entry->mac == kPeerMac);

  h.take_bytes();
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 1, pattern(8)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(decode(sent[0]).dst_addr() == Tins::HWAddress<6>(kPeerMacText));
}

TEST_CASE("a static entry is never overwritten by ARP traffic", "[arp]") {
  Harness h;  // the peer is a permanent entry
  h.inject(reply_from(kPeerIp, "02:00:00:00:00:66"));
  CHECK(h.stats().arpInSpoofRejected == 1);
  const arp::Entry* entry = h.stack().arp().find(0, kPeer);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == arp::State::permanent);
  CHECK(entry->mac == kPeerMac);
  h.advance(3600s);
  CHECK(h.stack().arp().find(0, kPeer) != nullptr);  // permanent entries do not age
}

TEST_CASE(
    "an ARP flood from 10,000 senders keeps the table at max_entries and evicts no "
    "active neighbour",
    "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());
  const std::size_t max_entries = h.stack().arp().config().max_entries;
  REQUIRE(max_entries == 512);
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    // The peer carries traffic all along (used within active_window).
    if (i % 100 == 0) REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 1, pattern(8)));
    const Ipv4Address sender{(10U << 24) | (1U << 16) | i};
    char mac[18];
    std::snprintf(mac, sizeof mac, "02:aa:00:00:%02x:%02x", i >> 8, i & 0xff);
    h.inject(arp_packet(Tins::ARP::REQUEST, mac, sender.to_string(), kZeroMac, kHostIp));
    if (i % 100 == 99) {
      auto sent = h.take_bytes();
      CHECK(count_type(sent, 0x0800) == 1);  // the echo went straight to the peer
    }
    CHECK(h.stack().arp().size() <= max_entries);
  }
  CHECK(h.stack().arp().size() == max_entries);
  CHECK(h.stats().arpCacheEvictions == 10'000 - (max_entries - 1));
  CHECK(h.stats().arpCacheFullDrops == 0);
  const arp::Entry* peer = h.stack().arp().find(0, kPeer);
  REQUIRE(peer != nullptr);
  CHECK(peer->state == arp::State::resolved);
  CHECK(peer->mac == kPeerMac);
  CHECK(h.stats().arpOutRequests == 1);  // only the announcement: the peer never re-resolved
}

TEST_CASE("an active neighbour at the head of the LRU order survives an ARP flood", "[arp]") {
  Harness h(StackConfig{}, false);
  h.inject(request_from_peer());
  const std::size_t max_entries = h.stack().arp().config().max_entries;
  // Used once, just before a flood that arrives all at once: after max_entries - 1 flood
  // entries the peer is the least recently used entry, yet within active_window.
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 1, pattern(8)));
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    const Ipv4Address sender{(10U << 24) | (2U << 16) | i};
    char mac[18];
    std::snprintf(mac, sizeof mac, "02:bb:00:00:%02x:%02x", i >> 8, i & 0xff);
    h.inject(arp_packet(Tins::ARP::REQUEST, mac, sender.to_string(), kZeroMac, kHostIp));
  }
  CHECK(h.stack().arp().size() == max_entries);
  // Each later flood entry either evicted an idle one or was refused.
  CHECK(h.stats().arpCacheEvictions + h.stats().arpCacheFullDrops == 10'000 - (max_entries - 1));
  const arp::Entry* peer = h.stack().arp().find(0, kPeer);
  REQUIRE(peer != nullptr);
  CHECK(peer->mac == kPeerMac);
  h.take_bytes();
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 2, pattern(8)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(decode(sent[0]).dst_addr() == Tins::HWAddress<6>(kPeerMacText));
}

// STACK BUG (stack/link/arp.cpp, Cache::allocate): only the LRU front is considered for
// eviction, and new (idle) entries are appended behind active ones. Once an active neighbour
// reaches the front, every new entry is refused though the table is full of idle ones.
TEST_CASE("a full table evicts an idle entry even when the least recently used one is active",
          "[arp][regression]") {
  StackConfig config;
  config.arp.max_entries = 4;
  Harness h(config, false);
  h.inject(request_from_peer());
  REQUIRE(h.stack().icmp().send_echo_request(kPeer, 1, 1, pattern(8)));  // peer is active
  for (int i = 0; i < 3; ++i) {
    const std::string sender = "10.1.0." + std::to_string(i + 1);
    h.inject(arp_packet(Tins::ARP::REQUEST, "02:aa:00:00:00:0" + std::to_string(i + 1), sender,
                        kZeroMac, kHostIp));
  }
  REQUIRE(h.stack().arp().size() == 4);
  h.take_bytes();
  // We now need a new neighbour: one of the three idle entries must make room.
  REQUIRE(h.stack().icmp().send_echo_request(Ipv4Address{10, 0, 0, 3}, 1, 1, pattern(8)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_request_for(sent[0], "10.0.0.3");
  CHECK(h.stats().arpCacheFullDrops == 0);
  CHECK(h.stats().arpCacheEvictions == 1);
  CHECK(h.stack().arp().find(0, kPeer) != nullptr);
}

TEST_CASE("the pending queue per address and in total is bounded (arpQueueDrops)", "[arp]") {
  StackConfig config;
  config.arp.max_pending_bytes_per_entry = 3000;
  config.arp.max_pending_bytes_total = 4000;
  Harness h(config, false);
  auto send = [&](Ipv4Address dst, std::uint8_t tag) {
    return h.stack().ip().send(Ipv4Address::any(), dst, 253, Packet::copy_of(pattern(1000, tag)));
  };
  CHECK(send(kPeer, 1) == ip::SendError::none);
  CHECK(send(kPeer, 2) == ip::SendError::none);
  CHECK(h.stats().arpQueueDrops == 0);
  send(kPeer, 3);  // 3 x 1020 > 3000 for one address
  CHECK(h.stats().arpQueueDrops == 1);
  CHECK(h.stack().arp().pending_bytes() == 2040);

  const Ipv4Address other{10, 0, 0, 3};
  send(other, 4);  // total 3060
  CHECK(h.stats().arpQueueDrops == 1);
  send(other, 5);  // 2040 fits the address but 4080 > 4000 in all
  CHECK(h.stats().arpQueueDrops == 2);
  CHECK(h.stack().arp().pending_bytes() == 3060);
  CHECK(count_type(h.take_bytes(), 0x0806) == 2);  // one request per address

  h.inject(reply_from(kPeerIp, kPeerMacText));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 2);  // in the order they were queued
  CHECK(ipv4_of(sent[0])[20] == 1);
  CHECK(ipv4_of(sent[1])[20] == 2);
  CHECK(h.stack().arp().pending_bytes() == 1020);
}

TEST_CASE("a malformed ARP packet is counted arpInErrors and not answered", "[arp]") {
  Harness h(StackConfig{}, false);
  auto good = request_from_peer();
  const Bytes arp_bytes = good.rfind_pdu<Tins::ARP>().serialize();
  REQUIRE(arp_bytes.size() == 28);

  SECTION("wrong hardware type") {
    Bytes bad = arp_bytes;
    bad[1] = 6;  // IEEE 802
    h.inject_bytes(ethernet_frame(bad, 0x0806, MacAddress::broadcast()));
  }
  SECTION("wrong protocol type") {
    Bytes bad = arp_bytes;
    bad[2] = 0x86;
    bad[3] = 0xdd;
    h.inject_bytes(ethernet_frame(bad, 0x0806, MacAddress::broadcast()));
  }
  SECTION("wrong address lengths") {
    Bytes bad = arp_bytes;
    bad[4] = 8;
    h.inject_bytes(ethernet_frame(bad, 0x0806, MacAddress::broadcast()));
  }
  SECTION("unknown operation") {
    Bytes bad = arp_bytes;
    bad[7] = 3;  // RARP request
    h.inject_bytes(ethernet_frame(bad, 0x0806, MacAddress::broadcast()));
  }
  SECTION("shorter than 28 bytes") {
    h.inject_bytes(ethernet_frame(Bytes(arp_bytes.begin(), arp_bytes.begin() + 27), 0x0806,
                                  MacAddress::broadcast()));
  }
  SECTION("a broadcast sender MAC") {
    h.inject(arp_packet(Tins::ARP::REQUEST, "ff:ff:ff:ff:ff:ff", kPeerIp, kZeroMac, kHostIp));
  }
  SECTION("a broadcast sender IP") {
    h.inject(arp_packet(Tins::ARP::REQUEST, kPeerMacText, "255.255.255.255", kZeroMac, kHostIp));
  }
  CHECK(h.stats().arpInErrors == 1);
  CHECK(h.stats().arpInRequests == 0);
  CHECK(h.stats().arpOutReplies == 0);
  CHECK(h.take_bytes().empty());
  CHECK(h.stack().arp().size() == 0);

  // The intact packet is answered (the mutations above were the only fault).
  h.inject(good);
  CHECK(h.take_bytes().size() == 1);
}
