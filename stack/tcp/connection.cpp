// Connection: construction, the user calls (RFC 9293 §3.10.1-§3.10.6) and state bookkeeping.
#include "stack/tcp/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

namespace {

// The window-scale shift we offer: the smallest that lets a 4 MiB buffer be advertised
// (Linux sizes it from tcp_rmem's maximum the same way), so SO_RCVBUF can grow later.
std::uint8_t scale_for(std::size_t buffer) {
  std::uint8_t shift = 0;
  const std::size_t target = std::max<std::size_t>(buffer, std::size_t{4} << 20);
  while (shift < max_window_scale && (target >> shift) > 0xffff) ++shift;
  return shift;
}

}  // namespace

Connection::Connection(Layer& layer, const FourTuple& tuple, const UserOptions& options)
    : layer_(layer),
      context_(layer.context()),
      tuple_(tuple),
      options_(options),
      rto_(layer.config().rto),
      challenge_acks_(layer.config().challenge_acks_per_second,
                      layer.config().challenge_acks_per_second) {
  send_buf_.set_capacity(options_.sndbuf);
  recv_buf_.set_capacity(options_.rcvbuf);
  last_heard_ = context_.now();
}

Connection::~Connection() {
  stop_timers();
  set_state(State::closed);
}

std::string Connection::describe() const {
  return tuple_.local.to_string() + ":" + std::to_string(tuple_.local_port) + " > " +
         tuple_.remote.to_string() + ":" + std::to_string(tuple_.remote_port);
}

void Connection::set_state(State s) {
  if (s == state_) return;
  auto counted = [](State x) { return x == State::established || x == State::close_wait; };
  Stats& stats = context_.stats();
  if (counted(state_) && !counted(s)) stats.tcpCurrEstab--;
  if (!counted(state_) && counted(s)) stats.tcpCurrEstab++;
  context_.trace(tapir::Layer::tcp, [&] {
    return describe() + " " + std::string(name(state_)) + " -> " + std::string(name(s));
  });
  state_ = s;
}

void Connection::close_down(int error) {
  Stats& stats = context_.stats();
  if (error != 0) {
    if (state_ == State::syn_sent || state_ == State::syn_received) stats.tcpAttemptFails++;
    if (state_ == State::established || state_ == State::close_wait) stats.tcpEstabResets++;
    error_ = error;
  }
  stop_timers();
  set_state(State::closed);
  layer_.finished(*this);  // may free this connection: nothing may follow
}

std::uint32_t Connection::ts_now(Instant now) const {
  // RFC 7323 §5.4: a clock of 1 ms, offset per connection.
  return static_cast<std::uint32_t>(now.micros() / 1000) + ts_offset_;
}

Options Connection::syn_options() const {
  Options o;
  o.mss = recv_mss_;
  const Config& config = layer_.config();
  const bool answering = state_ == State::syn_received;
  if (config.window_scaling && (!answering || wscale_ok_)) o.window_scale = rcv_wscale_;
  if (config.sack && (!answering || sack_ok_)) o.sack_permitted = true;
  if (config.timestamps && (!answering || ts_ok_)) {
    o.timestamps = Timestamps{ts_now(context_.now()), answering ? ts_recent_ : 0};
  }
  return o;
}

void Connection::choose_our_side(Instant now) {
  iss_ = layer_.config().isn_for_tests ? SeqNum{*layer_.config().isn_for_tests}
                                       : layer_.isn().isn(tuple_.local, tuple_.local_port,
                                                          tuple_.remote, tuple_.remote_port, now);
  ts_offset_ = layer_.isn().timestamp_offset(tuple_.local, tuple_.local_port, tuple_.remote,
                                             tuple_.remote_port);
  snd_una_ = iss_;
  snd_nxt_ = iss_;
  snd_max_ = iss_;
  recv_mss_ = options_.user_mss != 0 ? std::min(options_.user_mss, layer_.mss_for(tuple_.remote))
                                     : layer_.mss_for(tuple_.remote);
  rcv_wscale_ = layer_.config().window_scaling ? scale_for(options_.rcvbuf) : 0;
}

void Connection::open_active(Instant now) {
  choose_our_side(now);
  set_state(State::syn_sent);
  send_syn(now);
}

