// OutOfOrderQueue: data that arrived ahead of RCV.NXT, kept and merged until the gap fills.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "stack/tcp/byte_ring.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

// RFC 9293 §3.10.7.4 ("segments with higher beginning sequence numbers may be held for later
// processing") and RFC 1122 §4.2.2.20. Memory is bounded by the receive window: only bytes in
// [next, next + window) are kept, so the queue never holds more than SO_RCVBUF.
// Overlapping and duplicate data merge into disjoint ranges (the earlier copy wins).
class OutOfOrderQueue {
 public:
  // Keeps the part of `data` (whose first byte is `seq`) inside [next, next + window).
  void insert(SeqNum next, std::uint32_t window, SeqNum seq, std::span<const std::uint8_t> data);
  // Moves the run of bytes that begins exactly at `next` into `out` (as much as out has room
  // for) and forgets any kept bytes before `next`. Returns how many bytes were moved.
  std::size_t take(SeqNum next, ByteRing& out);

  std::size_t bytes() const { return bytes_; }
  bool empty() const { return ranges_.empty(); }
  // The kept ranges, lowest first, as SACK blocks (RFC 2018) would report them.
  std::vector<SackBlock> ranges() const;
  void clear();

 private:
  using Ranges = std::map<std::uint32_t, std::vector<std::uint8_t>>;

  // Drops the bytes before `next` and keeps base_ within 2^30 of it.
  void forget_before(SeqNum next);
  // Removes the first `n` bytes of the range at `it` (it then starts n bytes later).
  void drop_front(Ranges::iterator it, std::size_t n);
  // Re-keys every range as an offset from `to`.
  void rebase(SeqNum to);

  // Keyed by the offset of each range's first byte from `base_`, so the map's order is the
  // sequence order even across the 2^32 wrap. base_ moves with take().
  Ranges ranges_;
  SeqNum base_;
  bool based_ = false;
  std::size_t bytes_ = 0;
};

}  // namespace tapir::tcp
