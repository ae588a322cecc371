// ICMP (RFC 792, RFC 1122 §3.2.2): echo, errors with the never-reply rules, rate limiting.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/context.hpp"
#include "stack/core/dispatch.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/rate_limiter.hpp"
#include "stack/icmp/message.hpp"
#include "stack/ip/ipv4.hpp"
#include "stack/ip/transport_error.hpp"

namespace tapir::icmp {

// An ICMP error delivered upward, to the transport that sent the quoted datagram: what the
// transport needs (ip::TransportError, errno included) and the message itself.
struct ErrorReport : ip::TransportError {
  Repr message;
};

struct EchoReply {
  Ipv4Address from;
  std::uint16_t id = 0;
  std::uint16_t sequence = 0;
  std::uint8_t ttl = 0;
  std::span<const std::uint8_t> data;
};

struct Config {
  double error_rate = 1000;  // tokens per second (Linux icmp_msgs_per_sec)
  double error_burst = 50;   // bucket depth (Linux icmp_msgs_burst)
  // Echo replies per second, 0 for no limit: Linux's default icmp_ratemask leaves echo
  // replies out of its limiter, so a ping flood is answered in full unless this is set.
  double echo_rate = 0;
  double echo_burst = 50;
  bool address_mask_reply = false;  // RFC 1122 §3.2.2.9: off unless the admin says so
  Duration utc_offset{0};           // add to `now` to get UTC (timestamp replies, RFC 792)
};

class Layer {
 public:
  Layer(Context& context, Interfaces& interfaces, ip::Layer& ip, Config config);

  // icmp_in
  void input(const ip::Delivery& delivery, Packet& payload);

  // icmp_send for errors: applies RFC 1122 §3.2.2's never-send rules, the rate limiter, and
  // quotes the IP header plus 8 payload bytes of `original` (more is allowed, we keep 8 like
  // RFC 792; Linux quotes up to 576 bytes in all).
  void send_error(Type type, std::uint8_t code, std::uint32_t rest,
                  std::span<const std::uint8_t> original, bool original_to_group);
  // The message for a problem IP or a transport reported (ip::Layer::report), sent as above.
  void report(const ip::ProblemReport& problem);
  bool send_echo_request(Ipv4Address dst, std::uint16_t id, std::uint16_t sequence,
                         std::span<const std::uint8_t> data, const ip::SendOptions& options = {});

  using ErrorHandler = void(const ErrorReport&);
  using EchoReplyHandler = std::function<void(const EchoReply&)>;
  // Transports register for errors quoting their protocol (UDP/TCP port unreachable, ...);
  // one handler per protocol.
  void on_error(std::uint8_t protocol, std::function<ErrorHandler> handler) {
    error_handlers_.add(protocol, std::move(handler));
  }
  void on_echo_reply(EchoReplyHandler handler);

  const RateLimiter& rate_limiter() const { return limiter_; }
  Config& config() { return config_; }

 private:
  void reply_echo(const ip::Delivery& delivery, const Packet& payload);
  void reply_timestamp(const ip::Delivery& delivery, const Packet& payload);
  void reply_address_mask(const ip::Delivery& delivery, const Packet& payload);
  void report_error(const ip::Delivery& delivery, const Repr& repr, const Packet& payload);
  void count_out(Type type);
  void send(Ipv4Address src, Ipv4Address dst, const Repr& repr, std::span<const std::uint8_t> body,
            const ip::SendOptions& options = {});

  Context& context_;
  Interfaces& interfaces_;
  ip::Layer& ip_;
  Config config_;
  RateLimiter limiter_;
  RateLimiter echo_limiter_;
  Demux<std::uint8_t, ErrorHandler> error_handlers_;
  std::vector<EchoReplyHandler> echo_handlers_;
};

}  // namespace tapir::icmp
