// IPv4 input (RFC 791, RFC 1122 §3.2.1): validation drops, options, delivery, reassembly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string_view>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

// Every counter that records what happened to one received datagram; a test names the ones
// it expects at 1 and all others must stay 0, so each reason is seen to be counted alone.
void check_ip_outcome(const Stats& stats, std::set<std::string_view> expected) {
  static const std::set<std::string_view> outcomes = {
      "ipInHdrErrors",     "ipInBadVersion",  "ipInBadHeaderLength", "ipInBadTotalLength",
      "ipInCsumErrors",    "ipInBadOptions",  "ipInBadSource",       "ipInTruncatedPkts",
      "ipInAddrErrors",    "ipInNoRoutes",    "ipForwDatagrams",     "ipInUnknownProtos",
      "ipInDiscards",      "ipInDelivers",    "ipReasmReqds",        "ipReasmOKs",
      "ipReasmFails",      "ipReasmOverlaps", "ipReasmOversize",     "ipReasmTimeout",
      "ipReasmMemoryDrops"};
  stats.for_each([&](std::string_view name, std::uint64_t value, const char*) {
    if (!outcomes.contains(name)) return;
    INFO(name);
    CHECK(value == (expected.contains(name) ? 1U : 0U));
  });
  CHECK(stats.ipInReceives == 1);
}

const Bytes kEcho = echo_request_datagram(0x5151, 1, 32);

// kEcho with its header edited by `edit` and the checksum made right again.
template <typename Edit>
Bytes edited(Edit edit) {
  Bytes d = kEcho;
  edit(d);
  fix_ipv4_checksum(d);
  return d;
}

}  // namespace

TEST_CASE("a datagram whose version is not 4 is dropped as ipInBadVersion", "[ip]") {
  Harness h;
  h.inject_datagram(edited([](Bytes& d) { d[0] = 0x65; }));
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadVersion"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a datagram with IHL below 5 is dropped as ipInBadHeaderLength", "[ip]") {
  Harness h;
  h.inject_datagram(edited([](Bytes& d) { d[0] = 0x44; }));
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadHeaderLength"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a datagram whose IHL runs past the frame is dropped as ipInBadHeaderLength", "[ip]") {
  Harness h;
  // 15 * 4 = 60 header bytes claimed, 28 carried (no Ethernet padding added).
  Bytes d = echo_request_datagram(1, 1, 0);
  REQUIRE(d.size() == 28);
  d[0] = 0x4f;
  h.inject_datagram(d);
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadHeaderLength"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a datagram whose total length is below its header length is dropped as "
    "ipInBadTotalLength",
    "[ip]") {
  Harness h;
  h.inject_datagram(edited([](Bytes& d) { store16(d.data() + 2, 19); }));
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadTotalLength"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a datagram longer than the frame carrying it is dropped as ipInTruncatedPkts", "[ip]") {
  Harness h;
  SECTION("total length one byte beyond the frame") {
    h.inject_datagram(
        edited([](Bytes& d) { store16(d.data() + 2, static_cast<std::uint16_t>(d.size() + 1)); }));
  }
  SECTION("fewer than 20 bytes") {
    h.inject_datagram(Bytes(kEcho.begin(), kEcho.begin() + 19));
  }
  check_ip_outcome(h.stats(), {"ipInTruncatedPkts"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a datagram with a wrong header checksum is dropped as ipInCsumErrors", "[ip]") {
  Harness h;
  Bytes d = kEcho;
  d[11] ^= 0x01;
  h.inject_datagram(d);
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInCsumErrors"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a malformed option length earns ICMP parameter problem pointing at the bad octet "
    "(RFC 1122 §3.2.2.5)",
    "[ip][icmp]") {
  Harness h;
  Bytes options;
  std::uint8_t pointer = 0;
  SECTION("length runs past the header") {
    options = {0x07, 0x09, 0x04, 0x00};  // record route claiming 9 bytes, 4 left
    pointer = 21;
  }
  SECTION("length below 2") {
    options = {0x44, 0x01, 0x00, 0x00};
    pointer = 21;
  }
  SECTION("length zero") {
    options = {0x01, 0x83, 0x00, 0x00};  // NOP, then loose source route of length 0
    pointer = 22;
  }
  SECTION("a type octet with no room for its length") {
    options = {0x01, 0x01, 0x01, 0x44};
    pointer = 23;
  }
  const Bytes d = with_options(kEcho, options);
  h.inject_datagram(d);
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadOptions"});
  CHECK(h.stats().icmpInEchos == 0);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  // RFC 792: the pointer is the first octet of the rest field.
  check_icmp_error(sent[0], 12, 0, std::uint32_t{pointer} << 24, d);
  CHECK(decode(sent[0]).rfind_pdu<Tins::ICMP>().pointer() == pointer);
  CHECK(h.stats().icmpOutParmProbs == 1);
}

TEST_CASE(
    "a datagram from a broadcast, multicast or class E source is dropped as "
    "ipInBadSource (RFC 1122 §3.2.1.3)",
    "[ip]") {
  Harness h;
  std::string source;
  SECTION("limited broadcast") {
    source = "255.255.255.255";
  }
  SECTION("subnet-directed broadcast") {
    source = "10.0.0.255";
  }
  SECTION("multicast") {
    source = "224.0.0.9";
  }
  SECTION("class E") {
    source = "240.0.0.1";
  }
  h.inject_datagram(echo_request_datagram(1, 1, 32, source, kHostIp));
  check_ip_outcome(h.stats(), {"ipInHdrErrors", "ipInBadSource"});
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.take_bytes().empty());
}

// STACK BUG (stack/ip/ipv4.cpp, Layer::input, the source check): 127/8 "MUST NOT appear
// outside a host" and such datagrams MUST be discarded (RFC 1122 §3.2.1.3 (g)); a loopback
// source from the wire is accepted, and the echo reply is then looped back to ourselves.
TEST_CASE("a datagram from the wire with a loopback source is dropped as ipInBadSource",
          "[ip][regression]") {
  Harness h;
  h.inject_datagram(echo_request_datagram(1, 1, 32, "127.0.0.1", kHostIp));
  CHECK(h.stats().ipInBadSource == 1);
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.stats().icmpOutEchoReps == 0);
  CHECK(h.stats().ipOutLoopback == 0);
  CHECK(h.take_bytes().empty());
}

