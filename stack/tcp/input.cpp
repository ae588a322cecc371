// tcp_in for one connection: "segment arrives" (RFC 9293 §3.10.7.3-§3.10.7.4) in the RFC's order.
#include <algorithm>
#include <cerrno>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

namespace {

// RFC 7323 §5.5: a TS.Recent older than 24 days is stale and no longer blocks segments.
constexpr Duration paws_idle_limit{24LL * 24 * 3600 * 1'000'000};

}  // namespace

void Connection::segment_arrives(const Repr& arrived, std::span<const std::uint8_t> payload,
                                 Instant now) {
  if (state_ == State::syn_sent) {
    syn_sent_arrives(arrived, payload, now);
    return;
  }
  if (state_ == State::closed || state_ == State::listen) return;
  Stats& stats = context_.stats();
  // RFC 9293 §3.5 Figure 7 (simultaneous open), line 6: in SYN-RECEIVED after our SYN-SENT,
  // the peer's SYN,ACK repeats the SYN we have already taken and acknowledges ours. It
  // completes the handshake (as Linux's tcp_validate_incoming lets it) rather than fail the
  // sequence check, its SYN lying just before RCV.NXT, and cost an ACK and a round trip. It is
  // taken from RCV.NXT on; its SYN bit stays, for its window is unscaled (RFC 7323 §2.2).
  const bool crossing_synack = state_ == State::syn_received && !listener &&
                               arrived.has(flag::syn) && arrived.has(flag::ack) &&
                               !arrived.has(flag::rst) && arrived.seq == irs_ &&
                               arrived.ack == iss_ + 1;
  Repr after_syn;
  if (crossing_synack) {
    after_syn = arrived;
    after_syn.seq = irs_ + 1;
  }
  const Repr& seg = crossing_synack ? after_syn : arrived;
  const std::size_t len =
      payload.size() + (seg.has(flag::syn) ? 1 : 0) + (seg.has(flag::fin) ? 1 : 0);

  // Our SYN-ACK was lost and the peer repeats its SYN: answer with the SYN-ACK again.
  if (state_ == State::syn_received && seg.has(flag::syn) && !seg.has(flag::ack) &&
      !seg.has(flag::rst) && seg.seq == irs_) {
    send_syn(now);
    return;
  }
  // RFC 7323 §5.3 R1: PAWS, before the sequence check.
  if (paws_rejects(seg)) {
    stats.tcpPawsDrops++;
    send_ack(now);
    return;
  }
  // First: check the sequence number.
  if (!acceptable(seg, len)) {
    stats.tcpOutOfWindow++;
    if (seg.has(flag::rst)) return;
    // RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth): a SYN gets a challenge ACK "irrespective
    // of the sequence number", so it comes under the §7 rate limit here too.
    if (seg.has(flag::syn)) {
      send_challenge_ack(now);
      return;
    }
    // RFC 9293: "an acknowledgment should be sent in reply"; a TIME-WAIT connection also
    // restarts its 2·MSL wait when the peer repeats its FIN.
    if (state_ == State::time_wait && seg.has(flag::fin)) enter_time_wait(now);
    send_ack(now);
    return;
  }
  last_heard_ = now;
  keepalive_probes_ = 0;
  persist_backoffs_ = 0;
  // RFC 7323 §4.3: remember the newest TSval of a segment that is not ahead of what we ACKed.
  if (ts_ok_ && seg.options.timestamps && seg.seq <= last_ack_sent_ &&
      static_cast<std::int32_t>(seg.options.timestamps->value - ts_recent_) >= 0) {
    ts_recent_ = seg.options.timestamps->value;
    ts_recent_age_ = now;
  }
  // Second: the RST bit.
  if (seg.has(flag::rst)) {
    check_rst(seg, now);
    return;
  }
  // Third (security) does not apply. Fourth: a SYN in a synchronized state (or SYN-RECEIVED,
  // for a SYN that is not the one we answered) gets a challenge ACK (RFC 5961 §4.2).
  if (seg.has(flag::syn) && !crossing_synack) {
    send_challenge_ack(now);
    return;
  }
  // Fifth: the ACK field. Without it the segment is dropped.
  if (!seg.has(flag::ack)) return;
  if (!check_ack(seg, now)) return;
  // check_ack may have closed the connection (LAST-ACK done) or moved it to TIME-WAIT.
  if (state_ == State::closed) return;
  // Sixth: the URG bit.
  process_urgent(seg);
  // Seventh: the segment text.
  process_text(seg, payload, now);
  if (state_ == State::closed) return;
  // Eighth: the FIN bit (it may also have been seen ahead of a gap, process_text records it).
  if (seg.has(flag::fin)) {
    const SeqNum fin = seg.seq + static_cast<std::uint32_t>(payload.size());
    if (!fin_seq_ && fin >= rcv_nxt_) fin_seq_ = fin;
  }
  if (fin_seq_ && !fin_received_ && rcv_nxt_ == *fin_seq_) process_fin(now);
  if (state_ == State::closed) return;
  output(now);
  if (!ack_now_) return;
  if (layer_.batching()) {
    layer_.owe_ack(*this);
  } else {
    send_ack(now);
  }
}

