// Ethernet II input and output: validation, destination filtering, demultiplexing, padding.
#include <catch2/catch.hpp>

#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

TEST_CASE("a frame shorter than an Ethernet header is counted ifInErrors and dropped", "[eth]") {
  Harness h;
  Bytes runt = ethernet_frame({}, 0x0800);
  runt.resize(13);
  h.inject_bytes(runt);
  CHECK(h.stats().ifInErrors == 1);
  CHECK(h.stats().ifInOctets == 13);
  CHECK(h.stats().ifInUcastPkts == 0);
  CHECK(h.stats().ipInReceives == 0);
  CHECK(h.take_bytes().empty());

  // Exactly 14 bytes is a header with nothing behind it: not a runt.
  runt.resize(14);
  h.inject_bytes(runt);
  CHECK(h.stats().ifInErrors == 1);
  CHECK(h.stats().ipInReceives == 1);
  CHECK(h.stats().ipInTruncatedPkts == 1);
}

TEST_CASE("a frame for another unicast MAC is discarded as ifInDiscards", "[eth]") {
  Harness h;
  h.inject(echo_request(1, 1, 56, kPeerIp, kHostIp) /* to our MAC: answered */);
  REQUIRE(h.take_bytes().size() == 1);

  Tins::EthernetII other = echo_request(1, 2, 56, kPeerIp, kHostIp);
  other.dst_addr("02:00:00:00:00:99");
  h.inject(other);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().ifInDiscards == 1);
  CHECK(h.stats().ifInUcastPkts == 1);
  CHECK(h.stats().ipInReceives == 1);
  CHECK(h.stats().icmpInEchos == 1);
}

TEST_CASE("a multicast MAC of a group we have not joined is discarded", "[eth]") {
  Harness h;
  // 224.0.0.251 (mDNS) maps to 01:00:5e:00:00:fb; only the all-hosts group is joined.
  h.inject_bytes(ethernet_frame(ipv4_datagram(kPeerIp, "224.0.0.251", 17, pattern(16)), 0x0800,
                                *MacAddress::parse("01:00:5e:00:00:fb")));
  CHECK(h.stats().ifInDiscards == 1);
  CHECK(h.stats().ipInReceives == 0);

  // 224.0.0.1 (all hosts, RFC 1112 §6.4) is always joined.
  h.inject_bytes(ethernet_frame(ipv4_datagram(kPeerIp, "224.0.0.1", 253, pattern(16)), 0x0800,
                                *MacAddress::parse("01:00:5e:00:00:01")));
  CHECK(h.stats().ifInDiscards == 1);
  CHECK(h.stats().ifInNUcastPkts == 1);
  CHECK(h.stats().ipInReceives == 1);
  CHECK(h.stats().ipInUnknownProtos == 1);
  CHECK(h.take_bytes().empty());  // never an ICMP error about multicast
}

TEST_CASE("a broadcast frame is accepted and counted ifInNUcastPkts", "[eth]") {
  Harness h;
  h.inject(
      arp_packet(Tins::ARP::REQUEST, "02:00:00:00:00:01", kPeerIp, "00:00:00:00:00:00", kHostIp));
  CHECK(h.stats().ifInNUcastPkts == 1);
  CHECK(h.stats().ifInUcastPkts == 0);
  CHECK(h.stats().ifInDiscards == 0);
  CHECK(h.stats().arpInRequests == 1);
  CHECK(h.take_bytes().size() == 1);  // the ARP reply

  // An IPv4 datagram in a broadcast frame is handed to IP as well.
  h.inject_bytes(ethernet_frame(ipv4_datagram(kPeerIp, kHostIp, 253, pattern(8)), 0x0800,
                                MacAddress::broadcast()));
  CHECK(h.stats().ifInNUcastPkts == 2);
  CHECK(h.stats().ipInReceives == 1);
  CHECK(h.stats().ipInUnknownProtos == 1);
  CHECK(h.take_bytes().empty());  // and no ICMP error about a link broadcast
}

TEST_CASE("a frame of an unknown EtherType is counted ifInUnknownProtos", "[eth]") {
  Harness h;
  h.inject_bytes(ethernet_frame(pattern(46), 0x86dd));  // IPv6: no layer for it yet
  h.inject_bytes(ethernet_frame(pattern(46), 0x88cc));  // LLDP
  CHECK(h.stats().ifInUnknownProtos == 2);
  CHECK(h.stats().ifInUcastPkts == 0);
  CHECK(h.stats().ipInReceives == 0);
  CHECK(h.stats().arpInRequests + h.stats().arpInReplies + h.stats().arpInErrors == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a short outgoing frame (ARP reply) is padded to 60 bytes with zeros", "[eth]") {
  Harness h;
  h.inject(
      arp_packet(Tins::ARP::REQUEST, "02:00:00:00:00:01", kPeerIp, "00:00:00:00:00:00", kHostIp));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].size() == 60);
  for (std::size_t i = 14 + 28; i < 60; ++i) {
    INFO("byte " << i);
    CHECK(sent[0][i] == 0);
  }
  CHECK(h.stats().ifOutOctets == 60 + 60);  // the announcement, then this reply
  CHECK(h.stats().ifOutUcastPkts == 1);
}

TEST_CASE("a frame at or above the minimum is sent without padding", "[eth]") {
  Harness h;
  // An echo reply with 18 data bytes is 14 + 20 + 8 + 18 = 60 bytes: nothing to add.
  h.inject(echo_request(1, 1, 18));
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].size() == 60);
  h.inject(echo_request(1, 2, 19));
  sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].size() == 61);
}

TEST_CASE("Ethernet padding after an IPv4 datagram is ignored: the total length wins",
          "[eth][ip]") {
  Harness h;
  // An echo request with no data is 28 bytes of IP: the sender pads the frame to 60 with
  // garbage. Counting the padding would break the ICMP checksum and lengthen the reply.
  Bytes frame = ethernet_frame(echo_request_datagram(0x77, 3, 0));
  REQUIRE(frame.size() == 42);
  frame.resize(60, 0xaa);
  h.inject_bytes(frame);
  CHECK(h.stats().icmpInCsumErrors == 0);
  CHECK(h.stats().icmpInEchos == 1);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].size() == 60);
  const Bytes reply = ipv4_of(sent[0]);
  CHECK(reply.size() == 28);
  for (std::size_t i = 42; i < 60; ++i) CHECK(sent[0][i] == 0);  // our own padding is zeros
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.rfind_pdu<Tins::IP>().tot_len() == 28);
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REPLY);
  CHECK(icmp.id() == 0x77);
  CHECK(icmp.sequence() == 3);
  CHECK(internet_checksum(std::span(reply).subspan(20)) == 0);
}
