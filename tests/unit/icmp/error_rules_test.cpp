// When ICMP errors are never sent (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7), and their rate limit.
#include <catch2/catch.hpp>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr std::uint8_t kUnknownProtocol = 253;
// A record-route option claiming more bytes than the header holds: parameter problem bait.
const Bytes kBadOption = {0x07, 0x09, 0x04, 0x00};

// The number of ICMP errors of any kind the stack has sent.
std::uint64_t errors_sent(const Stats& s) {
  return s.icmpOutDestUnreachs + s.icmpOutTimeExcds + s.icmpOutParmProbs + s.icmpOutRedirects;
}

// An ICMP error message (type, code) quoting `quoted` from `src` to `dst`.
Bytes icmp_error_datagram(std::uint8_t type, std::uint8_t code, const Bytes& quoted,
                          const std::string& src = kPeerIp, const std::string& dst = kHostIp) {
  Bytes message = {type, code, 0, 0, 0, 0, 0, 0};
  message.insert(message.end(), quoted.begin(), quoted.begin() + 28);
  store16(&message[2], internet_checksum(message));
  return ipv4_datagram(src, dst, 1, message);
}

StackConfig forwarding() {
  StackConfig config;
  config.forwarding = true;
  return config;
}

}  // namespace

TEST_CASE("an unknown protocol to our unicast address does earn an error (the control case)",
          "[icmp]") {
  Harness h;
  h.inject_datagram(ipv4_datagram(kPeerIp, kHostIp, kUnknownProtocol, pattern(16)));
  CHECK(h.take_bytes().size() == 1);
  CHECK(errors_sent(h.stats()) == 1);
}

