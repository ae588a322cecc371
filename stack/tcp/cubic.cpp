// CUBIC congestion control (RFC 9438), with HyStart++ (RFC 9406) in slow start: the window
// grows as a cubic function of the time since the last loss, concave up to the window where
// that loss happened and convex beyond it, never slower than Reno would.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "stack/tcp/congestion.hpp"

namespace tapir::tcp {

namespace {

// RFC 9438 §5: C and β_cubic; α_cubic = 3(1 - β)/(1 + β) makes CUBIC's average window in the
// Reno-friendly region equal Reno's (§4.3).
constexpr double c_cubic = 0.4;
constexpr double beta_cubic = 0.7;
constexpr double alpha_cubic = 3.0 * (1.0 - beta_cubic) / (1.0 + beta_cubic);

// RFC 9406 §4.3's constants. L is 8 segments: tapir does not pace.
constexpr Duration min_rtt_thresh{4'000};
constexpr Duration max_rtt_thresh{16'000};
constexpr int min_rtt_divisor = 8;
constexpr int n_rtt_sample = 8;
constexpr std::uint32_t css_growth_divisor = 4;
constexpr int css_rounds = 5;
constexpr std::uint32_t hystart_l = 8;

double seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

class Cubic final : public CongestionControl {
 public:
  std::string_view name() const override { return "cubic"; }

  void on_ack(const AckEvent& e) override {
    hystart_round(e);
    if (!e.cwnd_limited) {
      // RFC 9438 §5.8: an application-limited flow does not grow its window, and the time it
      // spends so does not count toward t (the epoch moves with it).
      if (epoch_) *epoch_ += e.now - last_ack_;
      last_ack_ = e.now;
      return;
    }
    last_ack_ = e.now;
    if (cwnd_ < ssthresh_) {
      slow_start(e);
    } else {
      avoid(e);
    }
  }

  void on_loss(const LossEvent& e) override {
    saved_ = Saved{w_max_, cwnd_prior_};
    const double cwnd = static_cast<double>(cwnd_) / e.mss;
    // RFC 9438 §4.7 fast convergence: a flow whose window fell short of the last maximum
    // releases bandwidth for newer flows by aiming lower.
    w_max_ = cwnd < w_max_ ? cwnd * (1.0 + beta_cubic) / 2.0 : cwnd;
    cwnd_prior_ = cwnd;
    // RFC 9438 §4.6: multiplicative decrease by β_cubic (of cwnd, which the RFC allows where,
    // as here, cwnd never grows beyond what is in flight: the cwnd_limited rule).
    ssthresh_ = std::max(static_cast<std::uint32_t>(cwnd_ * beta_cubic), 2 * e.mss);
    epoch_.reset();
    in_css_ = false;
  }

  void on_timeout(const LossEvent& e) override {
    // RFC 9438 §4.8: ssthresh as after a fast retransmit; then slow start from one segment.
    on_loss(e);
    cwnd_ = e.mss;
  }

  void on_undo() override {
    w_max_ = saved_.w_max;
    cwnd_prior_ = saved_.cwnd_prior;
    epoch_.reset();
  }

  std::string state() const override {
    char text[96];
    std::snprintf(text, sizeof text, "w_max=%.1f k=%.3f css=%d", w_max_, k_, in_css_ ? 1 : 0);
    return text;
  }

 private:
  // W_cubic(t) = C (t - K)^3 + W_max (RFC 9438 eq. 1), in segments.
  double w_cubic(double t) const { return c_cubic * std::pow(t - k_, 3) + origin_; }

  void slow_start(const AckEvent& e) {
    // RFC 9406 §4.2: at most L·SMSS of growth per ACK; a quarter of it in Conservative Slow
    // Start.
    const std::uint32_t growth = std::min(e.acked, hystart_l * e.mss);
    cwnd_ += in_css_ ? growth / css_growth_divisor : growth;
    if (in_css_) {
      // The RTT went back down: the increase was jitter, and slow start resumes.
      if (current_round_min_ < css_baseline_) in_css_ = false;
      return;
    }
    if (rtt_samples_ >= n_rtt_sample && current_round_min_ != unset && last_round_min_ != unset) {
      const Duration thresh =
          std::clamp(last_round_min_ / min_rtt_divisor, min_rtt_thresh, max_rtt_thresh);
      if (current_round_min_ >= last_round_min_ + thresh) {
        // The queue is filling: leave slow start before it overflows.
        in_css_ = true;
        css_baseline_ = current_round_min_;
        css_round_count_ = 0;
      }
    }
  }

  // HyStart++'s per-round bookkeeping (RFC 9406 §4.2): the smallest RTT of this round and of
  // the last, and Conservative Slow Start's rounds.
  void hystart_round(const AckEvent& e) {
    if (e.round_end) {
      last_round_min_ = current_round_min_;
      current_round_min_ = unset;
      rtt_samples_ = 0;
      if (in_css_ && ++css_round_count_ >= css_rounds && cwnd_ < ssthresh_) {
        // CSS_ROUNDS rounds without a loss: on to congestion avoidance.
        ssthresh_ = cwnd_;
        in_css_ = false;
      }
    }
    if (e.rtt) {
      current_round_min_ = std::min(current_round_min_, *e.rtt);
      ++rtt_samples_;
    }
  }

  void avoid(const AckEvent& e) {
    const double mss = e.mss;
    const double cwnd = static_cast<double>(cwnd_) / mss;
    if (!epoch_) {
      // RFC 9438 §4.2: a new congestion-avoidance epoch. K is the time the cubic takes to climb
      // back to W_max from here; a window already past W_max starts a convex climb from itself.
      epoch_ = e.now;
      if (cwnd < w_max_) {
        k_ = std::cbrt((w_max_ - cwnd) / c_cubic);
        origin_ = w_max_;
      } else {
        k_ = 0;
        origin_ = cwnd;
      }
      w_est_ = cwnd;
      growth_ = 0;
    }
    const double t = seconds(e.now - *epoch_);
    const double acked = static_cast<double>(e.acked) / mss;
    // RFC 9438 §4.3: the Reno-friendly estimate grows by α_cubic per window acknowledged, by
    // 1 once it has reached the window of the last loss.
    w_est_ += (w_est_ >= cwnd_prior_ ? 1.0 : alpha_cubic) * acked / cwnd;
    if (w_cubic(t) < w_est_) {
      // The Reno-friendly region (§4.3): never slower than Reno.
      cwnd_ = std::max(cwnd_, static_cast<std::uint32_t>(w_est_ * mss));
      return;
    }
    // §4.4-4.5, concave and convex regions: aim at W_cubic one RTT ahead, within
    // [cwnd, 1.5 cwnd], and move a fraction (target - cwnd)/cwnd per segment acknowledged.
    const double rtt = seconds(e.srtt);
    const double target = std::clamp(w_cubic(t + rtt), cwnd, 1.5 * cwnd);
    growth_ += (target - cwnd) / cwnd * acked;
    if (growth_ >= 1.0) {
      const double whole = std::floor(growth_);
      cwnd_ += static_cast<std::uint32_t>(whole) * e.mss;
      growth_ -= whole;
    }
  }

  static constexpr Duration unset{std::numeric_limits<Duration::rep>::max()};

  // CUBIC's variables (RFC 9438 §4.1), windows in segments.
  double w_max_ = 0;       // the window just before the last reduction
  double cwnd_prior_ = 0;  // cwnd at the last loss (the α_cubic switch, §4.3)
  double k_ = 0;           // seconds to grow back to W_max
  double origin_ = 0;      // W_max, or the window the epoch began with when above it
  double w_est_ = 0;       // the Reno-friendly estimate
  double growth_ = 0;      // fractional segments of growth not yet added
  std::optional<Instant> epoch_;
  Instant last_ack_;
  struct Saved {
    double w_max = 0;
    double cwnd_prior = 0;
  } saved_;

  // HyStart++'s (RFC 9406 §4.2).
  Duration last_round_min_ = unset;
  Duration current_round_min_ = unset;
  int rtt_samples_ = 0;
  bool in_css_ = false;
  Duration css_baseline_ = unset;
  int css_round_count_ = 0;
};

}  // namespace

std::unique_ptr<CongestionControl> make_cubic() {
  return std::make_unique<Cubic>();
}

}  // namespace tapir::tcp
