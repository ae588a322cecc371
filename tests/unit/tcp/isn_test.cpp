// Tests of SipHash-2-4 against the paper's vector and of RFC 6528 ISNs and timestamp offsets.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <vector>

#include "stack/tcp/isn.hpp"

using namespace tapir;
using tapir::tcp::IsnGenerator;
using tapir::tcp::SeqNum;
using tapir::tcp::siphash24;

namespace {

// The paper's key 00 01 .. 0f, read as two little-endian words.
constexpr std::uint64_t kKey0 = 0x0706050403020100ULL;
constexpr std::uint64_t kKey1 = 0x0f0e0d0c0b0a0908ULL;

std::vector<std::uint8_t> counting(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
  return out;
}

const Ipv4Address kLocal{10, 0, 0, 1};
const Ipv4Address kRemote{10, 0, 0, 2};

}  // namespace

TEST_CASE("SipHash-2-4 of 00..0e under key 00..0f is a129ca6149be45e5 (the paper, appendix A)",
          "[tcp][isn]") {
  const auto message = counting(15);
  CHECK(siphash24(kKey0, kKey1, message.data(), message.size()) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("SipHash-2-4 matches the reference implementation's vectors at every tail length",
          "[tcp][isn]") {
  // From vectors.h of the reference implementation (github.com/veorq/SipHash): the output
  // bytes for messages 00, 00 01, ... under key 00..0f, read as little-endian words.
  const auto message = counting(16);
  CHECK(siphash24(kKey0, kKey1, message.data(), 0) == 0x726fdb47dd0e0e31ULL);
  CHECK(siphash24(kKey0, kKey1, message.data(), 1) == 0x74f839c593dc67fdULL);
  CHECK(siphash24(kKey0, kKey1, message.data(), 7) == 0xab0200f58b01d137ULL);
  CHECK(siphash24(kKey0, kKey1, message.data(), 8) == 0x93f5f5799a932462ULL);
  CHECK(siphash24(kKey0, kKey1, message.data(), 16) == 0x3f2acc7f57c29bdbULL);
}

TEST_CASE("The ISN advances with a clock that ticks every 4 microseconds (RFC 6528 §3)",
          "[tcp][isn]") {
  const IsnGenerator gen(1, 2);
  const SeqNum at0 = gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(0));
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(3)) == at0);
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(4)) == at0 + 1);
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(4'000'000)) == at0 + 1'000'000);
}

TEST_CASE("The ISN's clock wraps modulo 2^32 after about 4.77 hours", "[tcp][isn]") {
  const IsnGenerator gen(1, 2);
  const SeqNum at0 = gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(0));
  const std::int64_t wrap = std::int64_t{4} << 32;
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(wrap)) == at0);
}

TEST_CASE("The ISN's offset is the low 32 bits of SipHash over the serialized 4-tuple",
          "[tcp][isn]") {
  const IsnGenerator gen(kKey0, kKey1);
  // Domain byte 1, then local address, local port, remote address, remote port, big-endian.
  const std::uint8_t tuple[] = {1, 10, 0, 0, 1, 0x03, 0xe8, 10, 0, 0, 2, 0x00, 0x50};
  const auto expected = static_cast<std::uint32_t>(siphash24(kKey0, kKey1, tuple, sizeof tuple));
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(0)).value() == expected);
}

TEST_CASE("Each part of the 4-tuple and the key change the ISN", "[tcp][isn]") {
  const IsnGenerator gen(1, 2);
  const Instant now = Instant::from_micros(123456);
  std::set<std::uint32_t> seen{
      gen.isn(kLocal, 1000, kRemote, 80, now).value(),
      gen.isn(Ipv4Address{10, 0, 0, 3}, 1000, kRemote, 80, now).value(),
      gen.isn(kLocal, 1001, kRemote, 80, now).value(),
      gen.isn(kLocal, 1000, Ipv4Address{10, 0, 0, 4}, 80, now).value(),
      gen.isn(kLocal, 1000, kRemote, 81, now).value(),
      // The two ends swapped: the tuple is ordered, local first.
      gen.isn(kRemote, 80, kLocal, 1000, now).value(),
      IsnGenerator(1, 3).isn(kLocal, 1000, kRemote, 80, now).value(),
      IsnGenerator(2, 2).isn(kLocal, 1000, kRemote, 80, now).value(),
  };
  CHECK(seen.size() == 8);
}

TEST_CASE("The timestamp offset is fixed per 4-tuple and unrelated to the ISN offset",
          "[tcp][isn]") {
  const IsnGenerator gen(kKey0, kKey1);
  const std::uint32_t offset = gen.timestamp_offset(kLocal, 1000, kRemote, 80);
  CHECK(gen.timestamp_offset(kLocal, 1000, kRemote, 80) == offset);
  CHECK(gen.timestamp_offset(kLocal, 1001, kRemote, 80) != offset);
  CHECK(gen.isn(kLocal, 1000, kRemote, 80, Instant::from_micros(0)).value() != offset);
  // Domain byte 2 instead of 1.
  const std::uint8_t tuple[] = {2, 10, 0, 0, 1, 0x03, 0xe8, 10, 0, 0, 2, 0x00, 0x50};
  CHECK(offset == static_cast<std::uint32_t>(siphash24(kKey0, kKey1, tuple, sizeof tuple)));
}
