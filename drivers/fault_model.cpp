// FaultModel: decides, per frame and from a seeded generator, if and when it arrives.
#include "drivers/fault_model.hpp"

#include <algorithm>

namespace tapir {

namespace {

constexpr std::int64_t ns_per_byte_at_1bps = 8'000'000'000;

}  // namespace

FaultModel::FaultModel(const LinkConfig& config) : config_(config), random_(config.seed) {
  if (config_.rate > 0) {
    queue_ns_ = static_cast<std::int64_t>(config_.queue_bytes) * ns_per_byte_at_1bps /
                static_cast<std::int64_t>(config_.rate);
  }
}

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

std::optional<Instant> FaultModel::serialize(Instant now, std::size_t bytes) {
  if (config_.rate == 0) return now;
  // Integer nanoseconds, so a seed gives the same drops on every platform.
  const std::int64_t now_ns = now.micros() * 1000;
  const std::int64_t start = std::max(now_ns, busy_until_ns_);
  const std::int64_t end = start + static_cast<std::int64_t>(bytes) * ns_per_byte_at_1bps /
                                       static_cast<std::int64_t>(config_.rate);
  // Drop-tail: the queue holds what the bottleneck has yet to send, this frame included.
  if (config_.queue_bytes > 0 && end - now_ns > queue_ns_) return std::nullopt;
  busy_until_ns_ = end;
  return Instant::from_micros((end + 999) / 1000);  // it arrives whole, never early
}

FaultModel::Fate FaultModel::decide(Instant now, std::size_t bytes) {
  ++stats_.frames;
  const bool lost = uniform() < config_.loss;
  const bool duplicated = uniform() < config_.duplicate;
  const bool reordered = uniform() < config_.reorder;
  const Duration first = latency();
  const Duration second = latency();

  Fate fate;
  const std::optional<Instant> sent = serialize(now, bytes);
  if (!sent) {
    ++stats_.overflowed;
    return fate;
  }
  if (lost) {
    ++stats_.lost;
    return fate;
  }
  fate.arrival[0] = *sent + first;
  if (reordered) {
    ++stats_.reordered;
    fate.arrival[0] += config_.reorder_delay;
  }
  fate.copies = 1;
  if (duplicated) {
    ++stats_.duplicated;
    fate.arrival[1] = *sent + second;
    fate.copies = 2;
  }
  return fate;
}

}  // namespace tapir