void Connection::syn_sent_arrives(const Repr& seg, std::span<const std::uint8_t>, Instant now) {
  // RFC 9293 §3.10.7.3. First: the ACK bit.
  bool ack_ok = false;
  if (seg.has(flag::ack)) {
    if (seg.ack <= iss_ || seg.ack > snd_max_) {
      if (!seg.has(flag::rst)) send_rst(seg.ack, true);
      return;
    }
    ack_ok = snd_una_ <= seg.ack;
  }
  // Second: the RST bit. RFC 5961 §3.2: in SYN-SENT a RST counts when it acknowledges our SYN.
  if (seg.has(flag::rst)) {
    if (ack_ok) close_down(ECONNREFUSED);
    return;
  }
  // Fourth: the SYN bit.
  if (!seg.has(flag::syn)) return;
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  negotiate(seg.options);
  if (ts_ok_) ts_recent_age_ = now;
  snd_wnd_ = seg.window;  // RFC 7323 §2.2: a SYN's window is not scaled
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  last_heard_ = now;
  if (ack_ok) {
    syn_acked_ = true;
    snd_una_ = seg.ack;
    if (rtt_seq_) rto_.sample(now - rtt_start_);  // Karn: only if the SYN was not resent
    rtt_seq_.reset();
    rto_.reset_backoff();
    retransmit_timer_.stop();
    established(now);
    send_ack(now);
    output(now);
    return;
  }
  // Simultaneous open (RFC 9293 Figure 7): SYN-RECEIVED, answering with SYN,ACK.
  set_state(State::syn_received);
  send_syn(now);
}

bool Connection::paws_rejects(const Repr& seg) const {
  if (!ts_ok_ || !seg.options.timestamps || seg.has(flag::rst)) return false;
  if (static_cast<std::int32_t>(seg.options.timestamps->value - ts_recent_) >= 0) return false;
  return context_.now() - ts_recent_age_ < paws_idle_limit;
}

bool Connection::acceptable(const Repr& seg, std::size_t len) const {
  // RFC 9293 §3.10.7.4's table of the four cases.
  const std::uint32_t window =
      rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  if (len == 0) {
    if (window == 0) return seg.seq == rcv_nxt_;
    return in_window(seg.seq, rcv_nxt_, window);
  }
  if (window == 0) return false;
  const SeqNum last = seg.seq + static_cast<std::uint32_t>(len - 1);
  return in_window(seg.seq, rcv_nxt_, window) || in_window(last, rcv_nxt_, window);
}

