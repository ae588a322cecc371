// What a connection does when each of its timers fires: retransmission (tcprexmt), persist
// (tcppersist), delayed ACK, keepalive, TIME-WAIT and FIN-WAIT-2.
#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

void Connection::timer_fired(Timer timer, Instant now) {
  switch (timer) {
    case Timer::retransmit:
      retransmit_timeout(now);
      return;
    case Timer::persist:
      persist_timeout(now);
      return;
    case Timer::delayed_ack:
      delayed_ack_timeout(now);
      return;
    case Timer::keepalive:
      keepalive_timeout(now);
      return;
    case Timer::time_wait:
      time_wait_timeout(now);
      return;
    case Timer::fin_wait_2:
      fin_wait_2_timeout(now);
      return;
    case Timer::probe:
      probe_timeout(now);
      return;
    case Timer::reorder:
      reorder_timeout(now);
      return;
  }
}

void Connection::arm_retransmit(Instant now) {
  timers_.arm(Timer::retransmit, now + sender_.rto().rto());
}

void Connection::retransmit_timeout(Instant now) {
  if (sender_.all_acked()) return;  // everything was acknowledged meanwhile
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
  sender_.backoff();
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    send_syn(now);
    return;
  }
  sender_.on_timeout(now);
  timers_.stop(Timer::probe);
  timers_.stop(Timer::reorder);
  trace_cc("timeout", now);
  output(now);
  arm_retransmit(now);  // RFC 6298 §5.6: restart with the backed-off RTO
}

void Connection::probe_timeout(Instant now) {
  if (!sender_.probe_allowed() || !sending_state_for_probe()) return;
  const auto probe = sender_.probe();
  if (!probe) return;
  context_.stats().tcpLossProbes++;
  std::uint8_t flags = flag::ack;
  if (probe->psh) flags |= flag::psh;
  if (probe->fin) flags |= flag::fin;
  send_segment(flags, probe->seq, probe->offset, probe->len, now);
  sender_.probe_sent(*probe, now);
  trace_cc("probe", now);
  arm_retransmit(now);  // RFC 8985 §7.3: the RTO timer is armed again after a probe
}

void Connection::reorder_timeout(Instant now) {
  context_.stats().tcpRackReorderTimeouts++;
  note_recovery(sender_.reorder_timeout(now), now);
  trace_cc("reorder", now);
  output(now);
}

void Connection::note_recovery(const AckResult& result, Instant now) {
  Stats& stats = context_.stats();
  if (result.fast_retransmit) {
    stats.tcpFastRetrans++;
    if (sack_ok_) stats.tcpSackRecovery++;
    timers_.stop(Timer::probe);  // RFC 8985 §7.2: no probes during recovery
  }
  if (result.dsack) stats.tcpDsackRecv++;
  if (result.undone) stats.tcpDsackUndo++;
  if (result.spurious_rto) stats.tcpSpuriousRtos++;
  if (result.probe_repaired) stats.tcpLossProbeRecovery++;
  if (result.reorder_timeout) {
    timers_.arm(Timer::reorder, now + *result.reorder_timeout);
  } else {
    timers_.stop(Timer::reorder);
  }
}

void Connection::trace_cc(std::string_view event, Instant) {
  context_.trace(tapir::Layer::tcp_cc, [&] {
    // time is the trace line's own; then connection, event, cwnd, ssthresh, srtt, rttvar, rto
    // (microseconds), in-flight, delivered (bytes), state, algorithm, its variables.
    static constexpr const char* states[] = {"open", "disorder", "cwr", "recovery", "loss"};
    const CongestionControl& cc = sender_.congestion();
    const RtoEstimator& rto = sender_.rto();
    const std::uint32_t ssthresh = cc.ssthresh();
    char text[320];
    std::snprintf(
        text, sizeof text, "%s:%u>%s:%u,%.*s,%u,%lld,%lld,%lld,%lld,%zu,%llu,%s,%.*s,%s",
        tuple_.local.to_string().c_str(), tuple_.local_port, tuple_.remote.to_string().c_str(),
        tuple_.remote_port, static_cast<int>(event.size()), event.data(), cc.cwnd(),
        ssthresh == 0xffffffffU ? -1LL : static_cast<long long>(ssthresh),
        static_cast<long long>(rto.srtt().value_or(Duration{0}).count()),
        static_cast<long long>(rto.rttvar().count()), static_cast<long long>(rto.rto().count()),
        sender_.in_flight(), static_cast<unsigned long long>(sender_.delivered()),
        sender_.in_recovery() && !sender_.sack() ? "recovery"
                                                 : states[static_cast<int>(sender_.state())],
        static_cast<int>(cc.name().size()), cc.name().data(), cc.state().c_str());
    return std::string(text);
  });
}

