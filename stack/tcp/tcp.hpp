// The TCP layer: demultiplexing (tcp_in), listeners and their queues, ports, resets, ICMP.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/ports.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/ip/transport_error.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/isn.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/syn_cookie.hpp"

namespace tapir::tcp {

struct Config {
  // RFC 9293 §3.4.2 (MSL) and §3.6.1: TIME-WAIT lasts 2·MSL. 30 s gives Linux's 60 s.
  Duration msl{30'000'000};
  RtoConfig rto;
  unsigned syn_retries = 6;         // Linux's tcp_syn_retries: about 127 s with a 1 s start
  unsigned synack_retries = 5;      // tcp_synack_retries
  unsigned data_retries = 15;       // tcp_retries2 (RFC 1122 §4.2.3.5's R2, counted in tries)
  Duration delayed_ack{40'000};     // Linux's TCP_DELACK_MIN (RFC 1122 §4.2.3.2: < 0.5 s)
  Duration fin_wait_2{60'000'000};  // tcp_fin_timeout, for orphaned connections only
  // RFC 5961 §7: challenge ACKs per connection per second (with a burst of the same).
  double challenge_acks_per_second = 10;
  std::size_t max_syn_backlog = 256;  // half-open connections per listener (SYN queue)
  // Half-open connections one source address may hold in a listener's SYN queue: its further
  // SYNs are answered with cookies (or dropped without them), so one host cannot fill the
  // queue for everyone (RFC 4987 §3.1's per-source filtering, in the queue's own terms).
  std::size_t max_syn_per_source = 64;
  // Connection blocks alive at once, TIME-WAIT included: past it a SYN is dropped and connect()
  // fails with ENOBUFS (a memory bound; Linux bounds them by tcp_mem and tcp_max_orphans).
  std::size_t max_connections = 1'000'000;
  bool window_scaling = true;                  // RFC 7323 §2
  bool timestamps = true;                      // RFC 7323 §3
  bool sack = true;                            // RFC 2018: we send SACK-permitted and SACK blocks
  std::uint32_t initial_window_segments = 10;  // RFC 6928
  // RFC 4987 §3.6: a SYN arriving while its listener's SYN queue is full is answered with a
  // SYN cookie rather than dropped (Linux's net.ipv4.tcp_syncookies = 1).
  bool syn_cookies = true;
  // The congestion-control algorithm of connections whose socket chose none (Linux's
  // net.ipv4.tcp_congestion_control): a name make_congestion() knows.
  std::string_view congestion = default_congestion;
  // Test hook: every connection takes this ISN instead of RFC 6528's (so a test can start
  // next to 2^32 and watch the sequence numbers wrap). Never set outside tests.
  std::optional<std::uint32_t> isn_for_tests;
};

// A listening socket's queues (Linux's accept backlog): half-open connections wait in the
// SYN queue; established ones wait in the accept queue, at most `backlog` of them.
struct Listener {
  Ipv4Address local;
  std::uint16_t port = 0;
  int backlog = 0;
  UserOptions options;  // inherited by the connections it accepts
  std::vector<Connection*> syn_queue;
  std::deque<Connection*> accept_queue;
  // When it last answered a SYN with a cookie: while cookies it sent may still come back, an
  // ACK that arrives here is checked as one (Linux's tcp_synq_no_recent_overflow).
  std::optional<Instant> last_cookie;
};

// A SOCK_STREAM socket as TCP sees it: its port binding, and what it holds once it listens or
// connects (a listener or a connection, both TCP's); the options its connections get. The
// socket layer owns it; TCP's port table points at it while it is bound.
struct Endpoint : Binding {
  Listener* listener = nullptr;
  Connection* connection = nullptr;
  UserOptions options;
};

class Layer {
 public:
  Layer(Context& context, ip::Layer& ip, Config config, PortRange ephemeral);
  ~Layer();
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // tcp_in: a segment for us (the IP header consumed).
  void input(const ip::Delivery& delivery, Packet& payload);
  // An ICMP error quoting one of our segments.
  void error(const ip::TransportError& report);

  // Socket calls. Errors as a positive errno (0 for success).
  int bind(Endpoint& e, Ipv4Address addr, std::uint16_t port);
  int listen(Endpoint& e, int backlog);
  int connect(Endpoint& e, Ipv4Address remote, std::uint16_t port, Instant now);
  // Takes the oldest established connection off `e`'s accept queue (nullptr if none); the
  // caller's socket holds it from then on.
  Connection* accept(Endpoint& e);
  // The socket is closing: its listener goes (queued connections are reset), its connection
  // is orphaned, its port is released.
  void close(Endpoint& e, bool abortive);

