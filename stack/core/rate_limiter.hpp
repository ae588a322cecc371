// A token bucket: ICMP errors (RFC 1812 §4.3.2.8, RFC 1122 §3.2.2) and TCP challenge ACKs (RFC 5961
// §7).
#pragma once

#include "stack/core/time.hpp"

namespace tapir {

class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst)
      : rate_(rate_per_second), burst_(burst), tokens_(burst) {}

  // Takes one token if there is one at `now`.
  bool allow(Instant now);
  double tokens() const { return tokens_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Instant last_;
  bool started_ = false;
};

}  // namespace tapir
