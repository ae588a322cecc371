// The IPv4 layer: ip_in (validate, accept, reassemble, demultiplex), ipsend/ipputp (route,
// fragment, hand to ARP), forwarding (RFC 1812) and loopback delivery.
#include "stack/ip/ipv4.hpp"

#include <cerrno>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/ip/fragment.hpp"

namespace tapir::ip {

namespace {

std::string describe(const Repr& h) {
  std::string s = h.src.to_string() + " > " + h.dst.to_string() + " proto " +
                  std::to_string(h.protocol) + " len " + std::to_string(h.total_len) + " ttl " +
                  std::to_string(h.ttl) + " id " + std::to_string(h.id);
  if (h.is_fragment()) {
    s += " frag " + std::to_string(h.fragment_offset) + (h.more_fragments ? "+" : "");
  }
  return s;
}

}  // namespace

Layer::Layer(Context& context, Interfaces& interfaces, arp::Cache& arp, Config config,
             ReassemblyConfig reassembly)
    : context_(context),
      interfaces_(interfaces),
      arp_(arp),
      config_(config),
      reassembler_(context.timers(), reassembly,
                   [this](std::span<const std::uint8_t> first) { reassembly_timed_out(first); }),
      next_id_(static_cast<std::uint16_t>(context.random()())) {}

std::optional<Ipv4Address> Layer::source_for(Ipv4Address dst) const {
  if (dst.is_loopback()) return dst;
  if (is_local(dst)) return dst;
  auto route = routes_.lookup(dst);
  if (!route) return std::nullopt;
  const Netif& out = interfaces_.at(route->netif);
  if (!out.address) return std::nullopt;
  return out.address->address;
}

std::optional<std::uint32_t> Layer::mtu_for(Ipv4Address dst) const {
  if (dst.is_loopback() || is_local(dst)) return 65535;
  auto route = routes_.lookup(dst);
  if (!route) return std::nullopt;
  return interfaces_.at(route->netif).mtu;
}

bool Layer::accepts(NetifId netif, const Repr& header, bool& to_group) const {
  const Ipv4Address dst = header.dst;
  // RFC 2644: a directed broadcast, even for another interface's subnet, is taken as a
  // broadcast here and never forwarded (no smurf amplifier).
  to_group = dst.is_multicast() || is_broadcast(dst);
  if (to_group) {
    // RFC 1112 §7.2 / RFC 3376 §3.2: only groups the interface has joined, from sources its
    // filter lets through (224.0.0.1 is always joined). IGMP itself passes the source filter:
    // a query comes from the querier, whatever sources the group's members asked for (as
    // Linux's ip_check_mc_rcv).
    if (!dst.is_multicast()) return true;
    if (header.protocol == protocol::igmp) return joined_(netif, dst);
    return admits_(netif, dst, header.src);
  }
  // RFC 1122 §3.3.4.2: the weak end-system model (as Linux): any of our addresses is ours,
  // whichever interface it arrived on. RFC 1122 §3.2.1.3: 127/8 never comes from a wire.
  return !dst.is_loopback() && is_local(dst);
}

void Layer::input(Netif& netif, Packet&& packet, bool link_broadcast) {
  Stats& stats = context_.stats();
  stats.ipInReceives++;
  Repr partial;
  auto parsed = Repr::parse(packet.bytes(), &partial);
  if (auto* error = std::get_if<HeaderError>(&parsed)) {
    report_bad_header(netif, packet, *error, partial, link_broadcast);
    return;
  }
  Repr header = std::get<Repr>(parsed);
  packet.truncate(header.total_len);  // drop Ethernet padding (RFC 1122 §3.2.1.1)
  context_.trace(tapir::Layer::ip, [&] { return netif.name + " in " + describe(header); });

  // RFC 1122 §3.2.1.3: a source that is not one host's address is silently discarded, and
  // 127/8 never comes from a wire; RFC 1812 §5.3.7 likewise for forwarding. 0.0.0.0 is only
  // valid from a host that does not know its address yet: broadcasting (DHCP), to a
  // link-local group, or in IGMP — a snooping switch's querier sends its queries from 0.0.0.0
  // (RFC 4541 §2.1.1). Linux's ip_route_input_mc draws the same line.
  const bool zero_allowed =
      header.src.is_unspecified() &&
      (header.dst.is_broadcast() || header.protocol == protocol::igmp ||
       (header.dst.value() & 0xffffff00U) == Ipv4Address{224, 0, 0, 0}.value());
  const bool unknown_source = (header.src.value() >> 24) == 0 && !zero_allowed;
  if (header.src.is_broadcast() || header.src.is_multicast() || header.src.is_class_e() ||
      header.src.is_loopback() || unknown_source || is_broadcast(header.src)) {
    stats.ipInHdrErrors++;
    stats.ipInBadSource++;
    return;
  }

  bool to_group = false;
  if (!accepts(netif.id, header, to_group)) {
    if (config_.forwarding && !link_broadcast && !to_group && !header.dst.is_loopback()) {
      forward(netif, std::move(packet), header, link_broadcast);
    } else {
      stats.ipInAddrErrors++;
      context_.trace(tapir::Layer::ip,
                     [&] { return "drop: not for us " + header.dst.to_string(); });
    }
    return;
  }

  if (header.is_fragment()) {
    stats.ipReasmReqds++;
    Packet whole;
    switch (reassembler_.add(header, packet.bytes(), context_.now(), whole)) {
      case ReassemblyResult::complete:
        stats.ipReasmOKs++;
        break;
      case ReassemblyResult::incomplete:
      case ReassemblyResult::duplicate:
        return;
      case ReassemblyResult::overlap:
        stats.ipReasmOverlaps++;
        stats.ipReasmFails++;
        return;
      case ReassemblyResult::oversize:
        stats.ipReasmOversize++;
        stats.ipReasmFails++;
        return;
      case ReassemblyResult::no_memory:
        stats.ipReasmMemoryDrops++;
        stats.ipReasmFails++;
        return;
      case ReassemblyResult::source_limit:
        stats.ipReasmSourceLimitDrops++;
        stats.ipReasmFails++;
        return;
      case ReassemblyResult::malformed:
        stats.ipInHdrErrors++;
        return;
    }
    auto reparsed = Repr::parse(whole.bytes());
    if (!std::holds_alternative<Repr>(reparsed)) return;  // cannot happen: we built it
    header = std::get<Repr>(reparsed);
    packet = std::move(whole);
  }
  deliver(Delivery{header, netif.id, to_group, link_broadcast, {}}, std::move(packet));
}

void Layer::deliver(const Delivery& delivery, Packet&& datagram) {
  Stats& stats = context_.stats();
  Delivery d = delivery;
  d.datagram = datagram.bytes();
  const bool raw_taken = raw_hook_(d);
  const auto* handler = handlers_.find(d.header.protocol);
  if (!handler) {
    // A raw socket for the protocol counts as someone who speaks it (as Linux).
    if (raw_taken) {
      stats.ipInDelivers++;
      return;
    }
    stats.ipInUnknownProtos++;
    // RFC 1122 §3.2.2.1: protocol unreachable (never about group traffic).
    report(Problem::protocol_unreachable, 0, d.datagram, d.errors_forbidden());
    return;
  }
  stats.ipInDelivers++;
  datagram.consume(d.header.header_len);
  (*handler)(d, datagram);
}

void Layer::report_bad_header(Netif& netif, const Packet& packet, HeaderError error,
                              const Repr& partial, bool link_broadcast) {
  // Each reason has its own counter; all but truncation also count as ipInHdrErrors (RFC 4293
  // counts a datagram shorter than its header says as ipInTruncatedPkts instead).
  struct Reason {
    std::uint64_t Stats::*counter;
    const char* text;
  };
  static constexpr Reason reasons[] = {
      {&Stats::ipInTruncatedPkts, "truncated"},
      {&Stats::ipInBadVersion, "bad version"},
      {&Stats::ipInBadHeaderLength, "bad header length"},
      {&Stats::ipInBadTotalLength, "bad total length"},
      {&Stats::ipInCsumErrors, "bad checksum"},
      {&Stats::ipInBadOptions, "bad options"},
  };
  const Reason& reason = reasons[static_cast<std::size_t>(error)];
  Stats& stats = context_.stats();
  stats.*reason.counter += 1;
  if (error != HeaderError::truncated) stats.ipInHdrErrors++;
  context_.trace(tapir::Layer::ip, [&] { return netif.name + " drop: " + reason.text; });
  if (error == HeaderError::bad_options) {
    // RFC 1122 §3.2.2.5 / RFC 792: parameter problem, pointer to the offending octet. The
    // header is otherwise sound (its checksum passed), so its source can be trusted.
    bool to_group = false;
    const bool ours = accepts(netif.id, partial, to_group);
    if (ours || config_.forwarding) {
      report(Problem::parameter_problem, partial.bad_option_pointer,
             packet.bytes().first(partial.total_len), to_group || link_broadcast);
    }
  }
}

void Layer::forward(Netif& in, Packet&& datagram, const Repr& header, bool link_broadcast) {
  Stats& stats = context_.stats();
  // RFC 1812 §5.3.1: a router that would decrement the TTL to zero discards the datagram and
  // sends time exceeded (code 0) — this is what makes traceroute work.
  if (header.ttl <= 1) {
    stats.ipInHdrErrors++;
    report(Problem::ttl_exceeded, 0, datagram.bytes(), link_broadcast);
    return;
  }
  auto route = routes_.lookup(header.dst);
  if (!route) {
    stats.ipInNoRoutes++;
    // RFC 1812 §5.2.7.1: destination unreachable, network unreachable when no route exists.
    report(Problem::net_unreachable, 0, datagram.bytes(), link_broadcast);
    return;
  }
  Netif& out = interfaces_.at(route->netif);
  const Ipv4Address next_hop = route->gateway.value_or(header.dst);

  // RFC 1812 §5.2.7.2: a datagram that leaves by the interface it came in on, from a host on
  // that interface's subnet, earns the host a redirect to the better next hop (and is still
  // forwarded).
  if (out.id == in.id && config_.send_redirects && in.address && in.address->contains(header.src)) {
    report(Problem::redirect_host, next_hop.value(), datagram.bytes(), link_broadcast);
  }
  // RFC 1191 §4: DF and too big -> fragmentation needed, with the next-hop MTU.
  if (datagram.size() > out.mtu && header.dont_fragment) {
    stats.ipFragFails++;
    report(Problem::fragmentation_needed, out.mtu, datagram.bytes(), link_broadcast);
    return;
  }
  // RFC 1812 §5.3.1 + RFC 1624: decrement TTL and patch the checksum incrementally (the TTL
  // is the high byte of the 16-bit word it shares with the protocol).
  View h(datagram.bytes());
  const auto word = [&h] { return static_cast<std::uint16_t>((h.ttl() << 8) | h.protocol()); };
  const std::uint16_t old_word = word();
  h.set_ttl(static_cast<std::uint8_t>(h.ttl() - 1));
  h.set_checksum(checksum_update(h.checksum(), old_word, word()));
  stats.ipForwDatagrams++;
  context_.trace(tapir::Layer::ip, [&] {
    return "forward " + describe(header) + " via " + out.name + " " + next_hop.to_string();
  });
  Repr forwarded = header;
  forwarded.ttl = static_cast<std::uint8_t>(header.ttl - 1);
  put(out, next_hop, std::move(datagram), forwarded);
}

SendError Layer::send(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, Packet&& payload,
                      const SendOptions& options) {
  Stats& stats = context_.stats();
  stats.ipOutRequests++;
  Repr h;
  h.router_alert = options.router_alert;
  const std::size_t header_len = h.emitted_len();
  if (payload.size() + header_len > max_datagram_len) {
    stats.ipOutDiscards++;
    return SendError::too_big;
  }
  h.dst = dst;
  h.protocol = protocol;
  h.ttl = options.ttl.value_or(config_.default_ttl);
  h.tos = options.tos;
  h.dont_fragment = options.dont_fragment;
  h.id = next_id_++;
  h.total_len = static_cast<std::uint16_t>(payload.size() + header_len);

  // Local destinations never touch the wire.
  if (is_local(dst)) {
    h.src = src.is_unspecified() ? dst : src;
    h.emit(payload.prepend(header_len));
    loop_back(std::move(payload));
    return SendError::none;
  }

  auto hop = choose_hop(dst, options);
  if (!hop) {
    stats.ipOutNoRoutes++;
    return SendError::no_route;
  }
  Netif* out = hop->out;
  const Ipv4Address next_hop = hop->next_hop;
  if (src.is_unspecified()) {
    if (!out->address) {
      stats.ipOutDiscards++;
      return SendError::bad_source;
    }
    src = out->address->address;
  }
  h.src = src;
  if (h.total_len > out->mtu && h.dont_fragment) {
    stats.ipOutDiscards++;
    stats.ipFragFails++;
    return SendError::too_big;
  }
  h.emit(payload.prepend(header_len));
  context_.trace(tapir::Layer::ip, [&] { return out->name + " out " + describe(h); });
  // RFC 1112 §6.1: with IP_MULTICAST_LOOP, local members get a copy of what we send.
  if (dst.is_multicast() && options.multicast_loop && joined_(out->id, dst)) {
    loop_back(Packet::copy_of(payload.bytes()));
  }
  // RFC 1112 §6.1: a multicast datagram with TTL 0 stays on this host. (RFC 1122 §3.2.1.7:
  // nothing else may be sent with TTL 0; IP_TTL refuses 0.)
  if (dst.is_multicast() && h.ttl == 0) return SendError::none;
  return put(*out, next_hop, std::move(payload), h);
}

SendError Layer::send_datagram(Packet&& datagram, const SendOptions& options) {
  Stats& stats = context_.stats();
  stats.ipOutRequests++;
  if (datagram.size() < min_header_len || datagram.size() > max_datagram_len) {
    stats.ipOutDiscards++;
    return SendError::too_big;
  }
  View h(datagram.bytes());
  const std::size_t header_len = h.header_len();
  if (h.version() != 4 || header_len < min_header_len || header_len > datagram.size()) {
    stats.ipOutDiscards++;
    return SendError::bad_source;
  }
  // As Linux's raw(7) with IP_HDRINCL: total length and checksum are always filled in, the
  // ID and the source address only when zero.
  const Ipv4Address dst = h.dst();
  h.set_total_len(static_cast<std::uint16_t>(datagram.size()));
  if (h.id() == 0) h.set_id(next_id_++);
  std::optional<Hop> hop;
  if (!is_local(dst)) {
    hop = choose_hop(dst, options);
    if (!hop) {
      stats.ipOutNoRoutes++;
      return SendError::no_route;
    }
  }
  if (h.src().is_unspecified()) {
    Ipv4Address src = dst;  // a local destination hears from itself
    if (hop) {
      if (!hop->out->address) {
        stats.ipOutDiscards++;
        return SendError::bad_source;
      }
      src = hop->out->address->address;
    }
    h.set_src(src);
  }
  fill_checksum(datagram.bytes());
  auto parsed = Repr::parse(datagram.bytes());
  if (!std::holds_alternative<Repr>(parsed)) {
    stats.ipOutDiscards++;
    return SendError::bad_source;
  }
  if (!hop) {
    loop_back(std::move(datagram));
    return SendError::none;
  }
  return put(*hop->out, hop->next_hop, std::move(datagram), std::get<Repr>(parsed));
}

std::optional<Layer::Hop> Layer::choose_hop(Ipv4Address dst, const SendOptions& options) {
  // An explicit interface (multicast, broadcast, SO_BINDTODEVICE-like) wins; the limited
  // broadcast leaves by the first interface (RFC 1122 §3.3.6); otherwise the route decides.
  if (options.netif && interfaces_.contains(*options.netif)) {
    return Hop{&interfaces_.at(*options.netif), dst};
  }
  auto route = routes_.lookup(dst);
  // The limited broadcast, and multicast without a route for 224/4, leave by the first
  // interface (as Linux with no multicast route picks the default one).
  if (dst.is_broadcast() || (dst.is_multicast() && !route)) {
    if (interfaces_.size() == 0) return std::nullopt;
    return Hop{&interfaces_.at(0), dst};
  }
  // SO_DONTROUTE: only directly connected destinations.
  if (!route || (options.dont_route && route->gateway)) return std::nullopt;
  return Hop{&interfaces_.at(route->netif), route->gateway.value_or(dst)};
}

SendError Layer::put(Netif& out, Ipv4Address next_hop, Packet&& datagram, const Repr& header) {
  Stats& stats = context_.stats();
  if (datagram.size() <= out.mtu) {
    arp_.output(out, next_hop, std::move(datagram));
    return SendError::none;
  }
  if (header.dont_fragment) {
    stats.ipFragFails++;
    return SendError::too_big;
  }
  std::vector<Packet> fragments = fragment(datagram.bytes(), out.mtu);
  if (fragments.empty()) {
    stats.ipFragFails++;
    return SendError::too_big;
  }
  stats.ipFragOKs++;
  stats.ipFragCreates += fragments.size();
  for (Packet& f : fragments) arp_.output(out, next_hop, std::move(f));
  return SendError::none;
}

void Layer::loop_back(Packet&& datagram) {
  context_.stats().ipOutLoopback++;
  loopback_.push_back(std::move(datagram));
  // Deliver after the current call unwinds (a reply to a looped-back ping is looped back
  // too): a queue, not recursion, bounds the stack depth.
  if (draining_loopback_) return;
  draining_loopback_ = true;
  while (!loopback_.empty()) {
    Packet p = std::move(loopback_.front());
    loopback_.pop_front();
    auto parsed = Repr::parse(p.bytes());
    if (!std::holds_alternative<Repr>(parsed)) continue;
    const Repr h = std::get<Repr>(parsed);
    const NetifId netif = interfaces_.holding(h.dst).value_or(0);
    deliver(Delivery{h, netif, is_broadcast(h.dst) || h.dst.is_multicast(), false, {}},
            std::move(p));
  }
  draining_loopback_ = false;
}

void Layer::reassembly_timed_out(std::span<const std::uint8_t> first_fragment) {
  Stats& stats = context_.stats();
  stats.ipReasmTimeout++;
  stats.ipReasmFails++;
  context_.trace(tapir::Layer::ip, [&] { return std::string("reassembly timed out"); });
  // RFC 1122 §3.3.2 / RFC 792: time exceeded, code 1, only if fragment zero arrived.
  if (!first_fragment.empty()) {
    report(Problem::reassembly_timeout, 0, first_fragment, false);
  }
}

int errno_of(SendError error) {
  switch (error) {
    case SendError::none:
      return 0;
    case SendError::no_route:
      return ENETUNREACH;
    case SendError::too_big:
      return EMSGSIZE;
    case SendError::bad_source:
      return EADDRNOTAVAIL;
  }
  return EINVAL;
}

}  // namespace tapir::ip
