// Sender: the sending half of a connection — RFC 9293 §3.3.1's send sequence variables, the
// send buffer, what to send next (the windows, Nagle, sender SWS avoidance: tcpxmit's
// decisions), RTT measurement (RFC 6298 with Karn's rule) and loss recovery over a
// congestion-control algorithm: with SACK, RFC 6675's pipe and NextSeg with RACK-TLP's loss
// detection (RFC 8985), PRR (RFC 6937), D-SACK undo (RFC 2883, RFC 3708) and F-RTO (RFC
// 5682); without it, NewReno by duplicate ACKs (RFC 5681 §3.2, RFC 6582). It decides; the
// Connection builds and sends the segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>

#include "stack/core/time.hpp"
#include "stack/tcp/byte_ring.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/scoreboard.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

// One segment the sender wants sent: `len` bytes of the send buffer from `offset` (counted
// from its first byte, SND.UNA's once the SYN is acknowledged), at `seq`.
struct Outgoing {
  SeqNum seq;
  std::size_t offset = 0;
  std::size_t len = 0;
  bool fin = false;         // the FIN goes with it (after its last byte)
  bool psh = false;         // it empties the buffer (RFC 9293 §3.9.1: PUSH on the last)
  bool retransmit = false;  // it was sent before (SACK recovery's retransmissions)
};

// The sender's loss-recovery state, Linux's names and numbers (TCP_INFO's tcpi_ca_state).
enum class CaState : std::uint8_t { open = 0, disorder = 1, recovery = 3, loss = 4 };

// What an acknowledgement did (RFC 9293 §3.10.7.4 fifth, RFC 5681 §3.2, RFC 6675 §5).
struct AckResult {
  bool advanced = false;         // SND.UNA moved: new data (or our SYN or FIN) acknowledged
  bool fast_retransmit = false;  // loss recovery began (the fast retransmit follows)
  // Without SACK: send this at once, the first unacknowledged segment, on a fast retransmit
  // or a partial acknowledgement in recovery (RFC 6582 §3.2 step 4).
  std::optional<Outgoing> resend;
  // RFC 6582 §3.2 step 5 (the Impatient variant, §4): a partial ACK after the first in
  // NewReno recovery leaves the retransmission timer running, so a window with many losses
  // ends in a timeout rather than one hole per round trip.
  bool keep_timer = false;
  std::uint32_t delivered = 0;  // bytes newly acknowledged or SACKed
  bool dsack = false;           // a D-SACK block came (RFC 2883)
  bool undone = false;          // the last reduction was undone: it was spurious (RFC 3708)
  bool spurious_rto = false;    // F-RTO found the last timeout spurious (RFC 5682)
  bool probe_repaired = false;  // a tail loss probe repaired a loss (RFC 8985 §7.4)
  // RACK is waiting to judge a segment: run reorder_timeout() after this long (RFC 8985 §6.2).
  std::optional<Duration> reorder_timeout;
};

class Sender {
 public:
  Sender(RtoConfig rto, std::size_t sndbuf, std::unique_ptr<CongestionControl> cc);

  // --- The sequence space -------------------------------------------------------------------
  // Our ISN is chosen: SND.UNA = SND.NXT = SND.MAX = ISS.
  void open(SeqNum iss);
  SeqNum iss() const { return iss_; }
  SeqNum una() const { return una_; }
  SeqNum nxt() const { return nxt_; }
  SeqNum max() const { return max_; }  // the highest sent (SND.NXT goes back on a timeout)
  bool syn_acked() const { return syn_acked_; }
  bool all_acked() const { return una_ == max_; }
  // Where the send buffer's first byte sits: SND.UNA, or just past our SYN until it is ACKed.
  SeqNum data_start() const { return syn_acked_ ? una_ : una_ + 1; }
  std::size_t flight() const { return static_cast<std::size_t>(nxt_ - una_); }
  std::size_t unsent() const;
  // What congestion control counts as in flight: RFC 6675's pipe with SACK, else the flight.
  std::size_t in_flight() const { return sack_ ? board_.pipe() : flight(); }

  // --- The handshake ------------------------------------------------------------------------
  // Our SYN went out (again): SND.NXT = ISS + 1; the first one is timed.
  void syn_sent(Instant now);
  // Our SYN is acknowledged by `ack` (ISS + 1): the RTT sample it gives (Karn: only if it
  // was sent once), and the end of any backoff.
  void syn_acknowledged(SeqNum ack, Instant now);
  // The peer's window, as a SYN (unscaled) or the handshake's ACK gave it, with SND.WL1/WL2.
  void set_window(std::uint32_t window, SeqNum wl1, SeqNum wl2);
  // The segment size (RFC 9293 §3.7.1) and the initial window (RFC 6928) that follows.
  void set_mss(std::uint16_t mss, std::uint32_t initial_window_segments);
  std::uint16_t mss() const { return mss_; }
  // Both sides sent SACK-permitted (RFC 2018 §2): recovery goes by the scoreboard.
  void enable_sack() { sack_ = true; }
  bool sack() const { return sack_; }
  // ICMP fragmentation needed (RFC 1191 §6.3): a smaller MSS, and what was sent goes again.
  void lower_mss(std::uint16_t mss);

