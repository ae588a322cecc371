// IGMP (RFC 1112, RFC 2236, RFC 3376) host side: the host-group table, reports and queries.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/timer.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/link/netif.hpp"

namespace tapir {

class Stack;

namespace igmp {

// RFC 3376 §3.1: a socket's (or an interface's) reception state for one group.
enum class FilterMode : std::uint8_t { include, exclude };

struct Filter {
  FilterMode mode = FilterMode::exclude;  // EXCLUDE {} = an ordinary (any-source) join
  std::set<Ipv4Address> sources;
  friend bool operator==(const Filter&, const Filter&) = default;
};

struct Config {
  // 0: IGMPv3 unless a v1/v2 querier is heard (RFC 3376 §7), as Linux; 1, 2 or 3: forced
  // (Linux's force_igmp_version).
  int force_version = 0;
  int robustness = 2;                         // RFC 3376 §8.1
  Duration unsolicited_report_interval = 1s;  // RFC 3376 §8.11 (v3); RFC 2236 says 10 s
};

// The host-group table (Xinu's hgjoin/hgleave/hglookup, as a hash table) and the IGMP host
// protocol. Sockets state their filter per (interface, group); the layer merges them into
// the interface state (RFC 3376 §3.2), keeps the link-layer filter in step, and reports.
class Layer {
 public:
  Layer(Stack& stack, Config config);
  ~Layer();
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // igmp_in: a message arrived (queries, other members' reports for suppression).
  void input(const ip::Delivery& delivery, Packet& payload);

  // An interface came up: it joins 224.0.0.1 (all-hosts), which is never reported
  // (RFC 2236 §6, RFC 3376 §5).
  void interface_up(Netif& netif);

  // Socket `owner` (any stable id, e.g. the socket's fd) sets its filter for `group` on
  // `netif`; nullopt leaves the group. Recomputes the interface state and sends the
  // state-change report (v3) or join report / leave (v1, v2) that the change calls for.
  void set_socket_filter(NetifId netif, Ipv4Address group, int owner,
                         const std::optional<Filter>& filter);

  // Does any socket on `netif` want `group`, and does the interface state let `source`
  // through (RFC 3376 §3.2)? Used by IP input to accept multicast datagrams.
  bool accepts(NetifId netif, Ipv4Address group, Ipv4Address source) const;
  bool joined(NetifId netif, Ipv4Address group) const;
  // The interface state (merged filter) for a group, if joined.
  std::optional<Filter> interface_filter(NetifId netif, Ipv4Address group) const;
  // The IGMP version in use on `netif` (3, or 1/2 after hearing an older querier).
  int version(NetifId netif) const;

  const Config& config() const { return config_; }

 private:
  struct Group;
  struct Interface;
  // (implementation's own members)
  Stack& stack_;
  Config config_;
};

}  // namespace igmp
}  // namespace tapir
