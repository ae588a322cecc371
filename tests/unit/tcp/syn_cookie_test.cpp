// Tests of the SYN-cookie codec (RFC 4987 §3.6): MSS classes, the counter's age, the MAC, and
// the options carried in the TSval.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>

#include "stack/tcp/syn_cookie.hpp"

using namespace tapir;
using tapir::tcp::CookieOptions;
using tapir::tcp::FourTuple;
using tapir::tcp::SeqNum;
using tapir::tcp::SynCookies;

namespace {

const SynCookies kCookies(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);
const FourTuple kTuple{Ipv4Address{10, 0, 0, 2}, 80, Ipv4Address{10, 0, 0, 1}, 40000};
const SeqNum kClientIsn{123456789};

// A time `ticks` counter ticks (64 s) after the start, plus `extra`.
Instant at(std::int64_t ticks, Duration extra = Duration{0}) {
  return Instant::from_micros(ticks * SynCookies::tick.count()) + extra;
}

}  // namespace

TEST_CASE("An MSS is rounded down to one of Linux's four classes", "[tcp][syn_cookie]") {
  CHECK(SynCookies::mss_class(1460) == 1460);
  CHECK(SynCookies::mss_class(9000) == 1460);
  CHECK(SynCookies::mss_class(1459) == 1440);
  CHECK(SynCookies::mss_class(1452) == 1440);  // PPPoE
  CHECK(SynCookies::mss_class(1440) == 1440);
  CHECK(SynCookies::mss_class(1380) == 1300);  // an IPsec tunnel
  CHECK(SynCookies::mss_class(1300) == 1300);
  CHECK(SynCookies::mss_class(1299) == 536);
  CHECK(SynCookies::mss_class(536) == 536);
  CHECK(SynCookies::mss_class(200) == 536);  // below them all: RFC 9293's default, as Linux
}

TEST_CASE("A cookie decodes to the MSS class it was made with (RFC 4987 §3.6)",
          "[tcp][syn_cookie]") {
  const Instant made = at(100, Duration{5'000'000});
  for (const bool timestamps : {false, true}) {
    for (const int peer_mss : {200, 536, 1000, 1300, 1400, 1440, 1452, 1460, 8960}) {
      const auto mss = static_cast<std::uint16_t>(peer_mss);
      const SeqNum cookie = kCookies.encode(kTuple, kClientIsn, mss, timestamps, made);
      INFO("peer MSS " << mss << ", timestamps " << timestamps << ", cookie " << cookie.value());
      CHECK(kCookies.decode(kTuple, kClientIsn, cookie, timestamps, made) ==
            SynCookies::mss_class(mss));
      CHECK(kCookies.decode(kTuple, kClientIsn, cookie, timestamps, made + Duration{1'000'000}) ==
            SynCookies::mss_class(mss));
    }
  }
}

TEST_CASE("A cookie is good in its own tick and the next, then stale", "[tcp][syn_cookie]") {
  const SeqNum cookie =
      kCookies.encode(kTuple, kClientIsn, 1460, true, at(100, Duration{63'000'000}));
  CHECK(kCookies.decode(kTuple, kClientIsn, cookie, true, at(101)) == 1460);
  CHECK(kCookies.decode(kTuple, kClientIsn, cookie, true, at(101, Duration{63'999'999})) == 1460);
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie, true, at(102)));  // two ticks old
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie, true, at(150)));
  // 256 ticks on, the counter's 8 bits are the same again; the MAC covers the whole counter.
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie, true, at(100 + 256)));
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie, true, at(101 + 256)));
  // Nor is one from a tick still to come taken.
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie, true, at(99)));
}

TEST_CASE("A cookie for another 4-tuple or client ISN does not decode", "[tcp][syn_cookie]") {
  const Instant now = at(7);
  const SeqNum cookie = kCookies.encode(kTuple, kClientIsn, 1460, true, now);
  FourTuple t = kTuple;
  t.remote_port = 40001;
  CHECK_FALSE(kCookies.decode(t, kClientIsn, cookie, true, now));
  t = kTuple;
  t.local_port = 81;
  CHECK_FALSE(kCookies.decode(t, kClientIsn, cookie, true, now));
  t = kTuple;
  t.remote = Ipv4Address{10, 0, 0, 3};
  CHECK_FALSE(kCookies.decode(t, kClientIsn, cookie, true, now));
  t = kTuple;
  t.local = Ipv4Address{10, 0, 0, 4};
  CHECK_FALSE(kCookies.decode(t, kClientIsn, cookie, true, now));
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn + 1, cookie, true, now));
  // Under another key (another stack) it is a forgery too.
  const SynCookies other(1, 2);
  CHECK_FALSE(other.decode(kTuple, kClientIsn, cookie, true, now));
}

