// Connection: construction, the user calls (RFC 9293 §3.10.1-§3.10.6) and state bookkeeping.
#include "stack/tcp/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/tcp/tcp.hpp"

namespace tapir::tcp {

// The smallest shift that lets a 4 MiB buffer be advertised (Linux sizes it from tcp_rmem's
// maximum the same way), so SO_RCVBUF can grow later.
std::uint8_t receive_scale_for(std::size_t buffer) {
  std::uint8_t shift = 0;
  const std::size_t target = std::max<std::size_t>(buffer, std::size_t{4} << 20);
  while (shift < max_window_scale && (target >> shift) > 0xffff) ++shift;
  return shift;
}

namespace {

// The algorithm `options` ask for, else the stack's default, else CUBIC.
std::unique_ptr<CongestionControl> congestion_for(const UserOptions& options,
                                                  const Config& config) {
  if (auto cc =
          make_congestion(options.congestion.empty() ? config.congestion : options.congestion)) {
    return cc;
  }
  return make_cubic();
}

}  // namespace

Connection::Connection(Layer& layer, const FourTuple& tuple, const UserOptions& options)
    : layer_(layer),
      context_(layer.context()),
      tuple_(tuple),
      options_(options),
      sender_(layer.config().rto, options.sndbuf, congestion_for(options, layer.config())),
      receiver_(options.rcvbuf),
      timers_(context_.timers(), [this](Timer t, Instant now) { timer_fired(t, now); }),
      challenge_acks_(layer.config().challenge_acks_per_second,
                      layer.config().challenge_acks_per_second) {
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
  o.mss = receiver_.mss();
  const Config& config = layer_.config();
  const bool answering = state_ == State::syn_received;
  if (config.window_scaling && (!answering || wscale_ok_)) o.window_scale = receiver_.scale();
  if (config.sack && (!answering || sack_ok_)) o.sack_permitted = true;
  if (config.timestamps && (!answering || ts_ok_)) {
    o.timestamps = Timestamps{ts_now(context_.now()), answering ? ts_recent_ : 0};
  }
  return o;
}

void Connection::choose_our_side(Instant now) {
  sender_.open(layer_.config().isn_for_tests
                   ? SeqNum{*layer_.config().isn_for_tests}
                   : layer_.isn().isn(tuple_.local, tuple_.local_port, tuple_.remote,
                                      tuple_.remote_port, now));
  ts_offset_ = layer_.isn().timestamp_offset(tuple_.local, tuple_.local_port, tuple_.remote,
                                             tuple_.remote_port);
  const std::uint16_t route_mss = layer_.mss_for(tuple_.remote);
  receiver_.set_mss(options_.user_mss != 0 ? std::min(options_.user_mss, route_mss) : route_mss);
  receiver_.set_scale(layer_.config().window_scaling ? receive_scale_for(options_.rcvbuf) : 0);
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
  if (!wscale_ok_) receiver_.set_scale(0);
  ts_ok_ = config.timestamps && peer.timestamps.has_value();
  if (ts_ok_) ts_recent_ = peer.timestamps->value;
  sack_ok_ = config.sack && peer.sack_permitted;
  if (sack_ok_) sender_.enable_sack();
  // RFC 9293 §3.7.1: send no more than the peer's MSS (536 if it gave none), nor more than our
  // own interface allows; RFC 6691: the options we put in every segment come out of it.
  std::uint16_t mss = std::min(peer.mss.value_or(default_mss), receiver_.mss());
  if (options_.user_mss != 0) mss = std::min(mss, options_.user_mss);
  if (ts_ok_) mss = static_cast<std::uint16_t>(mss - 12);
  sender_.set_mss(std::max<std::uint16_t>(mss, 64), config.initial_window_segments);
  receiver_.set_buffer(options_.rcvbuf, true);
}

void Connection::accept_syn(const Repr& seg, Instant now) {
  receiver_.open(seg.seq);
  choose_our_side(now);
  negotiate(seg.options);
  // RFC 7323 §2.2: the window of a SYN is never scaled.
  sender_.set_window(seg.window, seg.seq, sender_.iss());
  last_heard_ = now;
  set_state(State::syn_received);
  send_syn(now);
}

void Connection::established(Instant now) {
  set_state(State::established);
  if (retries_ > 0 && !sender_.rto().srtt()) {
    // RFC 6298 §5.7: the SYN (or SYN-ACK) was sent again, so the handshake gave no RTT sample
    // (Karn); data starts with an RTO of 3 s, not the 1 s meant for SYNs (Linux's
    // TCP_TIMEOUT_FALLBACK), lest a slow path see every first segment sent twice.
    RtoConfig config = sender_.rto().config();
    config.initial = std::max(config.initial, Duration{3'000'000});
    sender_.rto() = RtoEstimator(config);
  }
  retries_ = 0;
  arm_keepalive(now);
  if (sender_.fin_queued()) set_state(State::fin_wait_1);
}

bool Connection::can_send() const {
  return (state_ == State::established || state_ == State::close_wait) && !sender_.fin_queued();
}

std::size_t Connection::writable() const {
  return can_send() ? sender_.free() : 0;
}

bool Connection::readable() const {
  return receiver_.unread() > 0 || receiver_.fin_received() || error_ != 0 ||
         state_ == State::closed;
}

int Connection::take_error() {
  if (error_ != 0) return std::exchange(error_, 0);
  return std::exchange(soft_error_, 0);
}

long Connection::send(std::span<const std::uint8_t> data, bool urgent) {
  if (error_ != 0) return -std::exchange(error_, 0);  // ECONNRESET once, then EPIPE
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    if (sender_.fin_queued()) return -EPIPE;
    return -EAGAIN;  // Linux waits for the handshake (sk_stream_wait_connect)
  }
  if (!can_send()) return -EPIPE;
  if (data.empty()) return 0;
  const std::size_t n = sender_.write(data, urgent);
  if (n == 0) return -EAGAIN;
  output(context_.now());
  return static_cast<long>(n);
}

