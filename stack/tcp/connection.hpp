// Connection: one TCP connection's control block (RFC 9293 §3.3.1's TCB) and its state machine,
// over a Sender, a Receiver and a TimerSet.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/rate_limiter.hpp"
#include "stack/core/time.hpp"
#include "stack/core/timer.hpp"
#include "stack/tcp/receiver.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/sender.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/tcp/state.hpp"
#include "stack/tcp/timer_set.hpp"

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
  // TCP_CONGESTION: one of available_congestion()'s names (static storage); empty for the
  // stack's default (tcp::Config::congestion).
  std::string_view congestion;
};

// The window-scale shift we offer (RFC 7323 §2) for a receive buffer of `rcvbuf` bytes.
std::uint8_t receive_scale_for(std::size_t rcvbuf);

// The state machine and what ties the parts together: "segment arrives" in the RFC's order
// (input.cpp), the user calls (connection.cpp), building and sending segments (output.cpp)
// and what each timer does when it fires (timeouts.cpp). The sender and receiver decide what
// to send and accept; this class sends and acts on it.
// What one connection sent and received, for TCP_INFO (Linux's tcpi_segs_out ... and
// RFC 4898's tcpEStatsPerfSegsOut, ...). Segments count with their retransmissions.
struct SegmentCounts {
  std::uint32_t segs_out = 0;
  std::uint32_t segs_in = 0;
  std::uint32_t data_segs_out = 0;
  std::uint32_t data_segs_in = 0;
  std::uint32_t total_retrans = 0;  // segments sent again
  std::uint64_t bytes_sent = 0;     // payload bytes, retransmissions included
  std::uint64_t bytes_retrans = 0;
  std::optional<Instant> last_data_sent;
  std::optional<Instant> last_data_recv;
  std::optional<Instant> last_ack_recv;
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
  // An ESTABLISHED connection born from `ack`, the ACK that brought back a SYN cookie (RFC 4987
  // §3.6; cookie_accept.cpp): `peer` holds what the cookie kept of the SYN's options and the
  // ACK's timestamps. The caller then hands it `ack` as an arriving segment.
  void accept_cookie(const Repr& ack, const Options& peer, Instant now);
  // ICMP told us about our segments (RFC 1122 §4.2.3.9, RFC 5927): an opening connection
  // fails with `error`, a synchronized one keeps it for SO_ERROR; a "fragmentation needed"
  // (`next_mtu`) lowers the MSS (RFC 1191).
  void icmp_error(int error, std::optional<std::uint32_t> next_mtu, SeqNum seq);

  // --- For the TCP layer --------------------------------------------------------------------
  // RFC 6191 / RFC 1122 §4.2.2.13: may this SYN end our TIME-WAIT early? Only if it cannot
  // be confused with the old connection: by timestamp when both incarnations use them, else
  // by sequence number.
  bool syn_ends_time_wait(const Repr& seg) const;
  // TIME-WAIT ends early (for such a SYN): timers stop, CLOSED; the layer frees the 4-tuple.
  void end_time_wait();
  // The end of a receive batch: the ACK a segment asked for at once goes now.
  void send_owed_ack(Instant now);
  // tcpxmit: sends what the windows, Nagle and SWS avoidance allow (output.cpp).
  void output(Instant now);
  void stop_timers();

  // --- What the socket layer reads -------------------------------------------------------
  State state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  bool readable() const;         // data, the FIN, or an error to report
  std::size_t writable() const;  // free send-buffer bytes, 0 unless data may be sent
  bool can_send() const;         // a state in which SEND is allowed
  std::size_t unread() const { return receiver_.unread(); }
  bool peer_closed() const { return receiver_.fin_received(); }
  bool send_closed() const { return sender_.fin_queued(); }
  bool has_urgent() const { return receiver_.has_urgent(); }
  int error() const { return error_; }
  int take_error();  // SO_ERROR reads and clears
  UserOptions& options() { return options_; }
  const UserOptions& options() const { return options_; }
  void options_changed(Instant now);  // re-arm keepalive, resize buffers, push under NODELAY
  // The congestion-control algorithm in use (TCP_CONGESTION).
  std::string_view congestion() const { return sender_.congestion().name(); }
  std::uint16_t mss() const { return sender_.mss(); }
  const Sender& sender() const { return sender_; }
  const Receiver& receiver() const { return receiver_; }
  const RtoEstimator& rto() const { return sender_.rto(); }
  const SegmentCounts& counts() const { return counts_; }
  std::uint32_t send_window() const { return sender_.window(); }
  SeqNum snd_una() const { return sender_.una(); }
  SeqNum rcv_nxt() const { return receiver_.nxt(); }
  SeqNum iss() const { return sender_.iss(); }
  bool window_scaling() const { return wscale_ok_; }
  bool timestamps() const { return ts_ok_; }
  bool sack_permitted() const { return sack_ok_; }
  std::uint8_t send_scale() const { return snd_wscale_; }
  std::uint8_t receive_scale() const { return receiver_.scale(); }

