// The host-group table: MAC filter refcounts, socket refcounts, input validation and counters.
#include <catch2/catch.hpp>

#include "igmp_wire.hpp"
#include "stack/igmp/message.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::igmp_wire;
using igmp::Filter;

TEST_CASE("two groups on one multicast MAC: leaving one keeps the other's frames coming",
          "[igmp]") {
  Harness h;
  auto& igmp = h.stack().igmp();
  Netif& netif = h.stack().netif(0);
  // RFC 1112 §6.4: only the low 23 bits map, so 239.1.1.1 and 239.129.1.1 share a MAC.
  const MacAddress mac = MacAddress::multicast_for(addr("239.1.1.1"));
  REQUIRE(mac == MacAddress::multicast_for(addr("239.129.1.1")));
  CHECK_FALSE(netif.accepts_multicast(mac));
  igmp.set_socket_filter(0, addr("239.1.1.1"), 1, Filter{});
  igmp.set_socket_filter(0, addr("239.129.1.1"), 2, Filter{});
  igmp.set_socket_filter(0, addr("239.1.1.1"), 1, std::nullopt);
  CHECK(netif.accepts_multicast(mac));
  CHECK(igmp.accepts(0, addr("239.129.1.1"), addr("10.0.0.1")));
  CHECK_FALSE(igmp.accepts(0, addr("239.1.1.1"), addr("10.0.0.1")));
  igmp.set_socket_filter(0, addr("239.129.1.1"), 2, std::nullopt);
  CHECK_FALSE(netif.accepts_multicast(mac));
  // 224.0.0.1's MAC stays.
  CHECK(netif.accepts_multicast(MacAddress::multicast_for(addr("224.0.0.1"))));
}

TEST_CASE("a group stays joined until its last socket leaves, with one report each way", "[igmp]") {
  Harness h;
  auto& igmp = h.stack().igmp();
  h.clear();
  igmp.set_socket_filter(0, addr("239.1.1.1"), 1, Filter{});
  igmp.set_socket_filter(0, addr("239.1.1.1"), 2, Filter{});  // same state: no report
  CHECK(take(h).size() == 1);
  igmp.set_socket_filter(0, addr("239.1.1.1"), 1, std::nullopt);
  CHECK(take(h).empty());
  CHECK(igmp.joined(0, addr("239.1.1.1")));
  igmp.set_socket_filter(0, addr("239.1.1.1"), 2, std::nullopt);
  auto bye = take(h);
  REQUIRE(bye.size() == 1);
  CHECK(bye[0].records.at(0).type == TO_IN);
  CHECK_FALSE(igmp.joined(0, addr("239.1.1.1")));
  // Leaving a group never joined, or a non-multicast address, does nothing.
  igmp.set_socket_filter(0, addr("239.7.7.7"), 3, std::nullopt);
  igmp.set_socket_filter(0, addr("10.1.1.1"), 3, Filter{});
  CHECK(take(h).empty());
  CHECK_FALSE(igmp.joined(0, addr("10.1.1.1")));
}

TEST_CASE("a message with a bad checksum or length is counted and dropped", "[igmp]") {
  Harness h;
  h.stack().igmp().set_socket_filter(0, addr("239.1.1.1"), 1, Filter{});
  run_for(h, 3s, 100ms);
  SECTION("checksum") {
    Bytes q = query_v3("0.0.0.0", 10);
    q[3] ^= 0x01;
    inject(h, q, "224.0.0.1");
    CHECK(h.stats().igmpInErrors == 1);
    CHECK(h.stats().igmpInCsumErrors == 1);
  }
  SECTION("v1 query with a bad checksum does not switch versions") {
    Bytes q = query_v1v2("0.0.0.0", 0);
    q[2] ^= 0x10;
    inject(h, q, "224.0.0.1");
    CHECK(h.stats().igmpInCsumErrors == 1);
    CHECK(h.stack().igmp().version(0) == 3);
  }
  SECTION("too short") {
    Bytes q = {0x11, 0x0a, 0x00, 0x00};
    finish(q);
    inject(h, q, "224.0.0.1");
    CHECK(h.stats().igmpInErrors == 1);
  }
  SECTION("9 to 11 bytes is no query of any version") {
    Bytes q = query_v3("0.0.0.0", 10);
    q.resize(10);
    finish(q);
    inject(h, q, "224.0.0.1");
    CHECK(h.stats().igmpInErrors == 1);
  }
  SECTION("more sources announced than carried") {
    Bytes q = query_v3("239.1.1.1", 10, {"10.9.0.1"});
    q[11] = 3;
    finish(q);
    inject(h, q, "224.0.0.1");
    CHECK(h.stats().igmpInErrors == 1);
  }
  CHECK(h.stats().igmpInMsgs == 1);
  CHECK(h.stats().igmpInQueries == 0);
  CHECK(run_for(h, 2s).empty());
}

TEST_CASE("unknown types are ignored and other hosts' messages counted", "[igmp]") {
  Harness h;
  Bytes odd = membership(0x30, "0.0.0.0");
  inject(h, odd, "224.0.0.1");
  CHECK(h.stats().igmpInUnknownTypes == 1);
  Bytes v3report = {0x22, 0, 0, 0, 0, 0, 0, 0};
  finish(v3report);
  inject(h, v3report, "224.0.0.1");
  CHECK(h.stats().igmpInReports == 1);
  CHECK(h.stats().igmpInMsgs == 2);
  CHECK(h.stats().igmpInErrors == 0);
}

TEST_CASE("Max Resp Code decodes per RFC 3376 §4.1.1", "[igmp]") {
  using igmp::decode_max_resp_code;
  CHECK(decode_max_resp_code(0) == 0s);
  CHECK(decode_max_resp_code(100) == 10s);
  CHECK(decode_max_resp_code(127) == 12700ms);
  // 0x80: exp 0, mant 0 -> 0x10 << 3 = 128 tenths.
  CHECK(decode_max_resp_code(0x80) == 12800ms);
  // 0xff: exp 7, mant 15 -> 0x1f << 10 = 31744 tenths.
  CHECK(decode_max_resp_code(0xff) == 3174400ms);
  // 0x9a: exp 1, mant 10 -> 0x1a << 4 = 416 tenths.
  CHECK(decode_max_resp_code(0x9a) == 41600ms);
}

TEST_CASE("a large Max Resp Code stretches the v3 response delay", "[igmp]") {
  Harness h;
  h.stack().igmp().set_socket_filter(0, addr("239.1.1.1"), 1, Filter{});
  run_for(h, 3s, 100ms);
  const Instant asked = h.now();
  inject(h, query_v3("0.0.0.0", 0x80), "224.0.0.1");  // 12.8 s
  auto sent = run_for(h, 13s, 100ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].at - asked <= 12800ms + 100ms);
}

TEST_CASE("a report too big for the MTU is split over several reports", "[igmp]") {
  Harness h;
  Filter f{igmp::FilterMode::include, {}};
  for (std::uint32_t i = 1; i <= 400; ++i) f.sources.insert(Ipv4Address{0x0a090000U + i});
  h.clear();
  h.stack().igmp().set_socket_filter(0, addr("232.1.1.1"), 1, f);
  auto sent = take(h);
  REQUIRE(sent.size() == 2);
  std::size_t total = 0;
  for (const Sent& s : sent) {
    CHECK(s.igmp_checksum_ok);
    for (const Record& r : s.records) {
      CHECK(r.type == ALLOW);
      total += r.sources.size();
    }
  }
  CHECK(total == 400);
}