long Connection::receive(std::span<std::uint8_t> out, bool peek) {
  if (receiver_.unread() > 0) {
    const std::size_t n = receiver_.read(out, peek);
    if (!peek && n > 0 && synchronized(state_) && receiver_.window_update_due()) {
      send_ack(context_.now());
    }
    return static_cast<long>(n);
  }
  if (receiver_.fin_received()) return 0;
  if (error_ != 0) return -std::exchange(error_, 0);
  if (state_ == State::closed) return 0;
  return -EAGAIN;
}

long Connection::receive_urgent(std::uint8_t& out, bool peek) {
  if (options_.oob_inline) return -EINVAL;
  const auto byte = receiver_.read_urgent(peek);
  if (!byte) return -EINVAL;
  out = *byte;
  return 1;
}

void Connection::close_send() {
  if (sender_.fin_queued()) return;
  switch (state_) {
    case State::closed:
    case State::listen:
      return;
    case State::syn_sent:
    case State::syn_received:
      sender_.queue_fin();  // sent once the handshake completes (§3.10.4)
      return;
    case State::established:
      sender_.queue_fin();
      set_state(State::fin_wait_1);
      break;
    case State::close_wait:
      sender_.queue_fin();
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
      send_rst(sender_.max());
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
  if (receiver_.holds_data()) {
    context_.stats().tcpAbortOnClose++;
    abort();
    return;
  }
  close_send();
  if (state_ == State::fin_wait_2) arm_fin_wait_2(context_.now());
}

void Connection::options_changed(Instant now) {
  sender_.set_buffer(options_.sndbuf);
  if (!options_.congestion.empty() && options_.congestion != congestion()) {
    if (auto cc = make_congestion(options_.congestion)) sender_.set_congestion(std::move(cc));
  }
  receiver_.set_buffer(options_.rcvbuf, synchronized(state_) || state_ == State::syn_received);
  if (synchronized(state_)) {
    arm_keepalive(now);
    output(now);
  }
}

void Connection::icmp_error(int error, std::optional<std::uint32_t> next_mtu, SeqNum seq) {
  // RFC 5927 §4.1: only errors quoting a sequence number we have in flight count (a blind
  // attacker must guess one).
  if (seq < sender_.una() || seq > sender_.max()) return;
  if (next_mtu) {
    // RFC 1191 §6.3: the segment size follows the reported MTU (68 at least).
    const std::uint32_t mtu = std::max<std::uint32_t>(*next_mtu, 68);
    const std::uint32_t overhead = 40 + (ts_ok_ ? 12 : 0);
    if (mtu > overhead && mtu - overhead < sender_.mss()) {
      sender_.lower_mss(static_cast<std::uint16_t>(std::max<std::uint32_t>(mtu - overhead, 28)));
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

bool Connection::syn_ends_time_wait(const Repr& seg) const {
  // RFC 6191 §2: when both incarnations use timestamps the TSval must be newer; otherwise
  // (the old one had none, or the SYN has none) the sequence number must be.
  if (ts_ok_ && seg.options.timestamps) {
    return static_cast<std::int32_t>(seg.options.timestamps->value - ts_recent_) > 0;
  }
  return seg.seq > receiver_.nxt();
}

void Connection::end_time_wait() {
  stop_timers();
  set_state(State::closed);
}

void Connection::send_owed_ack(Instant now) {
  if (receiver_.ack_due()) send_ack(now);
}

void Connection::stop_timers() {
  timers_.cancel_all();
}

}  // namespace tapir::tcp
