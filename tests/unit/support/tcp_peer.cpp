// TcpPeer: the far end of one TCP connection, played by the test a segment at a time.
#include "support/tcp_peer.hpp"

#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include <cerrno>

namespace tapir::test {

Segment decode_segment(const Bytes& frame) {
  const Bytes datagram = ipv4_of(frame);
  Tins::IP ip(datagram.data(), static_cast<std::uint32_t>(datagram.size()));
  const auto* tcp = ip.find_pdu<Tins::TCP>();
  REQUIRE(tcp != nullptr);
  Segment s;
  s.flags = static_cast<std::uint8_t>(tcp->flags());
  s.seq = tcp->seq();
  s.ack = tcp->ack_seq();
  s.window = tcp->window();
  s.urgent = tcp->urg_ptr();
  if (const auto* raw = tcp->find_pdu<Tins::RawPDU>()) s.payload = raw->payload();
  if (tcp->search_option(Tins::TCP::MSS)) s.mss = tcp->mss();
  if (tcp->search_option(Tins::TCP::WSCALE)) s.wscale = tcp->winscale();
  s.sack_permitted = tcp->has_sack_permitted();
  if (tcp->search_option(Tins::TCP::TSOPT)) s.timestamps = tcp->timestamp();
  if (tcp->search_option(Tins::TCP::SACK)) {
    const auto edges = tcp->sack();
    for (std::size_t i = 0; i + 1 < edges.size(); i += 2)
      s.sack.emplace_back(edges[i], edges[i + 1]);
  }
  return s;
}

void TcpPeer::send(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, const Bytes& payload,
                   std::uint16_t win, std::uint16_t urgent,
                   const std::vector<std::pair<std::uint32_t, std::uint32_t>>& sack) {
  Tins::TCP tcp(local_port, port_);
  tcp.flags(flags);
  tcp.seq(seq);
  tcp.ack_seq(ack);
  tcp.window(win);
  tcp.urg_ptr(urgent);
  if (!sack.empty()) {
    Tins::TCP::sack_type edges;
    for (auto [l, r] : sack) {
      edges.push_back(l);
      edges.push_back(r);
    }
    tcp.sack(edges);
  }
  Tins::IP ip(kHostIp, kPeerIp);
  ip.ttl(64);
  ip /= tcp;
  if (!payload.empty()) ip /= Tins::RawPDU(payload);
  h_.inject(from_peer(ip));
}

std::vector<Segment> TcpPeer::take() {
  std::vector<Segment> out;
  for (const Bytes& frame : h_.take_bytes()) {
    if (frame.size() < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14 + 9] != 6) {
      continue;  // ARP and the like
    }
    out.push_back(decode_segment(frame));
  }
  return out;
}

int TcpPeer::start(const std::function<void(int)>& setup) {
  const int fd = api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  if (setup) setup(fd);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port_);
  inet_pton(AF_INET, kPeerIp.c_str(), &sin.sin_addr);
  REQUIRE(api().connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == -EINPROGRESS);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  REQUIRE(api().getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
  local_port = ntohs(local.sin_port);
  return fd;
}

void TcpPeer::answer_syn(int fd, const PeerSyn& syn) {
  const auto segs = take();
  REQUIRE(!segs.empty());
  REQUIRE(segs.back().flags == tcpf::SYN);
  host_iss = segs.back().seq;
  host_syn = segs.back();
  window = syn.window;
  Tins::TCP tcp(local_port, port_);
  tcp.flags(Tins::TCP::SYN | Tins::TCP::ACK);
  tcp.seq(peer_iss);
  tcp.ack_seq(host_iss + 1);
  tcp.window(syn.window);
  if (syn.mss) tcp.mss(*syn.mss);
  if (syn.sack) tcp.sack_permitted();
  if (syn.wscale) tcp.winscale(*syn.wscale);
  Tins::IP ip(kHostIp, kPeerIp);
  ip.ttl(64);
  ip /= tcp;
  h_.inject(from_peer(ip));
  const auto acks = take();
  REQUIRE(acks.size() == 1);
  REQUIRE(acks[0].flags == tcpf::ACK);
  REQUIRE(acks[0].ack == peer_iss + 1);
  host_ack = acks[0];
  REQUIRE(api().connect_status(fd) == 0);
}

int TcpPeer::open(const PeerSyn& syn, const std::function<void(int)>& setup) {
  const int fd = start(setup);
  answer_syn(fd, syn);
  return fd;
}

void TcpPeer::data(const Bytes& payload, std::uint8_t extra_flags, std::uint16_t urgent) {
  send(static_cast<std::uint8_t>(tcpf::ACK | extra_flags), peer_seq(peer_sent),
       host_seq(host_acked), payload, window, urgent);
  peer_sent += static_cast<std::uint32_t>(payload.size());
}

void TcpPeer::ack(std::uint32_t n, std::optional<std::uint16_t> new_window) {
  host_acked = n;
  if (new_window) window = *new_window;
  send(tcpf::ACK, peer_seq(peer_sent), host_seq(n), {}, window);
}

void TcpPeer::run(Duration d) {
  const Instant end = h_.now() + d;
  for (;;) {
    const auto next = h_.stack().next_deadline();
    if (!next || *next > end) break;
    h_.advance(*next > h_.now() ? *next - h_.now() : Duration{0});
  }
  h_.advance(end - h_.now());
}

ssize_t TcpPeer::write(int fd, const Bytes& data, int flags) {
  return api().sendto(fd, data.data(), data.size(), flags, nullptr, 0);
}

ssize_t TcpPeer::read(int fd, Bytes& out, std::size_t max, int flags) {
  out.assign(max, 0);
  const ssize_t n = api().recvfrom(fd, out.data(), max, flags, nullptr, nullptr);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return n;
}

int TcpPeer::get_int(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(api().getsockopt(fd, level, name, &v, &len) == 0);
  return v;
}

void TcpPeer::set_int(int fd, int level, int name, int value) {
  REQUIRE(api().setsockopt(fd, level, name, &value, sizeof value) == 0);
}

short TcpPeer::poll(int fd, short events) {
  return api().poll_events(fd, events);
}

}  // namespace tapir::test
