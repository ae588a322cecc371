// setsockopt(2)/getsockopt(2): every option round-trips, with socket(7) and ip(7)'s errnos.
#include <catch2/catch.hpp>

#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

int udp_socket(Harness& h) {
  return h.stack().sockets().socket(AF_INET, SOCK_DGRAM, 0);
}

int set_timeval(sock::Api& api, int fd, int name, long sec, long usec) {
  timeval tv{};
  tv.tv_sec = sec;
  tv.tv_usec = usec;
  return api.setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv);
}

timeval get_timeval(sock::Api& api, int fd, int name) {
  timeval tv{-1, -1};
  socklen_t len = sizeof tv;
  REQUIRE(api.getsockopt(fd, SOL_SOCKET, name, &tv, &len) == 0);
  CHECK(len == sizeof tv);
  return tv;
}

}  // namespace

TEST_CASE(
    "boolean socket options default off and round-trip: SO_REUSEADDR, SO_BROADCAST, "
    "SO_DONTROUTE",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  for (int name : {SO_REUSEADDR, SO_BROADCAST, SO_DONTROUTE}) {
    CAPTURE(name);
    CHECK(get_int(api, fd, SOL_SOCKET, name) == 0);
    CHECK(set_int(api, fd, SOL_SOCKET, name, 1) == 0);
    CHECK(get_int(api, fd, SOL_SOCKET, name) == 1);
    // Any non-zero value means on, and reads back as 1 (sock_setsockopt's valbool).
    CHECK(set_int(api, fd, SOL_SOCKET, name, 7) == 0);
    CHECK(get_int(api, fd, SOL_SOCKET, name) == 1);
    CHECK(set_int(api, fd, SOL_SOCKET, name, 0) == 0);
    CHECK(get_int(api, fd, SOL_SOCKET, name) == 0);
  }
}

TEST_CASE("SO_RCVBUF and SO_SNDBUF default to 212992 and read back doubled, as socket(7) says",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 212992);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 212992);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 4000) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 8000);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUF, 10000) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 20000);
}

TEST_CASE("SO_RCVBUF and SO_SNDBUF are clamped to the minimums and to twice rmem_max/wmem_max",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  // SOCK_MIN_RCVBUF 2304, SOCK_MIN_SNDBUF 4608 (2048 + skb overhead, doubled for send).
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 1) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 2304);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUF, 0) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 4608);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 1 << 30) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 2 * 212992);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUF, 1 << 30) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 2 * 212992);
}

TEST_CASE("SO_RCVBUFFORCE and SO_SNDBUFFORCE set the buffers past rmem_max/wmem_max, doubled",
          "[socket]") {
  // socket(7): the privileged form of SO_RCVBUF/SO_SNDBUF, not capped by the sysctl.
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 2 << 20);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUFFORCE, 1 << 20) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 2 << 20);
  // Below the minimums and negative: the minimums, as sock_setsockopt clamps them.
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUFFORCE, -1) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 2304);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUFFORCE, 1) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 4608);
}

TEST_CASE(
    "a negative SO_RCVBUF/SO_SNDBUF is taken as unsigned, so capped at the maximum "
    "(sock_setsockopt's min_t(u32, ...))",
    "[socket]") {
  // Linux: __sock_set_rcvbuf(sk, min_t(u32, val, sysctl_rmem_max)): -1 is 0xffffffff, so the
  // buffer becomes 2 * rmem_max, not the minimum.
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, -1) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 2 * 212992);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_SNDBUF, -1) == 0);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_SNDBUF) == 2 * 212992);
}

