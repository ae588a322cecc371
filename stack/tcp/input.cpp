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
  counts_.segs_in++;
  if (!payload.empty()) {
    counts_.data_segs_in++;
    counts_.last_data_recv = now;
  }
  if (arrived.has(flag::ack)) counts_.last_ack_recv = now;
  if (state_ == State::syn_sent) {
    syn_sent_arrives(arrived, now);
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
                               !arrived.has(flag::rst) && arrived.seq == receiver_.irs() &&
                               arrived.ack == sender_.iss() + 1;
  Repr after_syn;
  if (crossing_synack) {
    after_syn = arrived;
    after_syn.seq = receiver_.irs() + 1;
  }
  const Repr& seg = crossing_synack ? after_syn : arrived;
  const std::size_t len =
      payload.size() + (seg.has(flag::syn) ? 1 : 0) + (seg.has(flag::fin) ? 1 : 0);

  // Our SYN-ACK was lost and the peer repeats its SYN: answer with the SYN-ACK again.
  if (state_ == State::syn_received && seg.has(flag::syn) && !seg.has(flag::ack) &&
      !seg.has(flag::rst) && seg.seq == receiver_.irs()) {
    send_syn(now);
    return;
  }
  // RFC 7323 §5.3 R1: PAWS, before the sequence check. The ACK it asks for is rate-limited
  // (as Linux's tcp_invalid_ratelimit): a stream of old segments must not become a stream of
  // ACKs.
  if (paws_rejects(seg, payload.size())) {
    stats.tcpPawsDrops++;
    if (invalid_acks_.allow(now)) send_ack(now);
    return;
  }
  // First: check the sequence number.
  if (!receiver_.acceptable(seg.seq, len)) {
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
  if (ts_ok_ && seg.options.timestamps && seg.seq <= receiver_.last_ack_sent() &&
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
  const bool data_state =
      state_ == State::established || state_ == State::fin_wait_1 || state_ == State::fin_wait_2;
  // Sixth: the URG bit.
  if (seg.has(flag::urg) && seg.urgent != 0 && data_state) {
    receiver_.note_urgent(seg.seq, seg.urgent);
  }
  // Seventh: the segment text.
  process_text(seg, payload, now);
  if (state_ == State::closed) return;
  // Eighth: the FIN bit (it may also have been seen ahead of a gap; the receiver keeps it).
  std::optional<SeqNum> fin;
  if (seg.has(flag::fin)) fin = seg.seq + static_cast<std::uint32_t>(payload.size());
  if (receiver_.fin(fin)) process_fin(now);
  if (state_ == State::closed) return;
  output(now);
  if (!receiver_.ack_due()) return;
  if (layer_.batching()) {
    layer_.owe_ack(*this);
  } else {
    send_ack(now);
  }
}

void Connection::syn_sent_arrives(const Repr& seg, Instant now) {
  // RFC 9293 §3.10.7.3. First: the ACK bit.
  bool ack_ok = false;
  if (seg.has(flag::ack)) {
    if (seg.ack <= sender_.iss() || seg.ack > sender_.max()) {
      if (!seg.has(flag::rst)) send_rst(seg.ack, true);
      return;
    }
    ack_ok = sender_.una() <= seg.ack;
  }
  // Second: the RST bit. RFC 5961 §3.2: in SYN-SENT a RST counts when it acknowledges our SYN.
  if (seg.has(flag::rst)) {
    if (ack_ok) close_down(ECONNREFUSED);
    return;
  }
  // Fourth: the SYN bit.
  if (!seg.has(flag::syn)) return;
  receiver_.open(seg.seq);
  negotiate(seg.options);
  if (ts_ok_) ts_recent_age_ = now;
  sender_.set_window(seg.window, seg.seq, seg.ack);  // RFC 7323 §2.2: a SYN's is not scaled
  last_heard_ = now;
  if (ack_ok) {
    sender_.syn_acknowledged(seg.ack, now);
    timers_.stop(Timer::retransmit);
    established(now);
    send_ack(now);
    output(now);
    return;
  }
  // Simultaneous open (RFC 9293 Figure 7): SYN-RECEIVED, answering with SYN,ACK.
  set_state(State::syn_received);
  send_syn(now);
}

bool Connection::paws_rejects(const Repr& seg, std::size_t payload) const {
  if (!ts_ok_ || !seg.options.timestamps || seg.has(flag::rst)) return false;
  const auto behind = static_cast<std::int32_t>(ts_recent_ - seg.options.timestamps->value);
  if (behind <= 0) return false;
  if (context_.now() - ts_recent_age_ >= paws_idle_limit) return false;
  // Linux's tcp_disordered_ack: a duplicate ACK that the network reordered behind a newer one
  // is no old duplicate from an earlier incarnation (what PAWS is for, RFC 7323 §5) and its
  // SACK blocks are news: it passes when it is a pure ACK at RCV.NXT repeating SND.UNA, does
  // not change the window, and is behind by no more than an RTO's worth of TSval ticks.
  const bool duplicate_ack = seg.has(flag::ack) && payload == 0 && !seg.has(flag::syn) &&
                             !seg.has(flag::fin) && seg.seq == receiver_.nxt() &&
                             seg.ack == sender_.una() &&
                             (std::uint32_t{seg.window} << snd_wscale_) == sender_.window();
  const auto rto_ticks = static_cast<std::int32_t>(sender_.rto().rto().count() / 1000);
  return !(duplicate_ack && behind <= rto_ticks);
}

bool Connection::check_rst(const Repr& seg, Instant now) {
  // RFC 5961 §3.2: only a RST at exactly RCV.NXT resets; one elsewhere in the window gets a
  // challenge ACK, so a blind attacker must hit one number in 2^32 rather than one window.
  if (seg.seq != receiver_.nxt()) {
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
    if (seg.ack <= sender_.una() || seg.ack > sender_.max()) {
      send_rst(seg.ack, true);
      return false;
    }
    // Linux: with a full accept queue the handshake's last ACK is dropped; the SYN-ACK is
    // repeated until room appears (tcp_abort_on_overflow = 0).
    if (listener && listener->accept_queue.size() > static_cast<std::size_t>(listener->backlog)) {
      stats.tcpListenOverflows++;
      return false;
    }
    sender_.syn_acknowledged(sender_.una() + 1, now);
    timers_.stop(Timer::retransmit);
    // RFC 7323 §2.2: a SYN's window (a crossing SYN,ACK's) is never scaled.
    const std::uint32_t window = static_cast<std::uint32_t>(seg.window)
                                 << (seg.has(flag::syn) ? 0 : snd_wscale_);
    sender_.set_window(window, seg.seq, seg.ack);
    established(now);
    layer_.established(*this);
  }
  // RFC 9293: an ACK for something not yet sent is answered with an ACK and dropped.
  if (seg.ack > sender_.max()) {
    stats.tcpAckUnsent++;
    send_ack(now);
    return false;
  }
  // RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is a blind injection attempt.
  const std::uint32_t max_window = std::max<std::uint32_t>(sender_.max_window(), 1);
  if (seg.ack < sender_.una() - max_window) {
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
      if (sender_.fin_acked()) {
        set_state(State::fin_wait_2);
        if (orphaned_) arm_fin_wait_2(now);
      }
      break;
    case State::closing:
      if (sender_.fin_acked()) enter_time_wait(now);
      return false;  // "otherwise ignore the segment"
    case State::last_ack:
      if (sender_.fin_acked()) {
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
  const std::uint32_t window = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
  // RFC 5681 §2's duplicate ACK carries no data; one that did would move RCV.NXT or be out
  // of order, so "starts at RCV.NXT" stands in for "carries no data" here.
  const bool may_be_duplicate =
      !seg.has(flag::syn) && !seg.has(flag::fin) && seg.seq == receiver_.nxt();
  // RFC 2018: the peer's SACK blocks, when both sides agreed to SACK.
  const std::span<const SackBlock> sack =
      sack_ok_ ? std::span<const SackBlock>(seg.options.sack.data(), seg.options.sack_count)
               : std::span<const SackBlock>{};
  const AckResult result = sender_.on_ack(seg.ack, window, may_be_duplicate, sack, now);
  note_recovery(result, now);
  if (result.resend) {
    send_segment(flag::ack, result.resend->seq, result.resend->offset, result.resend->len, now);
  }
  if (result.advanced) {
    retries_ = 0;
    // RFC 6298 §5.2-5.3: stop the timer when all is acknowledged, else restart it.
    if (sender_.all_acked()) {
      timers_.stop(Timer::retransmit);
    } else if (!result.keep_timer) {
      arm_retransmit(now);
    }
    arm_probe(now);  // RFC 8985 §7.2: on an ACK of new data
  }
  if (result.advanced || result.delivered > 0 || result.fast_retransmit) trace_cc("ack", now);
  // A crossing SYN,ACK's window was taken, unscaled, by check_ack.
  if (!seg.has(flag::syn) && sender_.update_window(seg.seq, seg.ack, window)) {
    timers_.stop(Timer::persist);
  }
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
  const TextResult result = receiver_.text(seg.seq, payload, options_.oob_inline);
  stats.tcpRcvWindowDrops += result.dropped;
  if (result.queued_out_of_order) stats.tcpOfoQueued++;
  if (result.in_order) {
    schedule_ack(now, result.accepted >= receiver_.mss() - (ts_ok_ ? 12U : 0U));
  }
}

void Connection::process_fin(Instant now) {
  switch (state_) {
    case State::syn_received:
    case State::established:
      set_state(State::close_wait);
      break;
    case State::fin_wait_1:
      if (sender_.fin_acked()) {
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
