// The RFC 6298 retransmission timeout: smoothing RTT samples, clamping, backing off.
#include "stack/tcp/rto.hpp"

#include <algorithm>

namespace tapir::tcp {

namespace {
// RFC 6298 §2: G, the clock granularity; tapir's clock ticks in microseconds.
constexpr Duration granularity{1};
}  // namespace

void RtoEstimator::sample(Duration rtt) {
  rtt = std::max(rtt, Duration{0});  // a clock that steps back is no reason to go negative
  if (!srtt_) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    // RFC 6298 §2.3, in this order (RTTVAR uses the SRTT before the update):
    // RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4;
    // SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8.
    const Duration delta = *srtt_ > rtt ? *srtt_ - rtt : rtt - *srtt_;
    rttvar_ = (3 * rttvar_ + delta) / 4;
    srtt_ = (7 * *srtt_ + rtt) / 8;
  }
  // RFC 6298 §2.2-2.4: RTO <- SRTT + max(G, K * RTTVAR), K = 4, then §2.4-2.5's bounds.
  base_ = std::clamp(*srtt_ + std::max(granularity, 4 * rttvar_), config_.min, config_.max);
}

void RtoEstimator::backoff() {
  // Counting past the point where rto() reaches max changes nothing but backoffs().
  ++backoffs_;
}

Duration RtoEstimator::rto() const {
  // RFC 6298 §5.5: the RTO doubles per expiry; §2.5 lets max bound the doubling. Doubling
  // stops as soon as it reaches max, so no number of backoffs can overflow.
  Duration rto = base_;
  for (unsigned i = 0; i < backoffs_ && rto < config_.max && rto > Duration{0}; ++i) rto *= 2;
  return std::min(rto, config_.max);
}

}  // namespace tapir::tcp
