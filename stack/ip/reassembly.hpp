// IPv4 reassembly (RFC 791 §3.2; RFC 815 hole bookkeeping; RFC 5722's rule for overlaps).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/ip/ipv4_header.hpp"

namespace tapir::ip {

struct ReassemblyConfig {
  // As Linux's ipfrag_time; RFC 1122 §3.3.2 allows 60-120 s.
  Duration timeout = 30s;
  // Bytes held in all incomplete datagrams (Linux's ipfrag_high_thresh); see memory_used().
  std::size_t memory_limit = 4 << 20;
  // Of it, what the incomplete datagrams from one source address may hold: a flood of
  // fragments from one host fills its own share and leaves the rest for everyone else.
  std::size_t per_source_limit = 1 << 20;
  // Keys the hash of (src, dst, protocol, id), so a sender cannot aim its fragments at one
  // bucket; the Stack draws it from its seed.
  std::uint64_t hash_seed = 0;
};

enum class ReassemblyResult : std::uint8_t {
  complete,      // the returned packet is the whole datagram
  incomplete,    // held; waiting for more fragments
  duplicate,     // an exact copy of a held fragment: ignored
  overlap,       // overlapped a held fragment: the whole datagram was discarded
  oversize,      // would exceed 65535 bytes (ping of death): the whole datagram was discarded
  no_memory,     // the memory cap refused this fragment
  source_limit,  // the fragment's source holds its whole share (per_source_limit)
  malformed,     // a non-final fragment whose payload is not a multiple of 8
};

// Holds incomplete datagrams keyed by (src, dst, protocol, id); each has a timer in the stack's
// TimerQueue. Memory is counted in fragment bytes and capped.
class Reassembler {
 public:
  // Called when a datagram times out. `first_fragment` holds fragment 0 as it arrived (its
  // header and all its payload, so at least 8 bytes) if it arrived, else it is empty: RFC 1122
  // §3.3.2 sends ICMP time exceeded (code 1) only then. The span lives for the call only.
  using TimeoutFn = std::function<void(std::span<const std::uint8_t> first_fragment)>;

  Reassembler(TimerQueue& timers, ReassemblyConfig config, TimeoutFn on_timeout);
  ~Reassembler();
  Reassembler(const Reassembler&) = delete;
  Reassembler& operator=(const Reassembler&) = delete;

  // Adds one fragment (`datagram` = its header + payload, already validated as `header`).
  // On `complete`, `out` holds the reassembled datagram (header of fragment 0, with total
  // length, MF/offset and checksum rewritten).
  ReassemblyResult add(const Repr& header, std::span<const std::uint8_t> datagram, Instant now,
                       Packet& out);

  std::size_t datagrams() const { return queues_.size(); }
  // Bytes charged against config.memory_limit: every held payload byte, fragment 0's header,
  // and the fixed costs below. The fixed costs stand for the heap each fragment and datagram
  // takes beyond its bytes, so a flood of 8-byte fragments is capped as hard as one of big ones.
  std::size_t memory_used() const { return memory_used_; }
  // Of memory_used(), what datagrams from `src` hold.
  std::size_t memory_used_by(Ipv4Address src) const;
  static constexpr std::size_t fragment_overhead = 64;
  static constexpr std::size_t datagram_overhead = 256;

 private:
  struct Key {
    std::uint32_t src, dst;
    std::uint16_t id;
    std::uint8_t protocol;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::uint64_t seed = 0;
    std::size_t operator()(const Key& k) const;
  };
  struct Queue {
    std::map<std::uint16_t, std::vector<std::uint8_t>> fragments;  // offset -> payload
    std::vector<std::uint8_t> first_header;      // header of fragment 0 (with options), once seen
    std::optional<std::uint16_t> total_payload;  // known once the last fragment (MF=0) arrives
    std::size_t bytes = 0;                       // charged to memory_used_ (see memory_used())
    std::size_t payload_held = 0;                // payload bytes held (no overlaps: no hole
                                                 // once it equals total_payload)
    TimerId timer = 0;

    // One past the highest payload byte held (fragments never overlap, so the last one ends it).
    std::size_t end() const;
  };

  // Checks `header`'s fragment against the held ones; nullopt if it may be stored.
  std::optional<ReassemblyResult> conflict(const Queue& q, const Repr& header,
                                           std::size_t end) const;
  void charge(std::uint32_t src, std::size_t cost);
  void release(std::uint32_t src, std::size_t bytes);
  void discard(const Key& key);
  void expire(const Key& key);
  bool try_complete(Queue& q, Packet& out) const;

  TimerQueue& timers_;
  ReassemblyConfig config_;
  TimeoutFn on_timeout_;
  std::unordered_map<Key, Queue, KeyHash> queues_;
  std::size_t memory_used_ = 0;
  std::unordered_map<std::uint32_t, std::size_t> used_by_source_;  // only sources holding bytes
};

}  // namespace tapir::ip