TEST_CASE("no ICMP error about an ICMP error message", "[icmp]") {
  const Bytes ours = ipv4_datagram(kHostIp, kPeerIp, 17, pattern(16));
  SECTION("bad options in an ICMP error to us") {
    Harness h;
    h.inject_datagram(with_options(icmp_error_datagram(3, 3, ours), kBadOption));
    CHECK(h.stats().ipInBadOptions == 1);
    CHECK(h.take_bytes().empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
  SECTION("an ICMP error whose TTL runs out at a router") {
    Harness h(forwarding());
    h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
    Bytes error = icmp_error_datagram(11, 0, ours, kPeerIp, "10.0.1.1");
    error[8] = 1;
    fix_ipv4_checksum(error);
    h.inject_datagram(error);
    CHECK(h.take_bytes(0).empty());
    CHECK(h.take_bytes(1).size() == 1);  // the announcement only
    CHECK(errors_sent(h.stats()) == 0);
  }
  SECTION("an ICMP error to an unreachable network") {
    Harness h(forwarding());
    h.inject_datagram(icmp_error_datagram(3, 1, ours, kPeerIp, "192.168.9.9"));
    CHECK(h.stats().ipInNoRoutes == 1);
    CHECK(h.take_bytes().empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
}

TEST_CASE("an ICMP query (not an error) does earn errors", "[icmp]") {
  Harness h(forwarding());
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  h.inject_datagram(echo_request_datagram(1, 1, 16, kPeerIp, "10.0.1.1", 1));
  auto sent = h.take_bytes(0);
  REQUIRE(sent.size() == 1);
  CHECK(decode(sent[0]).rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::TIME_EXCEEDED);
}

TEST_CASE("no ICMP error about a datagram to a broadcast or multicast address", "[icmp]") {
  Harness h;
  std::string dst;
  MacAddress mac = MacAddress::broadcast();
  SECTION("subnet-directed broadcast") {
    dst = "10.0.0.255";
  }
  SECTION("limited broadcast") {
    dst = "255.255.255.255";
  }
  SECTION("multicast") {
    dst = "224.0.0.1";
    mac = *MacAddress::parse("01:00:5e:00:00:01");
  }
  const Bytes d = ipv4_datagram(kPeerIp, dst, kUnknownProtocol, pattern(16));
  h.inject_bytes(ethernet_frame(d, 0x0800, mac));
  h.inject_bytes(ethernet_frame(with_options(d, kBadOption), 0x0800, mac));
  CHECK(h.stats().ipInUnknownProtos == 1);
  CHECK(h.stats().ipInBadOptions == 1);
  CHECK(h.take_bytes().empty());
  CHECK(errors_sent(h.stats()) == 0);
}

TEST_CASE("no ICMP error about a datagram that came as a link-layer broadcast", "[icmp]") {
  Harness h;
  const Bytes d = ipv4_datagram(kPeerIp, kHostIp, kUnknownProtocol, pattern(16));
  h.inject_bytes(ethernet_frame(d, 0x0800, MacAddress::broadcast()));
  h.inject_bytes(ethernet_frame(with_options(d, kBadOption), 0x0800, MacAddress::broadcast()));
  CHECK(h.stats().ipInUnknownProtos == 1);
  CHECK(h.stats().ipInBadOptions == 1);
  CHECK(h.take_bytes().empty());
  CHECK(errors_sent(h.stats()) == 0);
}

TEST_CASE("no ICMP error about a fragment other than the first", "[icmp]") {
  const Bytes whole = with_options(echo_request_datagram(1, 1, 4000), kBadOption);
  SECTION("a non-first fragment with bad options") {
    Harness h;
    h.inject_datagram(fragment_of(whole, 1480, 1480, true));
    CHECK(h.stats().ipInBadOptions == 1);
    CHECK(h.take_bytes().empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
  SECTION("the first fragment with bad options does earn one") {
    Harness h;
    const Bytes first = fragment_of(whole, 0, 1480, true);
    h.inject_datagram(first);
    auto sent = h.take_bytes();
    REQUIRE(sent.size() == 1);
    check_icmp_error(sent[0], 12, 0, 21U << 24, first);
  }
  SECTION("a non-first fragment whose TTL runs out at a router") {
    Harness h(forwarding());
    h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
    Bytes d = echo_request_datagram(1, 1, 4000, kPeerIp, "10.0.1.1", 1);
    h.inject_datagram(fragment_of(d, 1480, 1480, true));
    CHECK(h.take_bytes(0).empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
}

TEST_CASE("no ICMP error to a source that does not name one host", "[icmp]") {
  SECTION("0.0.0.0, unknown protocol") {
    Harness h;
    h.inject_datagram(ipv4_datagram("0.0.0.0", kHostIp, kUnknownProtocol, pattern(16)));
    // Dropped before demultiplexing: 0.0.0.0 may only broadcast (RFC 1122 §3.2.1.3 (a)).
    CHECK(h.stats().ipInBadSource == 1);
    CHECK(h.take_bytes().empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
  SECTION("0.0.0.0, TTL running out at a router") {
    Harness h(forwarding());
    h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
    h.inject_datagram(ipv4_datagram("0.0.0.0", "10.0.1.1", 17, pattern(16), 1));
    CHECK(h.take_bytes(0).empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
  SECTION("broadcast, multicast and class E sources") {
    Harness h;
    for (const char* source : {"255.255.255.255", "10.0.0.255", "224.0.0.9", "240.0.0.1"}) {
      h.inject_datagram(ipv4_datagram(source, kHostIp, kUnknownProtocol, pattern(16)));
    }
    CHECK(h.stats().ipInBadSource == 4);
    CHECK(h.take_bytes().empty());
    CHECK(errors_sent(h.stats()) == 0);
  }
}

TEST_CASE(
    "ICMP errors are rate limited by a token bucket: a burst of 50, then refilled with "
    "time",
    "[icmp]") {
  Harness h;
  auto provoke = [&](int n) {
    for (int i = 0; i < n; ++i) {
      h.inject_datagram(ipv4_datagram(kPeerIp, kHostIp, kUnknownProtocol, pattern(16), 64,
                                      static_cast<std::uint16_t>(i)));
    }
    return h.take_bytes().size();
  };
  CHECK(provoke(60) == 50);
  CHECK(h.stats().icmpOutRateLimited == 10);
  CHECK(h.stats().icmpOutDestUnreachs == 50);
  CHECK(provoke(1) == 0);  // no time has passed: no token
  CHECK(h.stats().icmpOutRateLimited == 11);

  // 1000 tokens a second: 1 s refills the bucket, to its depth and no further.
  h.advance(1s);
  CHECK(provoke(60) == 50);
  CHECK(h.stats().icmpOutRateLimited == 21);
  CHECK(h.stats().ipInUnknownProtos == 121);
}

TEST_CASE("the ICMP error rate and burst follow the configuration", "[icmp]") {
  StackConfig config;
  config.icmp.error_rate = 10;
  config.icmp.error_burst = 5;
  Harness h(config);
  auto provoke = [&](int n) {
    for (int i = 0; i < n; ++i) {
      h.inject_datagram(ipv4_datagram(kPeerIp, kHostIp, kUnknownProtocol, pattern(16)));
    }
    return h.take_bytes().size();
  };
  CHECK(provoke(6) == 5);
  h.advance(100ms);  // one token
  CHECK(provoke(2) == 1);
  h.advance(250ms);  // two and a half
  CHECK(provoke(3) == 2);
  CHECK(h.stats().icmpOutRateLimited == 3);
}

TEST_CASE("echo replies are not rate limited", "[icmp]") {
  Harness h;
  for (std::uint16_t i = 0; i < 60; ++i) h.inject(echo_request(1, i, 8));
  CHECK(h.take_bytes().size() == 60);
  CHECK(h.stats().icmpOutRateLimited == 0);
}
