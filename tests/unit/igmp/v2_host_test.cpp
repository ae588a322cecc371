// IGMPv1/v2 compatibility (RFC 2236 §6, RFC 3376 §7): fallback, reports, leaves, suppression.
#include <catch2/catch.hpp>

#include "igmp_wire.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::igmp_wire;
using igmp::Filter;

namespace {

void join(Harness& h, const char* group, int owner = 1) {
  h.stack().igmp().set_socket_filter(0, addr(group), owner, Filter{});
}
void leave(Harness& h, const char* group, int owner = 1) {
  h.stack().igmp().set_socket_filter(0, addr(group), owner, std::nullopt);
}

void check_envelope(const Sent& s) {
  CHECK(s.ttl == 1);
  CHECK(s.router_alert);
  CHECK(s.ip_checksum_ok);
  CHECK(s.igmp_checksum_ok);
  CHECK(s.src == kHostIp);
}

}  // namespace

TEST_CASE("a v2 query switches the interface to v2: join reports 0x16, leave sends 0x17",
          "[igmp]") {
  Harness h;
  h.clear();
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  CHECK(h.stack().igmp().version(0) == 2);
  CHECK(h.stats().igmpOlderQuerierSwitches == 1);
  join(h, "239.1.2.3");
  auto now = take(h);
  REQUIRE(now.size() == 1);
  check_envelope(now[0]);
  CHECK(now[0].type == 0x16);
  CHECK(now[0].group == "239.1.2.3");
  CHECK(now[0].dst == "239.1.2.3");
  CHECK(now[0].eth_dst == "01:00:5e:01:02:03");
  // RFC 2236 §3: repeated once after a random delay up to 10 s.
  auto again = run_for(h, 10s + 100ms, 100ms);
  REQUIRE(again.size() == 1);
  CHECK(again[0].type == 0x16);
  CHECK(run_for(h, 20s, 100ms).empty());
  leave(h, "239.1.2.3");
  auto bye = take(h);
  REQUIRE(bye.size() == 1);
  check_envelope(bye[0]);
  CHECK(bye[0].type == 0x17);
  CHECK(bye[0].group == "239.1.2.3");
  CHECK(bye[0].dst == "224.0.0.2");
  CHECK(bye[0].eth_dst == "01:00:5e:00:00:02");
  CHECK(h.stats().igmpOutLeaves == 1);
}

TEST_CASE("v2 query responses are per group, randomly delayed within Max Resp Time", "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  join(h, "239.1.1.1");
  join(h, "239.1.1.2", 2);
  run_for(h, 11s, 100ms);
  std::set<Duration::rep> delays;
  for (int i = 0; i < 10; ++i) {
    const Instant asked = h.now();
    inject(h, query_v1v2("0.0.0.0", 50), "224.0.0.1");  // 5 s
    auto sent = run_for(h, 6s, 100ms);
    REQUIRE(sent.size() == 2);
    std::set<std::string> groups;
    for (const Sent& s : sent) {
      CHECK(s.type == 0x16);
      CHECK(s.dst == s.group);
      CHECK(s.at - asked <= 5s + 100ms);
      groups.insert(s.group);
      delays.insert((s.at - asked).count());
    }
    CHECK(groups == std::set<std::string>{"239.1.1.1", "239.1.1.2"});
  }
  CHECK(delays.size() > 5);  // random, not fixed
}

TEST_CASE("hearing another member's report suppresses ours (v2), and then no leave is sent",
          "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  join(h, "239.1.1.1");
  run_for(h, 11s, 100ms);
  inject(h, query_v1v2("239.1.1.1", 100), "239.1.1.1");
  inject(h, membership(0x16, "239.1.1.1"), "239.1.1.1", "10.0.0.9");
  CHECK(h.stats().igmpReportsSuppressed == 1);
  CHECK(run_for(h, 11s, 100ms).empty());
  // RFC 2236 §6: the flag is clear (another host reported last), so leaving is silent.
  leave(h, "239.1.1.1");
  CHECK(take(h).empty());
  CHECK_FALSE(h.stack().igmp().joined(0, addr("239.1.1.1")));
}

TEST_CASE("the v2 unsolicited repeat is suppressed by another member's report", "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  join(h, "239.1.1.1");
  CHECK(take(h).size() == 1);
  inject(h, membership(0x16, "239.1.1.1"), "239.1.1.1", "10.0.0.9");
  CHECK(run_for(h, 11s, 100ms).empty());
}

