// DelayLine: a time-ordered heap of held frames with recycled buffers.
#include "drivers/delay_line.hpp"

#include <algorithm>

namespace tapir {

namespace {
// Spare buffers kept for reuse; beyond this a burst's memory goes back to the allocator.
constexpr std::size_t max_spare = 256;
}  // namespace

void DelayLine::push(Instant due, std::span<const std::uint8_t> frame) {
  Buffer bytes;
  if (!spare_.empty()) {
    bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  bytes.assign(frame.begin(), frame.end());
  held_.push_back(Held{due, next_order_++, std::move(bytes)});
  std::push_heap(held_.begin(), held_.end(), later);
}

std::optional<DelayLine::Buffer> DelayLine::pop_due(Instant now) {
  if (held_.empty() || held_.front().due > now) return std::nullopt;
  std::pop_heap(held_.begin(), held_.end(), later);
  Buffer bytes = std::move(held_.back().bytes);
  held_.pop_back();
  return bytes;
}

void DelayLine::recycle(Buffer&& buffer) {
  if (spare_.size() < max_spare) spare_.push_back(std::move(buffer));
}

std::size_t DelayLine::release(Instant now, const FrameHandler& out, std::size_t budget) {
  std::size_t count = 0;
  while (count < budget) {
    auto frame = pop_due(now);
    if (!frame) break;
    ++count;
    out(std::span<const std::uint8_t>(frame->data(), frame->size()));
    recycle(std::move(*frame));
  }
  return count;
}

std::optional<Instant> DelayLine::next_deadline() const {
  if (held_.empty()) return std::nullopt;
  return held_.front().due;
}

}  // namespace tapir