TEST_CASE("SO_RCVTIMEO and SO_SNDTIMEO default to zero and round-trip a timeval", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  for (int name : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    CAPTURE(name);
    timeval tv = get_timeval(api, fd, name);
    CHECK(tv.tv_sec == 0);
    CHECK(tv.tv_usec == 0);
    CHECK(set_timeval(api, fd, name, 2, 500000) == 0);
    tv = get_timeval(api, fd, name);
    CHECK(tv.tv_sec == 2);
    CHECK(tv.tv_usec == 500000);
  }
  CHECK(api.find(fd)->rcvtimeo == Duration{2'500'000});
  CHECK(api.find(fd)->sndtimeo == Duration{2'500'000});
}

TEST_CASE("SO_RCVTIMEO/SO_SNDTIMEO with tv_usec outside [0, 999999] fail with EDOM", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_timeval(api, fd, SO_RCVTIMEO, 3, 0) == 0);
  for (int name : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    CAPTURE(name);
    CHECK(set_timeval(api, fd, name, 1, 1000000) == -EDOM);
    CHECK(set_timeval(api, fd, name, 1, -1) == -EDOM);
    CHECK(set_timeval(api, fd, name, 0, 999999) == 0);
  }
  // A refused value leaves the option as it was before it.
  CHECK(get_timeval(api, fd, SO_RCVTIMEO).tv_usec == 999999);
}

TEST_CASE("SO_RCVTIMEO with a negative tv_sec means wait forever, read back as zero (Linux)",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_timeval(api, fd, SO_RCVTIMEO, 5, 0) == 0);
  CHECK(set_timeval(api, fd, SO_RCVTIMEO, -1, 0) == 0);
  const timeval tv = get_timeval(api, fd, SO_RCVTIMEO);
  CHECK(tv.tv_sec == 0);
  CHECK(tv.tv_usec == 0);
}

TEST_CASE("SO_RCVTIMEO with a buffer shorter than a timeval fails with EINVAL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  timeval tv{1, 0};
  CHECK(api.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv - 1) == -EINVAL);
}

TEST_CASE("SO_TYPE reports the socket type and is read-only (ENOPROTOOPT on set)", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int udp = udp_socket(h);
  const int raw = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  CHECK(get_int(api, udp, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
  CHECK(get_int(api, raw, SOL_SOCKET, SO_TYPE) == SOCK_RAW);
  CHECK(get_int(api, raw, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_ICMP);
  CHECK(set_int(api, udp, SOL_SOCKET, SO_TYPE, SOCK_RAW) == -ENOPROTOOPT);
  CHECK(get_int(api, udp, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
}

TEST_CASE("SO_ERROR reads zero on a fresh socket, is read-only, and reading clears it",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
  CHECK(set_int(api, fd, SOL_SOCKET, SO_ERROR, EIO) == -ENOPROTOOPT);
  api.find(fd)->error = ECONNREFUSED;  // as an ICMP error would leave it
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
}

TEST_CASE(
    "IP_TTL reads the default 64, takes 1..255, refuses 0 and 256 with EINVAL, and -1 "
    "restores the default (ip(7))",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 64);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, 1) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 1);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, 255) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 255);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, 0) == -EINVAL);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, 256) == -EINVAL);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, -2) == -EINVAL);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 255);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TTL, -1) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 64);
}

TEST_CASE("IP_TTL's default follows StackConfig::default_ttl", "[socket]") {
  StackConfig config;
  config.default_ttl = 100;
  Harness h(config);
  CHECK(get_int(h.stack().sockets(), udp_socket(h), IPPROTO_IP, IP_TTL) == 100);
}

TEST_CASE("IP_TOS defaults to 0 and round-trips", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TOS) == 0);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TOS, 0x10) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TOS) == 0x10);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_TOS, 0xb8) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TOS) == 0xb8);
}

TEST_CASE("IP_PKTINFO, IP_RECVTTL and IP_RECVERR default off and round-trip", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  for (int name : {IP_PKTINFO, IP_RECVTTL, IP_RECVERR}) {
    CAPTURE(name);
    CHECK(get_int(api, fd, IPPROTO_IP, name) == 0);
    CHECK(set_int(api, fd, IPPROTO_IP, name, 1) == 0);
    CHECK(get_int(api, fd, IPPROTO_IP, name) == 1);
    CHECK(set_int(api, fd, IPPROTO_IP, name, 0) == 0);
    CHECK(get_int(api, fd, IPPROTO_IP, name) == 0);
  }
}

