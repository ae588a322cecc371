// TcpPeer: the far end of one TCP connection, played by the test a segment at a time.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "support/harness.hpp"

namespace tapir::test {

// One segment the stack sent, as libtins decodes it.
struct Segment {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  std::uint16_t urgent = 0;
  Bytes payload;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> timestamps;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sack;  // [left, right) blocks

  bool has(std::uint8_t f) const { return (flags & f) == f; }
  std::size_t len() const { return payload.size(); }
};

// Flag bits as on the wire, for writing segments the way a trace reads.
namespace tcpf {
inline constexpr std::uint8_t FIN = 0x01;
inline constexpr std::uint8_t SYN = 0x02;
inline constexpr std::uint8_t RST = 0x04;
inline constexpr std::uint8_t PSH = 0x08;
inline constexpr std::uint8_t ACK = 0x10;
inline constexpr std::uint8_t URG = 0x20;
}  // namespace tcpf

// What the peer puts in its SYN-ACK.
struct PeerSyn {
  std::optional<std::uint16_t> mss = 1460;
  std::optional<std::uint8_t> wscale;  // none: no window scaling
  bool sack = false;
  std::uint16_t window = 65535;
};

// 10.0.0.1:`port` on the Harness's link. The stack under test (10.0.0.2) connects to it.
class TcpPeer {
 public:
  explicit TcpPeer(Harness& h, std::uint16_t port = 80) : h_(h), port_(port) {}

  // Sends one segment from the peer to the stack's `local_port`.
  void send(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, const Bytes& payload = {},
            std::uint16_t window = 65535, std::uint16_t urgent = 0,
            const std::vector<std::pair<std::uint32_t, std::uint32_t>>& sack = {});
  // The TCP segments the stack sent since the last take().
  std::vector<Segment> take();

  // A non-blocking socket on the stack, `setup` applied to it, connects to the peer (connect
  // says EINPROGRESS); the SYN is left to take(). Returns the fd.
  int start(const std::function<void(int)>& setup = {});
  // Takes the stack's SYN(s), answers with a SYN-ACK made of `syn`, takes the stack's ACK.
  void answer_syn(int fd, const PeerSyn& syn = {});
  // start() and answer_syn() at once: an established connection with a zero RTT.
  int open(const PeerSyn& syn = {}, const std::function<void(int)>& setup = {});

  // Data from the peer at its next sequence number, acknowledging what it has received.
  void data(const Bytes& payload, std::uint8_t extra_flags = 0, std::uint16_t urgent = 0);
  // A pure ACK from the peer for the stack's data byte `n` (0 is the first), with `window`
  // (the field as sent) or else the peer's current one.
  void ack(std::uint32_t n, std::optional<std::uint16_t> window = {});

  // Moves the virtual clock `d` forward, stopping at every timer deadline on the way, so each
  // timer runs at its own time (Harness::advance jumps, and runs what is due once, late).
  void run(Duration d);

  // Socket calls on the stack under test.
  ssize_t write(int fd, const Bytes& data, int flags = 0);
  // Reads up to `max` bytes into `out` (replacing it); returns what recv returned.
  ssize_t read(int fd, Bytes& out, std::size_t max = 65536, int flags = 0);
  int get_int(int fd, int level, int name);
  void set_int(int fd, int level, int name, int value);
  short poll(int fd, short events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP);

  // Sequence numbers: the stack's data byte `n`, and the peer's.
  std::uint32_t host_seq(std::uint32_t n) const { return host_iss + 1 + n; }
  std::uint32_t peer_seq(std::uint32_t n) const { return peer_iss + 1 + n; }

  sock::Api& api() { return h_.stack().sockets(); }

  std::uint16_t port() const { return port_; }
  std::uint16_t local_port = 0;  // the stack's end
  std::uint32_t host_iss = 0;
  std::uint32_t peer_iss = 5000;
  std::uint32_t peer_sent = 0;   // peer data bytes sent so far
  std::uint32_t host_acked = 0;  // stack data bytes the peer acknowledges in data()
  std::uint16_t window = 65535;  // the window field the peer sends
  Segment host_syn;              // the stack's SYN and its ACK of the SYN-ACK, from answer_syn
  Segment host_ack;

 private:
  Harness& h_;
  std::uint16_t port_;
};

// The segment decoded from one frame (which must carry TCP).
Segment decode_segment(const Bytes& frame);

}  // namespace tapir::test
