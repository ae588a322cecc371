// FaultModel: the seeded fate of each frame on an imperfect link (loss, duplication, reordering,
// delay with jitter), shared by the memory link and the FaultInjector decorator.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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

  // True when frames pass untouched and at once: callers may skip their queues.
  bool transparent() const {
    return loss <= 0 && duplicate <= 0 && reorder <= 0 && delay.count() <= 0 && jitter.count() <= 0;
  }
};

struct FaultStats {
  std::uint64_t frames = 0;  // offered to the model
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
};

class FaultModel {
 public:
  // The arrivals of one frame: 0 copies (lost), 1, or 2 (duplicated), each with its time.
  struct Fate {
    std::size_t copies = 0;
    std::array<Instant, 2> arrival{};
  };

  explicit FaultModel(const LinkConfig& config);

  // The fate of a frame sent at `now`. Every call draws the same number of random values
  // whatever the outcome, so switching on one fault does not reshuffle the others' pattern.
  Fate decide(Instant now);

  const LinkConfig& config() const { return config_; }
  const FaultStats& stats() const { return stats_; }

 private:
  // A double in [0, 1) from the top 53 bits: std::uniform_real_distribution's output differs
  // between standard libraries, and a seed must reproduce a test anywhere.
  double uniform();
  Duration latency();

  LinkConfig config_;
  std::mt19937_64 random_;
  FaultStats stats_;
};

}  // namespace tapir
