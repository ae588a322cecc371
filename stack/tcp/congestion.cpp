// The congestion-control algorithms by name, for TCP_CONGESTION (as Linux lists them in
// net.ipv4.tcp_available_congestion_control).
#include "stack/tcp/congestion.hpp"

#include <array>

namespace tapir::tcp {

namespace {

struct Algorithm {
  std::string_view name;
  std::unique_ptr<CongestionControl> (*make)();
};

// A new algorithm is one more line here (and its file, a copy of reno.cpp).
constexpr std::array<Algorithm, 3> algorithms{{
    {"reno", make_reno},
    {"newreno", make_newreno},
    {"cubic", make_cubic},
}};

constexpr std::array<std::string_view, algorithms.size()> names = [] {
  std::array<std::string_view, algorithms.size()> out{};
  for (std::size_t i = 0; i < algorithms.size(); ++i) out[i] = algorithms[i].name;
  return out;
}();

}  // namespace

std::unique_ptr<CongestionControl> make_congestion(std::string_view name) {
  for (const Algorithm& a : algorithms) {
    if (a.name == name) return a.make();
  }
  return nullptr;
}

std::span<const std::string_view> available_congestion() {
  return names;
}

}  // namespace tapir::tcp