TEST_CASE("A cookie made for a SYN with timestamps does not pass on an ACK without them",
          "[tcp][syn_cookie]") {
  const Instant now = at(7);
  const SeqNum with = kCookies.encode(kTuple, kClientIsn, 1460, true, now);
  const SeqNum without = kCookies.encode(kTuple, kClientIsn, 1460, false, now);
  CHECK(kCookies.decode(kTuple, kClientIsn, with, true, now) == 1460);
  CHECK(kCookies.decode(kTuple, kClientIsn, without, false, now) == 1460);
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, with, false, now));
  CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, without, true, now));
}

TEST_CASE("Changing any bit of a cookie makes it a forgery", "[tcp][syn_cookie]") {
  const Instant now = at(7);
  for (const std::uint16_t mss : SynCookies::mss_classes) {
    const SeqNum cookie = kCookies.encode(kTuple, kClientIsn, mss, true, now);
    for (int bit = 0; bit < 32; ++bit) {
      INFO("MSS " << mss << ", bit " << bit);
      CHECK_FALSE(
          kCookies.decode(kTuple, kClientIsn, SeqNum{cookie.value() ^ (1U << bit)}, true, now));
    }
    CHECK_FALSE(kCookies.decode(kTuple, kClientIsn, cookie + 1, true, now));
  }
}

TEST_CASE("Cookies look random: neither the clock nor the MSS class shows", "[tcp][syn_cookie]") {
  // 1000 client ports in one tick with one MSS: the top byte (the counter's place before
  // masking) takes many values, so an observer learns nothing of the clock from it.
  std::set<std::uint32_t> top;
  FourTuple t = kTuple;
  for (std::uint16_t port = 1000; port < 2000; ++port) {
    t.remote_port = port;
    top.insert(kCookies.encode(t, kClientIsn, 1460, true, at(3)).value() >> 24);
  }
  CHECK(top.size() > 200);
}

TEST_CASE("The SYN-ACK's TSval carries window scale and SACK-permitted in its low 5 bits",
          "[tcp][syn_cookie]") {
  const std::uint32_t clock = 0x12345678;
  std::vector<CookieOptions> all;
  for (const bool sack : {false, true}) {
    all.push_back(CookieOptions{std::nullopt, sack});
    for (std::uint8_t shift = 0; shift <= 14; ++shift) all.push_back(CookieOptions{shift, sack});
  }
  for (const CookieOptions& o : all) {
    INFO("wscale " << (o.window_scale ? int{*o.window_scale} : -1) << ", sack "
                   << o.sack_permitted);
    const std::uint32_t ts = SynCookies::encode_timestamp(clock, o);
    // Never ahead of the clock, and at most one step of the option bits behind it.
    CHECK(static_cast<std::int32_t>(clock - ts) >= 0);
    CHECK(clock - ts < 32);
    CHECK(SynCookies::decode_timestamp(ts, clock) == o);
    CHECK(SynCookies::decode_timestamp(ts, clock + 127'000) == o);  // 127 s later
  }
  CHECK(SynCookies::encode_timestamp(0x1000, CookieOptions{7, true}) == 0x1000 - 32 + 0x17);
  CHECK(SynCookies::encode_timestamp(0x101f, CookieOptions{7, true}) == 0x1017);
  // Across the wrap of the 32-bit clock: 0x1f would be ahead of 3, so one step back.
  const std::uint32_t wrapped = SynCookies::encode_timestamp(3, CookieOptions{std::nullopt, true});
  CHECK(wrapped == 0xffffffffU);
  CHECK(SynCookies::decode_timestamp(wrapped, 3) == CookieOptions{std::nullopt, true});
}

TEST_CASE("A TSecr from the future or older than a cookie lives is not a cookie's",
          "[tcp][syn_cookie]") {
  const std::uint32_t clock = 5'000'000;
  const std::uint32_t ts = SynCookies::encode_timestamp(clock, CookieOptions{2, true});
  CHECK_FALSE(SynCookies::decode_timestamp(ts + 1000, clock));
  CHECK_FALSE(SynCookies::decode_timestamp(ts, clock + 129'000));
  CHECK_FALSE(SynCookies::decode_timestamp(ts, clock - 200'000));
}
