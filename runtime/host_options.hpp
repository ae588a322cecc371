// HostOptions: what the common flags (--tap/--packet/--ip/...) said, in the stack's own types,
// for the runtime's Host; apps see them only as an opaque tapir::Options (<tapir/app.hpp>).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/fault_model.hpp"
#include "stack/core/address.hpp"
#include "stack/core/time.hpp"

namespace tapir::runtime {

// One --tap or --packet with the flags that followed it.
struct InterfaceOptions {
  enum class Kind : std::uint8_t { tap, packet };
  Kind kind = Kind::tap;
  std::string device;
  std::optional<Ipv4Cidr> address;   // --ip; none: the interface only forwards
  std::optional<std::uint32_t> mtu;  // --mtu; none: 1500 for a TAP, the device's for --packet
  std::optional<MacAddress> mac;     // --mac; none: see Host (derived, or the device's own)
};

struct RouteOptions {
  Ipv4Cidr destination;  // network (host bits zero)
  Ipv4Address gateway;
};

// --limit KEY=N,...: the stack's caps (docs/ROBUSTNESS.md, "Caps"); none given: the default.
struct Limits {
  std::optional<std::size_t> arp_entries;             // arp::Config::max_entries
  std::optional<std::size_t> arp_queue_bytes;         // arp::Config::max_pending_bytes_total
  std::optional<std::size_t> reasm_bytes;             // ip::ReassemblyConfig::memory_limit
  std::optional<std::size_t> reasm_bytes_per_source;  // ip::ReassemblyConfig::per_source_limit
  std::optional<std::size_t> syn_backlog;             // tcp::Config::max_syn_backlog
  std::optional<std::size_t> syn_per_source;          // tcp::Config::max_syn_per_source
  std::optional<std::size_t> connections;             // tcp::Config::max_connections
  std::optional<std::size_t> echo_rate;  // icmp::Config::echo_rate (replies per second)
};

struct HostOptions {
  std::vector<InterfaceOptions> interfaces;
  std::optional<Ipv4Address> gateway;  // --gw
  std::vector<RouteOptions> routes;    // --route, in command-line order
  bool forward = false;                // --forward
  int igmp_version = 0;                // --igmp-version; 0: IGMPv3, falling back (RFC 3376 §7)
  std::optional<Duration> msl;         // --msl SECONDS: TCP's MSL (TIME-WAIT is 2 MSL)
  std::string_view congestion;         // --congestion NAME (a tcp::available_congestion name)
  std::optional<bool> syn_cookies;     // --syn-cookies on|off (RFC 4987 §3.6)
  std::optional<bool> offload;         // --offload on|off (TAP: IFF_VNET_HDR, TUNSETOFFLOAD)
  Limits limits;                       // --limit KEY=N,...
  std::optional<std::string> pcap;     // --pcap FILE
  std::optional<LinkConfig> fault;     // --fault SPEC, both ways; Host derives per-link seeds
  std::uint32_t trace_layers = 0;      // --trace, a Trace::bit mask
  bool stats = false;                  // --stats
  std::optional<std::string> name;     // --name NAME: the control socket /run/tapir/NAME.sock
  bool no_ctl = false;                 // --no-ctl: no control socket
  bool help = false;                   // --help was given (parse_or_exit handles it)
};

}  // namespace tapir::runtime
