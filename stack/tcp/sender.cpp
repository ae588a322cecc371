// Sender: the send sequence space, what goes next, ACK processing with NewReno recovery.
#include "stack/tcp/sender.hpp"

#include <algorithm>

namespace tapir::tcp {

Sender::Sender(RtoConfig rto, std::size_t sndbuf, std::unique_ptr<CongestionControl> cc)
    : buffer_(sndbuf), rto_(rto), cc_(std::move(cc)) {}

void Sender::open(SeqNum iss) {
  iss_ = iss;
  una_ = iss;
  nxt_ = iss;
  max_ = iss;
}

std::size_t Sender::unsent() const {
  const std::int32_t sent = nxt_ - data_start();
  const auto sent_data =
      std::min<std::size_t>(sent > 0 ? static_cast<std::size_t>(sent) : 0, buffer_.size());
  return buffer_.size() - sent_data;
}

void Sender::syn_sent(Instant now) {
  const bool first = max_ == iss_;
  nxt_ = iss_ + 1;
  max_ = seq_max(max_, nxt_);
  if (first) {
    rtt_seq_ = iss_;
    rtt_start_ = now;
  }
}

void Sender::syn_acknowledged(SeqNum ack, Instant now) {
  syn_acked_ = true;
  una_ = ack;
  round_end_ = ack;
  if (nxt_ < una_) nxt_ = una_;
  if (rtt_seq_) rto_.sample(now - rtt_start_);  // Karn: only if the SYN was not resent
  rtt_seq_.reset();
  rto_.reset_backoff();
}

void Sender::set_window(std::uint32_t window, SeqNum wl1, SeqNum wl2) {
  wnd_ = window;
  max_wnd_ = std::max(max_wnd_, wnd_);
  wl1_ = wl1;
  wl2_ = wl2;
}

void Sender::set_mss(std::uint16_t mss, std::uint32_t initial_window_segments) {
  mss_ = mss;
  // RFC 6928: the initial window is min(10 * MSS, max(2 * MSS, 14600)).
  cc_->set_cwnd(std::min(initial_window_segments * mss_, std::max(2U * mss_, 14600U)));
}

void Sender::lower_mss(std::uint16_t mss) {
  mss_ = mss;
  nxt_ = una_;  // resend what was too big, now in smaller segments
}

std::size_t Sender::write(std::span<const std::uint8_t> data, bool urgent) {
  const std::size_t n = buffer_.write(data);
  if (n > 0 && urgent) {
    // RFC 6093 §4: the urgent pointer points to the byte after the urgent data.
    up_ = data_start() + static_cast<std::uint32_t>(buffer_.size());
    urgent_pending_ = true;
  }
  return n;
}

void Sender::set_buffer(std::size_t sndbuf) {
  if (buffer_.capacity() != sndbuf && buffer_.size() <= sndbuf) buffer_.set_capacity(sndbuf);
}

std::optional<std::uint16_t> Sender::urgent_pointer(SeqNum seq) const {
  if (!urgent_pending_ || up_ <= seq) return std::nullopt;
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(up_ - seq, 0xffff));
}

bool Sender::nagle_allows(std::size_t len, std::size_t available, bool nodelay) const {
  // RFC 1122 §4.2.3.4 (sender SWS avoidance) and RFC 896 (Nagle): send a full segment, or
  // everything queued when nothing is unacknowledged (or TCP_NODELAY), or at least half the
  // largest window the peer has offered.
  if (len >= mss_) return true;
  if (len == available && fin_queued_) return true;  // closing: nothing more will come
  if (len == available && (nodelay || nxt_ == una_)) return true;
  if (max_wnd_ > 0 && len >= max_wnd_ / 2) return true;
  return nxt_ < max_;  // a retransmission re-sends what was already sent
}

std::optional<Outgoing> Sender::next(bool nodelay) const {
  const std::size_t available = unsent();
  const std::size_t in_flight = flight();
  const std::uint32_t window = std::min(wnd_, cc_->cwnd());
  const std::size_t usable = window > in_flight ? window - in_flight : 0;
  const std::size_t len = std::min<std::size_t>({available, mss_, usable});
  const SeqNum fin_seq = data_start() + static_cast<std::uint32_t>(buffer_.size());
  // The FIN goes with (or after) the last byte of data.
  const bool fin_due = fin_queued_ && nxt_ + static_cast<std::uint32_t>(len) == fin_seq;
  if (len == 0 && !fin_due) return std::nullopt;
  if (len > 0 && !nagle_allows(len, available, nodelay)) return std::nullopt;
  return Outgoing{nxt_, static_cast<std::size_t>(nxt_ - data_start()), len, fin_due,
                  len > 0 && len == available};
}

Outgoing Sender::override_segment() const {
  const std::size_t len =
      std::min<std::size_t>({unsent(), wnd_, cc_->cwnd(), static_cast<std::size_t>(mss_)});
  return Outgoing{nxt_, static_cast<std::size_t>(nxt_ - data_start()), len, false, len == unsent()};
}

void Sender::sent(const Outgoing& s, Instant now) {
  const bool fresh = s.seq == max_;
  if (fresh && !rtt_seq_) {
    rtt_seq_ = s.seq;
    rtt_start_ = now;
  }
  nxt_ = s.seq + static_cast<std::uint32_t>(s.len + (s.fin ? 1 : 0));
  max_ = seq_max(max_, nxt_);
  max_flight_ = std::max(max_flight_, flight());
}

