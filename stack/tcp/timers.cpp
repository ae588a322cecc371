// The connection timers: retransmission (tcprexmt), persist, delayed ACK, keepalive, TIME-WAIT.
#include <algorithm>
#include <cerrno>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

void Connection::arm_retransmit(Instant now) {
  retransmit_timer_.arm(context_.timers(), now + rto_.rto(),
                        [this](Instant t) { retransmit_timeout(t); });
}

void Connection::retransmit_timeout(Instant now) {
  if (snd_una_ == snd_max_) return;  // everything was acknowledged meanwhile
  Stats& stats = context_.stats();
  stats.tcpTimeouts++;
  const Config& config = layer_.config();
  const unsigned limit = state_ == State::syn_sent       ? config.syn_retries
                         : state_ == State::syn_received ? config.synack_retries
                                                         : config.data_retries;
  if (++retries_ > limit) {
    // RFC 1122 §4.2.3.5: R2 reached, the connection is closed; a soft error seen meanwhile
    // (an ICMP unreachable) says more than ETIMEDOUT, as Linux reports it.
    stats.tcpAbortOnTimeout++;
    close_down(soft_error_ != 0 ? soft_error_ : ETIMEDOUT);
    return;
  }
  rto_.backoff();    // RFC 6298 §5.5
  rtt_seq_.reset();  // Karn's rule: no sample from what is resent
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    send_syn(now);
    return;
  }
  // RFC 5681 §3.1 equation (4) and the loss window of one segment; RFC 6582 §4 remembers the
  // highest sequence sent so duplicate ACKs from before the timeout start no fast retransmit.
  const auto in_flight = static_cast<std::uint32_t>(snd_max_ - snd_una_);
  ssthresh_ = std::max(in_flight / 2, 2U * send_mss_);
  cwnd_ = send_mss_;
  bytes_acked_ = 0;
  dupacks_ = 0;
  in_recovery_ = false;
  recover_ = snd_max_;
  snd_nxt_ = snd_una_;  // go back: resend from the first unacknowledged byte
  output(now);
  arm_retransmit(now);  // RFC 6298 §5.6: restart with the backed-off RTO
}

void Connection::persist_timeout(Instant now) {
  persist_timer_ = 0;
  if (unsent() == 0 || flight() != 0 || !sending_state_for_probe()) return;
  if (snd_wnd_ != 0) {
    // RFC 1122 §4.2.3.4 (4), the override timeout: SWS avoidance held back a segment the
    // window is too small for, and no ACK is coming to change that: send what fits.
    const std::size_t len = std::min<std::size_t>({unsent(), snd_wnd_, cwnd_, send_mss_});
    const auto offset = static_cast<std::size_t>(snd_nxt_ - data_start());
    const bool fresh = snd_nxt_ == snd_max_;
    const std::uint8_t flags = len == unsent() ? flag::ack | flag::psh : flag::ack;
    send_segment(flags, snd_nxt_, offset, len, now);
    if (fresh && !rtt_seq_) {
      rtt_seq_ = snd_nxt_;
      rtt_start_ = now;
    }
    snd_nxt_ += static_cast<std::uint32_t>(len);
    snd_max_ = seq_max(snd_max_, snd_nxt_);
    arm_retransmit(now);
    return;
  }
  // The probe: a segment one byte before SND.UNA (as Linux's tcp_xmit_probe_skb), which the
  // receiver cannot accept and must answer with an ACK carrying its current window.
  context_.stats().tcpZeroWindowProbes++;
  send_segment(flag::ack, snd_una_ - 1, 0, 0, now);
  // RFC 1122 §4.2.2.17: the window may stay closed forever; probes continue with exponential
  // backoff (up to the RTO maximum) as long as the peer answers them.
  if (++persist_backoffs_ > layer_.config().data_retries) {
    context_.stats().tcpAbortOnTimeout++;
    close_down(ETIMEDOUT);
    return;
  }
  // The interval doubles with the RTO's backoff (as Linux's icsk_backoff), which only new
  // data acknowledged ends: an answer to a probe resets persist_backoffs_ (the peer is alive)
  // but must not bring the probes back to their first rate.
  rto_.backoff();
  persist_timer_ =
      context_.timers().schedule(now + rto_.rto(), [this](Instant t) { persist_timeout(t); });
}

