// ICMP (RFC 792, RFC 1122 §3.2.2): icmp_in, replies, errors with the never-send rules.
#include "stack/icmp/icmp.hpp"

#include <algorithm>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/icmp/error_table.hpp"

namespace tapir::icmp {

Layer::Layer(Context& context, Interfaces& interfaces, ip::Layer& ip, Config config)
    : context_(context),
      interfaces_(interfaces),
      ip_(ip),
      config_(config),
      limiter_(config.error_rate, config.error_burst),
      echo_limiter_(config.echo_rate, config.echo_burst) {}

void Layer::on_echo_reply(EchoReplyHandler handler) {
  echo_handlers_.push_back(std::move(handler));
}

void Layer::input(const ip::Delivery& delivery, Packet& payload) {
  Stats& stats = context_.stats();
  stats.icmpInMsgs++;
  if (payload.size() < header_len) {
    stats.icmpInErrors++;
    return;
  }
  if (internet_checksum(payload.bytes()) != 0) {
    stats.icmpInErrors++;
    stats.icmpInCsumErrors++;
    return;
  }
  const Repr repr = ConstView(payload.bytes()).repr();
  context_.trace(tapir::Layer::icmp, [&] {
    return "in type " + std::to_string(static_cast<int>(repr.type)) + " code " +
           std::to_string(repr.code) + " from " + delivery.header.src.to_string() + " len " +
           std::to_string(payload.size());
  });
  switch (repr.type) {
    case Type::echo_request:
      stats.icmpInEchos++;
      // RFC 1122 §3.2.2.6 lets a host ignore echo requests to broadcast/multicast; tapir does,
      // like Linux (icmp_echo_ignore_broadcasts=1), so it cannot amplify a smurf attack.
      if (!delivery.to_group) reply_echo(delivery, payload);
      return;
    case Type::echo_reply: {
      stats.icmpInEchoReps++;
      const EchoReply reply{delivery.header.src, static_cast<std::uint16_t>(repr.rest >> 16),
                            static_cast<std::uint16_t>(repr.rest), delivery.header.ttl,
                            payload.bytes().subspan(header_len)};
      for (auto& handler : echo_handlers_) handler(reply);
      return;
    }
    case Type::dest_unreachable:
      stats.icmpInDestUnreachs++;
      report_error(delivery, repr, payload);
      return;
    case Type::time_exceeded:
      stats.icmpInTimeExcds++;
      report_error(delivery, repr, payload);
      return;
    case Type::parameter_problem:
      stats.icmpInParmProbs++;
      report_error(delivery, repr, payload);
      return;
    case Type::source_quench:
      stats.icmpInSrcQuenchs++;  // RFC 6633: hosts MUST silently ignore it
      return;
    case Type::redirect:
      // RFC 1122 §3.2.2.2 asks hosts to update their route cache; tapir keeps a static table
      // for now and only counts (docs/ARCHITECTURE.md, "not yet").
      stats.icmpInRedirects++;
      return;
    case Type::timestamp:
      stats.icmpInTimestamps++;
      if (!delivery.to_group) reply_timestamp(delivery, payload);
      return;
    case Type::timestamp_reply:
      stats.icmpInTimestampReps++;
      return;
    case Type::address_mask_request:
      stats.icmpInAddrMasks++;
      if (config_.address_mask_reply) reply_address_mask(delivery, payload);
      return;
    case Type::address_mask_reply:
      stats.icmpInAddrMaskReps++;
      return;
  }
  // RFC 1122 §3.2.2: an unknown type MUST be silently discarded.
}

void Layer::reply_echo(const ip::Delivery& delivery, const Packet& payload) {
  // RFC 1122 §3.2.2.6 leaves the echo server's policy to the host: an optional cap.
  if (config_.echo_rate > 0 && !echo_limiter_.allow(context_.now())) {
    context_.stats().icmpOutEchoRateLimited++;
    return;
  }
  // RFC 792: the reply carries the request's identifier, sequence number and data; only
  // the type changes, so the checksum is patched (RFC 1624) rather than recomputed.
  Packet reply = Packet::copy_of(payload.bytes());
  View m(reply.bytes());
  const std::uint16_t old_word = m.type_code_word();
  m.set_type(Type::echo_reply);
  m.set_checksum(checksum_update(m.checksum(), old_word, m.type_code_word()));
  context_.stats().icmpOutMsgs++;
  context_.stats().icmpOutEchoReps++;
  // RFC 1122 §3.2.2.6: the reply's source is the address the request was sent to; the TOS
  // is the request's (RFC 1122 §3.2.2: "SHOULD be the same").
  ip::SendOptions options;
  options.tos = delivery.header.tos;
  ip_.send(delivery.header.dst, delivery.header.src, ip::protocol::icmp, std::move(reply), options);
}

void Layer::reply_timestamp(const ip::Delivery& delivery, const Packet& payload) {
  if (payload.size() < header_len + 12) {
    context_.stats().icmpInErrors++;
    return;
  }
  // RFC 792: milliseconds since midnight UT, for both the receive and transmit stamps.
  const std::int64_t utc_ms = (context_.now() + config_.utc_offset).micros() / 1000;
  constexpr std::int64_t ms_per_day = 24LL * 3600 * 1000;
  const auto stamp = static_cast<std::uint32_t>(utc_ms % ms_per_day);
  std::uint8_t body[12];
  std::copy_n(payload.data() + header_len, 4, body);  // originate timestamp
  store32(body + 4, stamp);
  store32(body + 8, stamp);
  context_.stats().icmpOutTimestampReps++;
  send(delivery.header.dst, delivery.header.src,
       Repr{Type::timestamp_reply, 0, ConstView(payload.bytes()).rest()}, body);
}

void Layer::reply_address_mask(const ip::Delivery& delivery, const Packet& payload) {
  const Netif& netif = interfaces_.at(delivery.netif);
  if (!netif.address || payload.size() < header_len + 4) return;
  std::uint8_t body[4];
  store32(body, netif.address->mask());
  context_.stats().icmpOutAddrMaskReps++;
  // RFC 1122 §3.2.2.9: reply to a broadcast request goes to the broadcast address.
  const Ipv4Address dst =
      delivery.header.src.is_unspecified() ? Ipv4Address::broadcast() : delivery.header.src;
  send(netif.address->address, dst,
       Repr{Type::address_mask_reply, 0, ConstView(payload.bytes()).rest()}, body);
}

void Layer::report_error(const ip::Delivery& delivery, const Repr& repr, const Packet& payload) {
  const auto quoted = payload.bytes().subspan(header_len);
  auto original = ip::peek(quoted);
  // RFC 792: the error quotes the header and at least 8 bytes of the datagram's data.
  if (!original || quoted.size() < original->header_len + 8U) {
    context_.stats().icmpInErrors++;
    return;
  }
  const auto handler = error_handlers_.find(original->protocol);
  if (!handler) return;
  ErrorReport report;
  report.from = delivery.header.src;
  report.original = *original;
  report.original_payload = quoted.subspan(original->header_len);
  report.message = repr;
  if (const auto e = errno_of(repr.type, repr.code)) {
    report.error = e->error;
    report.hard = e->hard;
  }
  if (repr.type == Type::dest_unreachable && repr.code == unreachable::fragmentation_needed) {
    report.next_mtu = repr.rest & 0xffffU;  // RFC 1191 §4: the low 16 bits
  }
  (*handler)(report);
}

void Layer::send_error(Type type, std::uint8_t code, std::uint32_t rest,
                       std::span<const std::uint8_t> original, bool original_to_group) {
  auto header = ip::peek(original);
  if (!header) return;
  // RFC 1122 §3.2.2 (and RFC 1812 §4.3.2.7): never send an error about
  //  - an ICMP error message (errors about errors loop forever),
  //  - a datagram to a broadcast or multicast address, or sent as a link broadcast,
  //  - a fragment other than the first,
  //  - a datagram whose source does not name a single host.
  if (original_to_group || header->dst.is_broadcast() || header->dst.is_multicast()) return;
  if (header->fragment_offset != 0) return;
  const Ipv4Address src = header->src;
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() || src.is_class_e()) return;
  if (ip_.is_broadcast(header->dst) || ip_.is_broadcast(src)) return;
  if (header->protocol == ip::protocol::icmp) {
    if (original.size() <= header->header_len) return;
    const Type quoted_type = ConstView(original.subspan(header->header_len)).type();
    if (Repr::is_error(quoted_type)) return;
  }
  // RFC 1812 §4.3.2.8 / RFC 1122 §3.2.2: limit the rate of error messages.
  if (!limiter_.allow(context_.now())) {
    context_.stats().icmpOutRateLimited++;
    return;
  }
  // RFC 792: quote the internet header plus the first 64 bits of the original data.
  const auto quote =
      original.first(std::min<std::size_t>(original.size(), header->header_len + 8U));
  // RFC 1812 §4.3.2.4: the source is the address of the interface the error leaves by; for
  // an error about a datagram sent to us, the address it was sent to (what `ping` expects).
  const Ipv4Address from = ip_.is_local(header->dst) ? header->dst : Ipv4Address::any();
  context_.trace(tapir::Layer::icmp, [&] {
    return "out error type " + std::to_string(static_cast<int>(type)) + " code " +
           std::to_string(code) + " to " + src.to_string();
  });
  count_out(type);
  send(from, src, Repr{type, code, rest}, quote);
}

