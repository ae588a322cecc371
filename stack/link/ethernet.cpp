// Ethernet II framing: validation, destination filtering, EtherType demultiplexing, padding.
#include "stack/link/ethernet.hpp"

#include <algorithm>

#include "stack/core/bytes.hpp"

namespace tapir::eth {

std::optional<Repr> Repr::parse(std::span<const std::uint8_t> frame) {
  if (frame.size() < header_len) return std::nullopt;
  return Repr{MacAddress::from(frame.data()), MacAddress::from(frame.data() + 6),
              load16(frame.data() + 12)};
}

void Repr::emit(std::span<std::uint8_t> header) const {
  dst.copy_to(header.data());
  src.copy_to(header.data() + 6);
  store16(header.data() + 12, ethertype);
}

bool Layer::accepts(const Netif& netif, MacAddress dst) const {
  // Our own address, broadcast, and the multicast MACs of joined groups (RFC 1112 §6.4);
  // frames for groups nobody joined are dropped and counted (ifInDiscards).
  return dst == netif.mac || dst.is_broadcast() ||
         (dst.is_multicast() && netif.accepts_multicast(dst));
}

void Layer::input(Netif& netif, std::span<const std::uint8_t> frame) {
  Stats& stats = context_.stats();
  stats.ifInOctets += frame.size();
  if (capture_) capture_(netif, frame, false);
  auto repr = Repr::parse(frame);
  if (!repr) {
    stats.ifInErrors++;
    context_.trace(tapir::Layer::eth, [&] {
      return "drop: runt frame of " + std::to_string(frame.size()) + " bytes";
    });
    return;
  }
  if (!accepts(netif, repr->dst)) {
    stats.ifInDiscards++;
    return;
  }
  const bool group = repr->dst.is_multicast();
  context_.trace(tapir::Layer::eth, [&] {
    char type[8];
    std::snprintf(type, sizeof type, "%04x", repr->ethertype);
    return netif.name + " in " + repr->src.to_string() + " > " + repr->dst.to_string() + " type " +
           type + " len " + std::to_string(frame.size());
  });
  const auto* handler = protocols_.find(repr->ethertype);
  if (!handler) {
    stats.ifInUnknownProtos++;
    return;
  }
  (group ? stats.ifInNUcastPkts : stats.ifInUcastPkts)++;
  (*handler)(netif, frame.subspan(header_len), group);
}

void Layer::output(Netif& netif, MacAddress dst, EtherType type, Packet&& packet) {
  Repr{dst, netif.mac, static_cast<std::uint16_t>(type)}.emit(packet.prepend(header_len));
  // IEEE 802.3 §3.2.8: frames shorter than the minimum are padded (with zeros here).
  if (packet.size() < min_frame_len) packet.append(min_frame_len - packet.size());
  Stats& stats = context_.stats();
  if (!netif.transmit) {
    stats.ifOutDiscards++;
    return;
  }
  if (capture_) capture_(netif, packet.bytes(), true);
  stats.ifOutOctets += packet.size();
  (dst.is_multicast() ? stats.ifOutNUcastPkts : stats.ifOutUcastPkts)++;
  netif.transmit(packet.bytes());
}

}  // namespace tapir::eth
