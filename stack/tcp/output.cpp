// tcpxmit: sending what the sender chooses, and building each kind of segment (data, SYN, ACK,
// RST) with the receiver's window, SACK blocks and timestamps.
#include <algorithm>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

namespace {

bool sending_state(State s) {
  return s == State::established || s == State::close_wait || s == State::fin_wait_1 ||
         s == State::closing || s == State::last_ack;
}

}  // namespace

void Connection::send_segment(std::uint8_t flags, SeqNum seq, std::size_t data_offset,
                              std::size_t len, Instant now) {
  Stats& stats = context_.stats();
  Repr r;
  r.src_port = tuple_.local_port;
  r.dst_port = tuple_.remote_port;
  r.seq = seq;
  r.flags = flags;
  const bool syn = (flags & flag::syn) != 0;
  if (state_ != State::syn_sent) {
    r.flags |= flag::ack;
    r.ack = receiver_.nxt();
  }
  if (syn) {
    r.options = syn_options();
    r.window = receiver_.syn_window(state_ != State::syn_sent);
  } else {
    r.window = receiver_.window();
    if (ts_ok_) r.options.timestamps = Timestamps{ts_now(now), ts_recent_};
    // RFC 2018 §4: three blocks fit beside timestamps, four without.
    if (sack_ok_) r.options.sack_count = receiver_.sack_blocks(r.options.sack, ts_ok_ ? 3 : 4);
  }
  if (const auto pointer = sender_.urgent_pointer(seq)) {
    r.flags |= flag::urg;
    r.urgent = *pointer;
  }
  Packet packet(len);
  if (len > 0) sender_.copy(data_offset, packet.bytes());
  emit(r, packet, tuple_.local, tuple_.remote);

  const bool retransmission = seq < sender_.max() && (len > 0 || syn || (flags & flag::fin));
  if (retransmission) {
    stats.tcpRetransSegs++;
    counts_.total_retrans++;
    counts_.bytes_retrans += len;
  } else {
    stats.tcpOutSegs++;
  }
  counts_.segs_out++;
  if (len > 0) {
    counts_.data_segs_out++;
    counts_.bytes_sent += len;
    counts_.last_data_sent = now;
  }
  if (r.has(flag::ack)) {
    receiver_.ack_sent();
    timers_.stop(Timer::delayed_ack);
  }
  context_.trace(tapir::Layer::tcp, [&] {
    return describe() + " out " + flags_text(r.flags) + " seq " + std::to_string(seq.value()) +
           " ack " + std::to_string(r.ack.value()) + " win " + std::to_string(r.window) + " len " +
           std::to_string(len) + (retransmission ? " (retransmission)" : "");
  });
  ip::SendOptions options;
  options.dont_fragment = true;  // RFC 1191 path MTU discovery
  layer_.ip().send(tuple_.local, tuple_.remote, ip::protocol::tcp, std::move(packet), options);
}

void Connection::send_data(const Outgoing& s, Instant now) {
  std::uint8_t flags = flag::ack;
  if (s.psh) flags |= flag::psh;
  if (s.fin) flags |= flag::fin;
  send_segment(flags, s.seq, s.offset, s.len, now);
  sender_.sent(s, now);
}

void Connection::arm_probe(Instant now) {
  if (!sender_.probe_allowed()) {
    timers_.stop(Timer::probe);
    return;
  }
  // RFC 8985 §7.2: a probe that would come after the retransmission timer is no use.
  const Instant pto = now + sender_.probe_timeout();
  const auto rto = timers_.deadline(Timer::retransmit);
  if (rto && pto >= *rto) {
    timers_.stop(Timer::probe);
    return;
  }
  timers_.arm(Timer::probe, pto);
}

void Connection::send_syn(Instant now) {
  send_segment(flag::syn, sender_.iss(), 0, 0, now);
  sender_.syn_sent(now);
  arm_retransmit(now);
}

void Connection::send_ack(Instant now) {
  if (state_ == State::syn_sent || state_ == State::closed) return;
  send_segment(flag::ack, sender_.nxt(), 0, 0, now);
}

void Connection::send_challenge_ack(Instant now) {
  // RFC 5961 §7: limited, so the ACKs cannot be turned into a flood (or a side channel).
  if (!challenge_acks_.allow(now)) {
    context_.stats().tcpChallengeAcksLimited++;
    return;
  }
  context_.stats().tcpChallengeAcks++;
  send_ack(now);
}

void Connection::send_rst(SeqNum seq, bool answer_to_ack) {
  Repr r;
  r.src_port = tuple_.local_port;
  r.dst_port = tuple_.remote_port;
  r.seq = seq;
  r.flags = flag::rst;
  if (state_ != State::syn_sent && !answer_to_ack) {
    r.flags |= flag::ack;
    r.ack = receiver_.nxt();
  }
  Packet packet(0);
  emit(r, packet, tuple_.local, tuple_.remote);
  context_.stats().tcpOutSegs++;
  context_.stats().tcpOutRsts++;
  context_.trace(tapir::Layer::tcp, [&] {
    return describe() + " out " + flags_text(r.flags) + " seq " + std::to_string(seq.value());
  });
  ip::SendOptions options;
  options.dont_fragment = true;
  layer_.ip().send(tuple_.local, tuple_.remote, ip::protocol::tcp, std::move(packet), options);
}

void Connection::output(Instant now) {
  if (!sending_state(state_) || !sender_.syn_acked()) return;
  bool sent_new = false;
  while (const auto s = sender_.next(options_.nodelay)) {
    send_data(*s, now);
    sent_new |= !s->retransmit;
    if (!timers_.armed(Timer::retransmit)) arm_retransmit(now);
    if (s->fin) break;
  }
  if (sent_new) arm_probe(now);  // RFC 8985 §7.2: after new data
  // Data waits and nothing is in flight to bring an ACK that would move it: behind a zero
  // window, the persist timer probes (RFC 9293 §3.8.6.1); behind a window too small for SWS
  // avoidance to use, it is the override timeout of RFC 1122 §4.2.3.4 (4), which sends what
  // fits (as Linux's probe timer does).
  if (sender_.unsent() > 0 && sender_.flight() == 0 && !timers_.armed(Timer::persist)) {
    timers_.arm(Timer::persist, now + sender_.rto().rto());
  }
}

}  // namespace tapir::tcp
