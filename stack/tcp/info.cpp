// TCP_INFO: gathering Linux's struct tcp_info from the connection, sender and receiver.
#include "stack/tcp/info.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "stack/tcp/connection.hpp"

namespace tapir::tcp {

namespace {

// Linux's enum in include/net/tcp_states.h: ESTABLISHED = 1 ... CLOSING = 11.
std::uint8_t linux_state(State s) {
  switch (s) {
    case State::established:
      return 1;
    case State::syn_sent:
      return 2;
    case State::syn_received:
      return 3;
    case State::fin_wait_1:
      return 4;
    case State::fin_wait_2:
      return 5;
    case State::time_wait:
      return 6;
    case State::closed:
      return 7;
    case State::close_wait:
      return 8;
    case State::last_ack:
      return 9;
    case State::listen:
      return 10;
    case State::closing:
      return 11;
  }
  return 7;
}

std::uint32_t micros(Duration d) {
  return static_cast<std::uint32_t>(std::max<std::int64_t>(d.count(), 0));
}

// Linux's tcpi_last_*: milliseconds since the event; 0 for one that never happened.
std::uint32_t millis_since(std::optional<Instant> then, Instant now) {
  if (!then) return 0;
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - *then).count());
}

}  // namespace

TcpInfo gather_info(const Connection& c, Instant now) {
  TcpInfo i{};
  const Sender& snd = c.sender();
  const Receiver& rcv = c.receiver();
  const std::uint32_t mss = std::max<std::uint32_t>(snd.mss(), 1);
  i.state = linux_state(c.state());
  // CaState already uses Linux's TCP_CA_* numbers.
  i.ca_state = static_cast<std::uint8_t>(snd.state());
  i.retransmits = static_cast<std::uint8_t>(std::min(c.rto().backoffs(), 255U));
  i.backoff = i.retransmits;
  if (c.timestamps()) i.options |= tcpi_opt_timestamps;
  if (c.sack_permitted()) i.options |= tcpi_opt_sack;
  if (c.window_scaling()) {
    i.options |= tcpi_opt_wscale;
    i.snd_wscale = c.send_scale() & 0xf;
    i.rcv_wscale = c.receive_scale() & 0xf;
  }
  i.rto = micros(c.rto().rto());
  i.snd_mss = snd.mss();
  i.rcv_mss = rcv.mss();
  i.advmss = rcv.mss();
  i.unacked = static_cast<std::uint32_t>((snd.flight() + mss - 1) / mss);
  if (const auto srtt = c.rto().srtt()) {
    i.rtt = micros(*srtt);
    i.rttvar = micros(c.rto().rttvar());
  }
  if (const auto m = snd.min_rtt()) i.min_rtt = micros(*m);
  i.snd_cwnd = snd.congestion().cwnd() / mss;
  i.snd_ssthresh = snd.congestion().ssthresh() / mss;
  i.reordering = 3;  // RFC 5681's duplicate-ACK threshold
  i.rcv_space = static_cast<std::uint32_t>(rcv.buffer_limit());
  i.rcv_ssthresh = static_cast<std::uint32_t>(rcv.buffer_limit());
  if (synchronized(c.state())) {
    // RFC 4898: acknowledged and received octets, the SYN and FIN not counted.
    const std::uint64_t acked =
        snd.syn_acked() ? static_cast<std::uint32_t>(snd.una() - (snd.iss() + 1)) : 0;
    i.bytes_acked = snd.fin_acked() && acked > 0 ? acked - 1 : acked;
    i.bytes_received = static_cast<std::uint32_t>(rcv.nxt() - (rcv.irs() + 1));
    if (rcv.fin_received() && i.bytes_received > 0) --i.bytes_received;
  }
  // Segments, as Linux counts them: what the scoreboard holds SACKed or deemed lost.
  i.sacked = snd.scoreboard().sacked_bytes() / mss;
  i.lost = snd.scoreboard().lost_bytes() / mss;
  const SegmentCounts& n = c.counts();
  i.total_retrans = n.total_retrans;
  i.segs_out = n.segs_out;
  i.segs_in = n.segs_in;
  i.data_segs_out = n.data_segs_out;
  i.data_segs_in = n.data_segs_in;
  i.bytes_sent = n.bytes_sent;
  i.bytes_retrans = n.bytes_retrans;
  i.last_data_sent = millis_since(n.last_data_sent, now);
  i.last_data_recv = millis_since(n.last_data_recv, now);
  i.last_ack_recv = millis_since(n.last_ack_recv, now);
  i.pmtu = static_cast<std::uint32_t>(snd.mss()) + 40;  // the MSS plus IP and TCP headers
  i.delivered = static_cast<std::uint32_t>(snd.delivered());
  i.notsent_bytes = static_cast<std::uint32_t>(snd.unsent());
  i.snd_wnd = snd.window();
  return i;
}

}  // namespace tapir::tcp