void Layer::report(const ip::ProblemReport& p) {
  // Each problem's message (RFC 792; RFC 1122 §3.2.2.1, §3.2.2.5, §3.3.2; RFC 1812 §5.2.7)
  // and what its 4-byte field carries.
  struct Message {
    Type type;
    std::uint8_t code;
  };
  static constexpr Message messages[] = {
      {Type::dest_unreachable, unreachable::net},                   // net_unreachable
      {Type::dest_unreachable, unreachable::host},                  // host_unreachable
      {Type::dest_unreachable, unreachable::protocol},              // protocol_unreachable
      {Type::dest_unreachable, unreachable::port},                  // port_unreachable
      {Type::dest_unreachable, unreachable::fragmentation_needed},  // fragmentation_needed
      {Type::time_exceeded, time_exceeded::ttl},                    // ttl_exceeded
      {Type::time_exceeded, time_exceeded::reassembly},             // reassembly_timeout
      {Type::parameter_problem, 0},                                 // parameter_problem
      {Type::redirect, redirect_host},                              // redirect_host
  };
  const Message& m = messages[static_cast<std::size_t>(p.problem)];
  std::uint32_t rest = 0;
  switch (p.problem) {
    case ip::Problem::fragmentation_needed:
      rest = p.value & 0xffffU;  // RFC 1191 §4: the next-hop MTU in the low 16 bits
      break;
    case ip::Problem::parameter_problem:
      rest = (p.value & 0xffU) << 24;  // RFC 792: the pointer is the first octet
      break;
    case ip::Problem::redirect_host:
      rest = p.value;  // RFC 792: the gateway's address
      break;
    default:
      break;
  }
  send_error(m.type, m.code, rest, p.datagram, p.about_group);
}

