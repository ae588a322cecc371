// The errno and poll bits a TCP socket user sees, as Linux gives them, with the segments behind.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <catch2/catch.hpp>

#include <cerrno>

#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::tcpf;

namespace {

sockaddr_in address(const std::string& ip, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sin.sin_addr);
  return sin;
}

int connect_to(sock::Api& api, int fd, const std::string& ip, std::uint16_t port) {
  const sockaddr_in sin = address(ip, port);
  return api.connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

int bind_to(sock::Api& api, int fd, std::uint16_t port) {
  const sockaddr_in sin = address("0.0.0.0", port);
  return api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

// The peer refuses the stack's SYN: <SEQ=0><ACK=ISS+1><CTL=RST,ACK> (RFC 9293 §3.10.7.1).
void refuse(TcpPeer& peer) {
  const auto syn = peer.take();
  REQUIRE(syn.size() == 1);
  peer.send(RST | ACK, 0, syn[0].seq + 1, {}, 0);
}

}  // namespace

TEST_CASE("connect to a closed port fails with ECONNREFUSED (RFC 9293 §3.10.7.3)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.start();
  refuse(peer);
  CHECK(peer.api().connect_status(fd) == -ECONNREFUSED);
  CHECK(peer.take().empty());  // a RST is never answered
}

TEST_CASE("A non-blocking connect says EINPROGRESS then poll gives POLLOUT and SO_ERROR 0",
          "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CHECK(connect_to(peer.api(), fd, kPeerIp, peer.port()) == -EINPROGRESS);
  CHECK(peer.poll(fd, POLLIN | POLLOUT) == 0);  // the handshake runs
  sockaddr_in local{};
  socklen_t len = sizeof local;
  REQUIRE(peer.api().getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
  peer.local_port = ntohs(local.sin_port);
  peer.answer_syn(fd);
  CHECK(peer.poll(fd, POLLIN | POLLOUT) == POLLOUT);
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == 0);
}

TEST_CASE("A refused non-blocking connect gives POLLERR and SO_ERROR ECONNREFUSED", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.start();
  refuse(peer);
  const short revents = peer.poll(fd, POLLOUT);
  CHECK((revents & POLLERR) != 0);
  CHECK((revents & POLLOUT) != 0);
  CHECK((revents & POLLHUP) != 0);
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == 0);  // read once
}

TEST_CASE("connect again gives EALREADY while connecting and EISCONN once connected", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.start();
  CHECK(connect_to(peer.api(), fd, kPeerIp, peer.port()) == -EALREADY);
  peer.answer_syn(fd);
  CHECK(connect_to(peer.api(), fd, kPeerIp, peer.port()) == -EISCONN);
}

TEST_CASE("read returns 0 at the peer's FIN and poll reports POLLIN and POLLRDHUP", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.data(Bytes{'h', 'i'}, FIN);
  CHECK(peer.poll(fd) == (POLLIN | POLLOUT | POLLRDHUP));
  Bytes got;
  REQUIRE(peer.read(fd, got) == 2);
  CHECK(peer.read(fd, got) == 0);
  CHECK(peer.read(fd, got) == 0);
  CHECK((peer.poll(fd) & (POLLIN | POLLRDHUP)) == (POLLIN | POLLRDHUP));
  const auto acks = peer.take();
  REQUIRE(!acks.empty());
  CHECK(acks.back().ack == peer.peer_seq(3));  // the FIN is ACKed at once
}

TEST_CASE("send after the peer's RST fails with ECONNRESET then EPIPE", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.send(RST, peer.peer_seq(0), 0, {}, 0);
  CHECK(peer.write(fd, Bytes{1}) == -ECONNRESET);
  CHECK(peer.write(fd, Bytes{1}) == -EPIPE);
  CHECK(peer.take().empty());
}

TEST_CASE("recv after the peer's RST fails with ECONNRESET then returns 0", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.send(RST, peer.peer_seq(0), 0, {}, 0);
  CHECK((peer.poll(fd) & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
  Bytes got;
  CHECK(peer.read(fd, got) == -ECONNRESET);
  CHECK(peer.read(fd, got) == 0);
}

TEST_CASE("SO_ERROR reports ECONNRESET after the peer's RST and then clears", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.send(RST, peer.peer_seq(0), 0, {}, 0);
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == ECONNRESET);
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == 0);
}

TEST_CASE("send after shutdown(SHUT_WR) fails with EPIPE", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.api().shutdown(fd, SHUT_WR) == 0);
  const auto fin = peer.take();
  REQUIRE(fin.size() == 1);
  CHECK(fin[0].flags == (FIN | ACK));
  CHECK(peer.write(fd, Bytes{1}) == -EPIPE);
  CHECK(peer.take().empty());
}

TEST_CASE("close with unread data sends RST instead of FIN (RFC 2525 §2.17)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.data(Bytes{'u', 'n', 'r', 'e', 'a', 'd'});
  REQUIRE(peer.api().close(fd) == 0);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].flags == (RST | ACK));
  CHECK(segs[0].seq == peer.host_seq(0));
  CHECK(segs[0].ack == peer.peer_seq(6));
  CHECK(h.stats().tcpAbortOnClose == 1);
  CHECK(h.stack().tcp().connection_count() == 0);
}

