// Reno congestion control (RFC 5681 §3.1, with RFC 3465's byte counting). A new algorithm
// starts as a copy of this file: a class over CongestionControl and a make_ function.
#include <algorithm>

#include "stack/tcp/congestion.hpp"

namespace tapir::tcp {

namespace {

class Reno final : public CongestionControl {
 public:
  explicit Reno(bool newreno) : newreno_(newreno) {}

  std::string_view name() const override { return newreno_ ? "newreno" : "reno"; }
  bool newreno_recovery() const override { return newreno_; }

  void on_ack(const AckEvent& e) override {
    if (!e.cwnd_limited) return;  // RFC 7661 §4.3: no growth for a window not used
    if (cwnd_ < ssthresh_) {
      // RFC 5681 §3.1 slow start, counting bytes with RFC 3465's limit of 2·SMSS per ACK.
      cwnd_ += std::min(e.acked, 2 * e.mss);
      return;
    }
    // Congestion avoidance: one SMSS per window of acknowledged bytes (RFC 5681 eq. (3)'s
    // byte-counting form).
    bytes_acked_ += e.acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ += e.mss;
    }
  }

  void on_loss(const LossEvent& e) override {
    // RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2·SMSS).
    ssthresh_ = std::max(e.in_flight / 2, 2 * e.mss);
  }

  void on_timeout(const LossEvent& e) override {
    on_loss(e);
    cwnd_ = e.mss;  // RFC 5681 §3.1: the loss window, one segment
    bytes_acked_ = 0;
  }

 private:
  bool newreno_;
  std::uint32_t bytes_acked_ = 0;
};

}  // namespace

std::unique_ptr<CongestionControl> make_reno() {
  return std::make_unique<Reno>(false);
}

std::unique_ptr<CongestionControl> make_newreno() {
  return std::make_unique<Reno>(true);
}

}  // namespace tapir::tcp
