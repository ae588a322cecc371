// OutOfOrderQueue: keeps data beyond RCV.NXT inside the window, merged, until the gap fills.
#include "stack/tcp/out_of_order.hpp"

#include <algorithm>
#include <iterator>

namespace tapir::tcp {

namespace {
// RFC 7323 §2.3: no window exceeds 2^30 bytes. Keys are offsets from base_, and base_ is
// never 2^30 or more behind `next`, so every kept byte's key stays below 2^31 and the map's
// order is the sequence order.
constexpr std::uint32_t max_window = std::uint32_t{1} << 30;
}  // namespace

void OutOfOrderQueue::insert(SeqNum next, std::uint32_t window, SeqNum seq,
                             std::span<const std::uint8_t> data) {
  forget_before(next);
  window = std::min(window, max_window);
  // Cut to [next, next + window): bytes before next are already received; bytes past the
  // window would let a peer fill memory the receive buffer never promised (RFC 9293 §3.10.7.4).
  if (seq < next) {
    const auto old = static_cast<std::uint32_t>(next - seq);
    if (old >= data.size()) return;
    data = data.subspan(old);
    seq = next;
  }
  const auto ahead = static_cast<std::uint32_t>(seq - next);
  if (ahead >= window) return;
  data = data.first(std::min<std::size_t>(data.size(), window - ahead));
  if (data.empty()) return;

  const auto start = static_cast<std::uint32_t>(seq - base_);
  const std::uint32_t end = start + static_cast<std::uint32_t>(data.size());
  // The range that holds `start` or ends right at it grows; otherwise a new one begins there.
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.size() >= start) it = prev;
  }
  if (it == ranges_.end() || it->first > start)
    it = ranges_.emplace_hint(it, start, std::vector<std::uint8_t>{});
  std::vector<std::uint8_t>& merged = it->second;
  // Walk right: new bytes fill only the gaps and the ranges reached are absorbed. Held bytes
  // win where copies overlap, so a later segment cannot rewrite data already accepted (and
  // perhaps already reported in a SACK block).
  auto later = std::next(it);
  while (true) {
    const std::uint32_t held_end = it->first + static_cast<std::uint32_t>(merged.size());
    const bool absorb = later != ranges_.end() && later->first <= end;
    const std::uint32_t fill_to = absorb ? later->first : end;
    if (fill_to > held_end) {
      const auto from = data.begin() + (held_end - start);
      merged.insert(merged.end(), from, from + (fill_to - held_end));
      bytes_ += fill_to - held_end;
    }
    if (!absorb) break;
    merged.insert(merged.end(), later->second.begin(), later->second.end());
    later = ranges_.erase(later);
  }
}

std::size_t OutOfOrderQueue::take(SeqNum next, ByteRing& out) {
  forget_before(next);
  // Ranges never touch (insert merges them), so the run at `next` is the first range alone.
  if (ranges_.empty() || ranges_.begin()->first != static_cast<std::uint32_t>(next - base_)) {
    return 0;
  }
  auto first = ranges_.begin();
  const std::size_t moved = out.write(first->second);
  bytes_ -= moved;
  if (moved == first->second.size()) {
    ranges_.erase(first);
  } else {
    // The ring is full: the rest waits here for the application to read.
    drop_front(first, moved);
  }
  return moved;
}

std::vector<SackBlock> OutOfOrderQueue::ranges() const {
  std::vector<SackBlock> out;
  out.reserve(ranges_.size());
  for (const auto& [offset, held] : ranges_) {
    const SeqNum left = base_ + offset;
    out.push_back({left, left + static_cast<std::uint32_t>(held.size())});
  }
  return out;
}

void OutOfOrderQueue::clear() {
  ranges_.clear();
  based_ = false;
  bytes_ = 0;
}

void OutOfOrderQueue::forget_before(SeqNum next) {
  if (!based_ || ranges_.empty()) {
    base_ = next;
    based_ = true;
    return;
  }
  const std::int32_t ahead = next - base_;
  if (ahead < 0) {
    // RCV.NXT never moves back; a caller that says so anyway gets keys re-based below its
    // bytes rather than a map out of sequence order.
    rebase(next);
    return;
  }
  const auto cut = static_cast<std::uint32_t>(ahead);
  while (!ranges_.empty()) {
    auto first = ranges_.begin();
    const std::uint32_t first_end = first->first + static_cast<std::uint32_t>(first->second.size());
    if (first->first >= cut) break;
    if (first_end > cut) {
      bytes_ -= cut - first->first;
      drop_front(first, cut - first->first);
      break;
    }
    bytes_ -= first->second.size();
    ranges_.erase(first);
  }
  if (ranges_.empty()) {
    base_ = next;
  } else if (cut >= max_window) {
    rebase(next);  // rare (once per 2^30 bytes received), so the keys stay below 2^31
  }
}

void OutOfOrderQueue::drop_front(Ranges::iterator it, std::size_t n) {
  auto node = ranges_.extract(it);
  node.mapped().erase(node.mapped().begin(),
                      node.mapped().begin() + static_cast<std::ptrdiff_t>(n));
  node.key() += static_cast<std::uint32_t>(n);
  ranges_.insert(std::move(node));
}

void OutOfOrderQueue::rebase(SeqNum to) {
  const auto shift = static_cast<std::uint32_t>(base_ - to);
  Ranges moved;
  while (!ranges_.empty()) {
    auto node = ranges_.extract(ranges_.begin());
    node.key() += shift;
    moved.insert(moved.end(), std::move(node));
  }
  ranges_ = std::move(moved);
  base_ = to;
}

}  // namespace tapir::tcp