// STACK BUG (stack/icmp/icmp.cpp, Layer::reply_echo; stack/ip/ipv4.cpp, Layer::send): a
// request from 0.0.0.0 ("this host", valid only as a source while booting) is answered with
// a reply *to* 0.0.0.0, which leaves by the default route. RFC 1122 §3.2.1.3 (a): 0.0.0.0
// "MUST NOT be sent" as a destination; Linux drops such sources unless the destination is a
// broadcast (DHCP).
TEST_CASE("an echo request from 0.0.0.0 is not answered onto the wire", "[ip][icmp][regression]") {
  Harness h;
  REQUIRE(h.stack().set_default_gateway(Ipv4Address{10, 0, 0, 1}));
  h.inject_datagram(echo_request_datagram(1, 1, 32, "0.0.0.0", kHostIp));
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().icmpOutEchoReps == 0);
}

TEST_CASE("an unknown option is skipped and the datagram delivered", "[ip]") {
  Harness h;
  Bytes options;
  SECTION("an unknown type-length-value option") {
    options = {0x5e, 0x04, 0xab, 0xcd};
  }
  SECTION("no-operations and end of list") {
    options = {0x01, 0x01, 0x01, 0x00};
  }
  SECTION("garbage after end of list is not read") {
    options = {0x00, 0xff, 0x01, 0xff};
  }
  h.inject_datagram(with_options(kEcho, options));
  check_ip_outcome(h.stats(), {"ipInDelivers"});
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.rfind_pdu<Tins::IP>().head_len() == 5);
  CHECK(eth.rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::ECHO_REPLY);
  CHECK(eth.rfind_pdu<Tins::ICMP>().id() == 0x5151);
  CHECK(eth.rfind_pdu<Tins::RawPDU>().payload() == pattern(32));
}