TEST_CASE("IP_HDRINCL is for raw sockets only: ENOPROTOOPT on UDP", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int udp = udp_socket(h);
  const int icmp = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const int raw = api.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  CHECK(set_int(api, udp, IPPROTO_IP, IP_HDRINCL, 1) == -ENOPROTOOPT);
  CHECK(get_int(api, udp, IPPROTO_IP, IP_HDRINCL) == 0);
  CHECK(get_int(api, icmp, IPPROTO_IP, IP_HDRINCL) == 0);
  CHECK(set_int(api, icmp, IPPROTO_IP, IP_HDRINCL, 1) == 0);
  CHECK(get_int(api, icmp, IPPROTO_IP, IP_HDRINCL) == 1);
  // raw(7): IPPROTO_RAW implies IP_HDRINCL.
  CHECK(get_int(api, raw, IPPROTO_IP, IP_HDRINCL) == 1);
}

TEST_CASE("setsockopt with an int option shorter than an int fails with EINVAL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  const int one = 1;
  CHECK(api.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 2) == -EINVAL);
  CHECK(api.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, 0) == -EINVAL);
  CHECK(api.setsockopt(fd, SOL_SOCKET, SO_BROADCAST, nullptr, sizeof one) == -EINVAL);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_TTL, &one, 0) == -EINVAL);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_REUSEADDR) == 0);
}

TEST_CASE("IP-level int options also take a one-byte value (Linux do_ip_setsockopt)", "[socket]") {
  // ip_setsockopt reads an int when optlen >= sizeof(int), else one unsigned char when
  // optlen >= 1: setsockopt(IP_TTL/IP_TOS, &uchar, 1) works on Linux.
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  const std::uint8_t ttl = 9;
  const std::uint8_t tos = 0x20;
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, 1) == 0);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, 1) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TTL) == 9);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_TOS) == 0x20);
}

TEST_CASE(
    "getsockopt into a short buffer copies what fits and reports that length "
    "(sock_getsockopt)",
    "[socket]") {
  // Linux: len = min(len, sizeof value); copy len bytes; put_user(len, optlen).
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 0x12345) == 0);  // reads 0x2468a
  std::uint8_t out[4] = {0xee, 0xee, 0xee, 0xee};
  socklen_t len = 2;
  CHECK(api.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, out, &len) == 0);
  CHECK(len == 2);
  int full = 0;
  std::memcpy(&full, out, 2);
  CHECK(full == (0x2468a & 0xffff));  // little-endian host: the low bytes come first
  CHECK(out[2] == 0xee);
}

TEST_CASE("an unknown option or level fails with ENOPROTOOPT", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(set_int(api, fd, SOL_SOCKET, 9999, 1) == -ENOPROTOOPT);
  CHECK(get_int(api, fd, SOL_SOCKET, 9999) == -ENOPROTOOPT);
  CHECK(set_int(api, fd, IPPROTO_IP, 9999, 1) == -ENOPROTOOPT);
  CHECK(get_int(api, fd, IPPROTO_IP, 9999) == -ENOPROTOOPT);
  CHECK(set_int(api, fd, IPPROTO_TCP, 1, 1) == -ENOPROTOOPT);
  CHECK(get_int(api, fd, IPPROTO_TCP, 1) == -ENOPROTOOPT);
}

TEST_CASE("getsockopt without a value or length pointer fails with EFAULT", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  int v = 0;
  socklen_t len = sizeof v;
  CHECK(api.getsockopt(fd, SOL_SOCKET, SO_TYPE, nullptr, &len) == -EFAULT);
  CHECK(api.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, nullptr) == -EFAULT);
}
