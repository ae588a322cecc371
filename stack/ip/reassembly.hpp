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
  Duration timeout = 30s;               // as Linux's ipfrag_time; RFC 1122 §3.3.2 allows 60-120
  std::size_t memory_limit = 4 << 20;   // bytes held in all incomplete datagrams (ipfrag_high_thresh)
};

enum class ReassemblyResult : std::uint8_t {
  complete,    // the returned packet is the whole datagram
  incomplete,  // held; waiting for more fragments
  duplicate,   // an exact copy of a held fragment: ignored
  overlap,     // overlapped a held fragment: the whole datagram was discarded
  oversize,    // would exceed 65535 bytes (ping of death): the whole datagram was discarded
  no_memory,   // the memory cap refused this fragment
  malformed,   // a non-final fragment whose payload is not a multiple of 8
};

// Holds incomplete datagrams keyed by (src, dst, protocol, id); each has a timer in the stack's
// TimerQueue. Memory is counted in fragment bytes and capped.
class Reassembler {
 public:
  // Called when a datagram times out. `first_fragment` holds the header and the first
  // payload bytes of fragment 0 if it arrived (else empty): RFC 1122 §3.3.2 sends ICMP time
  // exceeded (code 1) only then.
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
  std::size_t memory_used() const { return memory_used_; }

 private:
  struct Key {
    std::uint32_t src, dst;
    std::uint16_t id;
    std::uint8_t protocol;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Queue {
    std::map<std::uint16_t, std::vector<std::uint8_t>> fragments;  // offset -> payload
    std::vector<std::uint8_t> first_header;  // header of fragment 0 (with options), once seen
    std::optional<std::uint16_t> total_payload;  // known once the last fragment (MF=0) arrives
    std::size_t bytes = 0;                       // payload bytes held
    TimerId timer = 0;
  };

  void discard(const Key& key);
  void expire(const Key& key);
  bool try_complete(Queue& q, Packet& out) const;

  TimerQueue& timers_;
  ReassemblyConfig config_;
  TimeoutFn on_timeout_;
  std::unordered_map<Key, Queue, KeyHash> queues_;
  std::size_t memory_used_ = 0;
};

}  // namespace tapir::ip
