// tcpxmit: what a connection sends, when (windows, Nagle, silly-window avoidance), and how.
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

std::size_t Connection::flight() const {
  return static_cast<std::size_t>(snd_nxt_ - snd_una_);
}

std::size_t Connection::unsent() const {
  const std::int32_t sent = snd_nxt_ - data_start();
  const auto sent_data =
      std::min<std::size_t>(sent > 0 ? static_cast<std::size_t>(sent) : 0, send_buf_.size());
  return send_buf_.size() - sent_data;
}

std::uint32_t Connection::receive_window() {
  const std::size_t used = std::min(recv_buf_.size(), options_.rcvbuf);
  return static_cast<std::uint32_t>(options_.rcvbuf - used);
}

std::uint16_t Connection::advertised_window(std::uint32_t space) const {
  const std::uint32_t current =
      rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  // RFC 1122 §4.2.3.3 (receiver SWS avoidance): the right edge moves only by at least
  // min(half the buffer, one MSS); RFC 9293 §3.8.6: it never moves left.
  const std::uint32_t step =
      std::min<std::uint32_t>(static_cast<std::uint32_t>(options_.rcvbuf / 2), recv_mss_);
  std::uint32_t window = current;
  if (space >= current + step) window = space;
  std::uint32_t wire = window >> rcv_wscale_;
  if ((wire << rcv_wscale_) < current) ++wire;  // round up rather than shrink
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(wire, 0xffff));
}

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
    r.ack = rcv_nxt_;
  }
  if (syn) {
    r.options = syn_options();
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    r.window = static_cast<std::uint16_t>(std::min<std::size_t>(options_.rcvbuf, 0xffff));
    if (state_ != State::syn_sent) rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + r.window);
  } else {
    r.window = advertised_window(receive_window());
    rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + (static_cast<std::uint32_t>(r.window) << rcv_wscale_));
    if (ts_ok_) r.options.timestamps = Timestamps{ts_now(now), ts_recent_};
    if (sack_ok_ && !ooo_.empty()) {
      // RFC 2018 §4: the block holding the latest arrival first, then the others; three fit
      // beside timestamps.
      const auto ranges = ooo_.ranges();
      const std::size_t room = ts_ok_ ? 3 : 4;
      for (const SackBlock& b : ranges) {
        if (in_window(last_ooo_, b.left, static_cast<std::uint32_t>(b.right - b.left))) {
          r.options.sack[r.options.sack_count++] = b;
          break;
        }
      }
      for (const SackBlock& b : ranges) {
        if (r.options.sack_count >= room) break;
        if (r.options.sack_count > 0 && r.options.sack[0] == b) continue;
        r.options.sack[r.options.sack_count++] = b;
      }
    }
  }
  if (urgent_pending_ && snd_up_ > seq) {
    r.flags |= flag::urg;
    r.urgent = static_cast<std::uint16_t>(std::min<std::uint32_t>(snd_up_ - seq, 0xffff));
  }
  Packet packet(len);
  if (len > 0) send_buf_.peek(data_offset, packet.bytes());
  emit(r, packet, tuple_.local, tuple_.remote);

  const bool retransmission = seq < snd_max_ && (len > 0 || syn || (flags & flag::fin));
  if (retransmission) {
    stats.tcpRetransSegs++;
  } else {
    stats.tcpOutSegs++;
  }
  if (r.has(flag::ack)) {
    last_ack_sent_ = rcv_nxt_;
    ack_pending_ = false;
    ack_now_ = false;
    unacked_segments_ = 0;
    if (delayed_ack_timer_ != 0) {
      context_.timers().cancel(delayed_ack_timer_);
      delayed_ack_timer_ = 0;
    }
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

void Connection::send_syn(Instant now) {
  const bool first = snd_max_ == iss_;
  send_segment(flag::syn, iss_, 0, 0, now);
  snd_nxt_ = iss_ + 1;
  snd_max_ = seq_max(snd_max_, snd_nxt_);
  if (first) {
    rtt_seq_ = iss_;
    rtt_start_ = now;
  }
  arm_retransmit(now);
}

void Connection::send_ack(Instant now) {
  if (state_ == State::syn_sent || state_ == State::closed) return;
  send_segment(flag::ack, snd_nxt_, 0, 0, now);
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
    r.ack = rcv_nxt_;
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

bool Connection::nagle_allows(std::size_t len, std::size_t available) const {
  // RFC 1122 §4.2.3.4 (sender SWS avoidance) and RFC 896 (Nagle): send a full segment, or
  // everything queued when nothing is unacknowledged (or TCP_NODELAY), or at least half the
  // largest window the peer has offered.
  if (len >= send_mss_) return true;
  if (len == available && fin_queued_) return true;  // closing: nothing more will come
  if (len == available && (options_.nodelay || snd_nxt_ == snd_una_)) return true;
  if (max_snd_wnd_ > 0 && len >= max_snd_wnd_ / 2) return true;
  return snd_nxt_ < snd_max_;  // a retransmission re-sends what was already sent
}

void Connection::output(Instant now) {
  if (!sending_state(state_) || !syn_acked_) return;
  for (;;) {
    const std::size_t available = unsent();
    const std::size_t in_flight = flight();
    const std::uint32_t window = std::min(snd_wnd_, cwnd_);
    const std::size_t usable = window > in_flight ? window - in_flight : 0;
    const std::size_t len = std::min<std::size_t>({available, send_mss_, usable});
    const SeqNum fin_seq = data_start() + static_cast<std::uint32_t>(send_buf_.size());
    // The FIN goes with (or after) the last byte of data.
    const bool fin_due = fin_queued_ && snd_nxt_ + static_cast<std::uint32_t>(len) == fin_seq;
    if (len == 0 && !fin_due) break;
    if (len > 0 && !nagle_allows(len, available)) break;
    std::uint8_t flags = flag::ack;
    if (len > 0 && len == available) flags |= flag::psh;
    if (fin_due) flags |= flag::fin;
    const auto offset = static_cast<std::size_t>(snd_nxt_ - data_start());
    const bool fresh = snd_nxt_ == snd_max_;
    send_segment(flags, snd_nxt_, offset, len, now);
    if (fresh && !rtt_seq_) {
      rtt_seq_ = snd_nxt_;
      rtt_start_ = now;
    }
    snd_nxt_ += static_cast<std::uint32_t>(len + (fin_due ? 1 : 0));
    snd_max_ = seq_max(snd_max_, snd_nxt_);
    if (!retransmit_timer_.armed()) arm_retransmit(now);
    if (fin_due) break;
  }
  // Data waits and nothing is in flight to bring an ACK that would move it: behind a zero
  // window, the persist timer probes (RFC 9293 §3.8.6.1); behind a window too small for SWS
  // avoidance to use, it is the override timeout of RFC 1122 §4.2.3.4 (4), which sends what
  // fits (as Linux's probe timer does).
  if (unsent() > 0 && flight() == 0 && persist_timer_ == 0) {
    persist_timer_ =
        context_.timers().schedule(now + rto_.rto(), [this](Instant t) { persist_timeout(t); });
  }
}

}  // namespace tapir::tcp
