// ARP (RFC 826, RFC 1122 §2.3.2): arp_in, the resolve-and-queue path, retries, aging, eviction.
#include "stack/link/arp.hpp"

#include "stack/core/bytes.hpp"

namespace tapir::arp {

namespace {
constexpr std::uint16_t hw_ethernet = 1;
constexpr std::uint16_t proto_ipv4 = 0x0800;
}  // namespace

std::optional<Repr> Repr::parse(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < packet_len) return std::nullopt;
  const std::uint8_t* p = bytes.data();
  if (load16(p) != hw_ethernet || load16(p + 2) != proto_ipv4 || p[4] != 6 || p[5] != 4) {
    return std::nullopt;
  }
  const std::uint16_t op = load16(p + 6);
  if (op != static_cast<std::uint16_t>(Op::request) &&
      op != static_cast<std::uint16_t>(Op::reply)) {
    return std::nullopt;
  }
  return Repr{static_cast<Op>(op), MacAddress::from(p + 8), Ipv4Address{load32(p + 14)},
              MacAddress::from(p + 18), Ipv4Address{load32(p + 24)}};
}

void Repr::emit(std::span<std::uint8_t> out) const {
  std::uint8_t* p = out.data();
  store16(p, hw_ethernet);
  store16(p + 2, proto_ipv4);
  p[4] = 6;
  p[5] = 4;
  store16(p + 6, static_cast<std::uint16_t>(op));
  sender_mac.copy_to(p + 8);
  store32(p + 14, sender_ip.value());
  target_mac.copy_to(p + 18);
  store32(p + 24, target_ip.value());
}

const Entry* Cache::find(NetifId netif, Ipv4Address ip) const {
  auto it = table_.find(Key{netif, ip});
  return it == table_.end() ? nullptr : &it->second;
}

void Cache::input(Netif& netif, std::span<const std::uint8_t> bytes) {
  Stats& stats = context_.stats();
  auto arp = Repr::parse(bytes);
  if (!arp || arp->sender_mac.is_multicast() || arp->sender_ip.is_multicast() ||
      arp->sender_ip.is_broadcast()) {
    stats.arpInErrors++;
    return;
  }
  (arp->op == Op::request ? stats.arpInRequests : stats.arpInReplies)++;
  context_.trace(tapir::Layer::arp, [&] {
    return netif.name + (arp->op == Op::request ? " in who-has " : " in reply ") +
           arp->target_ip.to_string() + " tell " + arp->sender_ip.to_string() + " (" +
           arp->sender_mac.to_string() + ")";
  });
  // RFC 5227 §2.4: a packet claiming our own address is a conflict, never a neighbour.
  if (interfaces_.is_local(arp->sender_ip)) {
    stats.arpInIgnored++;
    context_.trace(tapir::Layer::arp, [&] {
      return "address conflict: " + arp->sender_mac.to_string() + " claims " +
             arp->sender_ip.to_string();
    });
    return;
  }
  const bool for_us = netif.has_address(arp->target_ip);
  const Key key{netif.id, arp->sender_ip};

  // RFC 826 "Packet Reception": update the sender's entry if we have one (the merge flag),
  // add it if the packet is for us. tapir refuses to *change* a resolved entry's address from
  // unsolicited traffic: that is how ARP spoofing redirects a neighbour (DESIGN.md principle
  // 6); a neighbour that really changed its MAC is relearned when the entry ages out.
  if (!arp->sender_ip.is_unspecified()) {
    auto it = table_.find(key);
    if (it != table_.end()) {
      Entry& entry = it->second;
      if (entry.state == State::incomplete) {
        resolve(key, entry, arp->sender_mac);
      } else if (entry.mac == arp->sender_mac) {
        if (entry.state == State::resolved) resolve(key, entry, arp->sender_mac);  // confirmed
      } else {
        stats.arpInSpoofRejected++;
        context_.trace(tapir::Layer::arp, [&] {
          return "refuse " + arp->sender_ip.to_string() + " is-at " + arp->sender_mac.to_string() +
                 ": resolved to " + entry.mac.to_string();
        });
      }
    } else if (for_us) {
      if (Entry* entry = allocate(key)) resolve(key, *entry, arp->sender_mac);
    } else {
      stats.arpInIgnored++;
    }
  }
  if (for_us && arp->op == Op::request) send_reply(netif, *arp);
}

