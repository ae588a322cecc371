// ICMP queries and input (RFC 792, RFC 1122 §3.2.2): timestamp, address mask, checksums,
// and delivery of errors and echo replies to the handlers that asked for them.
#include <catch2/catch.hpp>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

// An ICMP message `icmp` (+ `body`) from the peer to us, as an Ethernet frame.
Tins::EthernetII icmp_from_peer(const Tins::ICMP& icmp, const Bytes& body = {},
                                std::uint8_t ttl = 64) {
  Tins::IP ip(kHostIp, kPeerIp);
  ip.ttl(ttl);
  ip /= icmp;
  if (!body.empty()) ip /= Tins::RawPDU(body);
  return from_peer(ip);
}

// Built by hand: libtins 4.0 writes and reads the three timestamps in host byte order.
Bytes timestamp_request(std::uint16_t id, std::uint16_t seq, std::uint32_t originate) {
  Bytes m(20);
  m[0] = 13;
  store16(&m[4], id);
  store16(&m[6], seq);
  store32(&m[8], originate);
  store16(&m[2], internet_checksum(m));
  return ipv4_datagram(kPeerIp, kHostIp, 1, m);
}

Tins::ICMP address_mask_request(std::uint16_t id, std::uint16_t seq) {
  Tins::ICMP icmp(Tins::ICMP::ADDRESS_MASK_REQUEST);
  icmp.id(id);
  icmp.sequence(seq);
  icmp.address_mask("0.0.0.0");
  return icmp;
}

// The ICMP message of a sent (unfragmented, option-less) frame.
Bytes icmp_message(const Bytes& frame) {
  const Bytes d = ipv4_of(frame);
  return Bytes(d.begin() + 20, d.end());
}

}  // namespace

TEST_CASE(
    "a timestamp request gets a reply with originate copied and receive/transmit in ms "
    "since midnight UT (RFC 792)",
    "[icmp]") {
  StackConfig config;
  // The virtual clock starts at 1 s; with this offset UTC is 34:20:31, i.e. 10:20:31 the
  // next day: the stamp wraps at midnight.
  config.icmp.utc_offset = std::chrono::hours(34) + std::chrono::minutes(20) + 30s;
  Harness h(config);
  h.inject_datagram(timestamp_request(0x4242, 9, 0x01020304));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  const std::uint32_t expected = (10 * 3600 + 20 * 60 + 31) * 1000;
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.rfind_pdu<Tins::IP>().src_addr() == Tins::IPv4Address(kHostIp));
  CHECK(eth.rfind_pdu<Tins::IP>().dst_addr() == Tins::IPv4Address(kPeerIp));
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::TIMESTAMP_REPLY);
  CHECK(icmp.code() == 0);
  CHECK(icmp.id() == 0x4242);
  CHECK(icmp.sequence() == 9);
  const Bytes message = icmp_message(sent[0]);
  REQUIRE(message.size() == 20);
  CHECK(load32(&message[8]) == 0x01020304);  // originate
  CHECK(load32(&message[12]) == expected);   // receive
  CHECK(load32(&message[16]) == expected);   // transmit
  CHECK(internet_checksum(message) == 0);
  CHECK(h.stats().icmpInTimestamps == 1);
  CHECK(h.stats().icmpOutTimestampReps == 1);

  h.advance(1500ms);
  h.inject_datagram(timestamp_request(0x4242, 10, 0));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  const Bytes later = icmp_message(sent[0]);
  REQUIRE(later.size() == 20);
  CHECK(load32(&later[8]) == 0);
  CHECK(load32(&later[12]) == expected + 1500);
  CHECK(load32(&later[16]) == expected + 1500);
}

