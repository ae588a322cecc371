// IPv4 reassembly: holds each datagram's fragments until none is missing (RFC 791 §3.2).
#include "stack/ip/reassembly.hpp"

#include <algorithm>
#include <iterator>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::ip {

std::size_t Reassembler::KeyHash::operator()(const Key& k) const {
  // splitmix64's finalizer over every key bit and the per-stack seed: the fields an attacker
  // varies (id, source) change every output bit, and without the seed it cannot predict which.
  std::uint64_t x = ((std::uint64_t{k.src} << 32) | k.dst) ^ seed;
  x ^= ((std::uint64_t{k.id} << 8) | k.protocol) * 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

std::size_t Reassembler::Queue::end() const {
  if (fragments.empty()) return 0;
  const auto& [offset, payload] = *fragments.rbegin();
  return std::size_t{offset} + payload.size();
}

Reassembler::Reassembler(TimerQueue& timers, ReassemblyConfig config, TimeoutFn on_timeout)
    : timers_(timers),
      config_(config),
      on_timeout_(std::move(on_timeout)),
      queues_(16, KeyHash{config.hash_seed}) {}

Reassembler::~Reassembler() {
  // The timers capture `this`; none may fire after it is gone.
  for (const auto& [key, q] : queues_) timers_.cancel(q.timer);
}

ReassemblyResult Reassembler::add(const Repr& header, std::span<const std::uint8_t> datagram,
                                  Instant now, Packet& out) {
  // A Repr that disagrees with its bytes is a caller's bug; refuse rather than read past them.
  if (header.header_len < min_header_len || header.total_len < header.header_len ||
      datagram.size() < header.total_len) {
    return ReassemblyResult::malformed;
  }
  const auto payload = datagram.subspan(header.header_len, header.payload_len());
  const std::size_t offset = header.fragment_offset;
  const std::size_t end = offset + payload.size();
  // RFC 791 §3.2: offsets count 8-octet blocks, so every fragment but the last carries a
  // multiple of 8 octets; one that does not was not made by a conforming sender.
  if (header.more_fragments && payload.size() % 8 != 0) return ReassemblyResult::malformed;
  // An empty fragment adds no data, only a queue to hold (Linux's ip_frag_queue drops it too).
  if (header.is_fragment() && payload.empty()) return ReassemblyResult::malformed;

  const Key key{header.src.value(), header.dst.value(), header.id, header.protocol};
  auto found = queues_.find(key);
  Queue* q = found == queues_.end() ? nullptr : &found->second;

  // Ping of death: the reassembled datagram (fragment 0's header + the payload) must fit the
  // 16-bit total length (RFC 791 §3.1). Until fragment 0 arrives, this fragment's header stands
  // in for its length; fragment 0 re-checks everything held when it comes.
  const std::size_t header0 = (offset == 0 || q == nullptr || q->first_header.empty())
                                  ? header.header_len
                                  : q->first_header.size();
  if (std::max(end, q ? q->end() : 0) + header0 > max_datagram_len) {
    if (q) discard(key);
    return ReassemblyResult::oversize;
  }

  if (q) {
    if (auto verdict = conflict(*q, header, end)) {
      if (*verdict != ReassemblyResult::duplicate) discard(key);
      return *verdict;
    }
  }

  // The cap refuses new fragments instead of evicting held datagrams: the sender of a flood
  // controls which datagrams are newest, so evicting the oldest would let it flush every
  // legitimate datagram in progress. Refused, a flood only delays new datagrams until its own
  // queues time out (Linux since 4.17 likewise refuses above ipfrag_high_thresh).
  const std::size_t cost = payload.size() + fragment_overhead +
                           (offset == 0 ? header.header_len : 0) +
                           (q == nullptr ? datagram_overhead : 0);
  if (memory_used_ + cost > config_.memory_limit) return ReassemblyResult::no_memory;
  if (memory_used_by(header.src) + cost > config_.per_source_limit) {
    return ReassemblyResult::source_limit;
  }

  if (q == nullptr) {
    q = &queues_[key];
    // RFC 1122 §3.3.2: a fixed timeout from the first fragment. Later fragments do not extend
    // it (RFC 791 raises it to each fragment's TTL), so a trickle cannot hold memory for ever.
    q->timer = timers_.schedule(now + config_.timeout, [this, key](Instant) { expire(key); });
  }
  q->fragments.emplace(static_cast<std::uint16_t>(offset),
                       std::vector<std::uint8_t>(payload.begin(), payload.end()));
  if (offset == 0) q->first_header.assign(datagram.begin(), datagram.begin() + header.header_len);
  if (!header.more_fragments) q->total_payload = static_cast<std::uint16_t>(end);
  q->payload_held += payload.size();
  q->bytes += cost;
  charge(key.src, cost);

  if (!try_complete(*q, out)) return ReassemblyResult::incomplete;
  discard(key);
  return ReassemblyResult::complete;
}

std::optional<ReassemblyResult> Reassembler::conflict(const Queue& q, const Repr& header,
                                                      std::size_t end) const {
  const std::size_t offset = header.fragment_offset;
  // Fragments that disagree on where the datagram ends cannot all be true, so none is trusted:
  // like an overlap, the whole datagram goes (as Linux's ip_frag_queue does).
  if (!header.more_fragments) {
    if ((q.total_payload && *q.total_payload != end) || end < q.end()) {
      return ReassemblyResult::overlap;
    }
  } else if (q.total_payload && end > *q.total_payload) {
    return ReassemblyResult::overlap;
  }

  const auto next = q.fragments.lower_bound(static_cast<std::uint16_t>(offset));
  // RFC 8200 §4.5: the network duplicates fragments, and an exact duplicate may be dropped
  // while the rest of the datagram is kept.
  if (next != q.fragments.end() && next->first == offset && next->second.size() == end - offset) {
    return ReassemblyResult::duplicate;
  }
  // RFC 5722 §4 (written for IPv6; Linux applies it to IPv4 since 4.19, 2018): any other
  // overlap abandons the whole datagram. Choosing which copy of the bytes to keep is how
  // overlapping fragments slip past firewalls and IDSs (RFC 1858 §4).
  if (next != q.fragments.end() && next->first < end) return ReassemblyResult::overlap;
  if (next != q.fragments.begin()) {
    const auto prev = std::prev(next);
    if (prev->first + prev->second.size() > offset) return ReassemblyResult::overlap;
  }
  return std::nullopt;
}

bool Reassembler::try_complete(Queue& q, Packet& out) const {
  // Fragments never overlap and none lies past the end, so once the bytes held add up to the
  // whole payload no hole is left (the question RFC 815's hole list answers, in O(1)).
  if (!q.total_payload || q.payload_held != *q.total_payload || q.first_header.empty()) {
    return false;
  }
  const std::size_t header_len = q.first_header.size();
  Packet p(header_len + *q.total_payload);
  std::uint8_t* h = p.data();
  std::copy(q.first_header.begin(), q.first_header.end(), h);
  for (const auto& [offset, payload] : q.fragments) {
    std::copy(payload.begin(), payload.end(), h + header_len + offset);
  }
  // RFC 791 §3.2 reassembly: the result is fragment 0's header (its options are the
  // datagram's) describing the whole: its length, no MF, offset 0. Fragment 0's reserved bit
  // and DF survive.
  View v(p.bytes());
  v.set_total_len(static_cast<std::uint16_t>(p.size()));
  v.set_flags_offset(
      static_cast<std::uint16_t>(v.flags_offset() & (flags::reserved | flags::dont_fragment)));
  v.set_checksum(0);
  v.set_checksum(internet_checksum({h, header_len}));
  out = std::move(p);
  return true;
}

std::size_t Reassembler::memory_used_by(Ipv4Address src) const {
  const auto it = used_by_source_.find(src.value());
  return it == used_by_source_.end() ? 0 : it->second;
}

void Reassembler::charge(std::uint32_t src, std::size_t cost) {
  memory_used_ += cost;
  used_by_source_[src] += cost;
}

void Reassembler::release(std::uint32_t src, std::size_t bytes) {
  memory_used_ -= bytes;
  const auto it = used_by_source_.find(src);
  it->second -= bytes;
  if (it->second == 0) used_by_source_.erase(it);
}

void Reassembler::discard(const Key& key) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return;
  timers_.cancel(it->second.timer);
  release(key.src, it->second.bytes);
  queues_.erase(it);
}

void Reassembler::expire(const Key& key) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return;
  // RFC 1122 §3.3.2: time exceeded is sent only if fragment 0 arrived; it quotes that
  // fragment's header and data (RFC 792 wants at least 64 bits of it).
  std::vector<std::uint8_t> first;
  const Queue& q = it->second;
  if (!q.first_header.empty()) {
    const auto& payload0 = q.fragments.begin()->second;
    first = q.first_header;
    first.insert(first.end(), payload0.begin(), payload0.end());
  }
  release(key.src, q.bytes);
  queues_.erase(it);  // the timer has fired: nothing to cancel
  // Last, with the queue gone: the handler may send ICMP, and that may loop back into add().
  if (on_timeout_) on_timeout_(first);
}

}  // namespace tapir::ip
