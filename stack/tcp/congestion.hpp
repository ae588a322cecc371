// Congestion control (RFC 5681): the small interface an algorithm implements, so that each
// connection runs its own. docs/TCP.md shows how to add one (copy reno.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "stack/core/time.hpp"

namespace tapir::tcp {

// New data was acknowledged (SND.UNA moved) outside loss recovery.
struct AckEvent {
  std::uint32_t acked = 0;      // bytes newly acknowledged
  std::uint32_t in_flight = 0;  // bytes still outstanding after this ACK
  std::uint32_t mss = 0;        // SMSS
  Instant now;
  std::optional<Duration> rtt;  // the RTT sample this ACK gave, if any (Karn's rule applied)
  Duration srtt{0};             // the smoothed RTT (RFC 6298), 0 before any sample
  // RFC 7661 §4.3: the window, not the application, limited what was sent. An algorithm grows
  // cwnd only then: a window the sender never filled was never tested by the network.
  bool cwnd_limited = true;
  // This ACK ends a round trip: it covers what was sent when the last round began (HyStart++'s
  // rounds, RFC 9406 §4.2).
  bool round_end = false;
};

// A loss was detected: by duplicate ACKs (fast retransmit) or by the retransmission timer.
struct LossEvent {
  std::uint32_t in_flight = 0;  // FlightSize when the loss was detected (RFC 5681 eq. (4))
  std::uint32_t mss = 0;
  Instant now;
};

// The algorithm owns cwnd and ssthresh. The sender's loss recovery (RFC 6582) may set cwnd
// while it runs (inflation, deflation); outside recovery only the algorithm moves it.
class CongestionControl {
 public:
  virtual ~CongestionControl() = default;

  // The name TCP_CONGESTION takes and reports ("reno").
  virtual std::string_view name() const = 0;
  // New data acknowledged outside recovery: grow the window (slow start, avoidance).
  virtual void on_ack(const AckEvent& event) = 0;
  // Duplicate ACKs say a segment was lost (RFC 5681 §3.2 step 2): set ssthresh, the window
  // recovery deflates to. cwnd is the recovery's to manage from here.
  virtual void on_loss(const LossEvent& event) = 0;
  // The retransmission timer expired (RFC 5681 §3.1): ssthresh as for a loss and a window of
  // one segment, unless the algorithm says otherwise.
  virtual void on_timeout(const LossEvent& event) {
    on_loss(event);
    cwnd_ = event.mss;
  }
  // The reduction was a mistake (the retransmissions were spurious, RFC 3708 / RFC 5682): the
  // sender has put cwnd and ssthresh back; an algorithm restores what else it changed.
  virtual void on_undo() {}
  // Without SACK, loss recovery by duplicate ACKs is NewReno's (RFC 6582: it lasts until
  // everything sent before it is acknowledged) unless the algorithm asks for plain Reno's
  // (RFC 5681 §3.2: the first ACK of new data ends it).
  virtual bool newreno_recovery() const { return true; }
  // The algorithm's own variables for --trace tcp-cc, as "name=value" pairs ("" if none).
  virtual std::string state() const { return {}; }

  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  // The initial window (RFC 6928), set once the MSS is known, and recovery's window changes.
  void set_cwnd(std::uint32_t cwnd) { cwnd_ = cwnd; }
  void set_ssthresh(std::uint32_t ssthresh) { ssthresh_ = ssthresh; }

 protected:
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = 0xffffffff;  // RFC 5681 §3.1: "arbitrarily high" at first
};

// RFC 5681's algorithm: slow start counting bytes (RFC 3465, at most 2·SMSS per ACK), then
// one SMSS per window of acknowledged bytes; half the flight on a loss. "reno" recovers from a
// loss as RFC 5681 §3.2 does, "newreno" as RFC 6582 (the two differ only without SACK).
std::unique_ptr<CongestionControl> make_reno();
std::unique_ptr<CongestionControl> make_newreno();
// CUBIC (RFC 9438) with HyStart++ (RFC 9406) in slow start: the default, as on Linux.
std::unique_ptr<CongestionControl> make_cubic();

// The algorithms TCP_CONGESTION accepts, by name (Linux's
// net.ipv4.tcp_available_congestion_control); nullptr for an unknown name.
std::unique_ptr<CongestionControl> make_congestion(std::string_view name);
std::span<const std::string_view> available_congestion();
inline constexpr std::string_view default_congestion = "cubic";

}  // namespace tapir::tcp