TEST_CASE("a timestamp request too short to hold the timestamps is counted icmpInErrors",
          "[icmp]") {
  Harness h;
  Tins::ICMP echo(Tins::ICMP::ECHO_REQUEST);  // 8 bytes; then retype it as a timestamp request
  Bytes message = echo.serialize();
  message[0] = 13;
  store16(&message[2], 0);
  store16(&message[2], internet_checksum(message));
  h.inject_datagram(ipv4_datagram(kPeerIp, kHostIp, 1, message));
  CHECK(h.stats().icmpInTimestamps == 1);
  CHECK(h.stats().icmpInErrors == 1);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("an address mask request is ignored by default (RFC 1122 §3.2.2.9)", "[icmp]") {
  Harness h;
  h.inject(icmp_from_peer(address_mask_request(1, 1)));
  CHECK(h.stats().icmpInAddrMasks == 1);
  CHECK(h.stats().icmpOutAddrMaskReps == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("an address mask request is answered with the interface's mask when enabled", "[icmp]") {
  StackConfig config;
  config.icmp.address_mask_reply = true;
  Harness h(config);
  h.inject(icmp_from_peer(address_mask_request(0x0707, 3)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.rfind_pdu<Tins::IP>().src_addr() == Tins::IPv4Address(kHostIp));
  CHECK(eth.rfind_pdu<Tins::IP>().dst_addr() == Tins::IPv4Address(kPeerIp));
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ADDRESS_MASK_REPLY);
  CHECK(icmp.code() == 0);
  CHECK(icmp.id() == 0x0707);
  CHECK(icmp.sequence() == 3);
  CHECK(icmp.address_mask() == Tins::IPv4Address("255.255.255.0"));
  CHECK(internet_checksum(icmp_message(sent[0])) == 0);
  CHECK(h.stats().icmpOutAddrMaskReps == 1);
}

TEST_CASE("an ICMP message with a wrong checksum is counted icmpInCsumErrors and ignored",
          "[icmp]") {
  Harness h;
  Bytes d = echo_request_datagram(1, 1, 32);
  d[20 + 2] ^= 0x40;
  h.inject_datagram(d);
  CHECK(h.stats().icmpInMsgs == 1);
  CHECK(h.stats().icmpInCsumErrors == 1);
  CHECK(h.stats().icmpInErrors == 1);
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("an ICMP message shorter than 8 bytes is counted icmpInErrors", "[icmp]") {
  Harness h;
  h.inject_datagram(ipv4_datagram(kPeerIp, kHostIp, 1, Bytes{8, 0, 0xf7, 0xff}));
  CHECK(h.stats().icmpInErrors == 1);
  CHECK(h.stats().icmpInCsumErrors == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a received destination unreachable goes to the handler of the quoted protocol with "
    "the quoted header parsed",
    "[icmp]") {
  Harness h;
  struct Seen {
    Ipv4Address from, src, dst;
    icmp::Type type;
    std::uint8_t code, protocol;
    std::uint16_t id;
    std::uint32_t rest;
    Bytes payload;
  };
  std::vector<Seen> udp, tcp;
  auto record = [](std::vector<Seen>& into) {
    return [&into](const icmp::ErrorReport& r) {
      into.push_back(Seen{r.from, r.original.src, r.original.dst, r.message.type, r.message.code,
                          r.original.protocol, r.original.id, r.message.rest,
                          Bytes(r.original_payload.begin(), r.original_payload.end())});
    };
  };
  h.stack().icmp().on_error(ip::protocol::udp, record(udp));
  h.stack().icmp().on_error(ip::protocol::tcp, record(tcp));

  // What we sent: UDP 10.0.0.2:5000 -> 10.0.0.1:53; the peer quotes its header + 8 bytes.
  const Bytes udp_header = {0x13, 0x88, 0x00, 0x35, 0x00, 0x10, 0x12, 0x34};
  Bytes ours_payload = udp_header;
  ours_payload.resize(16, 0xee);
  const Bytes ours = ipv4_datagram(kHostIp, kPeerIp, 17, ours_payload, 64, 0x5678);
  const Bytes quote(ours.begin(), ours.begin() + 28);

  Tins::ICMP message(Tins::ICMP::DEST_UNREACHABLE);
  std::uint8_t code = 0;
  icmp::Type type = icmp::Type::dest_unreachable;
  SECTION("port unreachable") {
    message.code(3);
    code = 3;
  }
  SECTION("time exceeded") {
    message.type(Tins::ICMP::TIME_EXCEEDED);
    message.code(0);
    type = icmp::Type::time_exceeded;
  }
  h.inject(icmp_from_peer(message, quote));
  REQUIRE(udp.size() == 1);
  CHECK(tcp.empty());
  CHECK(udp[0].from == Ipv4Address(10, 0, 0, 1));
  CHECK(udp[0].type == type);
  CHECK(udp[0].code == code);
  CHECK(udp[0].src == Ipv4Address(10, 0, 0, 2));
  CHECK(udp[0].dst == Ipv4Address(10, 0, 0, 1));
  CHECK(udp[0].protocol == 17);
  CHECK(udp[0].id == 0x5678);
  CHECK(udp[0].payload == udp_header);
  CHECK(h.stats().icmpInDestUnreachs + h.stats().icmpInTimeExcds == 1);
  CHECK(h.take_bytes().empty());  // never an error about an error
}

TEST_CASE("a received error quoting less than header + 8 bytes is counted icmpInErrors", "[icmp]") {
  Harness h;
  int calls = 0;
  h.stack().icmp().on_error(ip::protocol::udp, [&](const icmp::ErrorReport&) { ++calls; });
  const Bytes ours = ipv4_datagram(kHostIp, kPeerIp, 17, pattern(16));
  Tins::ICMP message(Tins::ICMP::DEST_UNREACHABLE);
  message.code(3);
  h.inject(icmp_from_peer(message, Bytes(ours.begin(), ours.begin() + 27)));
  CHECK(calls == 0);
  CHECK(h.stats().icmpInDestUnreachs == 1);
  CHECK(h.stats().icmpInErrors == 1);
}

TEST_CASE("a received echo reply goes to every on_echo_reply handler", "[icmp]") {
  Harness h;
  struct Seen {
    Ipv4Address from;
    std::uint16_t id, sequence;
    std::uint8_t ttl;
    Bytes data;
  };
  std::vector<Seen> first, second;
  h.stack().icmp().on_echo_reply([&](const icmp::EchoReply& r) {
    first.push_back(Seen{r.from, r.id, r.sequence, r.ttl, Bytes(r.data.begin(), r.data.end())});
  });
  h.stack().icmp().on_echo_reply([&](const icmp::EchoReply& r) {
    second.push_back(Seen{r.from, r.id, r.sequence, r.ttl, Bytes(r.data.begin(), r.data.end())});
  });
  Tins::ICMP reply(Tins::ICMP::ECHO_REPLY);
  reply.id(0x1111);
  reply.sequence(3);
  h.inject(icmp_from_peer(reply, pattern(20), 50));
  REQUIRE(first.size() == 1);
  REQUIRE(second.size() == 1);
  CHECK(first[0].from == Ipv4Address(10, 0, 0, 1));
  CHECK(first[0].id == 0x1111);
  CHECK(first[0].sequence == 3);
  CHECK(first[0].ttl == 50);
  CHECK(first[0].data == pattern(20));
  CHECK(second[0].data == pattern(20));
  CHECK(h.stats().icmpInEchoReps == 1);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("an echo request sent by the stack is well formed", "[icmp]") {
  Harness h;
  REQUIRE(h.stack().icmp().send_echo_request(Ipv4Address{10, 0, 0, 1}, 0x2121, 8, pattern(40)));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REQUEST);
  CHECK(icmp.code() == 0);
  CHECK(icmp.id() == 0x2121);
  CHECK(icmp.sequence() == 8);
  CHECK(eth.rfind_pdu<Tins::RawPDU>().payload() == pattern(40));
  CHECK(internet_checksum(icmp_message(sent[0])) == 0);
  CHECK(h.stats().icmpOutEchos == 1);
}
