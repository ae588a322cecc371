// ICMP echo: the reply mirrors the request (RFC 792, RFC 1122 §3.2.2.6).
#include <catch2/catch.hpp>

#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

TEST_CASE("an echo request gets an echo reply with the same id, sequence and data", "[icmp]") {
  Harness h;
  h.inject(echo_request(0x1234, 7, 56));
  auto raw = h.take_bytes();
  REQUIRE(raw.size() == 1);
  // The checksum the stack patched incrementally (RFC 1624) verifies over the whole message.
  CHECK(tapir::internet_checksum(std::span(raw[0]).subspan(14 + 20, 8 + 56)) == 0);
  Tins::EthernetII eth(raw[0].data(), static_cast<std::uint32_t>(raw[0].size()));
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
  CHECK(eth.src_addr() == Tins::HWAddress<6>("02:00:00:00:00:02"));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.0.1"));
  CHECK(ip.ttl() == 64);
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REPLY);
  CHECK(icmp.id() == 0x1234);
  CHECK(icmp.sequence() == 7);
  const auto& data = eth.rfind_pdu<Tins::RawPDU>().payload();
  REQUIRE(data.size() == 56);
  for (std::size_t i = 0; i < data.size(); ++i) CHECK(data[i] == i);
  CHECK(h.stats().icmpInEchos == 1);
  CHECK(h.stats().icmpOutEchoReps == 1);
}

TEST_CASE("a unicast echo request in a link-broadcast frame is answered, as Linux does", "[icmp]") {
  Harness h;
  Tins::EthernetII frame = echo_request(9, 1, 8);
  frame.dst_addr("ff:ff:ff:ff:ff:ff");
  h.inject(frame);
  auto sent = h.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::ECHO_REPLY);
}

TEST_CASE("with an echo rate set, replies past the burst wait for tokens and are counted",
          "[icmp][limits]") {
  StackConfig config;
  config.icmp.echo_rate = 10;
  config.icmp.echo_burst = 3;
  Harness h(config);
  for (std::uint16_t seq = 0; seq < 5; ++seq) h.inject(echo_request(1, seq, 8));
  CHECK(h.take_bytes().size() == 3);
  CHECK(h.stats().icmpInEchos == 5);
  CHECK(h.stats().icmpOutEchoReps == 3);
  CHECK(h.stats().icmpOutEchoRateLimited == 2);
  h.advance(Duration{100'000});  // one token at 10 per second
  h.inject(echo_request(1, 5, 8));
  h.inject(echo_request(1, 6, 8));
  CHECK(h.take_bytes().size() == 1);
  CHECK(h.stats().icmpOutEchoRateLimited == 3);
}

TEST_CASE("by default an echo flood is answered in full, as Linux's icmp_ratemask does",
          "[icmp][limits]") {
  Harness h;
  for (std::uint16_t seq = 0; seq < 200; ++seq) h.inject(echo_request(1, seq, 8));
  CHECK(h.take_bytes().size() == 200);
  CHECK(h.stats().icmpOutEchoRateLimited == 0);
}