bool Connection::sending_state_for_probe() const {
  return state_ == State::established || state_ == State::close_wait ||
         state_ == State::fin_wait_1 || state_ == State::closing || state_ == State::last_ack;
}

void Connection::schedule_ack(Instant now, bool full_segment) {
  ack_pending_ = true;
  // RFC 1122 §4.2.3.2: at least every second full-sized segment is ACKed at once, and no ACK
  // waits longer than 0.5 s (40 ms here, as Linux's minimum delayed-ACK time).
  if (full_segment && ++unacked_segments_ >= 2) {
    ack_now_ = true;
    return;
  }
  if (delayed_ack_timer_ == 0) {
    delayed_ack_timer_ = context_.timers().schedule(now + layer_.config().delayed_ack,
                                                    [this](Instant t) { delayed_ack_timeout(t); });
  }
}

void Connection::delayed_ack_timeout(Instant now) {
  delayed_ack_timer_ = 0;
  if (!ack_pending_) return;
  context_.stats().tcpDelayedAcks++;
  send_ack(now);
}

void Connection::arm_keepalive(Instant) {
  if (!options_.keepalive || !synchronized(state_) || state_ == State::time_wait) {
    keepalive_timer_.stop();
    return;
  }
  const Duration wait = keepalive_probes_ == 0 ? options_.keep_idle : options_.keep_interval;
  const Instant from = keepalive_probes_ == 0 ? last_heard_ : context_.now();
  keepalive_timer_.arm(context_.timers(), from + wait, [this](Instant t) { keepalive_timeout(t); });
}

void Connection::keepalive_timeout(Instant now) {
  // RFC 1122 §4.2.3.6: probes only on an idle connection; a segment heard resets the count.
  if (now - last_heard_ < options_.keep_idle && keepalive_probes_ == 0) {
    arm_keepalive(now);
    return;
  }
  if (static_cast<int>(keepalive_probes_) >= options_.keep_count) {
    context_.stats().tcpAbortOnTimeout++;
    close_down(ETIMEDOUT);
    return;
  }
  if (snd_una_ == snd_max_) {
    // The probe: SEG.SEQ = SND.NXT - 1 with no data, which the peer must ACK.
    context_.stats().tcpKeepaliveProbes++;
    send_segment(flag::ack, snd_una_ - 1, 0, 0, now);
    ++keepalive_probes_;
  }
  keepalive_timer_.arm(context_.timers(), now + options_.keep_interval,
                       [this](Instant t) { keepalive_timeout(t); });
}

void Connection::enter_time_wait(Instant now) {
  TimerQueue& timers = context_.timers();
  retransmit_timer_.cancel(timers);
  keepalive_timer_.cancel(timers);
  timers.cancel(persist_timer_);
  timers.cancel(fin_wait_2_timer_);
  persist_timer_ = fin_wait_2_timer_ = 0;
  set_state(State::time_wait);
  // RFC 9293 §3.6.1: 2·MSL, so the last ACK can be repeated and old duplicates die out.
  time_wait_timer_ = timers.reschedule(time_wait_timer_, now + 2 * layer_.config().msl,
                                       [this](Instant t) { time_wait_timeout(t); });
}

void Connection::time_wait_timeout(Instant) {
  time_wait_timer_ = 0;
  close_down(0);
}

void Connection::fin_wait_2_timeout(Instant) {
  fin_wait_2_timer_ = 0;
  // Linux's tcp_fin_timeout: an orphan whose peer never closes does not wait forever.
  if (state_ == State::fin_wait_2 && orphaned_) close_down(0);
}

}  // namespace tapir::tcp
