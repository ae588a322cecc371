// The retransmission timeout per RFC 6298: SRTT, RTTVAR, bounds and exponential backoff.
#pragma once

#include <optional>

#include "stack/core/time.hpp"

namespace tapir::tcp {

struct RtoConfig {
  // RFC 6298 §2.4 asks for 1 s; tapir uses Linux's 200 ms (TCP_RTO_MIN), as most stacks on
  // fast links do (docs/TCP.md says why).
  Duration min{200'000};
  Duration max{60'000'000};     // RFC 6298 §2.5: "a maximum value ... at least 60 seconds"
  Duration initial{1'000'000};  // RFC 6298 §2.1
};

class RtoEstimator {
 public:
  explicit RtoEstimator(RtoConfig config = {}) : config_(config) {}

  // One RTT measurement (RFC 6298 §2.2 for the first, §2.3 after): updates SRTT and RTTVAR
  // with alpha 1/8 and beta 1/4, and recomputes the base RTO as SRTT + max(G, 4 RTTVAR)
  // clamped to [min, max] (G, the clock granularity, is 1 us here). Callers apply Karn's rule
  // (no samples from retransmitted segments unless timestamps tell them apart).
  void sample(Duration rtt);
  // RFC 6298 §5.5: the timer expired; the RTO doubles (up to max).
  void backoff();
  // A new acknowledgement arrived: the backoff ends (RFC 6298 §5.7's "after ... new data").
  void reset_backoff() { backoffs_ = 0; }

  // The current timeout: the base RTO doubled once per backoff, at most max.
  Duration rto() const;
  unsigned backoffs() const { return backoffs_; }
  std::optional<Duration> srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  const RtoConfig& config() const { return config_; }

 private:
  RtoConfig config_;
  std::optional<Duration> srtt_;
  Duration rttvar_{0};
  Duration base_{config_.initial};
  unsigned backoffs_ = 0;
};

}  // namespace tapir::tcp
