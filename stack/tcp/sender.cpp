// Sender: the send sequence space, what goes next, and ACK processing: SACK-based recovery
// (RFC 6675, RACK-TLP RFC 8985, PRR RFC 6937, F-RTO RFC 5682) or NewReno (RFC 6582).
#include "stack/tcp/sender.hpp"

#include <algorithm>

namespace tapir::tcp {

namespace {

// RFC 6675 §2: DupThresh, the SACKed segments that mean a loss when nothing reorders.
constexpr std::uint32_t dup_thresh = 3;
// RFC 8985 §7.2: WCDelAckT, the worst-case delayed-ACK timer a probe allows for.
constexpr Duration worst_case_delayed_ack{200'000};

bool sent_after(Instant t1, SeqNum seq1, Instant t2, SeqNum seq2) {
  return t1 > t2 || (t1 == t2 && seq1 > seq2);
}

}  // namespace

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
  // Resend what was too big, now in smaller segments. It is no sign of congestion, so the
  // window stays (with SACK: the loss state without a reduction, as Linux's
  // tcp_simple_retransmit).
  if (sack_) {
    board_.mark_all_lost();
    state_ = CaState::loss;
    recovery_point_ = max_;
    frto_ = 0;
  } else {
    nxt_ = una_;
  }
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

std::optional<Outgoing> Sender::new_data(std::size_t usable, bool nodelay) const {
  const std::size_t available = unsent();
  std::size_t len = std::min<std::size_t>({available, mss_, usable});
  if (sack_) {
    // With pipe counting what is in flight, the peer's window is a bound of its own: new data
    // must fit in [SND.UNA, SND.UNA + SND.WND).
    const std::int32_t room = (una_ + wnd_) - nxt_;
    len = std::min<std::size_t>(len, room > 0 ? static_cast<std::size_t>(room) : 0);
  }
  const SeqNum fin_seq = data_start() + static_cast<std::uint32_t>(buffer_.size());
  // The FIN goes with (or after) the last byte of data.
  const bool fin_due = fin_queued_ && nxt_ + static_cast<std::uint32_t>(len) == fin_seq;
  if (len == 0 && !fin_due) return std::nullopt;
  if (len > 0 && !nagle_allows(len, available, nodelay)) return std::nullopt;
  return Outgoing{nxt_,
                  static_cast<std::size_t>(nxt_ - data_start()),
                  len,
                  fin_due,
                  len > 0 && len == available,
                  false};
}

Outgoing Sender::resend_of(const SentSegment& s) const {
  Outgoing o;
  o.seq = s.start;
  o.offset = static_cast<std::size_t>(s.start - data_start());
  const std::size_t data = s.length() - (s.fin ? 1 : 0);
  o.len = std::min<std::size_t>(data, mss_);
  o.fin = s.fin && o.len == data;
  o.retransmit = true;
  return o;
}

std::optional<Outgoing> Sender::next(bool nodelay) const {
  if (!sack_) {
    const std::size_t in_flight = flight();
    // RFC 3042 §2 (limited transmit): on the first and second duplicate ACK one new segment
    // each may go beyond cwnd (the flight at most cwnd + 2·SMSS), cwnd itself unchanged, so a
    // small window still draws the third duplicate. With SACK, pipe does the same (RFC 6675
    // §5): every SACKed segment leaves it.
    const std::uint32_t limited = !in_recovery_ && dupacks_ < 3 ? dupacks_ * mss_ : 0;
    const std::uint32_t window = std::min(wnd_, cc_->cwnd() + limited);
    return new_data(window > in_flight ? window - in_flight : 0, nodelay);
  }
  // RFC 6675 §5 (C): send while cwnd - pipe allows, choosing by NextSeg (§4).
  const std::uint32_t pipe = board_.pipe();
  const std::uint32_t cwnd = cc_->cwnd();
  std::size_t usable = cwnd > pipe ? cwnd - pipe : 0;
  if (state_ == CaState::loss && frto_ == 1) {
    // F-RTO (RFC 5682 §2.1 step 1): only the first segment goes again until an ACK comes.
    const SentSegment* first = board_.first_lost();
    if (!first || first->start != una_) return std::nullopt;
    return resend_of(*first);
  }
  if (state_ == CaState::loss && frto_ == 2) {
    // Step 2(b): up to two new segments, whatever cwnd says, to see whether the originals
    // were only delayed.
    const std::int32_t room = frto_limit_ - nxt_;
    return room > 0 ? new_data(static_cast<std::size_t>(room), true) : std::nullopt;
  }
  if (usable == 0) return std::nullopt;
  // RFC 6675 §5 (C): a retransmission goes when cwnd - pipe has room for it (one SMSS, or
  // the whole segment if it is smaller).
  const auto fits = [&](const SentSegment& seg) {
    return usable >= std::min<std::size_t>(seg.length(), mss_);
  };
  // Rule 1: the first segment deemed lost and not yet retransmitted.
  if (const SentSegment* lost = board_.first_lost()) {
    return fits(*lost) ? std::optional<Outgoing>(resend_of(*lost)) : std::nullopt;
  }
  // Rule 2: new data, if the peer's window has room for it.
  if (auto fresh = new_data(usable, nodelay)) return fresh;
  // Rule 4: once per recovery, the highest unSACKed segment (the rescue retransmission), so
  // that a lost tail need not wait for the retransmission timer.
  if (state_ == CaState::recovery && !rescue_sent_) {
    if (const SentSegment* last = board_.last_unsacked(recovery_point_)) {
      if (!last->retransmitted && fits(*last)) return resend_of(*last);
    }
  }
  return std::nullopt;
}

Outgoing Sender::override_segment() const {
  const std::size_t len =
      std::min<std::size_t>({unsent(), wnd_, cc_->cwnd(), static_cast<std::size_t>(mss_)});
  return Outgoing{nxt_, static_cast<std::size_t>(nxt_ - data_start()), len, false, len == unsent(),
                  false};
}

void Sender::sent(const Outgoing& s, Instant now) {
  const auto length = static_cast<std::uint32_t>(s.len + (s.fin ? 1 : 0));
  if (state_ == CaState::recovery) prr_out_ += length;
  if (sack_ && s.retransmit) {
    const SentSegment* before = board_.find(s.seq);
    if (before && !before->lost && state_ == CaState::recovery) rescue_sent_ = true;
    board_.resent(s.seq, length, now);
    if (undo_marker_) ++undo_retrans_;
    rtt_seq_.reset();  // Karn: what was in flight is now ambiguous
    max_flight_ = std::max(max_flight_, in_flight());
    return;  // SND.NXT does not move for a retransmission
  }
  if (sack_ && s.seq >= max_) board_.sent(s.seq, s.seq + length, s.fin, now);
  const bool fresh = s.seq == max_;
  if (fresh && !rtt_seq_) {
    rtt_seq_ = s.seq;
    rtt_start_ = now;
  }
  nxt_ = s.seq + length;
  max_ = seq_max(max_, nxt_);
  max_flight_ = std::max(max_flight_, in_flight());
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

std::uint32_t Sender::advance(SeqNum ack, Instant now, std::optional<Duration>& rtt,
                              bool& round_end) {
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
  if (rtt_seq_ && ack > *rtt_seq_) {
    rtt = now - rtt_start_;
    rto_.sample(*rtt);
    rtt_seq_.reset();
  }
  rto_.reset_backoff();
  round_end = ack >= round_end_;
  if (round_end) {
    round_end_ = max_;
    last_round_max_flight_ = max_flight_;
    max_flight_ = in_flight();
  }
  return acked;
}

void Sender::grow(std::uint32_t acked, std::optional<Duration> rtt, bool round_end, Instant now) {
  AckEvent e;
  e.acked = acked;
  e.in_flight = static_cast<std::uint32_t>(in_flight());
  e.mss = mss_;
  e.now = now;
  e.rtt = rtt;
  e.srtt = rto_.srtt().value_or(Duration{0});
  e.cwnd_limited = cwnd_limited();
  e.round_end = round_end;
  cc_->on_ack(e);
}

AckResult Sender::on_ack(SeqNum ack, std::uint32_t window, bool may_be_duplicate,
                         std::span<const SackBlock> sack, Instant now) {
  return sack_ ? on_ack_sack(ack, sack, now) : on_ack_newreno(ack, window, may_be_duplicate, now);
}

AckResult Sender::on_ack_newreno(SeqNum ack, std::uint32_t window, bool may_be_duplicate,
                                 Instant now) {
  AckResult result;
  const std::uint32_t mss = mss_;
  if (ack > una_) {
    std::optional<Duration> rtt;
    bool round_end = false;
    const std::uint32_t acked = advance(ack, now, rtt, round_end);
    result.delivered = acked;
    delivered_ += acked;
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
        // RFC 6582 §3.2 step 5, a partial acknowledgement: resend the next hole at once;
        // deflate by what was acknowledged, adding back one SMSS if it was at least that.
        result.resend =
            Outgoing{una_, 0, std::min<std::size_t>(mss, buffer_.size()), false, false, false};
        const std::uint32_t back = acked >= mss ? mss : 0;
        cc_->set_cwnd(cc_->cwnd() > acked ? cc_->cwnd() - acked + back : mss);
        result.keep_timer = ++partial_acks_ > 1;
      }
    } else {
      grow(acked, rtt, round_end, now);
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
    partial_acks_ = 0;
    rtt_seq_.reset();
    result.fast_retransmit = true;
    result.resend =
        Outgoing{una_, 0, std::min<std::size_t>(mss, buffer_.size()), false, false, false};
    cc_->set_cwnd(cc_->ssthresh() + 3 * mss);
  } else if (in_recovery_ && dupacks_ > 3) {
    cc_->set_cwnd(cc_->cwnd() + mss);  // each further duplicate: a segment has left the network
  }
  return result;
}

AckResult Sender::on_ack_sack(SeqNum ack, std::span<const SackBlock> sack, Instant now) {
  AckResult result;
  const SeqNum prior_una = una_;
  std::optional<Duration> rtt;
  bool round_end = false;
  if (ack > una_) {
    advance(ack, now, rtt, round_end);
    result.advanced = true;
  }
  const Delivery d = board_.acknowledge(ack, sack, now);
  result.delivered = d.acked + d.sacked;
  delivered_ += result.delivered;

  // RFC 2883 / RFC 3708: a D-SACK for what the last reduction retransmitted shows it was not
  // needed; once every such retransmission has been shown so, the reduction is undone.
  if (d.dsack) {
    result.dsack = true;
    const SackBlock& b = sack[0];
    const bool in_episode = undo_marker_ && b.left >= *undo_marker_ && b.right <= prior_una;
    if (undo_marker_ && undo_retrans_ > 0 && (d.dsack_of_retransmission || in_episode)) {
      if (--undo_retrans_ == 0) {
        undo();
        result.undone = true;
      }
    }
  }
  rack_update(d, now);
  if (frto_ != 0 && state_ == CaState::loss) frto_step(prior_una, result);

  // RFC 8985 §7.4: the probe's episode ends when what it covered is acknowledged. A probe
  // that resent data and got no D-SACK repaired a real loss: respond as to any loss.
  if (tlp_end_ && ack >= *tlp_end_) {
    if (tlp_retransmitted_ && !d.dsack && state_ == CaState::open) {
      cc_->on_loss(LossEvent{static_cast<std::uint32_t>(max_ - una_), mss_, now});
      cc_->set_cwnd(cc_->ssthresh());
      result.probe_repaired = true;
    }
    tlp_end_.reset();
  }

  result.reorder_timeout = rack_detect(now);
  // RFC 6675 §5: recovery ends when everything sent before it began is acknowledged.
  if ((state_ == CaState::recovery || state_ == CaState::loss) && una_ >= recovery_point_) {
    // RFC 6937: cwnd = ssthresh at the end of recovery (a timeout's slow start keeps its own).
    if (state_ == CaState::recovery) cc_->set_cwnd(cc_->ssthresh());
    // RFC 8985 §6.2 step 4: a reordering window widened by D-SACKs shrinks back after 16
    // recoveries without more.
    if (--rack_.reo_wnd_persist <= 0) rack_.reo_wnd_mult = 1;
    state_ = CaState::open;
    frto_ = 0;
  }
  if (state_ == CaState::open || state_ == CaState::disorder) {
    if (board_.lost_bytes() > 0) {
      enter_recovery(now);
      result.fast_retransmit = true;
    } else {
      state_ = board_.sacked_bytes() > 0 ? CaState::disorder : CaState::open;
    }
  }
  if (state_ == CaState::recovery) {
    prr_update(result.delivered);
  } else if (result.delivered > 0) {
    grow(result.delivered, rtt, round_end, now);
  }
  return result;
}

void Sender::rack_update(const Delivery& d, Instant now) {
  // RFC 8985 §6.2 step 2: RACK.segment is the most recently sent segment delivered. A
  // retransmitted one delivered sooner than min_RTT after its retransmission is ambiguous
  // (the ACK is likely the original's) and teaches nothing.
  if (d.newest) {
    const SentSegment& s = *d.newest;
    const Duration rtt = now - s.sent_at;
    if (s.transmissions == 1 || rtt >= rack_.min_rtt) {
      rack_.rtt = rtt;
      if (s.transmissions == 1) rack_.min_rtt = std::min(rack_.min_rtt, rtt);
      if (!rack_.valid || sent_after(s.sent_at, s.end, rack_.xmit_ts, rack_.end_seq)) {
        rack_.xmit_ts = s.sent_at;
        rack_.end_seq = s.end;
        rack_.valid = true;
      }
    }
  }
  // Step 3: a never-retransmitted segment delivered below one delivered before: reordering.
  if (d.reordered) rack_.reordering_seen = true;
  // Step 4: D-SACKs widen the reordering window, once per round trip.
  if (rack_.dsack_round && una_ >= *rack_.dsack_round) rack_.dsack_round.reset();
  if (!rack_.dsack_round && d.dsack) {
    rack_.dsack_round = max_;
    ++rack_.reo_wnd_mult;
    rack_.reo_wnd_persist = 16;
  }
}

Duration Sender::reorder_window() const {
  // RFC 8985 §6.2 step 4: no wait at all while no reordering has been seen, in recovery or
  // once DupThresh segments are SACKed (the classic rule); else a quarter of min_RTT per
  // multiple, never more than SRTT.
  if (!rack_.reordering_seen) {
    if (state_ == CaState::recovery || state_ == CaState::loss) return Duration{0};
    if (board_.sacked_bytes() >= dup_thresh * mss_) return Duration{0};
  }
  if (rack_.min_rtt == Duration{std::numeric_limits<Duration::rep>::max()}) return Duration{0};
  const Duration wnd = rack_.reo_wnd_mult * rack_.min_rtt / 4;
  return std::min(wnd, rto_.srtt().value_or(wnd));
}

std::optional<Duration> Sender::rack_detect(Instant now) {
  if (!rack_.valid) return std::nullopt;
  return board_.detect_lost(rack_.xmit_ts, rack_.end_seq, rack_.rtt, reorder_window(), now);
}

AckResult Sender::reorder_timeout(Instant now) {
  AckResult result;
  if (!sack_) return result;
  result.reorder_timeout = rack_detect(now);
  if ((state_ == CaState::open || state_ == CaState::disorder) && board_.lost_bytes() > 0) {
    enter_recovery(now);
    prr_update(0);
    result.fast_retransmit = true;
  }
  return result;
}

void Sender::enter_recovery(Instant now) {
  // RFC 6675 §5 step 4 and RFC 6937 §3: remember where recovery ends, reduce ssthresh once,
  // and let PRR pace what goes out against what is delivered.
  save_for_undo();
  state_ = CaState::recovery;
  recovery_point_ = max_;
  cc_->on_loss(LossEvent{static_cast<std::uint32_t>(max_ - una_), mss_, now});
  prr_delivered_ = 0;
  prr_out_ = 0;
  recover_fs_ = std::max<std::uint32_t>(static_cast<std::uint32_t>(max_ - una_), 1);
  rescue_sent_ = false;
  tlp_end_.reset();
  rtt_seq_.reset();
}

void Sender::prr_update(std::uint32_t delivered) {
  // RFC 6937 §3: while pipe is above ssthresh, send in proportion to what is delivered
  // (the rate falls smoothly to ssthresh/RecoverFS); below it, slow start back up to it, at
  // most one segment beyond what was delivered (PRR-SSRB).
  prr_delivered_ += delivered;
  const std::int64_t pipe = board_.pipe();
  const std::int64_t ssthresh = cc_->ssthresh();
  std::int64_t sndcnt = 0;
  if (pipe > ssthresh) {
    const std::int64_t target =
        (std::int64_t{prr_delivered_} * ssthresh + recover_fs_ - 1) / std::int64_t{recover_fs_};
    sndcnt = target - prr_out_;
  } else {
    const std::int64_t limit =
        std::max<std::int64_t>(std::int64_t{prr_delivered_} - prr_out_, delivered) + mss_;
    sndcnt = std::min(ssthresh - pipe, limit);
  }
  // As Linux's tcp_cwnd_reduction: the fast retransmit itself always goes.
  sndcnt = std::max<std::int64_t>(sndcnt, prr_out_ == 0 ? mss_ : 0);
  cc_->set_cwnd(static_cast<std::uint32_t>(pipe + sndcnt));
}

void Sender::save_for_undo() {
  prior_cwnd_ = cc_->cwnd();
  prior_ssthresh_ = cc_->ssthresh();
  undo_marker_ = una_;
  undo_retrans_ = 0;
}

void Sender::undo() {
  cc_->set_cwnd(std::max(cc_->cwnd(), prior_cwnd_));
  cc_->set_ssthresh(std::max(cc_->ssthresh(), prior_ssthresh_));
  cc_->on_undo();
  undo_marker_.reset();
  undo_retrans_ = 0;
  if (state_ == CaState::recovery || state_ == CaState::loss) {
    board_.unmark_lost();
    state_ = board_.sacked_bytes() > 0 ? CaState::disorder : CaState::open;
    frto_ = 0;
  }
}

void Sender::frto_step(SeqNum prior_una, AckResult& result) {
  const bool advanced = una_ > prior_una;
  if (frto_ == 1) {
    // RFC 5682 §2.1 step 2: a duplicate ACK, or one that covers everything outstanding, says
    // nothing: recovery goes on as usual. One that acknowledges part of what was sent before
    // the timeout lets two new segments test whether the originals were only delayed.
    if (!advanced || una_ >= frto_high_ || unsent() == 0 || (una_ + wnd_) - nxt_ <= 0) {
      frto_ = 0;
    } else {
      frto_ = 2;
      frto_limit_ = nxt_ + 2 * std::uint32_t{mss_};
    }
    return;
  }
  // Step 3: the ACK after the new segments. A duplicate means the timeout was real; one that
  // acknowledges more means the originals were arriving all along (RFC 5682 §2.1 (b)).
  if (!advanced) {
    frto_ = 0;
    return;
  }
  undo();
  result.spurious_rto = true;
}

void Sender::backoff() {
  rto_.backoff();    // RFC 6298 §5.5
  rtt_seq_.reset();  // Karn's rule: no sample from what is resent
}

void Sender::on_timeout(Instant now) {
  const auto flight = static_cast<std::uint32_t>(max_ - una_);
  if (!sack_) {
    // RFC 5681 §3.1 equation (4) and the loss window; RFC 6582 §4 remembers the highest
    // sequence sent so duplicate ACKs from before the timeout start no fast retransmit.
    cc_->on_timeout(LossEvent{flight, mss_, now});
    dupacks_ = 0;
    in_recovery_ = false;
    recover_ = max_;
    nxt_ = una_;  // go back: resend from the first unacknowledged byte
    return;
  }
  // RFC 6675 §5.1: after a timeout every unSACKed segment is deemed lost and goes again in
  // order, SACKed ones not. F-RTO (RFC 5682) only on the first timeout of an episode, not one
  // during fast recovery.
  const bool first = state_ != CaState::loss;
  if (first) save_for_undo();
  frto_ = first && state_ != CaState::recovery ? 1 : 0;
  frto_high_ = max_;
  cc_->on_timeout(LossEvent{flight, mss_, now});
  state_ = CaState::loss;
  recovery_point_ = max_;
  board_.mark_all_lost();
  tlp_end_.reset();
}

bool Sender::probe_allowed() const {
  // RFC 8985 §7.2 (and Linux): only in the open state, with data in flight, one at a time.
  return sack_ && syn_acked_ && state_ == CaState::open && flight() > 0 && !tlp_end_;
}

Duration Sender::probe_timeout() const {
  const auto srtt = rto_.srtt();
  if (!srtt) return Duration{1'000'000};
  Duration pto = 2 * *srtt;
  if (flight() <= mss_) pto += worst_case_delayed_ack;  // the peer may delay its only ACK
  return std::max(pto, Duration{10'000});
}

std::optional<Outgoing> Sender::probe() const {
  // RFC 8985 §7.3: new data if the peer's window lets a segment go, else the last segment.
  if (auto fresh = new_data(mss_, true); fresh && fresh->len > 0) return fresh;
  if (const SentSegment* last = board_.last()) {
    Outgoing o = resend_of(*last);
    // The probe carries the segment's end, so its ACK covers the whole tail.
    const std::size_t data = last->length() - (last->fin ? 1 : 0);
    if (data > mss_) {
      o.seq = last->end - static_cast<std::uint32_t>(mss_ + (last->fin ? 1 : 0));
      o.offset = static_cast<std::size_t>(o.seq - data_start());
      o.len = mss_;
      o.fin = last->fin;
    }
    return o;
  }
  return std::nullopt;
}

void Sender::probe_sent(const Outgoing& s, Instant now) {
  sent(s, now);
  tlp_end_ = max_;
  tlp_retransmitted_ = s.retransmit;
}

std::optional<Duration> Sender::min_rtt() const {
  if (rack_.min_rtt == Duration{std::numeric_limits<Duration::rep>::max()}) return std::nullopt;
  return rack_.min_rtt;
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

}  // namespace tapir::tcp
