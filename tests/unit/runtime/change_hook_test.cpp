// runtime::Host's change hook: called under the Host lock after each socket call and each loop
// pass that handled a frame or a timer (what the preload library's readiness mirror hangs on).
#include <catch2/catch.hpp>

#include <thread>

#include "drivers/memory_link.hpp"
#include "runtime/host.hpp"
#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

TEST_CASE("change hook: runs after each with_stack() call, with the Host's stack", "[runtime]") {
  runtime::Host host;
  int calls = 0;
  Stack* seen = nullptr;
  host.set_change_hook([&](Stack& stack) {
    ++calls;
    seen = &stack;
  });
  Stack* mine = host.with_stack([](Stack& stack) { return &stack; });
  CHECK(calls == 1);
  CHECK(seen == mine);
  host.with_stack([](Stack&) {});
  CHECK(calls == 2);
}

TEST_CASE("change hook: runs after each try of wait_until(), the one that would block too",
          "[runtime]") {
  runtime::Host host;  // not started: a try that would block ends with ENETDOWN
  int calls = 0;
  host.set_change_hook([&](Stack&) { ++calls; });
  CHECK(host.wait_until([](Stack&) { return 0; }, std::nullopt) == 0);
  CHECK(calls == 1);
  CHECK(host.wait_until([](Stack&) { return -EAGAIN; }, std::nullopt) == -ENETDOWN);
  CHECK(calls == 2);
}

TEST_CASE("change hook: the loop thread runs it when a frame reaches a socket", "[runtime]") {
  auto [port_a, port_b] = MemoryLink::pair();
  runtime::Host a;
  runtime::Host b;
  a.add_interface(std::move(port_a), NetifConfig{"mem0", *MacAddress::parse("02:00:00:00:00:01"),
                                                 1500, Ipv4Cidr::parse("10.0.0.1/24")});
  b.add_interface(std::move(port_b), NetifConfig{"mem1", *MacAddress::parse("02:00:00:00:00:02"),
                                                 1500, Ipv4Cidr::parse("10.0.0.2/24")});
  const auto test_thread = std::this_thread::get_id();
  bool from_loop = false;  // written and read under b's lock
  b.set_change_hook(
      [&](Stack&) { from_loop = from_loop || std::this_thread::get_id() != test_thread; });
  a.start();
  b.start();
  const int server = b.with_stack([](Stack& stack) {
    const int fd = stack.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(bind_to(stack.sockets(), fd, "0.0.0.0", 9) == 0);
    return fd;
  });
  a.with_stack([](Stack& stack) {
    const int fd = stack.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(send_to(stack.sockets(), fd, pattern(10), "10.0.0.2", 9) == 10);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  CHECK(b.wait_until(
            [&](Stack& stack) {
              return (stack.sockets().poll_events(server, POLLIN) & POLLIN) ? 0 : -EAGAIN;
            },
            deadline) == 0);
  CHECK(b.with_stack([&](Stack&) { return from_loop; }));
  b.stop();
  a.stop();
}
