// FaultModel: decides, per frame and from a seeded generator, if and when it arrives.
#include "drivers/fault_model.hpp"

namespace tapir {

FaultModel::FaultModel(const LinkConfig& config) : config_(config), random_(config.seed) {}

double FaultModel::uniform() {
  return static_cast<double>(random_() >> 11) * 0x1.0p-53;
}

Duration FaultModel::latency() {
  const std::uint64_t draw = random_();
  const auto jitter =
      static_cast<std::uint64_t>(config_.jitter.count() > 0 ? config_.jitter.count() : 0);
  // Modulo bias is below 2^-40 for any jitter a test uses; not worth a rejection loop.
  return config_.delay + Duration{static_cast<Duration::rep>(draw % (jitter + 1))};
}

FaultModel::Fate FaultModel::decide(Instant now) {
  ++stats_.frames;
  const bool lost = uniform() < config_.loss;
  const bool duplicated = uniform() < config_.duplicate;
  const bool reordered = uniform() < config_.reorder;
  const Duration first = latency();
  const Duration second = latency();

  Fate fate;
  if (lost) {
    ++stats_.lost;
    return fate;
  }
  fate.arrival[0] = now + first;
  if (reordered) {
    ++stats_.reordered;
    fate.arrival[0] += config_.reorder_delay;
  }
  fate.copies = 1;
  if (duplicated) {
    ++stats_.duplicated;
    fate.arrival[1] = now + second;
    fate.copies = 2;
  }
  return fate;
}

}  // namespace tapir
