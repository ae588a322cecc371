// FaultModel: the seeded fate of each frame on an imperfect link (a bottleneck rate with its
// queue, loss, duplication, reordering, delay with jitter), shared by the memory link and the
// FaultInjector decorator.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>

#include "stack/core/time.hpp"

namespace tapir {

// What a link does to frames. Probabilities are per frame, in [0, 1]. The same seed and the
// same sequence of frames give the same fates on every platform (see FaultModel::uniform).
struct LinkConfig {
  double loss = 0;               // the frame vanishes
  double duplicate = 0;          // a second copy arrives too (with its own jitter)
  double reorder = 0;            // the frame is held back by reorder_delay, so later frames pass it
  Duration delay{0};             // every frame's one-way latency
  Duration jitter{0};            // plus a uniform extra latency in [0, jitter]
  Duration reorder_delay{1000};  // how long a reordered frame is held back (1 ms)
  std::uint64_t seed = 1;
  // A bottleneck where the frame enters the link (0: none, frames leave at once): frames leave
  // one after another at `rate` bits per second (counting every byte of the frame), waiting
  // their turn in a drop-tail queue that holds at most `queue_bytes`, the frame being sent
  // included (0: no limit). The loss, duplication and delay above happen after it, on the wire.
  std::uint64_t rate = 0;
  std::size_t queue_bytes = 0;

  // True when frames pass untouched and at once: callers may skip their queues.
  bool transparent() const {
    return loss <= 0 && duplicate <= 0 && reorder <= 0 && delay.count() <= 0 &&
           jitter.count() <= 0 && rate == 0;
  }
};

struct FaultStats {
  std::uint64_t frames = 0;  // offered to the model
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t overflowed = 0;  // dropped at the bottleneck: its queue was full
};

class FaultModel {
 public:
  // The arrivals of one frame: 0 copies (lost), 1, or 2 (duplicated), each with its time.
  struct Fate {
    std::size_t copies = 0;
    std::array<Instant, 2> arrival{};
  };

  explicit FaultModel(const LinkConfig& config);

  // The fate of a frame of `bytes` sent at `now`. Every call draws the same number of random
  // values whatever the outcome, so switching on one fault (or the bottleneck) does not
  // reshuffle the others' pattern.
  Fate decide(Instant now, std::size_t bytes);

  const LinkConfig& config() const { return config_; }
  const FaultStats& stats() const { return stats_; }

 private:
  // A double in [0, 1) from the top 53 bits: std::uniform_real_distribution's output differs
  // between standard libraries, and a seed must reproduce a test anywhere.
  double uniform();
  Duration latency();
  // When the last bit of the frame has left the bottleneck, or nothing if its queue is full.
  std::optional<Instant> serialize(Instant now, std::size_t bytes);

  LinkConfig config_;
  std::mt19937_64 random_;
  FaultStats stats_;
  // In nanoseconds: a 1514-byte frame takes 121.12 µs at 100 Mbit/s, and microseconds would
  // round every frame's time.
  std::int64_t busy_until_ns_ = 0;  // when the bottleneck finishes what it holds
  std::int64_t queue_ns_ = 0;       // queue_bytes, as time at `rate`
};

}  // namespace tapir
