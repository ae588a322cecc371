// ARP (RFC 826) over Ethernet/IPv4: the wire format and the neighbour cache with its queue.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/dispatch.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/link/ethernet.hpp"
#include "stack/link/netif.hpp"

namespace tapir::arp {

inline constexpr std::size_t packet_len = 28;  // Ethernet/IPv4 ARP

enum class Op : std::uint16_t { request = 1, reply = 2 };

struct Repr {
  Op op = Op::request;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;

  // nullopt unless hardware type 1 (Ethernet), protocol 0x0800, lengths 6/4, op 1 or 2.
  static std::optional<Repr> parse(std::span<const std::uint8_t> bytes);
  void emit(std::span<std::uint8_t> out) const;  // out.size() >= packet_len
};

enum class State : std::uint8_t { incomplete, resolved, permanent };

struct Entry {
  State state = State::incomplete;
  MacAddress mac;
  Instant last_used;           // last datagram sent through this entry
  int requests_sent = 0;       // requests for the current resolution
  TimerId timer = 0;           // retry (incomplete) or expiry (resolved)
  std::deque<Packet> pending;  // RFC 1122 §2.3.2.2: datagrams held until resolution
  std::size_t pending_bytes = 0;
  std::list<std::pair<NetifId, Ipv4Address>>::iterator lru;  // not for permanent entries
};

struct Config {
  Duration retry_interval = 1s;   // RFC 1122 §2.3.2.1: at most one request per second
  int max_requests = 3;           // then give up: ICMP host unreachable
  Duration reachable_time = 60s;  // a resolved entry is forgotten this long after learning
  Duration active_window = 10s;   // an entry used this recently is never evicted
  std::size_t max_entries = 512;  // flood cap on dynamic entries
  std::size_t max_pending_bytes_per_entry = 212992;  // as Linux's unres_qlen_bytes
  std::size_t max_pending_bytes_total = 1 << 20;
};

// The neighbour cache of all interfaces (Xinu's arptab, arp_in, arpalloc, arpqsend, arptimer).
class Cache {
 public:
  Cache(Context& context, Interfaces& interfaces, eth::Layer& eth, Config config)
      : context_(context), interfaces_(interfaces), eth_(eth), config_(config) {}

  // arp_in: an ARP packet arrived on `netif`.
  void input(Netif& netif, std::span<const std::uint8_t> bytes);
  // netwrite: send `datagram` to `next_hop` on `netif`, resolving it first if needed
  // (broadcast and multicast map without asking).
  void output(Netif& netif, Ipv4Address next_hop, Packet&& datagram);
  // Announce our address (gratuitous ARP request, RFC 5227 §2.3 style).
  void announce(Netif& netif);
  void add_permanent(NetifId netif, Ipv4Address ip, MacAddress mac);

  const Entry* find(NetifId netif, Ipv4Address ip) const;
  // f(netif, ip, entry) for every entry, in no particular order (tapirctl neigh).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, entry] : table_) f(key.first, key.second, entry);
  }
  std::size_t size() const { return table_.size(); }
  std::size_t pending_bytes() const { return pending_total_; }
  const Config& config() const { return config_; }

  // RFC 1122 §2.3.2.2: an address that never answered leaves its held datagrams undeliverable;
  // each is handed here (stack.cpp has ICMP send host unreachable about it).
  using UnreachableHandler = void(std::span<const std::uint8_t> datagram);
  void on_unreachable(std::function<UnreachableHandler> handler) {
    unreachable_.set(std::move(handler));
  }

 private:
  using Key = std::pair<NetifId, Ipv4Address>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<Ipv4Address>{}(k.second) ^ (std::size_t{k.first} << 1);
    }
  };

  Entry* allocate(const Key& key);  // arpalloc: may evict an idle entry, may fail
  void resolve(const Key& key, Entry& entry, MacAddress mac);
  void send_request(Netif& netif, Ipv4Address target);
  void send_reply(Netif& netif, const Repr& request);
  void retry(const Key& key);  // arptimer for an incomplete entry
  void give_up(const Key& key);
  void remove(const Key& key);
  void touch(Entry& entry);

  Context& context_;
  Interfaces& interfaces_;
  eth::Layer& eth_;
  Config config_;
  Hook<UnreachableHandler> unreachable_;
  std::unordered_map<Key, Entry, KeyHash> table_;
  std::list<Key> lru_;  // dynamic entries, least recently used first
  std::size_t pending_total_ = 0;
};

}  // namespace tapir::arp