  // --- The send buffer ----------------------------------------------------------------------
  // Appends what fits of `data`; returns how much. With `urgent`, the urgent pointer moves
  // to the byte after it (RFC 6093 §4).
  std::size_t write(std::span<const std::uint8_t> data, bool urgent);
  std::size_t free() const { return buffer_.free(); }
  std::size_t buffered() const { return buffer_.size(); }
  void set_buffer(std::size_t sndbuf);
  // Copies buffered bytes from `offset` into `out` (a segment's payload).
  void copy(std::size_t offset, std::span<std::uint8_t> out) const { buffer_.peek(offset, out); }
  void queue_fin() { fin_queued_ = true; }
  bool fin_queued() const { return fin_queued_; }
  bool fin_acked() const { return fin_acked_; }
  // The urgent pointer a segment at `seq` carries (RFC 9293 §3.8.5), if urgent data waits.
  std::optional<std::uint16_t> urgent_pointer(SeqNum seq) const;

  // --- What to send -------------------------------------------------------------------------
  // The next segment the windows, Nagle (RFC 896) and sender SWS avoidance (RFC 1122
  // §4.2.3.4) allow now, or nullopt; with SACK, RFC 6675 §4's NextSeg: a segment deemed lost
  // before new data. `nodelay` is TCP_NODELAY.
  std::optional<Outgoing> next(bool nodelay) const;
  // The persist timer's override (RFC 1122 §4.2.3.4 (4)): what fits the small window now.
  Outgoing override_segment() const;
  // `s` went out: SND.NXT and SND.MAX move for new data, the scoreboard learns of it, and
  // fresh data is timed if nothing is.
  void sent(const Outgoing& s, Instant now);

  // --- Acknowledgements ---------------------------------------------------------------------
  // An ACK of `ack` with the peer's (scaled) window and its SACK blocks. `may_be_duplicate`:
  // the segment carries neither SYN nor FIN nor data, so it counts as a duplicate ACK if it
  // repeats SND.UNA (RFC 5681 §2).
  AckResult on_ack(SeqNum ack, std::uint32_t window, bool may_be_duplicate,
                   std::span<const SackBlock> sack, Instant now);
  // RFC 9293 §3.10.7.4: the window comes from the newest segment (SND.WL1, SND.WL2 order
  // them). Returns true when a zero window opened (the persist probes are over).
  bool update_window(SeqNum seq, SeqNum ack, std::uint32_t window);
  std::uint32_t window() const { return wnd_; }
  std::uint32_t max_window() const { return max_wnd_; }  // RFC 5961 §5.2's MAX.SND.WND
  // RACK's reordering timer expired (RFC 8985 §6.3): judge the waiting segments again.
  AckResult reorder_timeout(Instant now);

  // --- Timeouts -----------------------------------------------------------------------------
  // The retransmission timer expired: the RTO doubles (RFC 6298 §5.5) and nothing resent is
  // timed (Karn).
  void backoff();
  // For data (not a SYN): the congestion response (RFC 5681 §3.1), and sending goes back to
  // the first unacknowledged byte (without SACK) or to what the scoreboard has not seen
  // delivered (with it, RFC 6675 §5.1; F-RTO first, RFC 5682).
  void on_timeout(Instant now);

  // --- Tail loss probes (RFC 8985 §7) -------------------------------------------------------
  // A probe may be scheduled: SACK is on, nothing is being recovered, data is in flight and
  // no probe is out.
  bool probe_allowed() const;
  // PTO: 2·SRTT, plus the worst-case delayed ACK when one segment is in flight (§7.2).
  Duration probe_timeout() const;
  // What the probe sends: a new segment if the peer's window lets one go, else the last
  // segment sent again.
  std::optional<Outgoing> probe() const;
  // The probe `s` went out.
  void probe_sent(const Outgoing& s, Instant now);

  RtoEstimator& rto() { return rto_; }
  const RtoEstimator& rto() const { return rto_; }
  CongestionControl& congestion() { return *cc_; }
  const CongestionControl& congestion() const { return *cc_; }
  // TCP_CONGESTION on a live connection: the new algorithm starts from the current cwnd and
  // ssthresh (as Linux's tcp_set_congestion_control).
  void set_congestion(std::unique_ptr<CongestionControl> cc);
  CaState state() const { return state_; }
  bool in_recovery() const { return state_ == CaState::recovery || in_recovery_; }
  const Scoreboard& scoreboard() const { return board_; }
  // RFC 7661 §4.3: did cwnd, rather than the application or the peer's window, limit sending
  // over the last round trip?
  bool cwnd_limited() const;
  // Bytes delivered to the peer over the connection's life (acknowledged or SACKed).
  std::uint64_t delivered() const { return delivered_; }
  // The smallest RTT seen (RACK.min_RTT), if any.
  std::optional<Duration> min_rtt() const;
  // RACK's reordering window now (RFC 8985 §6.2 step 4).
  Duration reorder_window() const;

