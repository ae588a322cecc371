// IGMP (RFC 1112, RFC 2236, RFC 3376) host side: the host-group table, reports and queries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/timer.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/link/netif.hpp"

namespace tapir::igmp {

struct Query;
struct GroupRecord;

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
  Layer(Context& context, Interfaces& netifs, ip::Layer& ip, Config config);
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
  struct Key {
    NetifId netif = 0;
    Ipv4Address group;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return std::hash<Ipv4Address>{}(k.group) ^ (std::size_t{k.netif} << 1);
    }
  };

  // The host-group table (group_table.cpp).
  Group* find(Key key);
  const Group* find(Key key) const;
  Interface& interface(NetifId id);
  void recompute(Key key, Group& g);
  void erase_if_idle(Key key);
  Duration random_delay(Duration max);
  // Sends one IGMP message: TTL 1, Router Alert, never looped back (RFC 3376 §4, RFC 2236 §2).
  void transmit(NetifId netif, Packet&& message, Ipv4Address dst);

  // IGMPv3 (v3_host.cpp): RFC 3376 §5.
  void v3_state_changed(Key key, Group& g, const Filter& before);
  void v3_send_pending(Key key);
  void v3_query(NetifId netif, const Query& q);
  void v3_general_response(NetifId netif);
  void v3_group_response(Key key);
  void send_v3_records(NetifId netif, const std::vector<GroupRecord>& records);

  // IGMPv1/v2 (v2_host.cpp): RFC 2236 §6 and RFC 3376 §7.
  void v2_membership_changed(Key key, Group& g, bool was_member);
  void v2_query(NetifId netif, const Query& q);
  void v2_start_timer(Key key, Group& g, Duration max);
  void v2_timer_expired(Key key);
  void v2_heard_report(NetifId netif, Ipv4Address group);
  void older_querier_heard(NetifId netif, int querier_version);
  void compat_mode_changed(NetifId netif);
  void send_v1v2(NetifId netif, std::uint8_t type, Ipv4Address group, Ipv4Address dst);

  Context& context_;
  Interfaces& netifs_;
  ip::Layer& ip_;
  Config config_;
  std::unordered_map<Key, std::unique_ptr<Group>, KeyHash> groups_;
  std::unordered_map<NetifId, std::unique_ptr<Interface>> interfaces_;
};

}  // namespace tapir::igmp
