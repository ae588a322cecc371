// preload::ReadinessMirror: an eventfd readable exactly while its socket has an event some
// waiter wants, raised again on each new event (edge-triggered epoll), and, with a real Host,
// raised by the loop thread when a frame arrives, with no timer.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "drivers/memory_link.hpp"
#include "preload/readiness_mirror.hpp"
#include "runtime/host.hpp"
#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::preload::ReadinessMirror;

namespace {

// An eventfd as the preload library makes one (non-blocking), closed at the end of the test.
struct Signal {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ~Signal() { ::close(fd); }
  // Whether a kernel poll() would call it readable right now.
  bool up() const {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }
  // Reads (and so clears) the counter: how many times it was raised since.
  std::uint64_t count() const {
    std::uint64_t n = 0;
    return ::read(fd, &n, sizeof n) == sizeof n ? n : 0;
  }
};

int bound_socket(sock::Api& api, std::uint16_t port) {
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(api, fd, "0.0.0.0", port) == 0);
  return fd;
}

}  // namespace

TEST_CASE(
    "mirror: the eventfd stays down while nobody waits, and goes up when a waiter wants "
    "what is there",
    "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(api, 5000);
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(4)));
  mirror.refresh(api);
  CHECK_FALSE(s.up());  // nobody waits: nothing is looked at
  mirror.watch(api, fd, POLLIN);
  CHECK(s.up());
}

TEST_CASE("mirror: the eventfd goes down once the event is gone", "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(api, 5000);
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  mirror.watch(api, fd, POLLIN);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(4)));
  mirror.refresh(api);
  REQUIRE(s.up());
  REQUIRE(receive(api, fd).result == 4);
  mirror.refresh(api);
  CHECK_FALSE(s.up());
}

TEST_CASE(
    "mirror: an event nobody asked for does not raise it (a writable socket, a POLLIN "
    "waiter)",
    "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(api, 5000);  // always POLLOUT
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  mirror.watch(api, fd, POLLIN);
  CHECK_FALSE(s.up());
  mirror.watch(api, fd, POLLOUT);  // a second waiter, for POLLOUT
  CHECK(s.up());
  mirror.unwatch(fd, POLLOUT);  // the POLLOUT waiter is done: down at the next refresh
  mirror.refresh(api);
  CHECK_FALSE(s.up());
}

TEST_CASE("mirror: POLLERR wakes every waiter, asked for or not", "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  REQUIRE(send_bytes(api, fd, pattern(8)) == 8);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  mirror.watch(api, fd, POLLIN);
  REQUIRE_FALSE(s.up());
  h.inject_datagram(icmp_error_datagram("10.0.0.1", "10.0.0.2", 3, 3, ipv4_of(frames[0])));
  mirror.refresh(api);
  CHECK(s.up());
}

TEST_CASE("mirror: each new event raises it again, so an edge-triggered epoll hears of it",
          "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(api, 5000);
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  mirror.watch(api, fd, POLLIN | POLLOUT);  // up at once: POLLOUT
  CHECK(s.count() == 1);
  // The counter was read (as a wake-up would not, but it shows the writes): POLLOUT alone
  // again is no new event.
  mirror.refresh(api);
  CHECK(s.count() == 0);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(4)));
  mirror.refresh(api);
  CHECK(s.count() == 1);  // POLLIN appeared: raised although POLLOUT kept it up
}

TEST_CASE("mirror: remove() hands back the signal descriptor and forgets the socket", "[preload]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(api, 5000);
  Signal s;
  ReadinessMirror mirror;
  mirror.add(fd, s.fd);
  mirror.watch(api, fd, POLLOUT);
  CHECK(mirror.remove(fd) == s.fd);
  CHECK(mirror.remove(fd) == -1);
  static_cast<void>(s.count());
  mirror.refresh(api);  // a socket that is gone is not looked at
  CHECK_FALSE(s.up());
}

TEST_CASE(
    "mirror on a running Host: a datagram's arrival raises the eventfd that a kernel "
    "poll() sleeps on, from the loop thread's change hook",
    "[preload][runtime]") {
  auto [port_a, port_b] = MemoryLink::pair();
  runtime::Host a;
  runtime::Host b;
  a.add_interface(std::move(port_a), NetifConfig{"mem0", *MacAddress::parse("02:00:00:00:00:01"),
                                                 1500, Ipv4Cidr::parse("10.0.0.1/24")});
  b.add_interface(std::move(port_b), NetifConfig{"mem1", *MacAddress::parse("02:00:00:00:00:02"),
                                                 1500, Ipv4Cidr::parse("10.0.0.2/24")});
  ReadinessMirror mirror;
  b.set_change_hook([&mirror](Stack& stack) { mirror.refresh(stack.sockets()); });
  a.start();
  b.start();
  Signal s;
  const int server = b.with_stack([&](Stack& stack) {
    const int fd = bound_socket(stack.sockets(), 7);
    mirror.add(fd, s.fd);
    mirror.watch(stack.sockets(), fd, POLLIN);
    return fd;
  });
  REQUIRE_FALSE(s.up());
  a.with_stack([](Stack& stack) {
    auto& api = stack.sockets();
    const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(send_to(api, fd, pattern(100), "10.0.0.2", 7) == 100);
  });
  // The kernel's own wait, bounded: nothing but the change hook can wake it.
  pollfd p{s.fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 5000) == 1);
  CHECK(b.with_stack([&](Stack& stack) { return receive(stack.sockets(), server).result; }) == 100);
  b.stop();
  a.stop();
}
