// Byte streams between two tapir stacks: clean links and seeded lossy ones, both directions.
#include <catch2/catch.hpp>

#include <random>

#include "support/tcp_pair.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

}  // namespace

TEST_CASE("A connection opens and carries a megabyte each way over a clean link", "[tcp]") {
  TcpPair pair;
  auto [client, server] = pair.establish(7);
  REQUIRE(client >= 0);
  REQUIRE(server >= 0);
  const auto up = random_bytes(1 << 20, 1);
  CHECK(pair.transfer(pair.a(), client, pair.b(), server, up) == up);
  const auto down = random_bytes(1 << 20, 2);
  CHECK(pair.transfer(pair.b(), server, pair.a(), client, down) == down);
}

namespace {

// The hostile link: 10% loss, reordering, duplication and jittered delay, each way.
LinkConfig hostile_link(std::uint64_t seed) {
  LinkConfig link;
  link.loss = 0.10;
  link.reorder = 0.05;
  link.duplicate = 0.02;
  link.delay = Duration{1000};
  link.jitter = Duration{2000};
  link.seed = seed;
  return link;
}

}  // namespace

TEST_CASE("Ten megabytes cross a seeded lossy, reordering, duplicating link byte-exact, A to B",
          "[tcp][sim]") {
  TcpPair pair(hostile_link(11));
  auto [client, server] = pair.establish(9);
  REQUIRE(server >= 0);
  const auto data = random_bytes(10 << 20, 3);
  const auto got = pair.transfer(pair.a(), client, pair.b(), server, data);
  REQUIRE(got.size() == data.size());
  CHECK(got == data);
  CHECK(pair.a().stats().tcpRetransSegs > 0);
  CHECK(pair.port_b().inbound_faults().lost > 0);
}

TEST_CASE("Ten megabytes cross a seeded lossy, reordering, duplicating link byte-exact, B to A",
          "[tcp][sim]") {
  TcpPair pair(hostile_link(12));
  auto [client, server] = pair.establish(19);
  REQUIRE(server >= 0);
  const auto data = random_bytes(10 << 20, 4);
  const auto got = pair.transfer(pair.b(), server, pair.a(), client, data);
  REQUIRE(got.size() == data.size());
  CHECK(got == data);
  CHECK(pair.b().stats().tcpRetransSegs > 0);
}
