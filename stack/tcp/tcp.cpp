// The TCP layer: tcp_in's demultiplexing, listeners, ports, resets for closed ports, ICMP.
#include "stack/tcp/tcp.hpp"

#include <algorithm>
#include <cerrno>

#include "stack/core/bytes.hpp"

namespace tapir::tcp {

namespace {

// The sequence space a segment occupies: its data plus one for each of SYN and FIN.
std::size_t segment_length(const Repr& seg, std::size_t payload) {
  return payload + (seg.has(flag::syn) ? 1 : 0) + (seg.has(flag::fin) ? 1 : 0);
}

// The SYN-cookie key: derived from the ISN secret (IsnGenerator::derive_key's purpose 1).
SynCookies cookies_for(const IsnGenerator& isn) {
  const auto [key0, key1] = isn.derive_key(1);
  return SynCookies(key0, key1);
}

std::string endpoints(const FourTuple& t) {
  return t.local.to_string() + ":" + std::to_string(t.local_port) + " > " + t.remote.to_string() +
         ":" + std::to_string(t.remote_port);
}

}  // namespace

Layer::Layer(Context& context, ip::Layer& ip, Config config, PortRange ephemeral)
    : context_(context),
      ip_(ip),
      config_(config),
      ephemeral_(ephemeral),
      isn_(context.random()(), context.random()()),
      cookies_(cookies_for(isn_)) {}

Layer::~Layer() = default;

Connection* Layer::find(const FourTuple& t) const {
  auto it = connections_.find(t);
  return it == connections_.end() ? nullptr : it->second;
}

Listener* Layer::find_listener(Ipv4Address local, std::uint16_t port) const {
  auto it = listeners_.find(port);
  if (it == listeners_.end()) return nullptr;
  // The most specific listener wins: one bound to this address before one bound to any.
  Listener* wildcard = nullptr;
  for (const auto& l : it->second) {
    if (l->local == local) return l.get();
    if (l->local.is_unspecified()) wildcard = l.get();
  }
  return wildcard;
}

void Layer::input(const ip::Delivery& d, Packet& payload) {
  bury();
  Stats& stats = context_.stats();
  stats.tcpInSegs++;
  const auto result = parse(payload.bytes(), d.header.src, d.header.dst);
  if (!result.parsed) {
    stats.tcpInErrs++;
    if (result.error == ParseError::bad_checksum) stats.tcpInCsumErrors++;
    return;
  }
  const Repr& seg = result.parsed->repr;
  if (seg.options.malformed) stats.tcpInOptionErrors++;
  // RFC 1122 §4.2.3.10: segments to a broadcast or multicast address are silently discarded
  // (a SYN there would open a connection with a whole subnet).
  if (d.to_group || d.link_broadcast) {
    stats.tcpInBadAddr++;
    return;
  }
  const auto data = payload.bytes().subspan(result.parsed->payload_offset);
  context_.trace(tapir::Layer::tcp, [&] {
    return d.header.src.to_string() + ":" + std::to_string(seg.src_port) + " > " +
           d.header.dst.to_string() + ":" + std::to_string(seg.dst_port) + " in " +
           flags_text(seg.flags) + " seq " + std::to_string(seg.seq.value()) + " ack " +
           std::to_string(seg.ack.value()) + " win " + std::to_string(seg.window) + " len " +
           std::to_string(data.size());
  });
  const FourTuple t{d.header.dst, seg.dst_port, d.header.src, seg.src_port};
  if (Connection* c = find(t)) {
    // RFC 6191 / RFC 1122 §4.2.2.13: a new SYN may end TIME-WAIT early when it cannot be
    // confused with the old connection.
    if (c->state() == State::time_wait && seg.has(flag::syn) && !seg.has(flag::ack) &&
        !seg.has(flag::rst) && c->syn_ends_time_wait(seg)) {
      stats.tcpTimeWaitReused++;
      c->end_time_wait();
      finished(*c);
      if (Listener* l = find_listener(t.local, t.local_port)) listen_input(*l, d, seg, data);
      return;
    }
    c->segment_arrives(seg, data, context_.now());
    return;
  }
  if (Listener* l = find_listener(t.local, t.local_port)) {
    listen_input(*l, d, seg, data);
    return;
  }
  // RFC 9293 §3.10.7.1: CLOSED. Anything but a RST gets a RST.
  if (!seg.has(flag::rst)) send_reset_for(d.header, seg, segment_length(seg, data.size()));
}

void Layer::listen_input(Listener& l, const ip::Delivery& d, const Repr& seg,
                         std::span<const std::uint8_t> data) {
  Stats& stats = context_.stats();
  const FourTuple t{d.header.dst, seg.dst_port, d.header.src, seg.src_port};
  // RFC 9293 §3.10.7.2, LISTEN: first check for a RST (ignored), then an ACK (RST), then SYN.
  if (seg.has(flag::rst)) return;
  if (seg.has(flag::ack)) {
    // RFC 4987 §3.6: while cookies this listener sent may still come back, an ACK (not a
    // SYN,ACK) is taken as the third step of a cookie handshake, and checked.
    if (!seg.has(flag::syn) && cookies_outstanding(l)) {
      cookie_ack(l, t, seg, data);
      return;
    }
    send_reset_for(d.header, seg, data.size());
    return;
  }
  if (!seg.has(flag::syn)) return;  // "any other control or text-bearing segment": drop
  // Linux's behaviour with a full accept queue: the SYN is dropped without an answer, so the
  // client retries (a RST would make it give up), and the SYN queue is bounded too.
  if (l.accept_queue.size() >= static_cast<std::size_t>(std::max(l.backlog, 0)) + 1) {
    stats.tcpListenOverflows++;
    stats.tcpListenDrops++;
    return;
  }
  const bool source_full = half_open_from(l, t.remote) >= config_.max_syn_per_source;
  if (source_full) stats.tcpSynPerSourceLimited++;
  if (l.syn_queue.size() >= config_.max_syn_backlog || source_full) {
    // RFC 4987 §3.6: with the SYN queue full (or this source's share of it), the SYN is
    // answered with a cookie and nothing is kept, so a flood of SYNs from forged addresses
    // cannot lock real clients out.
    if (config_.syn_cookies) {
      send_cookie(l, t, seg);
      return;
    }
    stats.tcpListenDrops++;
    return;
  }
  if (at_connection_limit()) return;
  Connection& c = create(t, l.options);
  c.listener = &l;
  l.syn_queue.push_back(&c);
  stats.tcpPassiveOpens++;
  c.accept_syn(seg, context_.now());
}

void Layer::send_cookie(Listener& l, const FourTuple& t, const Repr& syn) {
  Stats& stats = context_.stats();
  const Instant now = context_.now();
  const Options& peer = syn.options;
  Repr r;
  r.src_port = t.local_port;
  r.dst_port = t.remote_port;
  const bool timestamps = config_.timestamps && peer.timestamps;
  r.seq = cookies_.encode(t, syn.seq, peer.mss.value_or(default_mss), timestamps, now);
  r.ack = syn.seq + 1;
  r.flags = flag::syn | flag::ack;
  // What the connection the ACK makes will have chosen (Connection::choose_our_side): the
  // MSS of the route or TCP_MAXSEG, a SYN's unscaled window of the buffer (RFC 7323 §2.2).
  const std::uint16_t route_mss = mss_for(t.remote);
  r.options.mss = l.options.user_mss != 0 ? std::min(l.options.user_mss, route_mss) : route_mss;
  r.window = static_cast<std::uint16_t>(std::min<std::size_t>(l.options.rcvbuf, 0xffff));
  // Window scaling and SACK-permitted survive only in the TSval's low bits: without
  // timestamps neither is offered, since the connection could not know later that it was
  // agreed (Linux does the same). Such a connection's window stays below 64 KiB.
  if (timestamps) {
    CookieOptions kept;
    if (config_.window_scaling && peer.window_scale) {
      kept.window_scale = peer.window_scale;
      r.options.window_scale = receive_scale_for(l.options.rcvbuf);
    }
    if (config_.sack && peer.sack_permitted) kept.sack_permitted = r.options.sack_permitted = true;
    r.options.timestamps = Timestamps{SynCookies::encode_timestamp(timestamp_clock(t, now), kept),
                                      peer.timestamps->value};
  }
  Packet packet(0);
  emit(r, packet, t.local, t.remote);
  stats.tcpOutSegs++;
  stats.tcpSyncookiesSent++;
  l.last_cookie = now;
  context_.trace(tapir::Layer::tcp, [&] {
    return endpoints(t) + " out " + flags_text(r.flags) + " seq " + std::to_string(r.seq.value()) +
           " ack " + std::to_string(r.ack.value()) + " win " + std::to_string(r.window) +
           " len 0 (SYN cookie)";
  });
  ip::SendOptions options;
  options.dont_fragment = true;
  ip_.send(t.local, t.remote, ip::protocol::tcp, std::move(packet), options);
}

bool Layer::cookies_outstanding(const Listener& l) const {
  return config_.syn_cookies && l.last_cookie &&
         context_.now() - *l.last_cookie < SynCookies::tick * (SynCookies::max_age + 1);
}

void Layer::cookie_ack(Listener& l, const FourTuple& t, const Repr& seg,
                       std::span<const std::uint8_t> data) {
  Stats& stats = context_.stats();
  const Instant now = context_.now();
  // RFC 4987 §3.6: a forged or stale cookie is dropped, counted, and not answered: no RST
  // (RFC 9293 §3.10.7.2's answer to an ACK in LISTEN), which would turn a flood of forged
  // ACKs into a flood of resets, and no state.
  const auto rejected = [&](const char* why) {
    stats.tcpSyncookiesFailed++;
    context_.trace(tapir::Layer::tcp,
                   [&] { return endpoints(t) + " SYN cookie rejected (" + why + ")"; });
  };
  const auto mss =
      cookies_.decode(t, seg.seq - 1, seg.ack - 1, seg.options.timestamps.has_value(), now);
  if (!mss) return rejected("forged or stale");
  // The options the SYN had stand in for it: the MSS class from the cookie, the rest from
  // the TSecr. The peer sends timestamps only if our SYN-ACK did (RFC 7323 §3.2), and that
  // one did only if the SYN had them: the cookie's MAC covers that choice.
  Options peer;
  peer.mss = *mss;
  if (seg.options.timestamps) {
    const auto kept =
        SynCookies::decode_timestamp(seg.options.timestamps->echo, timestamp_clock(t, now));
    if (!kept) return rejected("TSecr not a cookie's TSval");
    if ((kept->window_scale && !config_.window_scaling) ||
        (kept->sack_permitted && !config_.sack)) {
      return rejected("TSecr echoes options never offered");
    }
    peer.window_scale = kept->window_scale;
    peer.sack_permitted = kept->sack_permitted;
    peer.timestamps = seg.options.timestamps;
  }
  // A full accept queue drops the ACK, as Connection::check_ack does for a SYN-RECEIVED
  // connection's: the peer's next segment carries the same cookie and may find room.
  if (l.accept_queue.size() > static_cast<std::size_t>(l.backlog)) {
    stats.tcpListenOverflows++;
    return;
  }
  if (at_connection_limit()) return;
  stats.tcpSyncookiesRecv++;
  stats.tcpPassiveOpens++;
  context_.trace(tapir::Layer::tcp, [&] {
    return endpoints(t) + " SYN cookie accepted (mss " + std::to_string(*mss) + ")";
  });
  Connection& c = create(t, l.options);
  c.listener = &l;
  c.accept_cookie(seg, peer, now);
  // The ACK may carry data or a FIN: the new connection takes it as any segment.
  c.segment_arrives(seg, data, now);
}

std::uint32_t Layer::timestamp_clock(const FourTuple& t, Instant now) const {
  return static_cast<std::uint32_t>(now.micros() / 1000) +
         isn_.timestamp_offset(t.local, t.local_port, t.remote, t.remote_port);
}

void Layer::established(Connection& c) {
  Listener* l = c.listener;
  if (!l) return;
  std::erase(l->syn_queue, &c);
  l->accept_queue.push_back(&c);
}

Connection* Layer::accept(Endpoint& e) {
  Listener* l = e.listener;
  if (!l || l->accept_queue.empty()) return nullptr;
  Connection* c = l->accept_queue.front();
  l->accept_queue.pop_front();
  c->listener = nullptr;
  c->attached = true;
  return c;
}

void Layer::send_reset_for(const ip::Repr& ip, const Repr& seg, std::size_t len) {
  Repr rst;
  rst.src_port = seg.dst_port;
  rst.dst_port = seg.src_port;
  if (seg.has(flag::ack)) {
    rst.seq = seg.ack;  // <SEQ=SEG.ACK><CTL=RST>
    rst.flags = flag::rst;
  } else {
    rst.ack = seg.seq + static_cast<std::uint32_t>(len);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
    rst.flags = flag::rst | flag::ack;
  }
  Packet packet(0);
  emit(rst, packet, ip.dst, ip.src);
  context_.stats().tcpOutSegs++;
  context_.stats().tcpOutRsts++;
  context_.trace(tapir::Layer::tcp, [&] {
    return ip.dst.to_string() + ":" + std::to_string(rst.src_port) + " > " + ip.src.to_string() +
           ":" + std::to_string(rst.dst_port) + " out " + flags_text(rst.flags) + " (no socket)";
  });
  ip::SendOptions options;
  options.dont_fragment = true;
  ip_.send(ip.dst, ip.src, ip::protocol::tcp, std::move(packet), options);
}

void Layer::error(const ip::TransportError& r) {
  if (r.original_payload.size() < 8) return;
  const ConstView quoted(r.original_payload);
  Connection* c =
      find(FourTuple{r.original.src, quoted.src_port(), r.original.dst, quoted.dst_port()});
  if (!c) return;
  // RFC 1122 §4.2.3.9 calls protocol and port unreachable hard errors, the others soft;
  // RFC 5927 §4 (and Linux) treat all of them alike: fatal to a connection still opening,
  // only remembered (SO_ERROR) by a synchronized one. Fragmentation needed lowers the MSS
  // (RFC 1191).
  c->icmp_error(r.next_mtu ? 0 : r.error, r.next_mtu, quoted.seq());
}

bool Layer::port_in_use(std::uint16_t port, Ipv4Address addr, const Endpoint* except) const {
  auto it = bound_.find(port);
  if (it == bound_.end()) return false;
  for (const Endpoint* other : it->second) {
    if (other == except) continue;
    const bool overlap =
        addr.is_unspecified() || other->local_addr.is_unspecified() || addr == other->local_addr;
    if (!overlap) continue;
    // SO_REUSEADDR (as Linux): two sockets may share a port when both ask and neither listens.
    if (except && except->reuse_addr && other->reuse_addr && !other->listener) continue;
    return true;
  }
  return false;
}

int Layer::bind(Endpoint& s, Ipv4Address addr, std::uint16_t port) {
  if (s.bound) return EINVAL;
  if (!addr.is_unspecified() && !ip_.is_local(addr)) return EADDRNOTAVAIL;
  if (port == 0) {
    port = pick_ephemeral(addr, Ipv4Address::any(), 0);
    if (port == 0) return EADDRINUSE;
  } else if (port_in_use(port, addr, &s)) {
    return EADDRINUSE;
  }
  s.local_addr = addr;
  s.local_port = port;
  s.bound = true;
  bound_[port].push_back(&s);
  return 0;
}

void Layer::unbind(Endpoint& s) {
  if (!s.bound) return;
  auto it = bound_.find(s.local_port);
  if (it != bound_.end()) {
    std::erase(it->second, &s);
    if (it->second.empty()) bound_.erase(it);
  }
  s.bound = false;
}

std::uint16_t Layer::pick_ephemeral(Ipv4Address local, Ipv4Address remote,
                                    std::uint16_t remote_port) {
  return pick_ephemeral_port(ephemeral_, context_.random(), [&](std::uint16_t port) {
    if (port_in_use(port, local, nullptr)) return false;
    return remote_port == 0 || !find(FourTuple{local, port, remote, remote_port});
  });
}

int Layer::listen(Endpoint& s, int backlog) {
  if (s.connection) return EINVAL;
  // listen(2): a backlog above SOMAXCONN (4096) is capped; a negative one taken as 0.
  backlog = std::clamp(backlog, 0, 4096);
  if (s.listener) {
    s.listener->backlog = backlog;  // Linux lets listen() be called again to resize
    return 0;
  }
  if (!s.bound) {
    if (int err = bind(s, Ipv4Address::any(), 0); err != 0) return err;
  }
  // Two listeners may not share an address and port, SO_REUSEADDR or not.
  if (auto it = bound_.find(s.local_port); it != bound_.end()) {
    for (const Endpoint* other : it->second) {
      if (other == &s || !other->listener) continue;
      if (other->local_addr == s.local_addr || other->local_addr.is_unspecified() ||
          s.local_addr.is_unspecified()) {
        return EADDRINUSE;
      }
    }
  }
  auto l = std::make_unique<Listener>();
  l->local = s.local_addr;
  l->port = s.local_port;
  l->backlog = backlog;
  l->options = s.options;
  s.listener = l.get();
  listeners_[s.local_port].push_back(std::move(l));
  return 0;
}

int Layer::connect(Endpoint& s, Ipv4Address remote, std::uint16_t port, Instant now) {
  bury();
  if (remote.is_unspecified() || remote.is_broadcast() || remote.is_multicast() ||
      ip_.is_broadcast(remote)) {
    return ENETUNREACH;
  }
  if (port == 0) return ECONNREFUSED;
  auto source = ip_.source_for(remote);
  if (!source) return ENETUNREACH;
  const Ipv4Address local = s.local_addr.is_unspecified() ? *source : s.local_addr;
  if (!s.bound) {
    const std::uint16_t lport = pick_ephemeral(local, remote, port);
    if (lport == 0) return EADDRNOTAVAIL;
    s.local_port = lport;
    s.bound = true;
    bound_[lport].push_back(&s);
  }
  const FourTuple t{local, s.local_port, remote, port};
  if (find(t)) return EADDRINUSE;
  if (at_connection_limit()) return ENOBUFS;
  s.local_addr = local;
  Connection& c = create(t, s.options);
  c.attached = true;
  s.connection = &c;
  s.peer_addr = remote;
  s.peer_port = port;
  context_.stats().tcpActiveOpens++;
  c.open_active(now);
  return 0;
}

void Layer::close(Endpoint& s, bool abortive) {
  bury();
  if (Listener* l = s.listener) {
    // Connections nobody accepted are reset (as Linux's inet_csk_listen_stop).
    for (Connection* c : std::vector<Connection*>(l->syn_queue)) c->abort();
    for (Connection* c : std::vector<Connection*>(l->accept_queue.begin(), l->accept_queue.end())) {
      c->listener = nullptr;
      c->abort();
    }
    const std::uint16_t port = l->port;  // erase_if frees the listener
    auto& list = listeners_[port];
    std::erase_if(list, [l](const auto& p) { return p.get() == l; });
    if (list.empty()) listeners_.erase(port);
    s.listener = nullptr;
  }
  if (Connection* c = s.connection) {
    s.connection = nullptr;
    c->attached = false;
    if (abortive) {
      c->abort();
    } else {
      c->orphan();
    }
  }
  unbind(s);
}

std::size_t Layer::half_open_from(const Listener& l, Ipv4Address source) const {
  return static_cast<std::size_t>(
      std::count_if(l.syn_queue.begin(), l.syn_queue.end(),
                    [source](const Connection* c) { return c->tuple().remote == source; }));
}

bool Layer::at_connection_limit() {
  if (owned_.size() < config_.max_connections) return false;
  context_.stats().tcpConnectionLimitDrops++;
  return true;
}

Connection& Layer::create(const FourTuple& t, const UserOptions& options) {
  auto owned = std::make_unique<Connection>(*this, t, options);
  Connection& c = *owned;
  owned_.emplace(&c, std::move(owned));
  connections_.emplace(t, &c);
  context_.stats().tcpConnections = owned_.size();
  return c;
}

void Layer::finished(Connection& c) {
  auto it = connections_.find(c.tuple());
  if (it != connections_.end() && it->second == &c) connections_.erase(it);
  if (c.listener) {
    std::erase(c.listener->syn_queue, &c);
    std::erase(c.listener->accept_queue, &c);
    c.listener = nullptr;
  }
  if (!c.attached) destroy(c);
}

void Layer::owe_ack(Connection& c) {
  if (c.in_ack_batch) return;
  c.in_ack_batch = true;
  owed_acks_.push_back(&c);
}

void Layer::end_batch() {
  bury();
  batching_ = false;
  std::vector<Connection*> owed;
  owed.swap(owed_acks_);
  for (Connection* c : owed) {
    c->in_ack_batch = false;
    c->send_owed_ack(context_.now());
  }
}

void Layer::destroy(Connection& c) {
  if (c.in_ack_batch) std::erase(owed_acks_, &c);
  c.stop_timers();
  auto it = owned_.find(&c);
  if (it == owned_.end()) return;
  graveyard_.push_back(std::move(it->second));
  owned_.erase(it);
  context_.stats().tcpConnections = owned_.size();
}

void Layer::release(Connection& c) {
  // The socket closed a connection that had already finished.
  c.attached = false;
  if (!connections_.contains(c.tuple()) || connections_.at(c.tuple()) != &c) destroy(c);
}

std::uint16_t Layer::mss_for(Ipv4Address remote) const {
  std::uint32_t mtu = 1500;
  if (auto m = ip_.mtu_for(remote)) mtu = *m;
  const std::uint32_t mss = mtu > 40 ? mtu - 40 : default_mss;
  return static_cast<std::uint16_t>(std::clamp<std::uint32_t>(mss, 88, 65495));
}

}  // namespace tapir::tcp