void Connection::persist_timeout(Instant now) {
  if (sender_.unsent() == 0 || sender_.flight() != 0 || !sending_state_for_probe()) return;
  if (sender_.window() != 0) {
    // RFC 1122 §4.2.3.4 (4), the override timeout: SWS avoidance held back a segment the
    // window is too small for, and no ACK is coming to change that: send what fits.
    send_data(sender_.override_segment(), now);
    arm_retransmit(now);
    return;
  }
  // The probe: a segment one byte before SND.UNA (as Linux's tcp_xmit_probe_skb), which the
  // receiver cannot accept and must answer with an ACK carrying its current window.
  context_.stats().tcpZeroWindowProbes++;
  send_segment(flag::ack, sender_.una() - 1, 0, 0, now);
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
  sender_.rto().backoff();
  timers_.arm(Timer::persist, now + sender_.rto().rto());
}

bool Connection::sending_state_for_probe() const {
  return state_ == State::established || state_ == State::close_wait ||
         state_ == State::fin_wait_1 || state_ == State::closing || state_ == State::last_ack;
}

void Connection::schedule_ack(Instant now, bool full_segment) {
  // RFC 1122 §4.2.3.2: at least every second full-sized segment is ACKed at once, and no ACK
  // waits longer than 0.5 s (40 ms here, as Linux's minimum delayed-ACK time).
  if (receiver_.data_arrived(full_segment)) return;
  if (!timers_.armed(Timer::delayed_ack)) {
    timers_.arm(Timer::delayed_ack, now + layer_.config().delayed_ack);
  }
}

void Connection::delayed_ack_timeout(Instant now) {
  if (!receiver_.ack_pending()) return;
  context_.stats().tcpDelayedAcks++;
  send_ack(now);
}

void Connection::arm_keepalive(Instant) {
  if (!options_.keepalive || !synchronized(state_) || state_ == State::time_wait) {
    timers_.stop(Timer::keepalive);
    return;
  }
  const Duration wait = keepalive_probes_ == 0 ? options_.keep_idle : options_.keep_interval;
  const Instant from = keepalive_probes_ == 0 ? last_heard_ : context_.now();
  timers_.arm(Timer::keepalive, from + wait);
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
  if (sender_.all_acked()) {
    // The probe: SEG.SEQ = SND.NXT - 1 with no data, which the peer must ACK.
    context_.stats().tcpKeepaliveProbes++;
    send_segment(flag::ack, sender_.una() - 1, 0, 0, now);
    ++keepalive_probes_;
  }
  timers_.arm(Timer::keepalive, now + options_.keep_interval);
}

void Connection::enter_time_wait(Instant now) {
  timers_.cancel(Timer::retransmit);
  timers_.cancel(Timer::keepalive);
  timers_.cancel(Timer::persist);
  timers_.cancel(Timer::fin_wait_2);
  set_state(State::time_wait);
  // RFC 9293 §3.6.1: 2·MSL, so the last ACK can be repeated and old duplicates die out.
  timers_.arm(Timer::time_wait, now + 2 * layer_.config().msl);
}

void Connection::time_wait_timeout(Instant) {
  close_down(0);
}

void Connection::arm_fin_wait_2(Instant now) {
  timers_.arm(Timer::fin_wait_2, now + layer_.config().fin_wait_2);
}

void Connection::fin_wait_2_timeout(Instant) {
  // Linux's tcp_fin_timeout: an orphan whose peer never closes does not wait forever.
  if (state_ == State::fin_wait_2 && orphaned_) close_down(0);
}

}  // namespace tapir::tcp