void Cache::output(Netif& netif, Ipv4Address next_hop, Packet&& datagram) {
  // RFC 1122 §3.3.6 / RFC 1112 §6.4: broadcast and multicast need no resolution.
  if (next_hop.is_broadcast() || netif.is_directed_broadcast(next_hop)) {
    eth_.output(netif, MacAddress::broadcast(), eth::EtherType::ipv4, std::move(datagram));
    return;
  }
  if (next_hop.is_multicast()) {
    eth_.output(netif, MacAddress::multicast_for(next_hop), eth::EtherType::ipv4,
                std::move(datagram));
    return;
  }
  const Key key{netif.id, next_hop};
  auto it = table_.find(key);
  Entry* entry = it == table_.end() ? nullptr : &it->second;
  if (entry && entry->state != State::incomplete) {
    touch(*entry);
    eth_.output(netif, entry->mac, eth::EtherType::ipv4, std::move(datagram));
    return;
  }
  if (!entry) {
    entry = allocate(key);
    if (!entry) return;  // counted in allocate
    touch(*entry);
    send_request(netif, next_hop);
    entry->requests_sent = 1;
    entry->timer = context_.timers().schedule(context_.now() + config_.retry_interval,
                                              [this, key](Instant) { retry(key); });
  }
  // RFC 1122 §2.3.2.2: SHOULD save at least one (the latest) packet per unresolved address.
  // We keep a byte-bounded queue so a fragmented datagram survives an ARP miss whole.
  if (entry->pending_bytes + datagram.size() > config_.max_pending_bytes_per_entry ||
      pending_total_ + datagram.size() > config_.max_pending_bytes_total) {
    context_.stats().arpQueueDrops++;
    return;
  }
  entry->pending_bytes += datagram.size();
  pending_total_ += datagram.size();
  entry->pending.push_back(std::move(datagram));
}

void Cache::announce(Netif& netif) {
  if (!netif.address) return;
  // RFC 5227 §2.3: an ARP announcement is a request with sender and target IP both ours.
  send_request(netif, netif.address->address);
}

void Cache::add_permanent(NetifId netif, Ipv4Address ip, MacAddress mac) {
  const Key key{netif, ip};
  // Datagrams waiting for this address leave now rather than being lost with the old entry.
  std::deque<Packet> pending;
  if (auto it = table_.find(key); it != table_.end()) pending = std::move(it->second.pending);
  remove(key);
  Entry& entry = table_[key];
  entry.state = State::permanent;
  entry.mac = mac;
  Netif& out = interfaces_.at(netif);
  for (Packet& p : pending) eth_.output(out, mac, eth::EtherType::ipv4, std::move(p));
}

Entry* Cache::allocate(const Key& key) {
  // arpalloc: the table is capped; when full, the least recently used entry goes, but only
  // if it is idle. An ARP flood can therefore neither grow memory nor push out neighbours
  // that carry traffic (PEERS.md: smoltcp#965).
  std::size_t dynamic = lru_.size();
  if (dynamic >= config_.max_entries) {
    const Key victim = lru_.front();
    const Entry& old = table_.at(victim);
    if (old.state == State::incomplete || context_.now() - old.last_used < config_.active_window) {
      context_.stats().arpCacheFullDrops++;
      return nullptr;
    }
    context_.stats().arpCacheEvictions++;
    remove(victim);
  }
  auto [it, inserted] = table_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted) {
    // Not yet used for sending, so idle: it goes to the front, the first to be evicted. An
    // entry that carries traffic moves to the back (touch), so the front is always idle if
    // any entry is.
    lru_.push_front(key);
    entry.lru = lru_.begin();
    entry.last_used = context_.now() - config_.active_window;
  }
  return &entry;
}