bool Connection::check_rst(const Repr& seg, Instant now) {
  // RFC 5961 §3.2: only a RST at exactly RCV.NXT resets; one elsewhere in the window gets a
  // challenge ACK, so a blind attacker must hit one number in 2^32 rather than one window.
  if (seg.seq != rcv_nxt_) {
    send_challenge_ack(now);
    return false;
  }
  switch (state_) {
    case State::syn_received:
      // A passive open goes back to LISTEN (the child just disappears); an active one (from a
      // simultaneous open) is refused.
      close_down(listener ? 0 : ECONNREFUSED);
      return true;
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
    case State::close_wait:
      reset_by_peer = true;
      close_down(ECONNRESET);
      return true;
    default:  // CLOSING, LAST-ACK, TIME-WAIT
      close_down(0);
      return true;
  }
}

bool Connection::check_ack(const Repr& seg, Instant now) {
  Stats& stats = context_.stats();
  if (state_ == State::syn_received) {
    // §3.10.7.4 fifth, SYN-RECEIVED: unless SND.UNA < SEG.ACK =< SND.NXT, the ACK is not
    // acceptable and gets <SEQ=SEG.ACK><CTL=RST>, one ahead of what we sent included (the
    // synchronized states' "ACK and drop" below is not for a handshake).
    if (seg.ack <= snd_una_ || seg.ack > snd_max_) {
      send_rst(seg.ack, true);
      return false;
    }
    // Linux: with a full accept queue the handshake's last ACK is dropped; the SYN-ACK is
    // repeated until room appears (tcp_abort_on_overflow = 0).
    if (listener && listener->accept_queue.size() > static_cast<std::size_t>(listener->backlog)) {
      stats.tcpListenOverflows++;
      return false;
    }
    syn_acked_ = true;
    snd_una_ = snd_una_ + 1;
    if (rtt_seq_) rto_.sample(now - rtt_start_);
    rtt_seq_.reset();
    rto_.reset_backoff();
    retransmit_timer_.stop();
    // RFC 7323 §2.2: a SYN's window (a crossing SYN,ACK's) is never scaled.
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << (seg.has(flag::syn) ? 0 : snd_wscale_);
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    established(now);
    layer_.established(*this);
  }
  // RFC 9293: an ACK for something not yet sent is answered with an ACK and dropped.
  if (seg.ack > snd_max_) {
    stats.tcpAckUnsent++;
    send_ack(now);
    return false;
  }
  // RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is a blind injection attempt.
  const std::uint32_t max_window = std::max<std::uint32_t>(max_snd_wnd_, 1);
  if (seg.ack < snd_una_ - max_window) {
    stats.tcpAckTooOld++;
    send_challenge_ack(now);
    return false;
  }
  if (state_ == State::time_wait) {
    // Only a repeated FIN can come (answered with an ACK, and 2·MSL starts over).
    if (seg.has(flag::fin)) {
      send_ack(now);
      enter_time_wait(now);
    }
    return false;
  }
  process_ack(seg, now);
  switch (state_) {
    case State::fin_wait_1:
      if (fin_acked_) {
        set_state(State::fin_wait_2);
        if (orphaned_) {
          fin_wait_2_timer_ =
              context_.timers().reschedule(fin_wait_2_timer_, now + layer_.config().fin_wait_2,
                                           [this](Instant t) { fin_wait_2_timeout(t); });
        }
      }
      break;
    case State::closing:
      if (fin_acked_) enter_time_wait(now);
      return false;  // "otherwise ignore the segment"
    case State::last_ack:
      if (fin_acked_) {
        close_down(0);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void Connection::process_ack(const Repr& seg, Instant now) {
  const bool window_changed = (static_cast<std::uint32_t>(seg.window) << snd_wscale_) != snd_wnd_;
  if (seg.ack > snd_una_) {
    auto acked = static_cast<std::uint32_t>(seg.ack - snd_una_);
    if (!syn_acked_) {
      syn_acked_ = true;
      --acked;
      snd_una_ = snd_una_ + 1;
    }
    const std::size_t data = std::min<std::size_t>(acked, send_buf_.size());
    send_buf_.discard(data);
    if (acked > data && fin_queued_) fin_acked_ = true;
    snd_una_ = seg.ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    if (urgent_pending_ && snd_una_ >= snd_up_) urgent_pending_ = false;
    // RFC 6298 §3 / Karn: time only segments sent once.
    if (rtt_seq_ && seg.ack > *rtt_seq_) {
      rto_.sample(now - rtt_start_);
      rtt_seq_.reset();
    }
    rto_.reset_backoff();
    retries_ = 0;
    const std::uint32_t mss = send_mss_;
    if (in_recovery_) {
      if (recover_ && seg.ack >= *recover_) {
        // RFC 6582 §3.2 step 3, full acknowledgement: deflate the window.
        in_recovery_ = false;
        const std::uint32_t flight = static_cast<std::uint32_t>(snd_max_ - snd_una_);
        cwnd_ = std::min(ssthresh_, std::max(flight, mss) + mss);
      } else {
        // Partial acknowledgement: resend the next hole at once, deflate by what was acked.
        send_segment(flag::ack, snd_una_, 0, std::min<std::size_t>(mss, send_buf_.size()), now);
        cwnd_ = cwnd_ > acked ? cwnd_ - acked + mss : mss;
      }
    } else if (cwnd_ < ssthresh_) {
      // RFC 5681 §3.1 slow start, counting bytes with RFC 3465's limit of 2·SMSS per ACK.
      cwnd_ += std::min(acked, 2 * mss);
    } else {
      // Congestion avoidance: one SMSS per window of acknowledged bytes.
      bytes_acked_ += acked;
      if (bytes_acked_ >= cwnd_) {
        bytes_acked_ -= cwnd_;
        cwnd_ += mss;
      }
    }
    dupacks_ = 0;
    // RFC 6298 §5.2-5.3: stop the timer when all is acknowledged, else restart it.
    if (snd_una_ == snd_max_) {
      retransmit_timer_.stop();
    } else {
      arm_retransmit(now);
    }
  } else if (seg.ack == snd_una_ && snd_una_ != snd_max_ && !window_changed &&
             !seg.has(flag::syn) && !seg.has(flag::fin) && seg.seq == rcv_nxt_) {
    // RFC 5681 §2's duplicate ACK (the text check is approximated by seq == RCV.NXT: a
    // segment carrying data would move RCV.NXT or be out of order).
    ++dupacks_;
    const std::uint32_t mss = send_mss_;
    if (dupacks_ == 3 && !in_recovery_ && (!recover_ || snd_una_ > *recover_ - 1)) {
      // RFC 5681 §3.2 fast retransmit; RFC 6582 guards against old duplicates (recover).
      context_.stats().tcpFastRetrans++;
      const std::uint32_t flight = static_cast<std::uint32_t>(snd_max_ - snd_una_);
      ssthresh_ = std::max(flight / 2, 2 * mss);
      recover_ = snd_max_;
      in_recovery_ = true;
      rtt_seq_.reset();
      send_segment(flag::ack, snd_una_, 0, std::min<std::size_t>(mss, send_buf_.size()), now);
      cwnd_ = ssthresh_ + 3 * mss;
    } else if (in_recovery_ && dupacks_ > 3) {
      cwnd_ += mss;  // each further duplicate: a segment has left the network
    }
  }
  update_window(seg);
}

void Connection::update_window(const Repr& seg) {
  // RFC 9293 §3.10.7.4: take the window from the newest segment (SND.WL1/SND.WL2 order them).
  if (seg.has(flag::syn)) return;  // a crossing SYN,ACK: check_ack took its unscaled window
  if (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= seg.ack)) {
    const bool was_zero = snd_wnd_ == 0;
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (was_zero && snd_wnd_ > 0) {
      // The window reopened: the probes' backoff ends (as Linux's tcp_ack_probe), and the
      // waiting data goes as normal.
      rto_.reset_backoff();
      if (persist_timer_ != 0) {
        context_.timers().cancel(persist_timer_);
        persist_timer_ = 0;
      }
    }
  }
}

void Connection::process_urgent(const Repr& seg) {
  // RFC 9293 §3.10.7.4 sixth, with RFC 6093 §4: the pointer is the byte after urgent data.
  if (!seg.has(flag::urg) || seg.urgent == 0) return;
  if (state_ != State::established && state_ != State::fin_wait_1 && state_ != State::fin_wait_2) {
    return;
  }
  const SeqNum up = seg.seq + seg.urgent;
  if (up <= rcv_nxt_) return;  // already read past it
  if (!rcv_up_ || up > *rcv_up_) rcv_up_ = up;
}

void Connection::process_text(const Repr& seg, std::span<const std::uint8_t> payload, Instant now) {
  if (payload.empty()) return;
  if (state_ != State::established && state_ != State::fin_wait_1 && state_ != State::fin_wait_2) {
    return;  // RFC 9293: after the peer's FIN, text is ignored
  }
  Stats& stats = context_.stats();
  if (orphaned_) {
    // Nobody will read it: as Linux, the peer learns at once with a reset.
    stats.tcpAbortOnClose++;
    abort();
    return;
  }
  SeqNum seq = seg.seq;
  std::span<const std::uint8_t> data = payload;
  if (seq < rcv_nxt_) {
    const auto old = static_cast<std::size_t>(rcv_nxt_ - seq);
    if (old >= data.size()) {
      ack_now_ = true;
      return;
    }
    data = data.subspan(old);
    seq = rcv_nxt_;
  }
  const std::size_t room = recv_buf_.free();
  if (data.size() > room) stats.tcpRcvWindowDrops += data.size() - room;
  if (seq != rcv_nxt_) {
    // Ahead of a gap: kept (RFC 9293 §3.10.7.4), and answered at once with a duplicate ACK
    // carrying SACK blocks (RFC 5681 §4.2, RFC 2018 §4).
    const auto offset = static_cast<std::size_t>(seq - rcv_nxt_);
    if (offset < room) {
      ooo_.insert(rcv_nxt_, static_cast<std::uint32_t>(room), seq, data);
      last_ooo_ = seq;
      stats.tcpOfoQueued++;
    }
    ack_now_ = true;
    return;
  }
  data = data.first(std::min(data.size(), room));
  // The urgent byte, unless SO_OOBINLINE, leaves the stream for MSG_OOB (RFC 6093 §5).
  if (rcv_up_ && !options_.oob_inline) {
    const SeqNum urgent = *rcv_up_ - 1;
    if (in_window(urgent, seq, static_cast<std::uint32_t>(data.size()))) {
      const auto at = static_cast<std::size_t>(urgent - seq);
      recv_buf_.write(data.first(at));
      urgent_byte_ = data[at];
      mark_ = recv_buf_.size();
      recv_buf_.write(data.subspan(at + 1));
      rcv_up_.reset();
    } else {
      recv_buf_.write(data);
    }
  } else {
    recv_buf_.write(data);
  }
  rcv_nxt_ += static_cast<std::uint32_t>(data.size());
  const bool filled_gap = !ooo_.empty();
  if (filled_gap) {
    rcv_nxt_ += static_cast<std::uint32_t>(ooo_.take(rcv_nxt_, recv_buf_));
    ack_now_ = true;  // RFC 5681 §4.2: a segment that fills a gap is ACKed at once
  }
  schedule_ack(now, data.size() >= recv_mss_ - (ts_ok_ ? 12U : 0U));
}

void Connection::process_fin(Instant now) {
  fin_received_ = true;
  rcv_nxt_ += 1;
  ack_now_ = true;
  switch (state_) {
    case State::syn_received:
    case State::established:
      set_state(State::close_wait);
      break;
    case State::fin_wait_1:
      if (fin_acked_) {
        enter_time_wait(now);
      } else {
        set_state(State::closing);
      }
      break;
    case State::fin_wait_2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

}  // namespace tapir::tcp
