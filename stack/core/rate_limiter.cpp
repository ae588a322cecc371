// A token bucket: so many events per second, with a burst.
#include "stack/core/rate_limiter.hpp"

#include <algorithm>

namespace tapir {

bool RateLimiter::allow(Instant now) {
  if (started_ && now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace tapir
