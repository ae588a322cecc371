// Api::poll_events: the revents poll(2) would report for a socket, as Linux's datagram_poll.
#include <catch2/catch.hpp>

#include <cerrno>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr short kAll = POLLIN | POLLOUT | POLLERR | POLLHUP;

int bound_socket(Harness& h) {
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  return fd;
}

}  // namespace

TEST_CASE("poll: a datagram socket is always writable (POLLOUT)", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int unbound = api.socket(AF_INET, SOCK_DGRAM, 0);
  const int bound = bound_socket(h);
  CHECK(api.poll_events(unbound, kAll) == POLLOUT);
  CHECK(api.poll_events(bound, kAll) == POLLOUT);
  CHECK(api.poll_events(bound, POLLOUT | POLLWRNORM) == (POLLOUT | POLLWRNORM));
  // Only what was asked for (POLLERR/POLLHUP/POLLNVAL excepted).
  CHECK(api.poll_events(bound, POLLIN) == 0);
}

TEST_CASE("poll: POLLIN while a datagram is queued, gone once it is read", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(4)));
  CHECK(api.poll_events(fd, kAll) == (POLLIN | POLLOUT));
  CHECK(api.poll_events(fd, POLLIN | POLLRDNORM) == (POLLIN | POLLRDNORM));
  CHECK(api.poll_events(fd, POLLOUT) == POLLOUT);
  REQUIRE(receive(api, fd).result == 4);
  CHECK(api.poll_events(fd, kAll) == POLLOUT);
}

TEST_CASE("poll: POLLERR with a pending error, even when not asked for, until it is read",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  REQUIRE(send_bytes(api, fd, pattern(8)) == 8);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  h.inject_datagram(icmp_error_datagram("10.0.0.1", "10.0.0.2", 3, 3, ipv4_of(frames[0])));
  CHECK(api.poll_events(fd, kAll) == (POLLOUT | POLLERR));
  CHECK(api.poll_events(fd, POLLIN) == POLLERR);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
  CHECK(api.poll_events(fd, kAll) == POLLOUT);
}

TEST_CASE("poll: POLLHUP after SHUT_RDWR, with POLLIN since reads return 0", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  CHECK(api.shutdown(fd, SHUT_RDWR) == -ENOTCONN);  // unconnected, but shut (inet_shutdown)
  CHECK(api.poll_events(fd, kAll) == (POLLIN | POLLOUT | POLLHUP));
  CHECK(api.poll_events(fd, 0) == POLLHUP);
}

TEST_CASE("poll: SHUT_RD alone gives POLLIN and no POLLHUP, and SHUT_WR alone changes nothing",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int rd = bound_socket(h);
  const int wr = api.socket(AF_INET, SOCK_DGRAM, 0);
  api.shutdown(rd, SHUT_RD);
  api.shutdown(wr, SHUT_WR);
  CHECK(api.poll_events(rd, kAll) == (POLLIN | POLLOUT));
  CHECK(api.poll_events(wr, kAll) == POLLOUT);
}

TEST_CASE("poll: POLLNVAL for an fd that is not a socket", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(api.poll_events(3, kAll) == POLLNVAL);
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(api.close(fd) == 0);
  CHECK(api.poll_events(fd, POLLIN) == POLLNVAL);
}