bool Layer::send_echo_request(Ipv4Address dst, std::uint16_t id, std::uint16_t sequence,
                              std::span<const std::uint8_t> data, const ip::SendOptions& options) {
  context_.stats().icmpOutEchos++;
  const std::uint32_t rest = (std::uint32_t{id} << 16) | sequence;
  Packet p = build(Repr{Type::echo_request, 0, rest}, data);
  context_.stats().icmpOutMsgs++;
  return ip_.send(Ipv4Address::any(), dst, ip::protocol::icmp, std::move(p), options) ==
         ip::SendError::none;
}

void Layer::count_out(Type type) {
  Stats& stats = context_.stats();
  switch (type) {
    case Type::dest_unreachable:
      stats.icmpOutDestUnreachs++;
      break;
    case Type::time_exceeded:
      stats.icmpOutTimeExcds++;
      break;
    case Type::parameter_problem:
      stats.icmpOutParmProbs++;
      break;
    case Type::redirect:
      stats.icmpOutRedirects++;
      break;
    default:
      break;
  }
}

void Layer::send(Ipv4Address src, Ipv4Address dst, const Repr& repr,
                 std::span<const std::uint8_t> body, const ip::SendOptions& options) {
  Packet p = build(repr, body);
  context_.stats().icmpOutMsgs++;
  if (ip_.send(src, dst, ip::protocol::icmp, std::move(p), options) != ip::SendError::none) {
    context_.stats().icmpOutErrors++;
  }
}

}  // namespace tapir::icmp
