// TcpScript: plays the peer of one tapir stack segment by segment, for packet-trace TCP tests.
#include "support/tcp_script.hpp"

#include <arpa/inet.h>

#include <cerrno>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::test::script {

namespace {

// RFC 9293 §3.1: the checksum covers a pseudo-header (addresses, protocol, TCP length).
bool tcp_checksum_ok(const Bytes& datagram) {
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  const auto segment = std::span(datagram).subspan(ihl);
  std::uint8_t pseudo[12] = {};
  std::copy(datagram.begin() + 12, datagram.begin() + 20, pseudo);
  pseudo[9] = 6;
  store16(pseudo + 10, static_cast<std::uint16_t>(segment.size()));
  return checksum_finish(checksum_add(segment, checksum_add(pseudo))) == 0;
}

std::optional<Segment> decode_segment(const Bytes& frame) {
  if (frame.size() < 14 + 20 || load16(frame.data() + 12) != 0x0800) return std::nullopt;
  const Bytes datagram = ipv4_of(frame);
  Tins::IP ip(datagram.data(), static_cast<std::uint32_t>(datagram.size()));
  const auto* tcp = ip.find_pdu<Tins::TCP>();
  if (!tcp) return std::nullopt;
  Segment s;
  s.src = ip.src_addr().to_string();
  s.dst = ip.dst_addr().to_string();
  s.src_port = tcp->sport();
  s.dst_port = tcp->dport();
  s.flags = static_cast<std::uint8_t>(tcp->flags());
  s.seq = tcp->seq();
  s.ack = tcp->ack_seq();
  s.window = tcp->window();
  if (tcp->search_option(Tins::TCP::MSS)) s.mss = tcp->mss();
  if (tcp->search_option(Tins::TCP::WSCALE)) s.wscale = tcp->winscale();
  s.sack_permitted = tcp->has_sack_permitted();
  if (tcp->search_option(Tins::TCP::TSOPT)) {
    const auto [value, echo] = tcp->timestamp();
    s.tsval = value;
    s.tsecr = echo;
  }
  if (tcp->search_option(Tins::TCP::SACK)) s.sack = tcp->sack();
  if (const auto* raw = tcp->find_pdu<Tins::RawPDU>()) s.payload = raw->payload();
  s.checksum_ok = tcp_checksum_ok(datagram);
  return s;
}

std::string listing(const std::vector<Segment>& sent) {
  std::string out;
  for (const Segment& s : sent) out += "\n  " + to_string(s);
  return out.empty() ? " nothing" : out;
}

}  // namespace

std::string flags_text(std::uint8_t flags) {
  static constexpr std::pair<std::uint8_t, const char*> names[] = {
      {SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}};
  std::string out;
  for (const auto& [bit, name] : names) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "none" : out;
}

std::string to_string(const Segment& s) {
  std::string out = flags_text(s.flags) + " seq=" + std::to_string(s.seq) +
                    " ack=" + std::to_string(s.ack) + " win=" + std::to_string(s.window) +
                    " len=" + std::to_string(s.payload.size());
  std::string options;
  auto add = [&options](const std::string& o) { options += (options.empty() ? "" : ",") + o; };
  if (s.mss) add("mss " + std::to_string(*s.mss));
  if (s.wscale) add("wscale " + std::to_string(*s.wscale));
  if (s.sack_permitted) add("sackOK");
  if (s.tsval) add("ts " + std::to_string(*s.tsval) + "/" + std::to_string(*s.tsecr));
  if (!s.sack.empty()) add("sack " + std::to_string(s.sack.size() / 2));
  if (!options.empty()) out += " <" + options + ">";
  return out;
}

TcpScript::TcpScript(StackConfig config) : harness_(config) {}

void TcpScript::send(const Send& s) {
  Tins::TCP tcp(s.dst_port != 0 ? s.dst_port : host_port, s.src_port != 0 ? s.src_port : peer_port);
  tcp.flags(s.flags);
  tcp.seq(s.seq);
  tcp.ack_seq(s.ack);
  tcp.window(s.window);
  // Linux's order: MSS, SACK-permitted, timestamps, window scale.
  if (s.mss) tcp.mss(*s.mss);
  if (s.sack_permitted) tcp.sack_permitted();
  if (s.tsval) tcp.timestamp(*s.tsval, s.tsecr);
  if (s.wscale) tcp.winscale(*s.wscale);
  Tins::IP ip(s.dst, s.src);
  ip.ttl(64);
  ip /= tcp;
  if (!s.payload.empty()) ip /= Tins::RawPDU(s.payload);
  harness_.inject(from_peer(ip, s.dst_mac));
}

