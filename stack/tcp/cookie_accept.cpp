// Connection::accept_cookie: a connection born ESTABLISHED from the ACK that returns a SYN cookie.
#include "stack/tcp/connection.hpp"
#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

void Connection::accept_cookie(const Repr& ack, const Options& peer, Instant now) {
  // RFC 4987 §3.6: the ACK carries all the SYN-RECEIVED state there is. Its SEG.SEQ − 1 was
  // the peer's ISN; its SEG.ACK − 1 the cookie, which was our ISN.
  receiver_.open(ack.seq - 1);
  choose_our_side(now);
  sender_.open(ack.ack - 1);
  negotiate(peer);
  if (ts_ok_) ts_recent_age_ = now;
  // What sending our SYN-ACK recorded for an ordinary open: the right edge its window
  // offered, and an ACK of RCV.NXT.
  receiver_.syn_window(true);
  receiver_.ack_sent();
  // The handshake's RTT sample (RFC 6298 §2): the echoed TSval says when the SYN-ACK left,
  // up to the option bits' step late, so the sample errs long, the safe way (RFC 7323 §4).
  // Without timestamps nothing says when, and the estimator starts afresh (1 s).
  const Duration rtt =
      ts_ok_ ? Duration{std::int64_t{ts_now(now) - peer.timestamps->echo} * 1000} : Duration{0};
  sender_.syn_sent(now - rtt);
  sender_.syn_acknowledged(ack.ack, now);
  if (!ts_ok_) sender_.rto() = RtoEstimator(sender_.rto().config());
  // RFC 7323 §2.2: the ACK's window is scaled (only a SYN's is not).
  sender_.set_window(static_cast<std::uint32_t>(ack.window) << snd_wscale_, ack.seq, ack.ack);
  last_heard_ = now;
  established(now);
  layer_.established(*this);
}

}  // namespace tapir::tcp