void Cache::touch(Entry& entry) {
  entry.last_used = context_.now();
  if (entry.state != State::permanent) lru_.splice(lru_.end(), lru_, entry.lru);
}

void Cache::resolve(const Key& key, Entry& entry, MacAddress mac) {
  entry.state = State::resolved;
  entry.mac = mac;
  entry.requests_sent = 0;
  // RFC 1122 §2.3.2.1: entries must time out so a stale mapping is not used forever.
  entry.timer = context_.timers().reschedule(entry.timer, context_.now() + config_.reachable_time,
                                             [this, key](Instant) { remove(key); });
  context_.trace(tapir::Layer::arp, [&] {
    return "resolved " + key.second.to_string() + " is-at " + mac.to_string() + ", sending " +
           std::to_string(entry.pending.size()) + " queued";
  });
  std::deque<Packet> pending = std::move(entry.pending);
  entry.pending.clear();
  pending_total_ -= entry.pending_bytes;
  entry.pending_bytes = 0;
  Netif& netif = interfaces_.at(key.first);
  for (Packet& p : pending) eth_.output(netif, mac, eth::EtherType::ipv4, std::move(p));
}

void Cache::retry(const Key& key) {
  auto it = table_.find(key);
  if (it == table_.end()) return;
  Entry& entry = it->second;
  entry.timer = 0;
  if (entry.requests_sent >= config_.max_requests) {
    give_up(key);
    return;
  }
  entry.requests_sent++;
  send_request(interfaces_.at(key.first), key.second);
  entry.timer = context_.timers().schedule(context_.now() + config_.retry_interval,
                                           [this, key](Instant) { retry(key); });
}

void Cache::give_up(const Key& key) {
  auto node = table_.extract(key);
  Entry& entry = node.mapped();
  lru_.erase(entry.lru);
  pending_total_ -= entry.pending_bytes;
  context_.stats().arpResolveFailures++;
  context_.trace(tapir::Layer::arp, [&] {
    return "no answer from " + key.second.to_string() + ", dropping " +
           std::to_string(entry.pending.size()) + " queued";
  });
  // RFC 1122 §2.3.2.2 / §3.2.2.1: the sender is told the host is unreachable (by ICMP, which
  // applies the never-send rules, e.g. only about a first fragment).
  for (const Packet& p : entry.pending) unreachable_(p.bytes());
}

void Cache::remove(const Key& key) {
  auto it = table_.find(key);
  if (it == table_.end()) return;
  Entry& entry = it->second;
  context_.timers().cancel(entry.timer);
  if (entry.state != State::permanent) lru_.erase(entry.lru);
  pending_total_ -= entry.pending_bytes;
  table_.erase(it);
}

void Cache::send_request(Netif& netif, Ipv4Address target) {
  if (!netif.address) return;
  Packet p(packet_len);
  Repr{Op::request, netif.mac, netif.address->address, MacAddress{}, target}.emit(p.bytes());
  context_.stats().arpOutRequests++;
  context_.trace(tapir::Layer::arp, [&] {
    return netif.name + " out who-has " + target.to_string() + " tell " +
           netif.address->address.to_string();
  });
  eth_.output(netif, MacAddress::broadcast(), eth::EtherType::arp, std::move(p));
}

void Cache::send_reply(Netif& netif, const Repr& request) {
  Packet p(packet_len);
  Repr{Op::reply, netif.mac, request.target_ip, request.sender_mac, request.sender_ip}.emit(
      p.bytes());
  context_.stats().arpOutReplies++;
  context_.trace(tapir::Layer::arp, [&] {
    return netif.name + " out reply " + request.target_ip.to_string() + " is-at " +
           netif.mac.to_string() + " to " + request.sender_ip.to_string();
  });
  // RFC 826: the reply goes to the requester's hardware address, not broadcast.
  eth_.output(netif, request.sender_mac, eth::EtherType::arp, std::move(p));
}

}  // namespace tapir::arp
