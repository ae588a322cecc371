// SYN cookies (RFC 4987 §3.6): encoding the MSS class and the time in an ISN, and the options
// in a TSval; checking what an ACK brings back.
#include "stack/tcp/syn_cookie.hpp"

#include "stack/core/bytes.hpp"
#include "stack/tcp/isn.hpp"

namespace tapir::tcp {

namespace {

constexpr std::uint32_t mac_bits = 22;
constexpr std::uint32_t mac_mask = (1U << mac_bits) - 1;
constexpr std::uint32_t counter_shift = 24;
constexpr std::uint32_t counter_mask = 0xff;
constexpr std::uint32_t options_mask = (1U << SynCookies::timestamp_bits) - 1;
constexpr std::uint32_t no_window_scale = 0xf;
constexpr std::uint32_t sack_bit = 0x10;

// The first byte of the hash input: the mask and the MAC are unrelated values of one key.
enum class Use : std::uint8_t { mask = 1, mac = 2 };

// The clock RFC 4987 §3.6 calls t: 64-second ticks of the stack's clock.
std::uint32_t counter_at(Instant now) {
  return static_cast<std::uint32_t>(now.micros() / SynCookies::tick.count());
}

// The hash input in network order (independent of the host's byte order and of padding).
std::uint64_t hash(std::uint64_t key0, std::uint64_t key1, Use use, const FourTuple& t,
                   SeqNum client_isn, std::uint32_t counter, std::uint8_t last) {
  std::uint8_t in[22];
  in[0] = static_cast<std::uint8_t>(use);
  store32(in + 1, t.local.value());
  store16(in + 5, t.local_port);
  store32(in + 7, t.remote.value());
  store16(in + 11, t.remote_port);
  store32(in + 13, client_isn.value());
  store32(in + 17, counter);
  in[21] = last;
  return siphash24(key0, key1, in, sizeof in);
}

}  // namespace

std::uint16_t SynCookies::mss_class(std::uint16_t peer_mss) {
  for (std::size_t i = mss_classes.size() - 1; i > 0; --i) {
    if (peer_mss >= mss_classes[i]) return mss_classes[i];
  }
  return mss_classes[0];
}

std::uint32_t SynCookies::mask(const FourTuple& t, SeqNum client_isn) const {
  return static_cast<std::uint32_t>(hash(key0_, key1_, Use::mask, t, client_isn, 0, 0));
}

std::uint32_t SynCookies::mac(const FourTuple& t, SeqNum client_isn, std::uint32_t counter,
                              std::uint32_t index, bool timestamps) const {
  const auto last = static_cast<std::uint8_t>(index | (timestamps ? 0x80 : 0));
  return static_cast<std::uint32_t>(hash(key0_, key1_, Use::mac, t, client_isn, counter, last)) &
         mac_mask;
}

SeqNum SynCookies::encode(const FourTuple& t, SeqNum client_isn, std::uint16_t peer_mss,
                          bool timestamps, Instant now) const {
  std::uint32_t index = 0;
  const std::uint16_t mss = mss_class(peer_mss);
  while (mss_classes[index] != mss) ++index;
  const std::uint32_t counter = counter_at(now);
  const std::uint32_t plain = (counter & counter_mask) << counter_shift | index << mac_bits |
                              mac(t, client_isn, counter, index, timestamps);
  return SeqNum{plain + mask(t, client_isn)};
}

std::optional<std::uint16_t> SynCookies::decode(const FourTuple& t, SeqNum client_isn,
                                                SeqNum cookie, bool timestamps, Instant now) const {
  const std::uint32_t plain = cookie.value() - mask(t, client_isn);
  // RFC 4987 §3.6: "the counter value is checked": the cookie's tick must be this one or the
  // one before. Its 8 bits give the age; the MAC, over the whole counter, settles which tick
  // it was (so one 256 ticks older does not pass for new).
  const std::uint32_t now_counter = counter_at(now);
  const std::uint32_t age = (now_counter - (plain >> counter_shift)) & counter_mask;
  if (age > max_age) return std::nullopt;
  const std::uint32_t index = (plain >> mac_bits) & 3;
  if ((plain & mac_mask) != mac(t, client_isn, now_counter - age, index, timestamps)) {
    return std::nullopt;
  }
  return mss_classes[index];
}

std::uint32_t SynCookies::encode_timestamp(std::uint32_t clock, const CookieOptions& options) {
  std::uint32_t bits = options.window_scale ? *options.window_scale : no_window_scale;
  if (options.sack_permitted) bits |= sack_bit;
  std::uint32_t ts = (clock & ~options_mask) | bits;
  // Never ahead of the clock: the peer's PAWS (RFC 7323 §5) must not see our next TSval as
  // older than this one.
  if (static_cast<std::int32_t>(ts - clock) > 0) ts -= options_mask + 1;
  return ts;
}

std::optional<CookieOptions> SynCookies::decode_timestamp(std::uint32_t tsecr,
                                                          std::uint32_t clock) {
  // The clock ticks in milliseconds (RFC 7323 §5.4); a cookie's TSval is at most one step of
  // the option bits behind the clock when sent, and the cookie lives (max_age + 1) ticks.
  constexpr auto oldest =
      static_cast<std::uint32_t>((max_age + 1) * (tick.count() / 1000)) + options_mask + 1;
  const std::uint32_t age = clock - tsecr;
  if (static_cast<std::int32_t>(age) < 0 || age > oldest) return std::nullopt;
  CookieOptions options;
  const std::uint32_t shift = tsecr & no_window_scale;
  if (shift != no_window_scale) options.window_scale = static_cast<std::uint8_t>(shift);
  options.sack_permitted = (tsecr & sack_bit) != 0;
  return options;
}

}  // namespace tapir::tcp
