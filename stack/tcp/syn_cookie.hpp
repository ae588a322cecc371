// SYN cookies (RFC 4987 §3.6): the ISN that answers a SYN without keeping state, and its codec.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "stack/core/time.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

// The SYN's options a cookie connection needs besides the MSS. They ride in the low bits of
// the SYN-ACK's TSval, which the peer echoes in TSecr (Linux's scheme), so they exist only
// when the peer sent timestamps.
struct CookieOptions {
  std::optional<std::uint8_t> window_scale;  // the peer's shift, if it offered window scaling
  bool sack_permitted = false;
  friend bool operator==(const CookieOptions&, const CookieOptions&) = default;
};

// The codec of RFC 4987 §3.6's cookie, laid out as Linux lays it out for IPv4. The 32 bits
// before masking are
//
//     31      24 23 22 21                                  0
//    | counter  | MSS | MAC(key, 4-tuple, client ISN, counter, MSS, TS) |
//
// counter: the low 8 bits of a 64-second clock; MSS: an index into mss_classes; MAC: 22 bits
// of SipHash-2-4 over the rest (the whole counter), so no bit of the cookie can be changed,
// and over whether the SYN had timestamps (TS), so that an ACK without them, where the SYN had
// them and the options they carried were agreed, does not pass (RFC 7323 §3.2: once agreed,
// every segment carries them). The ISN
// sent is that plus a second keyed hash of the 4-tuple and the client's ISN (mod 2^32), so that it
// looks as random as an RFC 6528 ISN and shows neither the clock nor the MSS class. A guessed ACK
// passes with a chance of about 2^-29.
class SynCookies {
 public:
  // Linux's msstab for IPv4: the peer's MSS is rounded down to one of these (RFC 9293's
  // default 536; 1300 for tunnels and VPNs; 1440 for PPPoE-like links; 1460 for Ethernet).
  // A peer announcing less than 536 is given 536, as Linux does: every IPv4 host reassembles
  // 576-byte datagrams (RFC 1122 §3.3.2), and with DF set a smaller path MTU is learnt by ICMP.
  static constexpr std::array<std::uint16_t, 4> mss_classes{536, 1300, 1440, 1460};
  // RFC 4987 §3.6's "slowly incrementing counter": one tick every 64 s. A cookie is good in
  // the tick it was made in and the next one (64 to 128 s; Linux's MAX_SYNCOOKIE_AGE).
  static constexpr Duration tick{64'000'000};
  static constexpr std::uint32_t max_age = 1;  // ticks
  // The TSval bits that carry CookieOptions: 4 for the window-scale shift (15: none), 1 for
  // SACK-permitted.
  static constexpr unsigned timestamp_bits = 5;

  SynCookies(std::uint64_t key0, std::uint64_t key1) : key0_(key0), key1_(key1) {}

  // The MSS class of a peer's MSS: the largest of mss_classes not above it (the smallest if
  // it is below them all).
  static std::uint16_t mss_class(std::uint16_t peer_mss);

  // The ISN of our SYN-ACK to a SYN on `t` whose sequence number is `client_isn`, whose MSS
  // is `peer_mss` (536 if it had none) and that had `timestamps` or not.
  SeqNum encode(const FourTuple& t, SeqNum client_isn, std::uint16_t peer_mss, bool timestamps,
                Instant now) const;
  // The ACK's SEG.ACK − 1 taken as our cookie, for its SEG.SEQ − 1 and whether it has
  // timestamps: the MSS class the cookie holds, or nullopt when it is not ours (forged, for
  // another 4-tuple, client ISN or choice of timestamps) or too old.
  std::optional<std::uint16_t> decode(const FourTuple& t, SeqNum client_isn, SeqNum cookie,
                                      bool timestamps, Instant now) const;

  // The SYN-ACK's TSval: `clock` (the connection's RFC 7323 clock) with `options` in its low
  // bits, moved back one step if that put it ahead, so the TSvals that follow never go back.
  static std::uint32_t encode_timestamp(std::uint32_t clock, const CookieOptions& options);
  // The options an ACK's TSecr echoes, `clock` being the same clock now; nullopt when the TSecr
  // cannot be a cookie SYN-ACK's TSval: ahead of the clock, or older than a cookie lives.
  static std::optional<CookieOptions> decode_timestamp(std::uint32_t tsecr, std::uint32_t clock);

 private:
  std::uint32_t mask(const FourTuple& t, SeqNum client_isn) const;
  std::uint32_t mac(const FourTuple& t, SeqNum client_isn, std::uint32_t counter,
                    std::uint32_t index, bool timestamps) const;

  std::uint64_t key0_;
  std::uint64_t key1_;
};

}  // namespace tapir::tcp
