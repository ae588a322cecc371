// Urgent data as a packet trace: MSG_OOB, the urgent pointer of RFC 6093, SO_OOBINLINE, POLLPRI.
#include <sys/ioctl.h>

#include <catch2/catch.hpp>

#include <cerrno>

#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::tcpf;

namespace {

Bytes text(const char* s) {
  return Bytes(s, s + std::char_traits<char>::length(s));
}

}  // namespace

TEST_CASE("send with MSG_OOB sets URG pointing after the urgent byte (RFC 6093 §4)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, text("abc"), MSG_OOB) == 3);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].has(URG | ACK));
  CHECK(segs[0].seq == peer.host_seq(0));
  CHECK(segs[0].urgent == 3);  // seq + 3 is the byte after 'c', the urgent byte
  CHECK(segs[0].payload == text("abc"));
}

TEST_CASE("The urgent byte is read with MSG_OOB and not in the stream (RFC 6093 §5)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.data(text("ab!"), URG, 3);
  int unread = -1;
  REQUIRE(peer.api().ioctl(fd, FIONREAD, &unread) == 0);
  CHECK(unread == 2);
  Bytes got;
  REQUIRE(peer.read(fd, got, 1, MSG_OOB) == 1);
  CHECK(got == text("!"));
  CHECK(peer.read(fd, got, 1, MSG_OOB) == -EINVAL);  // read once
  REQUIRE(peer.read(fd, got) == 2);
  CHECK(got == text("ab"));
  peer.data(text("cd"));
  REQUIRE(peer.read(fd, got) == 2);
  CHECK(got == text("cd"));
}

TEST_CASE("A read stops at the urgent mark (Linux tcp_recvmsg)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.data(text("ab!cd"), URG, 3);
  Bytes got;
  REQUIRE(peer.read(fd, got) == 2);
  CHECK(got == text("ab"));
  REQUIRE(peer.read(fd, got) == 2);
  CHECK(got == text("cd"));
  REQUIRE(peer.read(fd, got, 1, MSG_OOB) == 1);
  CHECK(got == text("!"));
}

TEST_CASE(
    "With SO_OOBINLINE the urgent byte stays in the stream and MSG_OOB gives EINVAL "
    "(RFC 6093 §5)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open({}, [&](int s) { peer.set_int(s, SOL_SOCKET, SO_OOBINLINE, 1); });
  peer.data(text("ab!"), URG, 3);
  Bytes got;
  CHECK(peer.read(fd, got, 1, MSG_OOB) == -EINVAL);
  REQUIRE(peer.read(fd, got) == 3);
  CHECK(got == text("ab!"));
}

TEST_CASE("poll reports POLLPRI while an urgent byte waits (RFC 6093 §5)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  CHECK((peer.poll(fd) & POLLPRI) == 0);
  peer.data(text("ab!"), URG, 3);
  CHECK((peer.poll(fd) & POLLPRI) != 0);
  Bytes got;
  REQUIRE(peer.read(fd, got, 1, MSG_OOB) == 1);
  CHECK((peer.poll(fd) & POLLPRI) == 0);
}