TEST_CASE("a datagram for another host is dropped as ipInAddrErrors when not forwarding", "[ip]") {
  Harness h;
  h.inject_datagram(echo_request_datagram(1, 1, 32, kPeerIp, "10.0.0.7"));
  check_ip_outcome(h.stats(), {"ipInAddrErrors"});
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a datagram for an unknown protocol earns ICMP protocol unreachable quoting header "
    "and 8 bytes",
    "[ip][icmp]") {
  Harness h;
  const Bytes d = ipv4_datagram(kPeerIp, kHostIp, 253, pattern(40, 0x80));
  h.inject_datagram(d);
  check_ip_outcome(h.stats(), {"ipInUnknownProtos"});
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  check_icmp_error(sent[0], 3, 2, 0, d);
  CHECK(h.stats().icmpOutDestUnreachs == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
  CHECK(eth.rfind_pdu<Tins::IP>().ttl() == 64);
}

TEST_CASE("a datagram to 127.0.0.1 arriving from the wire is dropped (RFC 1122 §3.2.1.3)", "[ip]") {
  Harness h;
  h.inject_datagram(echo_request_datagram(1, 1, 32, kPeerIp, "127.0.0.1"));
  check_ip_outcome(h.stats(), {"ipInAddrErrors"});
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("an echo request to a broadcast or multicast address is not answered", "[ip][icmp]") {
  Harness h;
  std::string dst;
  MacAddress mac = MacAddress::broadcast();
  SECTION("subnet-directed broadcast") {
    dst = "10.0.0.255";
  }
  SECTION("limited broadcast") {
    dst = "255.255.255.255";
  }
  SECTION("all-hosts multicast") {
    dst = "224.0.0.1";
    mac = *MacAddress::parse("01:00:5e:00:00:01");
  }
  h.inject_bytes(ethernet_frame(echo_request_datagram(1, 1, 32, kPeerIp, dst), 0x0800, mac));
  check_ip_outcome(h.stats(), {"ipInDelivers"});
  CHECK(h.stats().icmpInEchos == 1);
  CHECK(h.stats().icmpOutEchoReps == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a fragmented 4000-byte echo request is reassembled and answered with a fragmented "
    "reply",
    "[ip][icmp]") {
  Harness h;
  const Bytes request = echo_request_datagram(0x4000, 9, 4000);
  REQUIRE(request.size() == 4028);
  std::vector<Bytes> fragments = split_datagram(request, 1480);
  REQUIRE(fragments.size() == 3);
  SECTION("in order") {}
  SECTION("in reverse order") {
    std::reverse(fragments.begin(), fragments.end());
  }
  SECTION("last first") {
    std::rotate(fragments.begin(), fragments.begin() + 2, fragments.end());
  }
  for (const Bytes& f : fragments) {
    CHECK(h.take_bytes().empty());
    h.inject_datagram(f);
  }
  CHECK(h.stats().ipReasmReqds == 3);
  CHECK(h.stats().ipReasmOKs == 1);
  CHECK(h.stats().icmpInEchos == 1);
  CHECK(h.stack().ip().reassembler().datagrams() == 0);

  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 3);
  const std::uint16_t sizes[] = {1500, 1500, 1068};
  Bytes icmp;
  std::uint16_t id = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("fragment " << i);
    Tins::EthernetII eth = decode(sent[i]);
    const auto& ip = eth.rfind_pdu<Tins::IP>();
    CHECK(ip.tot_len() == sizes[i]);
    CHECK(ip.fragment_offset() == i * 1480 / 8);
    CHECK(((ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0) == (i != 2));
    CHECK((ip.flags() & Tins::IP::DONT_FRAGMENT) == 0);
    CHECK(ip.src_addr() == Tins::IPv4Address(kHostIp));
    CHECK(ip.dst_addr() == Tins::IPv4Address(kPeerIp));
    CHECK(ip.protocol() == 1);
    if (i == 0) id = ip.id();
    CHECK(ip.id() == id);
    const Bytes datagram = ipv4_of(sent[i]);
    CHECK(ipv4_checksum_ok(datagram));
    icmp.insert(icmp.end(), datagram.begin() + 20, datagram.end());
  }
  REQUIRE(icmp.size() == 8 + 4000);
  CHECK(icmp[0] == 0);
  CHECK(icmp[1] == 0);
  CHECK(load16(&icmp[4]) == 0x4000);
  CHECK(load16(&icmp[6]) == 9);
  CHECK(internet_checksum(icmp) == 0);
  CHECK(Bytes(icmp.begin() + 8, icmp.end()) == pattern(4000));
  CHECK(h.stats().ipFragOKs == 1);
  CHECK(h.stats().ipFragCreates == 3);
}

TEST_CASE("the largest datagram (65535 bytes) is reassembled and answered", "[ip][icmp]") {
  Harness h;
  const Bytes request = echo_request_datagram(1, 1, 65535 - 28);
  REQUIRE(request.size() == 65535);
  for (const Bytes& f : split_datagram(request, 1480)) h.inject_datagram(f);
  CHECK(h.stats().ipReasmOKs == 1);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 45);  // 65515 payload bytes in pieces of 1480
  std::size_t payload = 0;
  for (const auto& f : sent) payload += ipv4_of(f).size() - 20;
  CHECK(payload == 65515);
}

TEST_CASE(
    "reassembly that times out after 30 s sends ICMP time exceeded (code 1) only if "
    "fragment 0 arrived (RFC 1122 §3.3.2)",
    "[ip][icmp]") {
  Harness h;
  const Bytes request = echo_request_datagram(0x7777, 1, 4000);
  const auto fragments = split_datagram(request, 1480);

  SECTION("fragment 0 arrived") {
    h.inject_datagram(fragments[0]);
    h.inject_datagram(fragments[2]);
    h.advance(29s + 999ms);
    CHECK(h.take_bytes().empty());
    CHECK(h.stats().ipReasmTimeout == 0);
    h.advance(1ms);
    auto sent = h.take_bytes();
    REQUIRE(sent.size() == 1);
    // The quote is fragment 0's own header (MF set, its length) and its first 8 data bytes.
    check_icmp_error(sent[0], 11, 1, 0, fragments[0]);
    CHECK(h.stats().icmpOutTimeExcds == 1);
  }
  SECTION("fragment 0 never arrived") {
    h.inject_datagram(fragments[1]);
    h.inject_datagram(fragments[2]);
    h.advance(30s);
    CHECK(h.take_bytes().empty());
    CHECK(h.stats().icmpOutTimeExcds == 0);
  }
  CHECK(h.stats().ipReasmTimeout == 1);
  CHECK(h.stats().ipReasmFails == 1);
  CHECK(h.stats().ipReasmOKs == 0);
  CHECK(h.stack().ip().reassembler().datagrams() == 0);
  CHECK(h.stack().ip().reassembler().memory_used() == 0);
  // A late fragment starts a new datagram; it does not complete the expired one.
  h.inject_datagram(fragments[1]);
  CHECK(h.stats().ipReasmOKs == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("overlapping fragments drop the whole datagram (ipReasmOverlaps, RFC 5722)", "[ip]") {
  Harness h;
  const Bytes request = echo_request_datagram(0x0101, 1, 4000);
  const auto fragments = split_datagram(request, 1480);
  // Bytes 1000..2480 again, differently: which copy a host keeps is how IDS evasion works.
  const Bytes overlapping = fragment_with(request, 1000, pattern(1480, 0x33), true);
  SECTION("overlapping the fragment before it") {
    h.inject_datagram(fragments[0]);
    h.inject_datagram(overlapping);
  }
  SECTION("overlapping the fragment after it") {
    h.inject_datagram(fragments[1]);
    h.inject_datagram(overlapping);
  }
  CHECK(h.stats().ipReasmOverlaps == 1);
  CHECK(h.stats().ipReasmFails == 1);
  CHECK(h.stack().ip().reassembler().datagrams() == 0);
  CHECK(h.stack().ip().reassembler().memory_used() == 0);

  // What was held went with the overlap: the last fragment completes nothing.
  h.inject_datagram(fragments[2]);
  CHECK(h.stats().ipReasmOKs == 0);
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a reassembly beyond 65535 bytes (ping of death) is refused", "[ip]") {
  Harness h;
  const Bytes request = echo_request_datagram(0xdead, 1, 65535 - 28);
  std::vector<Bytes> fragments = split_datagram(request, 1480);
  REQUIRE(fragments.size() == 45);
  SECTION("the last fragment is one byte longer") {
    Bytes payload(fragments.back().begin() + 20, fragments.back().end());
    payload.push_back(0x42);
    fragments.back() = fragment_with(request, 44 * 1480, payload, false);
  }
  SECTION("a fragment at the highest offset") {
    fragments.resize(1);
    fragments.push_back(fragment_with(request, 65528, pattern(8), false));
  }
  for (const Bytes& f : fragments) h.inject_datagram(f);
  CHECK(h.stats().ipReasmOversize == 1);
  CHECK(h.stats().ipReasmFails == 1);
  CHECK(h.stats().ipReasmOKs == 0);
  CHECK(h.stats().icmpInEchos == 0);
  CHECK(h.stack().ip().reassembler().datagrams() == 0);
  CHECK(h.stack().ip().reassembler().memory_used() == 0);
  h.advance(30s);
  CHECK(h.take_bytes().empty());
}
