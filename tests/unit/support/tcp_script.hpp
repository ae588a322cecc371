// TcpScript: plays the peer of one tapir stack segment by segment, for packet-trace TCP tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/tcp/connection.hpp"
#include "stack/tcp/state.hpp"
#include "support/harness.hpp"

// A namespace of its own: support/tcp_peer.hpp has another Segment in tapir::test.
namespace tapir::test::script {

// The flags as a trace writes them: SYN | ACK.
inline constexpr std::uint8_t FIN = 0x01;
inline constexpr std::uint8_t SYN = 0x02;
inline constexpr std::uint8_t RST = 0x04;
inline constexpr std::uint8_t PSH = 0x08;
inline constexpr std::uint8_t ACK = 0x10;
inline constexpr std::uint8_t URG = 0x20;

// "SYN|ACK", "RST", "none".
std::string flags_text(std::uint8_t flags);

// A segment the peer sends (built with libtins). Designated initialisers read as a trace:
// peer.send({.flags = SYN, .seq = 100, .mss = 1460}).
struct Send {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  Bytes payload{};
  std::uint16_t window = 65535;  // as on the wire (before any scaling)
  std::optional<std::uint16_t> mss{};
  std::optional<std::uint8_t> wscale{};
  bool sack_permitted = false;
  std::optional<std::uint32_t> tsval{};  // a timestamps option with this TSval and `tsecr`
  std::uint32_t tsecr = 0;
  std::uint16_t src_port = 0;  // 0: the script's peer_port
  std::uint16_t dst_port = 0;  // 0: the script's host_port
  std::string dst = kHostIp;
  std::string dst_mac = kHostMac.to_string();
  std::string src = kPeerIp;  // another address on the peer's link plays another host
};

// A segment tapir sent, decoded by libtins (and its checksum checked independently).
struct Segment {
  std::string src;
  std::string dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
  std::optional<std::uint32_t> tsval;
  std::optional<std::uint32_t> tsecr;
  std::vector<std::uint32_t> sack;  // block edges, left and right in turn
  Bytes payload;
  bool checksum_ok = false;

  bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// "SYN|ACK seq=1 ack=101 win=65535 len=0 <mss 1460,ts 5/0>": for failure messages.
std::string to_string(const Segment& s);

// One tapir stack (the Harness, host 10.0.0.2) and the peer 10.0.0.1 the test plays.
class TcpScript {
 public:
  explicit TcpScript(StackConfig config = {});

  Harness& harness() { return harness_; }
  Stack& stack() { return harness_.stack(); }
  sock::Api& api() { return harness_.stack().sockets(); }
  Stats& stats() { return harness_.stats(); }

  // --- The peer ----------------------------------------------------------------------------
  void send(const Send& s);
  // Every TCP segment tapir sent since the last call (anything else is skipped).
  std::vector<Segment> take();
  // Exactly one segment was sent, with exactly `flags` (checked with REQUIRE); it is returned.
  Segment expect(std::uint8_t flags);
  // Nothing was sent.
  void expect_nothing();
  void advance(Duration d) { harness_.advance(d); }

  // --- Tapir's side, through the socket API ------------------------------------------------
  // A non-blocking socket listening on `port` (which becomes host_port).
  int listen(std::uint16_t port, int backlog = 16);
  // A non-blocking connect to the peer's `port` (which becomes peer_port); host_port becomes
  // the ephemeral port picked. The SYN is left to expect().
  int connect(std::uint16_t port);
  // recv(): the bytes read, or -errno (-EAGAIN when nothing is there; 0 at the end).
  long read(int fd, Bytes& out, std::size_t max = 65536);
  long write(int fd, const Bytes& data);

  // The connection block for (host_port, peer_port), or nullptr.
  tcp::Connection* connection() const;
  // Its state, CLOSED when there is no block.
  tcp::State state() const;

  // --- Whole handshakes --------------------------------------------------------------------
  struct Open {
    int listener = -1;
    int fd = -1;
    std::uint32_t iss = 0;  // tapir's ISN
    std::uint32_t irs = 0;  // the peer's ISN
  };
  // LISTEN on host_port, the peer's `syn` (flags forced to SYN), tapir's SYN-ACK, the ACK,
  // accept(). The ACK repeats the SYN's window field, and timestamps if `syn.tsval` is set.
  Open open_passive(Send syn);
  // connect() to peer_port, tapir's SYN, the peer's `synack` (flags forced to SYN|ACK, ack
  // filled in) and tapir's ACK.
  Open open_active(Send synack);

  std::uint16_t host_port = 80;
  std::uint16_t peer_port = 40000;

 private:
  Harness harness_;
};

}  // namespace tapir::test::script

namespace Catch {
template <>
struct StringMaker<tapir::test::script::Segment> {
  static std::string convert(const tapir::test::script::Segment& s) {
    return tapir::test::script::to_string(s);
  }
};
}  // namespace Catch