  bool attached = false;         // a socket holds it (TCP frees it only once let go)
  Listener* listener = nullptr;  // the listener it waits in (SYN or accept queue)
  bool reset_by_peer = false;    // for send(): ECONNRESET once, then EPIPE
  bool in_ack_batch = false;     // the layer owes it an ACK at the end of this batch

 private:
  // input.cpp: the steps of §3.10.7.4 in the RFC's order.
  void syn_sent_arrives(const Repr& seg, Instant now);
  bool paws_rejects(const Repr& seg, std::size_t payload) const;
  bool check_rst(const Repr& seg, Instant now);
  bool check_ack(const Repr& seg, Instant now);
  void process_ack(const Repr& seg, Instant now);
  void process_text(const Repr& seg, std::span<const std::uint8_t> payload, Instant now);
  void process_fin(Instant now);
  // What both opens choose alike: our ISN and TSval offset, the MSS we offer (the route's MTU
  // less 40, or TCP_MAXSEG) and our window-scale shift.
  void choose_our_side(Instant now);
  void negotiate(const Options& peer);
  void established(Instant now);

  // output.cpp: building and sending one segment of each kind.
  void send_segment(std::uint8_t flags, SeqNum seq, std::size_t data_offset, std::size_t len,
                    Instant now);
  void send_data(const Outgoing& s, Instant now);
  void send_syn(Instant now);
  void send_ack(Instant now);
  void send_challenge_ack(Instant now);
  // A reset <SEQ=seq>: answering a segment's ACK field it is bare (<SEQ=SEG.ACK><CTL=RST>,
  // RFC 9293 §3.10.7); aborting, it carries an ACK as Linux's does.
  void send_rst(SeqNum seq, bool answer_to_ack = false);
  Options syn_options() const;

  // timeouts.cpp: what each timer does.
  void timer_fired(Timer timer, Instant now);
  void arm_retransmit(Instant now);
  void retransmit_timeout(Instant now);  // tcprexmt
  void persist_timeout(Instant now);     // tcppersist: a zero-window probe
  void delayed_ack_timeout(Instant now);
  void keepalive_timeout(Instant now);
  void time_wait_timeout(Instant now);
  void fin_wait_2_timeout(Instant now);
  void probe_timeout(Instant now);    // RFC 8985 §7.3: the tail loss probe
  void reorder_timeout(Instant now);  // RFC 8985 §6.3: RACK judges the waiting segments
  // RFC 8985 §7.2: (re)start the probe timer, when one may go and would come before the RTO.
  void arm_probe(Instant now);
  // What an ACK or the reordering timer made the sender do: counters, the RACK timer.
  void note_recovery(const AckResult& result, Instant now);
  // --trace tcp-cc: one CSV record of the sender's congestion state (docs/TCP.md).
  void trace_cc(std::string_view event, Instant now);
  void arm_keepalive(Instant now);
  void arm_fin_wait_2(Instant now);
  bool sending_state_for_probe() const;
  void enter_time_wait(Instant now);
  // In-order data arrived: an ACK now (every second full segment) or a delayed one.
  void schedule_ack(Instant now, bool full_segment);

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

  // Negotiated options (RFC 7323, RFC 2018).
  bool wscale_ok_ = false;
  std::uint8_t snd_wscale_ = 0;
  bool ts_ok_ = false;
  std::uint32_t ts_offset_ = 0;
  std::uint32_t ts_recent_ = 0;
  Instant ts_recent_age_;
  bool sack_ok_ = false;

  Sender sender_;
  Receiver receiver_;
  TimerSet timers_;
  SegmentCounts counts_;

  bool orphaned_ = false;  // the socket closed; nobody will read what arrives
  unsigned retries_ = 0;   // retransmissions of the current segment (RFC 1122 §4.2.3.5)
  int error_ = 0;          // a hard error for the socket (ECONNRESET, ETIMEDOUT, ...)
  int soft_error_ = 0;     // the last ICMP soft error (RFC 1122 §4.2.3.9), for SO_ERROR
  Instant last_heard_;
  unsigned keepalive_probes_ = 0;
  unsigned persist_backoffs_ = 0;
  RateLimiter challenge_acks_;
  RateLimiter invalid_acks_{2, 1};  // replies to PAWS-failed segments: one per 500 ms
};

}  // namespace tapir::tcp