void Connection::negotiate(const Options& peer) {
  const Config& config = layer_.config();
  wscale_ok_ = config.window_scaling && peer.window_scale.has_value();
  snd_wscale_ = wscale_ok_ ? *peer.window_scale : 0;
  if (!wscale_ok_) rcv_wscale_ = 0;
  ts_ok_ = config.timestamps && peer.timestamps.has_value();
  if (ts_ok_) ts_recent_ = peer.timestamps->value;
  sack_ok_ = config.sack && peer.sack_permitted;
  // RFC 9293 §3.7.1: send no more than the peer's MSS (536 if it gave none), nor more than our
  // own interface allows; RFC 6691: the options we put in every segment come out of it.
  std::uint16_t mss = std::min(peer.mss.value_or(default_mss), recv_mss_);
  if (options_.user_mss != 0) mss = std::min(mss, options_.user_mss);
  if (ts_ok_) mss = static_cast<std::uint16_t>(mss - 12);
  send_mss_ = std::max<std::uint16_t>(mss, 64);
  // The receive ring may be asked to hold up to one scaling unit past SO_RCVBUF, because an
  // advertised window is rounded up rather than let the right edge move left (§3.8.6).
  recv_buf_.set_capacity(options_.rcvbuf + (std::size_t{1} << rcv_wscale_));
  // RFC 6928: the initial window is min(10 * MSS, max(2 * MSS, 14600)).
  const std::uint32_t n = layer_.config().initial_window_segments;
  cwnd_ = std::min(n * send_mss_, std::max(2U * send_mss_, 14600U));
}

void Connection::accept_syn(const Repr& seg, Instant now) {
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  choose_our_side(now);
  negotiate(seg.options);
  // RFC 7323 §2.2: the window of a SYN is never scaled.
  snd_wnd_ = seg.window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = iss_;
  last_heard_ = now;
  set_state(State::syn_received);
  send_syn(now);
}

void Connection::established(Instant now) {
  set_state(State::established);
  if (retries_ > 0 && !rto_.srtt()) {
    // RFC 6298 §5.7: the SYN (or SYN-ACK) was sent again, so the handshake gave no RTT sample
    // (Karn); data starts with an RTO of 3 s, not the 1 s meant for SYNs (Linux's
    // TCP_TIMEOUT_FALLBACK), lest a slow path see every first segment sent twice.
    RtoConfig config = rto_.config();
    config.initial = std::max(config.initial, Duration{3'000'000});
    rto_ = RtoEstimator(config);
  }
  retries_ = 0;
  arm_keepalive(now);
  if (fin_queued_) set_state(State::fin_wait_1);
}

bool Connection::can_send() const {
  return (state_ == State::established || state_ == State::close_wait) && !fin_queued_;
}

std::size_t Connection::writable() const {
  return can_send() ? send_buf_.free() : 0;
}

bool Connection::readable() const {
  return !recv_buf_.empty() || fin_received_ || error_ != 0 || state_ == State::closed;
}

int Connection::take_error() {
  if (error_ != 0) return std::exchange(error_, 0);
  return std::exchange(soft_error_, 0);
}

long Connection::send(std::span<const std::uint8_t> data, bool urgent) {
  if (error_ != 0) return -std::exchange(error_, 0);  // ECONNRESET once, then EPIPE
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    if (fin_queued_) return -EPIPE;
    return -EAGAIN;  // Linux waits for the handshake (sk_stream_wait_connect)
  }
  if (!can_send()) return -EPIPE;
  if (data.empty()) return 0;
  const std::size_t n = send_buf_.write(data);
  if (n == 0) return -EAGAIN;
  if (urgent) {
    // RFC 6093 §4: the urgent pointer points to the byte after the urgent data.
    snd_up_ = data_start() + static_cast<std::uint32_t>(send_buf_.size());
    urgent_pending_ = true;
  }
  output(context_.now());
  return static_cast<long>(n);
}

long Connection::receive(std::span<std::uint8_t> out, bool peek) {
  if (!recv_buf_.empty()) {
    // As Linux's tcp_recvmsg, a read stops at the urgent mark (RFC 6093 §5: the reader learns
    // where the urgent byte stood in the stream).
    if (mark_ && *mark_ > 0 && out.size() > *mark_) out = out.first(*mark_);
    const std::size_t n = peek ? recv_buf_.peek(0, out) : recv_buf_.read(out);
    if (!peek && mark_ && n > 0) {
      if (*mark_ == 0) {
        mark_.reset();  // read past the mark
      } else {
        *mark_ -= n;
      }
    }
    if (!peek && n > 0) {
      // RFC 1122 §4.2.3.3: announce the opened window once it has grown by min(half the
      // buffer, one MSS), not byte by byte (receiver-side silly window avoidance).
      // What the window could grow to: the free buffer, but no more than the window field
      // can say (65535 unscaled), or every read would look like a worthwhile update.
      const std::uint32_t space =
          std::min<std::uint32_t>(receive_window(), std::uint32_t{0xffff} << rcv_wscale_);
      const std::uint32_t current = rcv_adv_ > rcv_nxt_ ? rcv_adv_ - rcv_nxt_ : 0;
      const std::uint32_t step =
          std::min<std::uint32_t>(static_cast<std::uint32_t>(options_.rcvbuf / 2), recv_mss_);
      if (synchronized(state_) && space >= current + step && !fin_received_) {
        send_ack(context_.now());
      }
    }
    return static_cast<long>(n);
  }
  if (fin_received_) return 0;
  if (error_ != 0) return -std::exchange(error_, 0);
  if (state_ == State::closed) return 0;
  return -EAGAIN;
}

