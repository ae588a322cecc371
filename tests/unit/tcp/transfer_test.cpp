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

TEST_CASE("Data for a connection whose socket is closed gets a RST (as Linux) and frees it",
          "[tcp]") {
  TcpPair pair;
  auto [client, server] = pair.establish(80);
  REQUIRE(server >= 0);
  REQUIRE(pair.api_b().close(server) == 0);  // B's side: FIN, then FIN-WAIT without a socket
  pair.run_until([&] {
    std::uint8_t byte = 0;
    return pair.api_a().recvfrom(client, &byte, 1, 0, nullptr, nullptr) == 0;
  });
  const std::uint8_t data[100] = {};
  REQUIRE(pair.api_a().sendto(client, data, sizeof data, 0, nullptr, 0) == 100);
  CHECK(pair.run_until([&] { return pair.b().stats().tcpConnections == 0; }));
  CHECK(pair.b().stats().tcpAbortOnClose == 1);
  // A hears the reset: its next send fails with ECONNRESET, the one after with EPIPE.
  std::uint8_t byte = 0;
  CHECK(pair.run_until(
      [&] { return pair.api_a().sendto(client, &byte, 1, 0, nullptr, 0) == -ECONNRESET; }));
  CHECK(pair.api_a().sendto(client, &byte, 1, 0, nullptr, 0) == -EPIPE);
  CHECK(pair.a().stats().tcpEstabResets == 1);
}