 private:
  bool nagle_allows(std::size_t len, std::size_t available, bool nodelay) const;
  std::optional<Outgoing> new_data(std::size_t usable, bool nodelay) const;
  Outgoing resend_of(const SentSegment& s) const;
  // What both kinds of ACK do with SND.UNA: the buffer, the FIN, the urgent pointer, the
  // RTT sample, the end of backoff, the rounds.
  std::uint32_t advance(SeqNum ack, Instant now, std::optional<Duration>& rtt, bool& round_end);
  AckResult on_ack_newreno(SeqNum ack, std::uint32_t window, bool may_be_duplicate, Instant now);
  AckResult on_ack_sack(SeqNum ack, std::span<const SackBlock> sack, Instant now);
  void grow(std::uint32_t acked, std::optional<Duration> rtt, bool round_end, Instant now);
  // RACK (RFC 8985 §6.2): what this delivery teaches, then the loss marking.
  void rack_update(const Delivery& d, Instant now);
  std::optional<Duration> rack_detect(Instant now);
  void enter_recovery(Instant now);
  // PRR (RFC 6937 §3): the window for this ACK in recovery.
  void prr_update(std::uint32_t delivered);
  void save_for_undo();
  void undo();
  void frto_step(SeqNum prior_una, AckResult& result);

  SeqNum iss_;
  SeqNum una_;
  SeqNum nxt_;
  SeqNum max_;
  SeqNum wl1_;
  SeqNum wl2_;
  std::uint32_t wnd_ = 0;
  std::uint32_t max_wnd_ = 0;
  std::uint16_t mss_ = default_mss;
  SeqNum up_;
  bool urgent_pending_ = false;

  // The buffer holds [SND.UNA, SND.UNA + size) of data (after the SYN); the FIN, when queued,
  // follows its last byte.
  ByteRing buffer_;
  bool syn_acked_ = false;
  bool fin_queued_ = false;
  bool fin_acked_ = false;

  RtoEstimator rto_;
  std::optional<SeqNum> rtt_seq_;  // the segment being timed (Karn: none while retransmitting)
  Instant rtt_start_;

  std::unique_ptr<CongestionControl> cc_;
  // Rounds (one window's worth of data acknowledged): a round ends when SND.UNA passes what
  // was the highest sequence sent when it began. The most in flight this round and the last
  // say whether the window was used (cwnd_limited).
  SeqNum round_end_;
  std::size_t max_flight_ = 0;
  std::size_t last_round_max_flight_ = 0;
  std::uint64_t delivered_ = 0;

  // Without SACK: NewReno's state.
  unsigned dupacks_ = 0;
  bool in_recovery_ = false;       // fast recovery (RFC 5681 §3.2, RFC 6582)
  std::optional<SeqNum> recover_;  // RFC 6582: the highest sequence sent when recovery began
  unsigned partial_acks_ = 0;      // partial ACKs in this recovery

  // With SACK.
  bool sack_ = false;
  Scoreboard board_;
  CaState state_ = CaState::open;
  SeqNum recovery_point_;  // RFC 6675's RecoveryPoint: SND.MAX when recovery began
  std::uint32_t prr_delivered_ = 0;
  std::uint32_t prr_out_ = 0;
  std::uint32_t recover_fs_ = 0;
  bool rescue_sent_ = false;  // RFC 6675 §4 rule 4: one rescue retransmission per recovery
  struct Rack {
    Instant xmit_ts;  // the most recently sent segment delivered
    SeqNum end_seq;
    bool valid = false;
    Duration rtt{0};
    Duration min_rtt{std::numeric_limits<Duration::rep>::max()};
    bool reordering_seen = false;
    unsigned reo_wnd_mult = 1;
    int reo_wnd_persist = 0;
    std::optional<SeqNum> dsack_round;
  } rack_;
  // Undo (RFC 3708's idea, Linux's undo_marker): what the last reduction replaced, and how
  // many of its retransmissions no D-SACK has yet shown needless.
  std::uint32_t prior_cwnd_ = 0;
  std::uint32_t prior_ssthresh_ = 0;
  std::optional<SeqNum> undo_marker_;
  int undo_retrans_ = 0;
  // Tail loss probe (RFC 8985 §7.3): the probe's end and whether it resent data.
  std::optional<SeqNum> tlp_end_;
  bool tlp_retransmitted_ = false;
  // F-RTO (RFC 5682): 1 while the first ACK after a timeout is awaited, 2 the second.
  int frto_ = 0;
  SeqNum frto_high_;   // SND.MAX when the timeout came
  SeqNum frto_limit_;  // step 2(b)'s two new segments end here
};

}  // namespace tapir::tcp
