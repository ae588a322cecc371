// DelayLine: frames held until their arrival time, released in time order (FIFO among equals).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "drivers/driver.hpp"
#include "stack/core/time.hpp"

namespace tapir {

// A binary heap of held frames. Byte buffers are recycled, so a link in steady state stops
// allocating. Not thread-safe: the memory link locks around it.
class DelayLine {
 public:
  using Buffer = std::vector<std::uint8_t>;

  void push(Instant due, std::span<const std::uint8_t> frame);
  // Removes and returns the earliest frame due at or before `now`, if any. Hand the buffer
  // back with recycle() once done with it.
  std::optional<Buffer> pop_due(Instant now);
  void recycle(Buffer&& buffer);

  // Hands frames due by `now` to `out`, up to `budget`; returns how many. `out` may push more
  // frames into this same line (a stack answering on a looped link): each frame is taken out
  // before `out` runs.
  std::size_t release(Instant now, const FrameHandler& out, std::size_t budget);

  std::optional<Instant> next_deadline() const;
  bool empty() const { return held_.empty(); }
  std::size_t size() const { return held_.size(); }

 private:
  struct Held {
    Instant due;
    std::uint64_t order = 0;  // push order: equal times leave first-in first-out
    Buffer bytes;
  };
  // std::push_heap builds a max-heap; "later" makes the earliest frame the top.
  static bool later(const Held& a, const Held& b) {
    return a.due != b.due ? a.due > b.due : a.order > b.order;
  }

  std::vector<Held> held_;
  std::vector<Buffer> spare_;
  std::uint64_t next_order_ = 0;
};

}  // namespace tapir