bool Sender::cwnd_limited() const {
  // As Linux's tcp_is_cwnd_limited: in slow start the window is in use if half of it was in
  // flight (it doubles each round); later, if it was filled to within a segment.
  const std::size_t used = std::max(max_flight_, last_round_max_flight_);
  const std::uint32_t cwnd = cc_->cwnd();
  if (cwnd < cc_->ssthresh()) return 2 * used > cwnd;
  return used + mss_ > cwnd;
}

void Sender::set_congestion(std::unique_ptr<CongestionControl> cc) {
  cc->set_cwnd(cc_->cwnd());
  cc->set_ssthresh(cc_->ssthresh());
  cc_ = std::move(cc);
}

AckResult Sender::on_ack(SeqNum ack, std::uint32_t window, bool may_be_duplicate, Instant now) {
  AckResult result;
  const std::uint32_t mss = mss_;
  if (ack > una_) {
    auto acked = static_cast<std::uint32_t>(ack - una_);
    if (!syn_acked_) {
      syn_acked_ = true;
      --acked;
      una_ = una_ + 1;
    }
    const std::size_t data = std::min<std::size_t>(acked, buffer_.size());
    buffer_.discard(data);
    if (acked > data && fin_queued_) fin_acked_ = true;
    una_ = ack;
    if (nxt_ < una_) nxt_ = una_;
    if (urgent_pending_ && una_ >= up_) urgent_pending_ = false;
    // RFC 6298 §3 / Karn: time only segments sent once.
    std::optional<Duration> rtt;
    if (rtt_seq_ && ack > *rtt_seq_) {
      rtt = now - rtt_start_;
      rto_.sample(*rtt);
      rtt_seq_.reset();
    }
    rto_.reset_backoff();
    const bool round_end = ack >= round_end_;
    if (round_end) {
      round_end_ = max_;
      last_round_max_flight_ = max_flight_;
      max_flight_ = flight();
    }
    if (in_recovery_ && !cc_->newreno_recovery()) {
      // RFC 5681 §3.2 step 6 (Reno): the first ACK of new data ends recovery, partial or not;
      // the window deflates to ssthresh.
      in_recovery_ = false;
      cc_->set_cwnd(cc_->ssthresh());
    } else if (in_recovery_) {
      if (recover_ && ack >= *recover_) {
        // RFC 6582 §3.2 step 3, full acknowledgement: deflate the window.
        in_recovery_ = false;
        const auto flight = static_cast<std::uint32_t>(max_ - una_);
        cc_->set_cwnd(std::min(cc_->ssthresh(), std::max(flight, mss) + mss));
      } else {
        // Partial acknowledgement: resend the next hole at once, deflate by what was acked.
        result.resend = Outgoing{una_, 0, std::min<std::size_t>(mss, buffer_.size()), false, false};
        cc_->set_cwnd(cc_->cwnd() > acked ? cc_->cwnd() - acked + mss : mss);
      }
    } else {
      AckEvent e;
      e.acked = acked;
      e.in_flight = static_cast<std::uint32_t>(max_ - una_);
      e.mss = mss;
      e.now = now;
      e.rtt = rtt;
      e.srtt = rto_.srtt().value_or(Duration{0});
      e.cwnd_limited = cwnd_limited();
      e.round_end = round_end;
      cc_->on_ack(e);
    }
    dupacks_ = 0;
    result.advanced = true;
    return result;
  }
  // RFC 5681 §2's duplicate ACK: nothing new acknowledged, data outstanding, the window
  // unchanged, and no data, SYN or FIN.
  if (ack != una_ || una_ == max_ || window != wnd_ || !may_be_duplicate) return result;
  ++dupacks_;
  if (dupacks_ == 3 && !in_recovery_ && (!recover_ || una_ > *recover_ - 1)) {
    // RFC 5681 §3.2 fast retransmit; RFC 6582 guards against old duplicates (recover).
    const auto flight = static_cast<std::uint32_t>(max_ - una_);
    cc_->on_loss(LossEvent{flight, mss, now});
    recover_ = max_;
    in_recovery_ = true;
    rtt_seq_.reset();
    result.fast_retransmit = true;
    result.resend = Outgoing{una_, 0, std::min<std::size_t>(mss, buffer_.size()), false, false};
    cc_->set_cwnd(cc_->ssthresh() + 3 * mss);
  } else if (in_recovery_ && dupacks_ > 3) {
    cc_->set_cwnd(cc_->cwnd() + mss);  // each further duplicate: a segment has left the network
  }
  return result;
}

bool Sender::update_window(SeqNum seq, SeqNum ack, std::uint32_t window) {
  if (!(wl1_ < seq || (wl1_ == seq && wl2_ <= ack))) return false;
  const bool was_zero = wnd_ == 0;
  set_window(window, seq, ack);
  if (!was_zero || wnd_ == 0) return false;
  // The window reopened: the probes' backoff ends (as Linux's tcp_ack_probe), and the
  // waiting data goes as normal.
  rto_.reset_backoff();
  return true;
}

void Sender::backoff() {
  rto_.backoff();    // RFC 6298 §5.5
  rtt_seq_.reset();  // Karn's rule: no sample from what is resent
}

void Sender::on_timeout(Instant now) {
  // RFC 5681 §3.1 equation (4) and the loss window; RFC 6582 §4 remembers the highest sequence
  // sent so duplicate ACKs from before the timeout start no fast retransmit.
  cc_->on_timeout(LossEvent{static_cast<std::uint32_t>(max_ - una_), mss_, now});
  dupacks_ = 0;
  in_recovery_ = false;
  recover_ = max_;
  nxt_ = una_;  // go back: resend from the first unacknowledged byte
}

}  // namespace tapir::tcp