  // For connections.
  Context& context() { return context_; }
  ip::Layer& ip() { return ip_; }
  const Config& config() const { return config_; }
  const IsnGenerator& isn() const { return isn_; }
  // Sends a bare RST or RST+ACK for a segment nobody wants (§3.10.7.1).
  void send_reset_for(const ip::Repr& ip, const Repr& seg, std::size_t len);
  // Called by a connection that reached ESTABLISHED from SYN-RECEIVED.
  void established(Connection& c);
  // Called by a connection that is finished (CLOSED): frees its 4-tuple, and frees it unless
  // a socket still holds it (Connection::attached).
  void finished(Connection& c);
  // The socket lets go of a connection that has already finished: it is freed.
  void release(Connection& c);
  // The MSS to advertise toward `remote` (the outgoing interface's MTU less 40).
  std::uint16_t mss_for(Ipv4Address remote) const;

  // A batch of arriving segments (all a driver had ready at once): while one is open, the
  // ACKs segments ask for at once are owed and sent by end_batch(), one per connection, the
  // way Linux acknowledges a GRO super-segment once. Outside a batch each goes at once.
  void begin_batch() { batching_ = true; }
  void end_batch();
  bool batching() const { return batching_; }
  void owe_ack(Connection& c);

  std::size_t connection_count() const { return owned_.size(); }
  // f(connection) and f(listener) for each, in no particular order (tapirctl ss).
  template <typename F>
  void for_each_connection(F&& f) const {
    for (const auto& [key, c] : owned_) f(*c);
  }
  template <typename F>
  void for_each_listener(F&& f) const {
    for (const auto& [port, list] : listeners_) {
      for (const auto& l : list) f(*l);
    }
  }
  Connection* find(const FourTuple& t) const;

 private:
  void listen_input(Listener& l, const ip::Delivery& d, const Repr& seg,
                    std::span<const std::uint8_t> data);
  // SYN cookies (RFC 4987 §3.6), when the SYN queue is full: the stateless SYN-ACK, and the
  // ACK that may bring one back.
  void send_cookie(Listener& l, const FourTuple& t, const Repr& syn);
  bool cookies_outstanding(const Listener& l) const;
  void cookie_ack(Listener& l, const FourTuple& t, const Repr& seg,
                  std::span<const std::uint8_t> data);
  // The RFC 7323 clock a connection on `t` would use now (Connection::ts_now's).
  std::uint32_t timestamp_clock(const FourTuple& t, Instant now) const;
  Listener* find_listener(Ipv4Address local, std::uint16_t port) const;
  bool port_in_use(std::uint16_t port, Ipv4Address addr, const Endpoint* except) const;
  std::uint16_t pick_ephemeral(Ipv4Address local, Ipv4Address remote, std::uint16_t remote_port);
  // How many of `l`'s half-open connections come from `source` (Config::max_syn_per_source).
  std::size_t half_open_from(const Listener& l, Ipv4Address source) const;
  // Config::max_connections reached: counts the refusal.
  bool at_connection_limit();
  Connection& create(const FourTuple& t, const UserOptions& options);
  void destroy(Connection& c);
  void bury() { graveyard_.clear(); }
  void unbind(Endpoint& e);

  Context& context_;
  ip::Layer& ip_;
  Config config_;
  PortRange ephemeral_;
  IsnGenerator isn_;
  SynCookies cookies_;
  std::unordered_map<FourTuple, Connection*, FourTupleHash> connections_;
  std::unordered_map<const Connection*, std::unique_ptr<Connection>> owned_;
  std::unordered_map<std::uint16_t, std::vector<std::unique_ptr<Listener>>> listeners_;
  // Endpoints bound to each local port (bind, listen, connect), for EADDRINUSE.
  std::unordered_map<std::uint16_t, std::vector<Endpoint*>> bound_;
  bool batching_ = false;
  std::vector<Connection*> owed_acks_;
  // Connections finished while their own code may still be on the stack (a reset inside
  // segment_arrives, a timer): freed at the next entry point, not under their feet.
  std::vector<std::unique_ptr<Connection>> graveyard_;
};

}  // namespace tapir::tcp