TEST_CASE("close with SO_LINGER on and a zero timeout sends RST (socket(7))", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  const linger abortive{1, 0};
  REQUIRE(peer.api().setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive) == 0);
  REQUIRE(peer.api().close(fd) == 0);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].flags == (RST | ACK));
  CHECK(segs[0].seq == peer.host_seq(0));
  CHECK(h.stack().tcp().connection_count() == 0);
}

TEST_CASE("getpeername fails with ENOTCONN before the connection is established", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  const int fresh = peer.api().socket(AF_INET, SOCK_STREAM, 0);
  CHECK(peer.api().getpeername(fresh, reinterpret_cast<sockaddr*>(&sin), &len) == -ENOTCONN);
  const int fd = peer.start();
  CHECK(peer.api().getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len) == -ENOTCONN);
  peer.answer_syn(fd);
  REQUIRE(peer.api().getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  CHECK(ntohs(sin.sin_port) == peer.port());
}

TEST_CASE("FIONREAD gives the bytes waiting to be read (tcp(7) SIOCINQ)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  int n = -1;
  REQUIRE(peer.api().ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 0);
  peer.data(pattern(300));
  peer.data(pattern(200));
  REQUIRE(peer.api().ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 500);
  Bytes got;
  REQUIRE(peer.read(fd, got, 120) == 120);
  REQUIRE(peer.api().ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 380);
}

TEST_CASE("accept on a socket that is not listening fails with EINVAL", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CHECK(peer.api().accept(fd, nullptr, nullptr) == -EINVAL);
  REQUIRE(bind_to(peer.api(), fd, 7) == 0);
  CHECK(peer.api().accept(fd, nullptr, nullptr) == -EINVAL);
  const int connected = peer.open();
  CHECK(peer.api().accept(connected, nullptr, nullptr) == -EINVAL);
}

TEST_CASE("bind fails with EADDRINUSE for a second socket on the same port", "[tcp]") {
  Harness h;
  sock::Api& api = h.stack().sockets();
  const int a = api.socket(AF_INET, SOCK_STREAM, 0);
  const int b = api.socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(bind_to(api, a, 8080) == 0);
  CHECK(bind_to(api, b, 8080) == -EADDRINUSE);
  CHECK(bind_to(api, b, 8081) == 0);
}

TEST_CASE("A second listener on a port fails with EADDRINUSE even with SO_REUSEADDR", "[tcp]") {
  Harness h;
  sock::Api& api = h.stack().sockets();
  const int a = api.socket(AF_INET, SOCK_STREAM, 0);
  const int b = api.socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  REQUIRE(api.setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  REQUIRE(api.setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  REQUIRE(bind_to(api, a, 8080) == 0);
  REQUIRE(bind_to(api, b, 8080) == 0);  // both asked for reuse and neither listens yet
  REQUIRE(api.listen(a, 5) == 0);
  CHECK(api.listen(b, 5) == -EADDRINUSE);
  // Once one listens, no other socket may bind the port, reuse or not.
  const int c = api.socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(api.setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
  CHECK(bind_to(api, c, 8080) == -EADDRINUSE);
}

TEST_CASE("TCP_MAXSEG after connect is the negotiated MSS (RFC 9293 §3.7.1)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fresh = peer.api().socket(AF_INET, SOCK_STREAM, 0);
  CHECK(peer.get_int(fresh, IPPROTO_TCP, TCP_MAXSEG) == 536);  // tcp(7): the default before
  PeerSyn syn;
  syn.mss = 1000;
  const int fd = peer.open(syn, [&](int s) { peer.set_int(s, IPPROTO_TCP, TCP_NODELAY, 1); });
  CHECK(peer.get_int(fd, IPPROTO_TCP, TCP_MAXSEG) == 1000);
  REQUIRE(peer.write(fd, pattern(2500)) == 2500);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 3);
  CHECK(segs[0].len() == 1000);
  CHECK(segs[1].len() == 1000);
  CHECK(segs[2].len() == 500);
}

TEST_CASE("poll on a fresh TCP socket gives POLLOUT and POLLHUP as Linux does", "[tcp]") {
  Harness h;
  sock::Api& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM, 0);
  CHECK(api.poll_events(fd, POLLIN | POLLOUT) == (POLLOUT | POLLHUP));
}

TEST_CASE(
    "TCP_CONGESTION: cubic by default, Linux's names accepted, ENOENT for others, the "
    "name NUL-padded to 16 bytes",
    "[tcp][socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM, 0);
  char name[16];
  socklen_t len = sizeof name;
  REQUIRE(api.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) == 0);
  CHECK(len == 16);
  CHECK(std::string(name) == "cubic");
  CHECK(api.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) == 0);
  len = sizeof name;
  api.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
  CHECK(std::string(name) == "reno");
  CHECK(api.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "newreno\0junk", 12) == 0);
  len = sizeof name;
  api.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
  CHECK(std::string(name) == "newreno");
  CHECK(api.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "bbr", 3) == -ENOENT);
  CHECK(api.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "", 0) == -EINVAL);
  len = 4;  // a short buffer gets the first bytes
  api.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
  CHECK(len == 4);
  CHECK(std::string(name, 4) == "newr");
  // SO_LINGER shares TCP_CONGESTION's number at another level and is not confused with it.
  struct linger l {
    1, 5
  };
  CHECK(api.setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0);
  len = sizeof name;
  api.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
  CHECK(std::string(name) == "newreno");
}
