// Trace: one line per decision a layer makes (Xinu-style), switched on per layer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "stack/core/time.hpp"

namespace tapir {

// tcp_cc ("tcp-cc") is not a layer but TCP's congestion control: one CSV record per ACK,
// loss and timeout (docs/TCP.md, "Watching congestion control").
enum class Layer : std::uint8_t { eth, arp, ip, icmp, igmp, udp, tcp, sock, tcp_cc };

class Trace {
 public:
  using Sink = std::function<void(std::string_view line)>;

  // "eth,arp,ip" or "all"; nullopt (with the offending name in `bad`) on an unknown layer.
  static std::optional<std::uint32_t> parse_layers(std::string_view list, std::string* bad);
  static std::string_view name(Layer layer);

  void enable(std::uint32_t layer_mask) { mask_ = layer_mask; }
  std::uint32_t enabled() const { return mask_; }
  void set_sink(Sink sink) { sink_ = std::move(sink); }
  bool on(Layer layer) const { return (mask_ & bit(layer)) != 0 && sink_; }
  // Emits "<time> <layer> <text>"; call only when on(layer), so formatting costs nothing else.
  void line(Instant now, Layer layer, std::string_view text) const;

  static constexpr std::uint32_t bit(Layer layer) { return 1U << static_cast<unsigned>(layer); }

 private:
  std::uint32_t mask_ = 0;
  Sink sink_;
};

}  // namespace tapir
