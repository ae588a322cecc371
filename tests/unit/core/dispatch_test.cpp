// Tests of the upward dispatch primitives (Hook, Demux) and the ephemeral port picker.
#include <catch2/catch.hpp>

#include <set>

#include "stack/core/dispatch.hpp"
#include "stack/core/ports.hpp"

using namespace tapir;

TEST_CASE("a hook without a handler does nothing and returns the default", "[core][dispatch]") {
  Hook<bool(int)> hook;
  CHECK_FALSE(hook);
  CHECK_FALSE(hook(3));
  hook.set([](int x) { return x > 2; });
  CHECK(hook);
  CHECK(hook(3));
}

TEST_CASE("a demux finds the handler of a key; a second handler for it replaces the first",
          "[core][dispatch]") {
  Demux<std::uint8_t, int(int)> demux;
  CHECK(demux.find(6) == nullptr);
  demux.add(6, [](int x) { return x + 1; });
  demux.add(17, [](int x) { return x + 2; });
  REQUIRE(demux.find(6));
  CHECK((*demux.find(6))(1) == 2);
  demux.add(6, [](int x) { return x * 10; });
  CHECK((*demux.find(6))(1) == 10);
  CHECK((*demux.find(17))(1) == 3);
}

TEST_CASE(
    "ephemeral ports come from the range, skipping those in use, 0 when all are "
    "(RFC 6056 §3.3.1)",
    "[core][ports]") {
  std::mt19937_64 random(1);
  const PortRange range{40000, 40009};
  std::set<std::uint16_t> used;
  for (int i = 0; i < 10; ++i) {
    const std::uint16_t p =
        pick_ephemeral_port(range, random, [&](std::uint16_t q) { return !used.contains(q); });
    REQUIRE(p >= 40000);
    REQUIRE(p <= 40009);
    CHECK(used.insert(p).second);
  }
  CHECK(pick_ephemeral_port(range, random, [&](std::uint16_t q) { return !used.contains(q); }) ==
        0);
}