TEST_CASE("a shorter Max Resp Time restarts a running v2 timer, and a longer one does not",
          "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  join(h, "239.1.1.1");
  run_for(h, 11s, 100ms);
  const Instant asked = h.now();
  inject(h, query_v1v2("0.0.0.0", 250), "224.0.0.1");   // 25 s
  inject(h, query_v1v2("239.1.1.1", 10), "239.1.1.1");  // 1 s: replaces the longer timer
  auto sent = run_for(h, 26s, 100ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].at - asked <= 1s + 100ms);
}

TEST_CASE("a v1 query switches to v1: reports are 0x12 and leaving is silent", "[igmp]") {
  Harness h;
  h.clear();
  inject(h, query_v1v2("0.0.0.0", 0), "224.0.0.1");
  CHECK(h.stack().igmp().version(0) == 1);
  join(h, "239.1.1.1");
  auto now = take(h);
  REQUIRE(now.size() == 1);
  check_envelope(now[0]);
  CHECK(now[0].type == 0x12);
  CHECK(now[0].dst == "239.1.1.1");
  run_for(h, 11s, 100ms);
  // RFC 2236 §4: a v1 query's Max Resp Time 0 means 10 s.
  const Instant asked = h.now();
  inject(h, query_v1v2("0.0.0.0", 0), "224.0.0.1");
  auto answer = run_for(h, 11s, 100ms);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].type == 0x12);
  CHECK(answer[0].at - asked <= 10s + 100ms);
  leave(h, "239.1.1.1");
  CHECK(take(h).empty());
}

TEST_CASE("v1 wins over v2 while both queriers are present", "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  inject(h, query_v1v2("0.0.0.0", 0), "224.0.0.1");
  CHECK(h.stack().igmp().version(0) == 1);
  h.advance(200s);
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");  // v2 timer restarted, v1 not
  h.advance(201s);
  CHECK(h.stack().igmp().version(0) == 2);
  h.advance(200s);
  CHECK(h.stack().igmp().version(0) == 3);
}

TEST_CASE("the interface goes back to v3 after the Older Version Querier Present Timeout",
          "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  CHECK(h.stack().igmp().version(0) == 2);
  h.advance(399s);
  CHECK(h.stack().igmp().version(0) == 2);
  h.advance(1s);
  CHECK(h.stack().igmp().version(0) == 3);
  h.clear();
  join(h, "239.1.1.1");
  auto now = take(h);
  REQUIRE(now.size() == 1);
  CHECK(now[0].type == 0x22);
}

TEST_CASE("a v3 query in v2 mode is answered with a v2 report", "[igmp]") {
  Harness h;
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  join(h, "239.1.1.1");
  run_for(h, 11s, 100ms);
  inject(h, query_v3("0.0.0.0", 10), "224.0.0.1");
  CHECK(h.stack().igmp().version(0) == 2);
  auto sent = run_for(h, 2s);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].type == 0x16);
}

TEST_CASE("switching to v2 cancels pending v3 retransmissions (RFC 3376 §7.2.1)", "[igmp]") {
  Harness h;
  join(h, "239.1.1.1");
  CHECK(take(h).size() == 1);
  inject(h, query_v1v2("0.0.0.0", 100), "224.0.0.1");
  auto sent = run_for(h, 11s, 100ms);
  REQUIRE(sent.size() == 1);  // only the answer to the v2 query
  CHECK(sent[0].type == 0x16);
}

TEST_CASE("force_version pins the version whatever the querier", "[igmp]") {
  SECTION("2: v2 reports without any query") {
    StackConfig config;
    config.igmp.force_version = 2;
    Harness h(config);
    h.clear();
    CHECK(h.stack().igmp().version(0) == 2);
    join(h, "239.1.1.1");
    auto now = take(h);
    REQUIRE(now.size() == 1);
    CHECK(now[0].type == 0x16);
  }
  SECTION("1: v1 reports") {
    StackConfig config;
    config.igmp.force_version = 1;
    Harness h(config);
    h.clear();
    join(h, "239.1.1.1");
    auto now = take(h);
    REQUIRE(now.size() == 1);
    CHECK(now[0].type == 0x12);
  }
  SECTION("3: a v2 querier does not move it") {
    StackConfig config;
    config.igmp.force_version = 3;
    Harness h(config);
    join(h, "239.1.1.1");
    run_for(h, 3s, 100ms);
    inject(h, query_v1v2("0.0.0.0", 10), "224.0.0.1");
    CHECK(h.stack().igmp().version(0) == 3);
    auto sent = run_for(h, 2s);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].type == 0x22);
    CHECK(sent[0].records.at(0).type == IS_EX);
  }
}
