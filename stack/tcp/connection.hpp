// Connection: one TCP connection's control block (RFC 9293 §3.3.1's TCB) and its state machine.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/rate_limiter.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/tcp/byte_ring.hpp"
#include "stack/tcp/out_of_order.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/tcp/state.hpp"

namespace tapir::tcp {

class Layer;
struct Listener;

// The four numbers that name a connection (RFC 9293 §3.3.1: "a pair of sockets").
struct FourTuple {
  Ipv4Address local;
  std::uint16_t local_port = 0;
  Ipv4Address remote;
  std::uint16_t remote_port = 0;
  friend bool operator==(const FourTuple&, const FourTuple&) = default;
};

struct FourTupleHash {
  std::size_t operator()(const FourTuple& t) const {
    std::uint64_t h = (std::uint64_t{t.local.value()} << 32) ^ t.remote.value();
    h ^= (std::uint64_t{t.local_port} << 16 | t.remote_port) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h * 0xbf58476d1ce4e5b9ULL);
  }
};

// What a socket asks of its connection (setsockopt), copied to a connection at connect and
// from a listener to the connections it accepts, as Linux's children inherit their options.
struct UserOptions {
  bool nodelay = false;                // TCP_NODELAY: no Nagle (RFC 896)
  bool keepalive = false;              // SO_KEEPALIVE (RFC 1122 §4.2.3.6)
  Duration keep_idle{7'200'000'000};   // TCP_KEEPIDLE: 2 hours, RFC 1122's minimum default
  Duration keep_interval{75'000'000};  // TCP_KEEPINTVL: Linux's 75 s
  int keep_count = 9;                  // TCP_KEEPCNT: Linux's 9
  bool oob_inline = false;             // SO_OOBINLINE
  std::uint16_t user_mss = 0;          // TCP_MAXSEG; 0: from the interface MTU
  std::size_t rcvbuf = 212992;         // SO_RCVBUF (Linux's rmem_default)
  std::size_t sndbuf = 212992;         // SO_SNDBUF
};

class Connection {
 public:
  Connection(Layer& layer, const FourTuple& tuple, const UserOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- User calls (RFC 9293 §3.10.1-§3.10.6); errors as a negative errno ---------------------
  // OPEN, active: sends the SYN (SYN-SENT).
  void open_active(Instant now);
  // SEND: queues what fits of `data`; returns the bytes taken or -errno (-EAGAIN when full).
  long send(std::span<const std::uint8_t> data, bool urgent);
  // RECEIVE: copies up to out.size() bytes; 0 at the end of the stream; -EAGAIN when empty.
  long receive(std::span<std::uint8_t> out, bool peek);
  // The urgent byte (MSG_OOB, RFC 6093): -EINVAL if there is none or SO_OOBINLINE is on.
  long receive_urgent(std::uint8_t& out, bool peek);
  // CLOSE (our side of the stream ends: FIN after the queued data), as shutdown(SHUT_WR).
  void close_send();
  // ABORT: RST to the peer (if synchronized) and CLOSED at once.
  void abort();
  // The socket is gone (close()); the connection finishes on its own, or is aborted with RST
  // when unread data would otherwise be lost silently (RFC 2525 §2.17, as Linux).
  void orphan();

  // --- Segment arrives (RFC 9293 §3.10.7), input.cpp ----------------------------------------
  void segment_arrives(const Repr& seg, std::span<const std::uint8_t> payload, Instant now);
  // A SYN-RECEIVED connection born from `seg` on a listener (§3.10.7.2): sends the SYN-ACK.
  void accept_syn(const Repr& seg, Instant now);
  // ICMP told us about our segments (RFC 1122 §4.2.3.9, RFC 5927): an opening connection
  // fails with `error`, a synchronized one keeps it for SO_ERROR; a "fragmentation needed"
  // (`next_mtu`) lowers the MSS (RFC 1191).
  void icmp_error(int error, std::optional<std::uint32_t> next_mtu, SeqNum seq);

  // --- What the socket layer reads -------------------------------------------------------
  State state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  bool readable() const;         // data, the FIN, or an error to report
  std::size_t writable() const;  // free send-buffer bytes, 0 unless data may be sent
  bool can_send() const;         // a state in which SEND is allowed
  std::size_t unread() const { return recv_buf_.size(); }
  bool peer_closed() const { return fin_received_; }
  bool send_closed() const { return fin_queued_; }
  bool has_urgent() const { return urgent_byte_.has_value(); }
  bool at_mark() const;  // SIOCATMARK: the next byte read is the urgent mark
  int error() const { return error_; }
  int take_error();  // SO_ERROR reads and clears
  UserOptions& options() { return options_; }
  const UserOptions& options() const { return options_; }
  void options_changed(Instant now);  // re-arm keepalive, resize buffers, push under NODELAY
  std::uint16_t mss() const { return send_mss_; }
  const RtoEstimator& rto() const { return rto_; }
  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  std::uint32_t send_window() const { return snd_wnd_; }
  SeqNum snd_una() const { return snd_una_; }
  SeqNum snd_nxt() const { return snd_nxt_; }
  SeqNum rcv_nxt() const { return rcv_nxt_; }
  SeqNum iss() const { return iss_; }
  bool window_scaling() const { return wscale_ok_; }
  bool timestamps() const { return ts_ok_; }
  bool sack_permitted() const { return sack_ok_; }
  std::uint8_t send_scale() const { return snd_wscale_; }
  std::uint8_t receive_scale() const { return rcv_wscale_; }

  bool attached = false;         // a socket holds it (TCP frees it only once let go)
  Listener* listener = nullptr;  // the listener it waits in (SYN or accept queue)
  bool reset_by_peer = false;    // for send(): ECONNRESET once, then EPIPE

 private:
  friend class Layer;

  // input.cpp: the steps of §3.10.7.4 in the RFC's order.
  void syn_sent_arrives(const Repr& seg, std::span<const std::uint8_t> payload, Instant now);
  bool acceptable(const Repr& seg, std::size_t len) const;
  bool paws_rejects(const Repr& seg) const;
  bool check_rst(const Repr& seg, Instant now);
  bool check_ack(const Repr& seg, Instant now);
  void process_ack(const Repr& seg, Instant now);
  void update_window(const Repr& seg);
  void process_urgent(const Repr& seg);
  void process_text(const Repr& seg, std::span<const std::uint8_t> payload, Instant now);
  void process_fin(Instant now);
  // What both opens choose alike: our ISN and TSval offset, the MSS we offer (the route's MTU
  // less 40, or TCP_MAXSEG) and our window-scale shift.
  void choose_our_side(Instant now);
  void negotiate(const Options& peer);
  void established(Instant now);

  // output.cpp (tcpxmit): sends what the windows, Nagle and SWS avoidance allow.
 public:
  void output(Instant now);

 private:
  void send_segment(std::uint8_t flags, SeqNum seq, std::size_t data_offset, std::size_t len,
                    Instant now);
  void send_syn(Instant now);
  void send_ack(Instant now);
  void send_challenge_ack(Instant now);
  // A reset <SEQ=seq>: answering a segment's ACK field it is bare (<SEQ=SEG.ACK><CTL=RST>,
  // RFC 9293 §3.10.7); aborting, it carries an ACK as Linux's does.
  void send_rst(SeqNum seq, bool answer_to_ack = false);
  std::uint32_t receive_window();
  std::uint16_t advertised_window(std::uint32_t window) const;
  SeqNum data_start() const { return syn_acked_ ? snd_una_ : snd_una_ + 1; }
  std::size_t unsent() const;  // queued bytes not yet sent
  std::size_t flight() const;  // bytes (and SYN/FIN) sent but not acknowledged
  bool nagle_allows(std::size_t len, std::size_t available) const;
  Options syn_options() const;

  // timers.cpp
  void arm_retransmit(Instant now);
  void retransmit_timeout(Instant now);  // tcprexmt
  void persist_timeout(Instant now);     // tcppersist: a zero-window probe
  void delayed_ack_timeout(Instant now);
  void keepalive_timeout(Instant now);
  void time_wait_timeout(Instant now);
  void fin_wait_2_timeout(Instant now);
  void arm_keepalive(Instant now);
  bool sending_state_for_probe() const;
  void enter_time_wait(Instant now);
  void schedule_ack(Instant now, bool full_segment);
  void stop_timers();

  // Leaves the connection (reason: an errno for the socket, 0 for a normal end).
  void set_state(State s);
  void close_down(int error);
  std::string describe() const;
  std::uint32_t ts_now(Instant now) const;

  Layer& layer_;
  Context& context_;
  FourTuple tuple_;
  UserOptions options_;
  State state_ = State::closed;

  // Send sequence variables (RFC 9293 §3.3.1).
  SeqNum iss_;
  SeqNum snd_una_;
  SeqNum snd_nxt_;
  SeqNum snd_max_;  // the highest sequence number sent (snd_nxt moves back on a timeout)
  SeqNum snd_wl1_;
  SeqNum snd_wl2_;
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;  // RFC 5961 §5.2's MAX.SND.WND, SWS avoidance's max window
  SeqNum snd_up_;
  bool urgent_pending_ = false;

  // Receive sequence variables.
  SeqNum irs_;
  SeqNum rcv_nxt_;
  SeqNum rcv_adv_;  // the right edge we advertised: never moves left (§3.8.6)
  SeqNum last_ack_sent_;

  // Negotiated options.
  std::uint16_t send_mss_ = default_mss;  // what we put in one segment
  std::uint16_t recv_mss_ = default_mss;  // what we advertised
  bool wscale_ok_ = false;
  std::uint8_t snd_wscale_ = 0;
  std::uint8_t rcv_wscale_ = 0;
  bool ts_ok_ = false;
  std::uint32_t ts_offset_ = 0;
  std::uint32_t ts_recent_ = 0;
  Instant ts_recent_age_;
  bool sack_ok_ = false;

  // Buffers. send_buf_ holds [snd_una, snd_una + size) of data (after the SYN); the FIN,
  // when queued, follows its last byte.
  ByteRing send_buf_;
  ByteRing recv_buf_;
  OutOfOrderQueue ooo_;
  bool syn_acked_ = false;  // our SYN is acknowledged: send_buf_ starts at snd_una_
  bool fin_queued_ = false;
  bool fin_acked_ = false;
  bool fin_received_ = false;
  bool orphaned_ = false;          // the socket closed; nobody will read what arrives
  std::optional<SeqNum> fin_seq_;  // the peer's FIN, when seen (possibly ahead of rcv_nxt)
  std::optional<SeqNum> rcv_up_;   // the peer's urgent pointer (the byte after the urgent one)
  std::optional<std::uint8_t> urgent_byte_;
  std::optional<std::size_t> mark_;  // bytes readable before the urgent mark

  // Retransmission and congestion control (RFC 6298, RFC 5681).
  RtoEstimator rto_;
  unsigned retries_ = 0;
  std::optional<SeqNum> rtt_seq_;  // the segment being timed (Karn: none while retransmitting)
  Instant rtt_start_;
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = 0xffffffff;
  unsigned dupacks_ = 0;
  bool in_recovery_ = false;       // fast recovery (RFC 5681 §3.2, RFC 6582)
  std::optional<SeqNum> recover_;  // RFC 6582: the highest sequence sent when recovery began
  std::uint32_t bytes_acked_ = 0;  // RFC 5681 §3.1 congestion avoidance by bytes

  // Acknowledgement policy (RFC 1122 §4.2.3.2).
  unsigned unacked_segments_ = 0;
  bool ack_pending_ = false;  // an ACK is owed (delayed)
  bool ack_now_ = false;      // ... and must go out before segment_arrives returns
  bool ack_owed_ = false;     // ... or at the end of the batch (Layer::end_batch)
  SeqNum last_ooo_;           // the latest out-of-order arrival: its SACK block comes first

  int error_ = 0;       // a hard error for the socket (ECONNRESET, ETIMEDOUT, ...)
  int soft_error_ = 0;  // the last ICMP soft error (RFC 1122 §4.2.3.9), for SO_ERROR
  Instant last_heard_;
  unsigned keepalive_probes_ = 0;
  unsigned persist_backoffs_ = 0;
  RateLimiter challenge_acks_;

  LazyTimer retransmit_timer_;
  TimerId persist_timer_ = 0;
  TimerId delayed_ack_timer_ = 0;
  LazyTimer keepalive_timer_;
  TimerId time_wait_timer_ = 0;
  TimerId fin_wait_2_timer_ = 0;
};

}  // namespace tapir::tcp