std::vector<Segment> TcpScript::take() {
  std::vector<Segment> out;
  for (const Bytes& frame : harness_.take_bytes()) {
    if (auto s = decode_segment(frame)) {
      CHECK(s->checksum_ok);
      out.push_back(std::move(*s));
    }
  }
  return out;
}

Segment TcpScript::expect(std::uint8_t flags) {
  const auto sent = take();
  INFO("expected one " << flags_text(flags) << ", tapir sent:" << listing(sent));
  REQUIRE(sent.size() == 1);
  REQUIRE(flags_text(sent[0].flags) == flags_text(flags));
  return sent[0];
}

void TcpScript::expect_nothing() {
  const auto sent = take();
  INFO("expected nothing, tapir sent:" << listing(sent));
  REQUIRE(sent.empty());
}

int TcpScript::listen(std::uint16_t port, int backlog) {
  const int fd = api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  REQUIRE(api().bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  REQUIRE(api().listen(fd, backlog) == 0);
  host_port = port;
  return fd;
}

int TcpScript::connect(std::uint16_t port) {
  const int fd = api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, kPeerIp.c_str(), &sin.sin_addr);
  REQUIRE(api().connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == -EINPROGRESS);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  REQUIRE(api().getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
  host_port = ntohs(local.sin_port);
  peer_port = port;
  return fd;
}

long TcpScript::read(int fd, Bytes& out, std::size_t max) {
  Bytes buffer(max);
  const ssize_t n = api().recvfrom(fd, buffer.data(), buffer.size(), 0, nullptr, nullptr);
  if (n > 0) out.insert(out.end(), buffer.begin(), buffer.begin() + n);
  return static_cast<long>(n);
}

long TcpScript::write(int fd, const Bytes& data) {
  return static_cast<long>(api().sendto(fd, data.data(), data.size(), 0, nullptr, 0));
}

tcp::Connection* TcpScript::connection() const {
  auto& stack = const_cast<Harness&>(harness_).stack();
  return stack.tcp().find(tcp::FourTuple{*Ipv4Address::parse(kHostIp), host_port,
                                         *Ipv4Address::parse(kPeerIp), peer_port});
}

tcp::State TcpScript::state() const {
  const tcp::Connection* c = connection();
  return c ? c->state() : tcp::State::closed;
}

TcpScript::Open TcpScript::open_passive(Send syn) {
  Open o;
  o.listener = listen(host_port);
  syn.flags = SYN;
  send(syn);
  const Segment synack = expect(SYN | ACK);
  REQUIRE(synack.ack == syn.seq + 1);
  o.iss = synack.seq;
  o.irs = syn.seq;
  Send ack{.flags = ACK, .seq = syn.seq + 1, .ack = synack.seq + 1, .window = syn.window};
  if (syn.tsval && synack.tsval) {
    ack.tsval = *syn.tsval + 1;
    ack.tsecr = *synack.tsval;
  }
  send(ack);
  expect_nothing();
  o.fd = api().accept(o.listener, nullptr, nullptr);
  REQUIRE(o.fd >= 0);
  REQUIRE(state() == tcp::State::established);
  return o;
}

TcpScript::Open TcpScript::open_active(Send synack) {
  Open o;
  o.fd = connect(peer_port);
  const Segment syn = expect(SYN);
  o.iss = syn.seq;
  o.irs = synack.seq;
  synack.flags = SYN | ACK;
  synack.ack = syn.seq + 1;
  if (synack.tsval && syn.tsval) synack.tsecr = *syn.tsval;
  send(synack);
  const Segment ack = expect(ACK);
  REQUIRE(ack.seq == syn.seq + 1);
  REQUIRE(ack.ack == synack.seq + 1);
  REQUIRE(api().connect_status(o.fd) == 0);
  REQUIRE(state() == tcp::State::established);
  return o;
}

}  // namespace tapir::test::script
