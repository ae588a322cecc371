// Ethernet II framing: the wire view, and the layer that demultiplexes by EtherType (ethdemux).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/dispatch.hpp"
#include "stack/core/packet.hpp"
#include "stack/link/netif.hpp"

namespace tapir::eth {

inline constexpr std::size_t header_len = 14;
inline constexpr std::size_t min_frame_len = 60;  // 64 on the wire less the 4-byte FCS

enum class EtherType : std::uint16_t { ipv4 = 0x0800, arp = 0x0806, ipv6 = 0x86dd };

struct Repr {
  MacAddress dst;
  MacAddress src;
  std::uint16_t ethertype = 0;

  // nullopt if the frame is shorter than a header.
  static std::optional<Repr> parse(std::span<const std::uint8_t> frame);
  void emit(std::span<std::uint8_t> header) const;  // header.size() >= header_len
};

// ni_in / ethdemux on input, netwrite's framing on output.
class Layer {
 public:
  explicit Layer(Context& context) : context_(context) {}

  // What a protocol above is handed: the frame's payload, and whether the frame was sent to a
  // link-layer broadcast or multicast address.
  using ProtocolHandler = void(Netif& netif, std::span<const std::uint8_t> payload,
                               bool link_group);
  // ARP and IPv4 register here (stack.cpp); frames of other EtherTypes are counted and dropped.
  void register_protocol(EtherType type, std::function<ProtocolHandler> handler) {
    protocols_.add(static_cast<std::uint16_t>(type), std::move(handler));
  }

  // A frame arrived on `netif`: validate, filter by destination MAC, hand to its protocol.
  void input(Netif& netif, std::span<const std::uint8_t> frame);
  // Prepends the Ethernet header, pads to the 60-byte minimum and transmits.
  void output(Netif& netif, MacAddress dst, EtherType type, Packet&& packet);
  // Packet capture sockets see every frame in (before filtering) and out.
  using CaptureHandler = void(const Netif& netif, std::span<const std::uint8_t> frame,
                              bool outgoing);
  void set_capture_hook(std::function<CaptureHandler> hook) { capture_.set(std::move(hook)); }

 private:
  bool accepts(const Netif& netif, MacAddress dst) const;
  Context& context_;
  Demux<std::uint16_t, ProtocolHandler> protocols_;
  Hook<CaptureHandler> capture_;
};

}  // namespace tapir::eth
