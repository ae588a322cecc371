// Trace: one line per decision a layer makes.
#include "stack/core/trace.hpp"

#include <array>
#include <cstdio>

namespace tapir {

namespace {
constexpr std::array<std::string_view, 9> kLayerNames = {"eth", "arp", "ip",   "icmp",  "igmp",
                                                         "udp", "tcp", "sock", "tcp-cc"};
}

std::string_view Trace::name(Layer layer) {
  return kLayerNames[static_cast<std::size_t>(layer)];
}

std::optional<std::uint32_t> Trace::parse_layers(std::string_view list, std::string* bad) {
  std::uint32_t mask = 0;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item == "all") {
      mask = ~0U;
      continue;
    }
    bool found = false;
    for (std::size_t i = 0; i < kLayerNames.size(); ++i) {
      if (kLayerNames[i] == item) {
        mask |= bit(static_cast<Layer>(i));
        found = true;
      }
    }
    if (!found) {
      if (bad) *bad = std::string(item);
      return std::nullopt;
    }
  }
  return mask;
}

void Trace::line(Instant now, Layer layer, std::string_view text) const {
  if (!sink_) return;
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%lld.%06lld ", static_cast<long long>(now.micros() / 1000000),
                static_cast<long long>(now.micros() % 1000000));
  std::string out = stamp;
  out += name(layer);
  out += ' ';
  out += text;
  sink_(out);
}

}  // namespace tapir
