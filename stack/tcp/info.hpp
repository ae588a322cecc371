// TCP_INFO (tcp(7)): a connection's state and counters in Linux's `struct tcp_info` layout, so
// that ss-like tools and programs under the preload library read it unchanged.
#pragma once

#include <cstdint>

#include "stack/core/time.hpp"

namespace tapir::tcp {

class Connection;

// Linux's include/uapi/linux/tcp.h `struct tcp_info`, field for field (Linux 5.4 to 6.6, 232 bytes;
// 6.7's later additions, tcpi_rcv_wnd on, are not reported).
struct TcpInfo {
  std::uint8_t state;     // Linux's numbering (TCP_ESTABLISHED = 1, ...)
  std::uint8_t ca_state;  // TCP_CA_Open, _Disorder, _CWR, _Recovery, _Loss
  std::uint8_t retransmits;
  std::uint8_t probes;
  std::uint8_t backoff;
  std::uint8_t options;  // TCPI_OPT_*
  std::uint8_t snd_wscale : 4, rcv_wscale : 4;
  std::uint8_t delivery_rate_app_limited : 1, fastopen_client_fail : 2;
  std::uint32_t rto;  // microseconds, as all times here unless named otherwise
  std::uint32_t ato;
  std::uint32_t snd_mss;
  std::uint32_t rcv_mss;
  std::uint32_t unacked;  // segments
  std::uint32_t sacked;
  std::uint32_t lost;
  std::uint32_t retrans;
  std::uint32_t fackets;
  std::uint32_t last_data_sent;  // milliseconds ago
  std::uint32_t last_ack_sent;
  std::uint32_t last_data_recv;
  std::uint32_t last_ack_recv;
  std::uint32_t pmtu;
  std::uint32_t rcv_ssthresh;
  std::uint32_t rtt;
  std::uint32_t rttvar;
  std::uint32_t snd_ssthresh;  // segments
  std::uint32_t snd_cwnd;      // segments
  std::uint32_t advmss;
  std::uint32_t reordering;
  std::uint32_t rcv_rtt;
  std::uint32_t rcv_space;
  std::uint32_t total_retrans;
  std::uint64_t pacing_rate;
  std::uint64_t max_pacing_rate;
  std::uint64_t bytes_acked;     // RFC 4898 tcpEStatsAppHCThruOctetsAcked
  std::uint64_t bytes_received;  // RFC 4898 tcpEStatsAppHCThruOctetsReceived
  std::uint32_t segs_out;
  std::uint32_t segs_in;
  std::uint32_t notsent_bytes;
  std::uint32_t min_rtt;
  std::uint32_t data_segs_in;
  std::uint32_t data_segs_out;
  std::uint64_t delivery_rate;
  std::uint64_t busy_time;
  std::uint64_t rwnd_limited;
  std::uint64_t sndbuf_limited;
  std::uint32_t delivered;
  std::uint32_t delivered_ce;
  std::uint64_t bytes_sent;
  std::uint64_t bytes_retrans;
  std::uint32_t dsack_dups;
  std::uint32_t reord_seen;
  std::uint32_t rcv_ooopack;
  std::uint32_t snd_wnd;  // bytes, after scaling
};
static_assert(sizeof(TcpInfo) == 232, "Linux 6.x struct tcp_info is 232 bytes");

// Linux's TCPI_OPT_* bits.
inline constexpr std::uint8_t tcpi_opt_timestamps = 1;
inline constexpr std::uint8_t tcpi_opt_sack = 2;
inline constexpr std::uint8_t tcpi_opt_wscale = 4;

// What TCP_INFO reports for `c` at `now`; a socket without a connection reports all zeros
// (CLOSED).
TcpInfo gather_info(const Connection& c, Instant now);

}  // namespace tapir::tcp
