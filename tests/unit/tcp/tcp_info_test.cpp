// TCP_INFO: Linux's struct tcp_info layout and what a connection reports in it.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <catch2/catch.hpp>
#include <cstddef>

#include "stack/tcp/info.hpp"
#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;

// The layout matches the system's header field for field, as far as that header goes.
#define SAME_OFFSET(f) \
  static_assert(offsetof(tcp::TcpInfo, f) == offsetof(struct tcp_info, tcpi_##f), #f)
SAME_OFFSET(rto);
SAME_OFFSET(snd_mss);
SAME_OFFSET(last_data_sent);
SAME_OFFSET(rtt);
SAME_OFFSET(snd_cwnd);
SAME_OFFSET(total_retrans);
// glibc's header stops at tcpi_total_retrans; the rest at Linux's offsets.
static_assert(offsetof(tcp::TcpInfo, pacing_rate) == 104);
static_assert(offsetof(tcp::TcpInfo, bytes_acked) == 120);
static_assert(offsetof(tcp::TcpInfo, bytes_received) == 128);
static_assert(offsetof(tcp::TcpInfo, min_rtt) == 148);
static_assert(offsetof(tcp::TcpInfo, delivery_rate) == 160);
static_assert(offsetof(tcp::TcpInfo, delivered) == 192);
static_assert(offsetof(tcp::TcpInfo, bytes_sent) == 200);
static_assert(offsetof(tcp::TcpInfo, dsack_dups) == 216);
static_assert(offsetof(tcp::TcpInfo, snd_wnd) == 228);

namespace {

tcp::TcpInfo read_info(sock::Api& api, int fd) {
  tcp::TcpInfo info{};
  socklen_t len = sizeof info;
  REQUIRE(api.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
  REQUIRE(len == 232);
  return info;
}

}  // namespace

TEST_CASE("TCP_INFO on a fresh socket is CLOSED; a short buffer gets a prefix",
          "[tcp][socket][tcp_info]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM, 0);
  CHECK(read_info(api, fd).state == TCP_CLOSE);
  unsigned char prefix[8];
  socklen_t len = sizeof prefix;
  REQUIRE(api.getsockopt(fd, IPPROTO_TCP, TCP_INFO, prefix, &len) == 0);
  CHECK(len == 8);
  CHECK(prefix[0] == TCP_CLOSE);
  // As Linux: UDP hands IPPROTO_TCP to IP, which knows no such option.
  const int udp = api.socket(AF_INET, SOCK_DGRAM, 0);
  len = sizeof prefix;
  CHECK(api.getsockopt(udp, IPPROTO_TCP, TCP_INFO, prefix, &len) == -ENOPROTOOPT);
}

TEST_CASE("TCP_INFO on a connection: state, MSS, options, bytes acknowledged and received",
          "[tcp][socket][tcp_info]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.mss = 1000;
  syn.wscale = 7;
  syn.sack = true;
  const int fd = peer.open(syn, [&](int s) { peer.set_int(s, IPPROTO_TCP, TCP_NODELAY, 1); });
  auto& api = peer.api();
  tcp::TcpInfo info = read_info(api, fd);
  CHECK(info.state == TCP_ESTABLISHED);
  CHECK(info.snd_mss == 1000);
  CHECK((info.options & tcp::tcpi_opt_sack) != 0);
  CHECK((info.options & tcp::tcpi_opt_wscale) != 0);
  CHECK(info.snd_wscale == 7);
  CHECK(info.bytes_acked == 0);
  CHECK(info.rto > 0);
  REQUIRE(peer.write(fd, Bytes(1500, 0x5a)) == 1500);
  peer.take();
  info = read_info(api, fd);
  CHECK(info.unacked == 2);
  CHECK(info.notsent_bytes == 0);
  // The ACK comes back 5 ms later: before the tail loss probe (at least 10 ms, RFC 8985 §7.2)
  // would resend the segment and, by Karn's rule, leave it untimed.
  peer.run(Duration{5'000});
  peer.ack(1500);
  peer.data(Bytes(300, 0x11));
  info = read_info(api, fd);
  CHECK(info.unacked == 0);
  CHECK(info.bytes_acked == 1500);
  CHECK(info.bytes_received == 300);
  CHECK(info.rtt > 0);
  CHECK(info.min_rtt > 0);
  CHECK(info.snd_cwnd > 0);
  CHECK(info.data_segs_out == 2);  // 1000 + 500 bytes at MSS 1000
  CHECK(info.bytes_sent == 1500);
  CHECK(info.data_segs_in == 1);
  CHECK(info.total_retrans == 0);
  CHECK(info.last_data_sent == 5);  // milliseconds ago
  CHECK(info.last_data_recv == 0);
}

TEST_CASE("TCP_INFO counts retransmissions and what the scoreboard holds lost",
          "[tcp][socket][tcp_info]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.mss = 1000;
  syn.sack = true;
  const int fd = peer.open(syn, [&](int s) { peer.set_int(s, IPPROTO_TCP, TCP_NODELAY, 1); });
  auto& api = peer.api();
  REQUIRE(peer.write(fd, Bytes(1000, 0x5a)) == 1000);
  peer.take();
  // Nothing comes back: the retransmission timer (or the tail loss probe first) resends it.
  peer.run(Duration{3'000'000});
  const auto resent = peer.take();
  REQUIRE_FALSE(resent.empty());
  const tcp::TcpInfo info = read_info(api, fd);
  CHECK(info.total_retrans == resent.size());
  CHECK(info.bytes_retrans == 1000 * resent.size());
  CHECK(info.data_segs_out == 1 + resent.size());
  CHECK(info.unacked == 1);
}