long Connection::receive_urgent(std::uint8_t& out, bool peek) {
  if (options_.oob_inline || !urgent_byte_) return -EINVAL;
  out = *urgent_byte_;
  if (!peek) urgent_byte_.reset();
  return 1;
}

bool Connection::at_mark() const {
  return mark_.has_value() && *mark_ == 0;
}

void Connection::close_send() {
  if (fin_queued_) return;
  switch (state_) {
    case State::closed:
    case State::listen:
      return;
    case State::syn_sent:
    case State::syn_received:
      fin_queued_ = true;  // sent once the handshake completes (§3.10.4)
      return;
    case State::established:
      fin_queued_ = true;
      set_state(State::fin_wait_1);
      break;
    case State::close_wait:
      fin_queued_ = true;
      set_state(State::last_ack);
      break;
    default:
      return;  // already closing
  }
  output(context_.now());
}

void Connection::abort() {
  // RFC 9293 §3.10.5: in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT a reset
  // <SEQ=SND.NXT><CTL=RST> is sent; in the other states nothing.
  switch (state_) {
    case State::syn_received:
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
    case State::close_wait:
      send_rst(snd_max_);
      break;
    default:
      break;
  }
  close_down(0);
}

void Connection::orphan() {
  orphaned_ = true;
  attached = false;
  if (state_ == State::closed) {
    layer_.finished(*this);
    return;
  }
  if (state_ == State::syn_sent) {
    close_down(0);
    return;
  }
  // RFC 2525 §2.17 and Linux: closing with unread data resets the connection, so the peer
  // learns that data it sent was never read.
  if (!recv_buf_.empty() || !ooo_.empty()) {
    context_.stats().tcpAbortOnClose++;
    abort();
    return;
  }
  close_send();
  if (state_ == State::fin_wait_2) {
    fin_wait_2_timer_ =
        context_.timers().reschedule(fin_wait_2_timer_, context_.now() + layer_.config().fin_wait_2,
                                     [this](Instant now) { fin_wait_2_timeout(now); });
  }
}

void Connection::options_changed(Instant now) {
  if (send_buf_.capacity() != options_.sndbuf && send_buf_.size() <= options_.sndbuf) {
    send_buf_.set_capacity(options_.sndbuf);
  }
  if (!synchronized(state_) && state_ != State::syn_received) {
    recv_buf_.set_capacity(options_.rcvbuf);
  } else if (recv_buf_.size() <= options_.rcvbuf) {
    recv_buf_.set_capacity(options_.rcvbuf + (std::size_t{1} << rcv_wscale_));
  }
  if (synchronized(state_)) {
    arm_keepalive(now);
    output(now);
  }
}

void Connection::icmp_error(int error, std::optional<std::uint32_t> next_mtu, SeqNum seq) {
  // RFC 5927 §4.1: only errors quoting a sequence number we have in flight count (a blind
  // attacker must guess one).
  if (seq < snd_una_ || seq > snd_max_) return;
  if (next_mtu) {
    // RFC 1191 §6.3: the segment size follows the reported MTU (68 at least).
    const std::uint32_t mtu = std::max<std::uint32_t>(*next_mtu, 68);
    const std::uint32_t overhead = 40 + (ts_ok_ ? 12 : 0);
    if (mtu > overhead && mtu - overhead < send_mss_) {
      send_mss_ = static_cast<std::uint16_t>(std::max<std::uint32_t>(mtu - overhead, 28));
      snd_nxt_ = snd_una_;  // resend what was too big, now in smaller segments
      output(context_.now());
    }
    return;
  }
  // RFC 5927 §4 (as Linux): an opening connection fails on any of these; a synchronized one
  // keeps going and only remembers the error, even a "hard" one, since ICMP is easily forged.
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    close_down(error);
    return;
  }
  soft_error_ = error;
}

void Connection::stop_timers() {
  TimerQueue& timers = context_.timers();
  retransmit_timer_.cancel(timers);
  keepalive_timer_.cancel(timers);
  timers.cancel(persist_timer_);
  timers.cancel(delayed_ack_timer_);
  timers.cancel(time_wait_timer_);
  timers.cancel(fin_wait_2_timer_);
  persist_timer_ = delayed_ack_timer_ = time_wait_timer_ = fin_wait_2_timer_ = 0;
}

}  // namespace tapir::tcp
