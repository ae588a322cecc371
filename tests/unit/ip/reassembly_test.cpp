// Tests of IPv4 reassembly: any order, duplicates, overlaps, timeouts and the limits.
#include <tins/tins.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/core/timer.hpp"
#include "stack/ip/fragment.hpp"
#include "stack/ip/reassembly.hpp"

using namespace tapir;
using tapir::ip::Reassembler;
using tapir::ip::ReassemblyConfig;
using tapir::ip::ReassemblyResult;

namespace {

constexpr std::size_t kHeader = 20;
constexpr std::size_t kFragCost = Reassembler::fragment_overhead;
constexpr std::size_t kQueueCost = Reassembler::datagram_overhead;

std::vector<std::uint8_t> pattern(std::size_t n, std::size_t start = 0) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((start + i) * 13 + 1);
  return out;
}

struct Fields {
  const char* src = "10.0.0.1";
  const char* dst = "10.0.0.2";
  std::uint8_t protocol = 1;
  std::uint16_t id = 0x4242;
  unsigned extra_flags = 0;  // Tins::IP::Flags beside MF
};

// A datagram or fragment as libtins builds it.
std::vector<std::uint8_t> build(const Fields& f, std::size_t offset,
                                const std::vector<std::uint8_t>& payload, bool more) {
  Tins::IP ip(Tins::IPv4Address(f.dst), Tins::IPv4Address(f.src));
  ip.id(f.id);
  ip.ttl(64);
  ip.tos(0);
  ip.protocol(f.protocol);
  ip.flags(static_cast<Tins::IP::Flags>(f.extra_flags | (more ? Tins::IP::MORE_FRAGMENTS : 0)));
  ip.fragment_offset(static_cast<std::uint16_t>(offset / 8));
  ip /= Tins::RawPDU(payload);
  return ip.serialize();
}

// The header fields, decoded by libtins (ip::Repr::parse is tested on its own).
ip::Repr repr_of(const std::vector<std::uint8_t>& bytes) {
  const Tins::IP ip(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
  ip::Repr r;
  r.src = *Ipv4Address::parse(ip.src_addr().to_string());
  r.dst = *Ipv4Address::parse(ip.dst_addr().to_string());
  r.protocol = ip.protocol();
  r.ttl = ip.ttl();
  r.tos = ip.tos();
  r.id = ip.id();
  r.dont_fragment = (ip.flags() & Tins::IP::DONT_FRAGMENT) != 0;
  r.more_fragments = (ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0;
  r.fragment_offset = static_cast<std::uint16_t>(ip.fragment_offset() * 8U);
  r.header_len = static_cast<std::uint8_t>(ip.head_len() * 4U);
  r.total_len = ip.tot_len();
  r.checksum = ip.checksum();
  return r;
}

struct Frag {
  std::vector<std::uint8_t> bytes;
  ip::Repr repr;
  Frag(std::vector<std::uint8_t> b) : bytes(std::move(b)), repr(repr_of(bytes)) {}
};

Frag frag(std::size_t offset, std::size_t len, bool more, const Fields& f = {}) {
  return Frag(build(f, offset, pattern(len, offset), more));
}

// Consecutive fragments of `sizes` bytes; MF on all but the last.
std::vector<Frag> split(const std::vector<std::size_t>& sizes, const Fields& f = {}) {
  std::vector<Frag> out;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    out.push_back(frag(offset, sizes[i], i + 1 < sizes.size(), f));
    offset += sizes[i];
  }
  return out;
}

// The whole datagram the fragments came from, as libtins builds it.
std::vector<std::uint8_t> whole(std::size_t len, const Fields& f = {}) {
  return build(f, 0, pattern(len), false);
}

std::vector<std::uint8_t> bytes_of(const Packet& p) {
  return {p.bytes().begin(), p.bytes().end()};
}

struct Harness {
  TimerQueue timers;
  std::vector<std::vector<std::uint8_t>> timeouts;
  Reassembler reassembler;
  Packet out;

  explicit Harness(ReassemblyConfig config = {})
      : reassembler(timers, config, [this](std::span<const std::uint8_t> first) {
          timeouts.emplace_back(first.begin(), first.end());
        }) {}

  ReassemblyResult add(const Frag& f, Instant now = Instant{}) {
    return reassembler.add(f.repr, f.bytes, now, out);
  }
  bool idle() const {
    return reassembler.datagrams() == 0 && reassembler.memory_used() == 0 && timers.size() == 0;
  }
};

Instant at_s(std::int64_t s) {
  return Instant::from_micros(s * 1'000'000);
}

}  // namespace

TEST_CASE("a datagram reassembles from fragments in order", "[reassembly]") {
  Harness h;
  const auto frags = split({1480, 1480, 1040});
  CHECK(h.add(frags[0]) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.datagrams() == 1);
  CHECK(h.reassembler.memory_used() == 1480 + kHeader + kFragCost + kQueueCost);
  CHECK(h.timers.size() == 1);
  CHECK(h.add(frags[1]) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.memory_used() == 2 * 1480 + kHeader + 2 * kFragCost + kQueueCost);
  CHECK(h.add(frags[2]) == ReassemblyResult::complete);
  // Byte for byte the datagram libtins builds unfragmented: length, flags, checksum rewritten.
  CHECK(bytes_of(h.out) == whole(4000));
  CHECK(h.idle());
  CHECK(h.out.headroom() >= 14);
}

TEST_CASE("a datagram reassembles from fragments in reverse order", "[reassembly]") {
  Harness h;
  auto frags = split({1480, 1480, 1480, 8, 1000});
  std::reverse(frags.begin(), frags.end());
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
    CHECK(h.add(frags[i]) == ReassemblyResult::incomplete);
  }
  CHECK(h.add(frags.back()) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(5448));
  CHECK(h.idle());
}

TEST_CASE("a datagram reassembles from any shuffle of its fragments", "[reassembly]") {
  std::mt19937 rng(815);
  for (int round = 0; round < 100; ++round) {
    std::vector<std::size_t> sizes(1 + rng() % 30);
    std::size_t total = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      sizes[i] = i + 1 < sizes.size() ? 8 * (1 + rng() % 60) : 1 + rng() % 500;
      total += sizes[i];
    }
    auto frags = split(sizes);
    std::shuffle(frags.begin(), frags.end(), rng);
    Harness h;
    INFO("round " << round << ", " << sizes.size() << " fragments");
    for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
      REQUIRE(h.add(frags[i]) == ReassemblyResult::incomplete);
    }
    REQUIRE(h.add(frags.back()) == ReassemblyResult::complete);
    CHECK(bytes_of(h.out) == whole(total));
    CHECK(h.idle());
  }
}

TEST_CASE("fragments made by fragment() reassemble to the original bytes", "[reassembly]") {
  std::mt19937 rng(791);
  // With options: LSRR (copied) and record route (first fragment only), so the later
  // fragments' headers differ from fragment 0's.
  std::vector<std::uint8_t> original = {0x48, 0x00, 0,   0, 0x12, 0x34, 0,   0, 64, 17,   0,
                                        0,    192,  168, 1, 1,    192,  168, 1, 2,  0x83, 7,
                                        4,    9,    9,   9, 9,    0x07, 3,   4, 1,  0};
  const auto payload = pattern(6000);
  original.insert(original.end(), payload.begin(), payload.end());
  store16(original.data() + 2, static_cast<std::uint16_t>(original.size()));
  store16(original.data() + 10, internet_checksum({original.data(), 32}));
  for (std::size_t mtu : {68, 69, 300, 576, 1500, 4000}) {
    std::vector<Frag> frags;
    for (const Packet& p : ip::fragment(original, mtu)) frags.emplace_back(bytes_of(p));
    REQUIRE(frags.size() > 1);
    std::shuffle(frags.begin(), frags.end(), rng);
    Harness h;
    for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
      REQUIRE(h.add(frags[i]) == ReassemblyResult::incomplete);
    }
    REQUIRE(h.add(frags.back()) == ReassemblyResult::complete);
    CHECK(bytes_of(h.out) == original);
  }
}

TEST_CASE(
    "fragments of different datagrams are kept apart by source, destination, protocol "
    "and ID",
    "[reassembly]") {
  const std::vector<Fields> variants = {
      Fields{},
      Fields{.src = "10.0.0.9"},
      Fields{.dst = "10.0.0.9"},
      Fields{.protocol = 17},
      Fields{.id = 0x4243},
  };
  std::vector<std::vector<Frag>> datagrams;
  for (const Fields& f : variants) datagrams.push_back(split({16, 16, 5 + datagrams.size()}, f));
  Harness h;
  for (std::size_t piece = 0; piece < 2; ++piece) {
    for (auto& d : datagrams) CHECK(h.add(d[piece]) == ReassemblyResult::incomplete);
  }
  CHECK(h.reassembler.datagrams() == variants.size());
  for (std::size_t i = 0; i < variants.size(); ++i) {
    REQUIRE(h.add(datagrams[i][2]) == ReassemblyResult::complete);
    CHECK(bytes_of(h.out) == whole(32 + 5 + i, variants[i]));
  }
  CHECK(h.idle());
}

TEST_CASE("fragment 0's header and options become the datagram's header", "[reassembly]") {
  // Fragment 0 carries a router alert (24-byte header); the last fragment has none.
  std::vector<std::uint8_t> first = {0x46, 0x00, 0, 0, 0x42, 0x42, 0x20, 0x00, 64,   1, 0, 0,
                                     10,   0,    0, 1, 10,   0,    0,    2,    0x94, 4, 0, 0};
  const auto payload0 = pattern(16);
  first.insert(first.end(), payload0.begin(), payload0.end());
  store16(first.data() + 2, static_cast<std::uint16_t>(first.size()));
  store16(first.data() + 10, internet_checksum({first.data(), 24}));
  Harness h;
  CHECK(h.add(frag(16, 10, false)) == ReassemblyResult::incomplete);
  CHECK(h.add(Frag(first)) == ReassemblyResult::complete);

  const auto got = bytes_of(h.out);
  REQUIRE(got.size() == 24 + 26);
  const Tins::IP ip(got.data(), static_cast<std::uint32_t>(got.size()));
  CHECK(ip.head_len() == 6);
  CHECK(ip.tot_len() == 50);
  CHECK(ip.flags() == 0);
  CHECK(ip.fragment_offset() == 0);
  CHECK(internet_checksum({got.data(), 24}) == 0);
  REQUIRE(ip.options().size() == 1);
  CHECK(ip.options().front().option().number == 20);
  CHECK(std::vector<std::uint8_t>(got.begin() + 24, got.end()) == pattern(26));
}

TEST_CASE("DF on fragment 0 survives reassembly, and MF and the offset do not", "[reassembly]") {
  const Fields df{.extra_flags = Tins::IP::DONT_FRAGMENT};
  Harness h;
  const auto frags = split({8, 8}, df);
  CHECK(h.add(frags[1]) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[0]) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(16, df));
}

TEST_CASE("an exact duplicate is ignored and the datagram still completes", "[reassembly]") {
  Harness h;
  const auto frags = split({24, 24, 24, 7});
  CHECK(h.add(frags[1]) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[3]) == ReassemblyResult::incomplete);
  const std::size_t held = h.reassembler.memory_used();
  CHECK(h.add(frags[1]) == ReassemblyResult::duplicate);
  CHECK(h.add(frags[3]) == ReassemblyResult::duplicate);
  CHECK(h.reassembler.memory_used() == held);
  CHECK(h.add(frags[0]) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[0]) == ReassemblyResult::duplicate);
  CHECK(h.add(frags[2]) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(79));
  CHECK(h.idle());
}

TEST_CASE("any other overlap discards the whole datagram (RFC 5722)", "[reassembly]") {
  Harness h;
  std::vector<Frag> held;
  Frag intruder = frag(0, 8, true);
  SECTION("over the end of the fragment before it") {
    held = {frag(0, 16, true)};
    intruder = frag(8, 16, true);
  }
  SECTION("over the start of the fragment after it") {
    held = {frag(16, 16, true)};
    intruder = frag(8, 16, true);
  }
  SECTION("at the same offset with another length") {
    held = {frag(0, 16, true)};
    intruder = frag(0, 8, true);
  }
  SECTION("around a held fragment") {
    held = {frag(8, 8, true)};
    intruder = frag(0, 24, true);
  }
  SECTION("inside a held fragment") {
    held = {frag(0, 32, true)};
    intruder = frag(8, 8, true);
  }
  SECTION("a final fragment over a held one") {
    held = {frag(0, 8, true), frag(16, 16, true)};
    intruder = frag(24, 3, false);
  }
  for (const Frag& f : held) REQUIRE(h.add(f) == ReassemblyResult::incomplete);
  CHECK(h.add(intruder) == ReassemblyResult::overlap);
  CHECK(h.idle());  // queue, memory and timer all gone
  h.timers.advance(at_s(120));
  CHECK(h.timeouts.empty());  // and no time exceeded later (RFC 5722 §4: no ICMP)
  // What comes next for the same key starts a new datagram.
  CHECK(h.add(frag(40, 8, false)) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.datagrams() == 1);
}

TEST_CASE("fragments that disagree on where the datagram ends discard it", "[reassembly]") {
  Harness h;
  std::vector<Frag> held;
  Frag intruder = frag(0, 8, true);
  SECTION("two final fragments with different ends") {
    held = {frag(16, 8, false)};
    intruder = frag(24, 8, false);
  }
  SECTION("a final fragment ending before held data") {
    held = {frag(32, 8, true)};
    intruder = frag(8, 8, false);
  }
  SECTION("a non-final fragment past the known end") {
    held = {frag(16, 8, false)};
    intruder = frag(24, 8, true);
  }
  for (const Frag& f : held) REQUIRE(h.add(f) == ReassemblyResult::incomplete);
  CHECK(h.add(intruder) == ReassemblyResult::overlap);
  CHECK(h.idle());
}

TEST_CASE("a non-final fragment that is not a multiple of 8 bytes is malformed", "[reassembly]") {
  Harness h;
  CHECK(h.add(frag(0, 12, true)) == ReassemblyResult::malformed);
  CHECK(h.idle());  // nothing held for it
  CHECK(h.add(frag(0, 16, true)) == ReassemblyResult::incomplete);
  const std::size_t held = h.reassembler.memory_used();
  CHECK(h.add(frag(16, 9, true)) == ReassemblyResult::malformed);
  CHECK(h.reassembler.memory_used() == held);
  // The last fragment may have any length.
  CHECK(h.add(frag(16, 9, false)) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(25));
}

TEST_CASE("a fragment without payload is malformed", "[reassembly]") {
  Harness h;
  CHECK(h.add(frag(0, 0, true)) == ReassemblyResult::malformed);
  CHECK(h.add(frag(16, 0, false)) == ReassemblyResult::malformed);
  CHECK(h.idle());
}

TEST_CASE("a timeout reports fragment 0's header and data", "[reassembly]") {
  Harness h;
  const auto frags = split({1480, 1480, 100});
  CHECK(h.add(frags[0], at_s(100)) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[2], at_s(101)) == ReassemblyResult::incomplete);
  CHECK(h.timers.next_deadline() == at_s(130));  // the default 30 s, from the first fragment
  h.timers.advance(at_s(130) - Duration(1));
  CHECK(h.timeouts.empty());
  h.timers.advance(at_s(130));
  REQUIRE(h.timeouts.size() == 1);
  CHECK(h.timeouts[0] == frags[0].bytes);  // header (MF, offset 0) + at least 8 data bytes
  CHECK(h.idle());
  h.timers.advance(at_s(1000));
  CHECK(h.timeouts.size() == 1);
}

TEST_CASE("a timeout without fragment 0 reports an empty span", "[reassembly]") {
  Harness h;
  CHECK(h.add(frag(1480, 1480, true)) == ReassemblyResult::incomplete);
  CHECK(h.add(frag(2960, 10, false)) == ReassemblyResult::incomplete);
  h.timers.advance(at_s(30));
  REQUIRE(h.timeouts.size() == 1);
  CHECK(h.timeouts[0].empty());
  CHECK(h.idle());
}

TEST_CASE("later fragments do not extend the reassembly timer", "[reassembly]") {
  Harness h(ReassemblyConfig{.timeout = 5s});
  const auto frags = split({8, 8, 8, 8});
  CHECK(h.add(frags[0], at_s(10)) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[1], at_s(12)) == ReassemblyResult::incomplete);
  CHECK(h.add(frags[2], at_s(14)) == ReassemblyResult::incomplete);
  h.timers.advance(at_s(15));
  CHECK(h.timeouts.size() == 1);
  CHECK(h.idle());
  // The missing fragment now starts a datagram of its own.
  CHECK(h.add(frags[3], at_s(16)) == ReassemblyResult::incomplete);
  CHECK(h.timers.next_deadline() == at_s(21));
}

TEST_CASE("each datagram has its own timer", "[reassembly]") {
  Harness h;
  CHECK(h.add(frag(0, 8, true, Fields{.id = 1}), at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.add(frag(8, 8, true, Fields{.id = 2}), at_s(10)) == ReassemblyResult::incomplete);
  h.timers.advance(at_s(30));
  REQUIRE(h.timeouts.size() == 1);
  CHECK(h.timeouts[0] == frag(0, 8, true, Fields{.id = 1}).bytes);
  CHECK(h.reassembler.datagrams() == 1);
  h.timers.advance(at_s(40));
  REQUIRE(h.timeouts.size() == 2);
  CHECK(h.timeouts[1].empty());
  CHECK(h.idle());
}

TEST_CASE("a datagram of exactly 65535 bytes reassembles", "[reassembly]") {
  Harness h;
  // 65535 - 20 = 65515 payload bytes: 8 x 8184 + 43.
  std::vector<std::size_t> sizes(8, 8184);
  sizes.push_back(43);
  const auto frags = split(sizes);
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
    REQUIRE(h.add(frags[i]) == ReassemblyResult::incomplete);
  }
  REQUIRE(h.add(frags.back()) == ReassemblyResult::complete);
  CHECK(h.out.size() == 65535);
  CHECK(bytes_of(h.out) == whole(65515));
}

TEST_CASE("a datagram beyond 65535 bytes is discarded (ping of death)", "[reassembly]") {
  Harness h;
  SECTION("a last fragment past the limit discards what is held") {
    CHECK(h.add(frag(0, 1480, true)) == ReassemblyResult::incomplete);
    // Offset 8191 x 8 = 65528, 8 bytes: 65536 payload bytes + the header.
    CHECK(h.add(frag(65528, 8, false)) == ReassemblyResult::oversize);
  }
  SECTION("one byte too many") {
    std::vector<std::size_t> sizes(8, 8184);
    sizes.push_back(44);  // 65516 payload bytes
    const auto frags = split(sizes);
    for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
      REQUIRE(h.add(frags[i]) == ReassemblyResult::incomplete);
    }
    CHECK(h.add(frags.back()) == ReassemblyResult::oversize);
  }
  SECTION("a lone oversize fragment holds nothing") {
    CHECK(h.add(frag(65000, 1000, true)) == ReassemblyResult::oversize);
  }
  SECTION("fragment 0 with a longer header pushes the held data over") {
    CHECK(h.add(frag(65472, 43, false)) == ReassemblyResult::incomplete);  // 20 + 65515: fits
    std::vector<std::uint8_t> first = {0x46, 0x00, 0, 0, 0x42, 0x42, 0x20, 0x00, 64, 1, 0, 0,
                                       10,   0,    0, 1, 10,   0,    0,    2,    1,  1, 1, 0};
    const auto payload = pattern(8);
    first.insert(first.end(), payload.begin(), payload.end());
    store16(first.data() + 2, static_cast<std::uint16_t>(first.size()));
    store16(first.data() + 10, internet_checksum({first.data(), 24}));
    CHECK(h.add(Frag(first)) == ReassemblyResult::oversize);  // 24 + 65515 > 65535
  }
  CHECK(h.idle());
  h.timers.advance(at_s(60));
  CHECK(h.timeouts.empty());
}

TEST_CASE("the memory cap refuses fragments and keeps what it holds", "[reassembly]") {
  const auto a = split({1480, 1480, 100}, Fields{.id = 1});
  const auto b = split({1480, 100}, Fields{.id = 2});
  const std::size_t a0_cost = 1480 + kHeader + kFragCost + kQueueCost;
  const std::size_t a1_cost = 1480 + kFragCost;
  Harness h(ReassemblyConfig{.timeout = 30s, .memory_limit = a0_cost + a1_cost});
  CHECK(h.add(a[0], at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.add(a[1], at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.memory_used() == a0_cost + a1_cost);  // exactly at the cap is allowed
  CHECK(h.add(a[2], at_s(1)) == ReassemblyResult::no_memory);
  CHECK(h.add(b[0], at_s(1)) == ReassemblyResult::no_memory);
  CHECK(h.add(b[1], at_s(1)) == ReassemblyResult::no_memory);
  CHECK(h.reassembler.datagrams() == 1);
  CHECK(h.reassembler.memory_used() == a0_cost + a1_cost);
  // The held datagram is not evicted; it times out and frees its memory.
  h.timers.advance(at_s(30));
  CHECK(h.timeouts.size() == 1);
  CHECK(h.idle());
  CHECK(h.add(b[0], at_s(31)) == ReassemblyResult::incomplete);
  CHECK(h.add(b[1], at_s(31)) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(1580, Fields{.id = 2}));
}

TEST_CASE("a flood of random fragments never holds more than the cap", "[reassembly]") {
  std::mt19937 rng(5722);
  const std::size_t limit = 64 * 1024;
  Harness h(ReassemblyConfig{.timeout = 30s, .memory_limit = limit});
  Instant now;
  int completed = 0;
  for (int i = 0; i < 20000; ++i) {
    Fields f;
    f.id = static_cast<std::uint16_t>(rng() % 64);
    const std::size_t offset = 8 * (rng() % 400);
    const bool more = rng() % 4 != 0;
    const std::size_t len = more ? 8 * (rng() % 40) : rng() % 300;
    const auto result = h.add(frag(offset, len, more, f), now);
    if (result == ReassemblyResult::complete) ++completed;
    REQUIRE(h.reassembler.memory_used() <= limit);
    now += Duration(static_cast<std::int64_t>(rng() % 20000));
    h.timers.advance(now);
  }
  INFO(completed << " datagrams completed by chance");
  h.timers.advance(now + 30s);
  CHECK(h.idle());
}

TEST_CASE("destroying the reassembler cancels its timers", "[reassembly]") {
  TimerQueue timers;
  int calls = 0;
  {
    Reassembler r(timers, {}, [&](std::span<const std::uint8_t>) { ++calls; });
    Packet out;
    const Frag f = frag(0, 8, true);
    CHECK(r.add(f.repr, f.bytes, Instant{}, out) == ReassemblyResult::incomplete);
    CHECK(timers.size() == 1);
  }
  CHECK(timers.size() == 0);
  timers.advance(at_s(100));
  CHECK(calls == 0);
}

TEST_CASE("the timeout handler may hand the reassembler another fragment", "[reassembly]") {
  TimerQueue timers;
  Reassembler* self = nullptr;
  std::vector<ReassemblyResult> from_handler;
  Packet out;
  Reassembler r(timers, {}, [&](std::span<const std::uint8_t> first) {
    // As an ICMP error looped back to this host might: the expired datagram is already gone.
    CHECK(self->datagrams() == 0);
    const Frag again = frag(0, 8, true, Fields{.id = static_cast<std::uint16_t>(first.size())});
    from_handler.push_back(self->add(again.repr, again.bytes, at_s(30), out));
  });
  self = &r;
  const Frag f = frag(0, 8, true);
  CHECK(r.add(f.repr, f.bytes, Instant{}, out) == ReassemblyResult::incomplete);
  timers.advance(at_s(30));
  CHECK(from_handler == std::vector<ReassemblyResult>{ReassemblyResult::incomplete});
  CHECK(r.datagrams() == 1);
  CHECK(timers.next_deadline() == at_s(60));
}

TEST_CASE("a header that disagrees with its bytes is refused", "[reassembly]") {
  Harness h;
  Frag f = frag(0, 16, true);
  f.repr.total_len = static_cast<std::uint16_t>(f.bytes.size() + 8);  // beyond the bytes
  CHECK(h.add(f) == ReassemblyResult::malformed);
  f.repr.total_len = 10;  // below the header
  CHECK(h.add(f) == ReassemblyResult::malformed);
  CHECK(h.idle());
}

TEST_CASE("one source's fragments hold at most its share, and others still get through",
          "[reassembly][limits]") {
  const auto flood = split({1480, 1480, 100}, Fields{.src = "10.0.0.66", .id = 1});
  const auto more = split({1480, 100}, Fields{.src = "10.0.0.66", .id = 2});
  const auto good = split({1480, 100}, Fields{.src = "10.0.0.1", .id = 1});
  const std::size_t first_cost = 1480 + kHeader + kFragCost + kQueueCost;
  const std::size_t next_cost = 1480 + kFragCost;
  Harness h(ReassemblyConfig{
      .timeout = 30s, .memory_limit = 1 << 20, .per_source_limit = first_cost + next_cost});
  const Ipv4Address flooder = *Ipv4Address::parse("10.0.0.66");
  const Ipv4Address other = *Ipv4Address::parse("10.0.0.1");
  CHECK(h.add(flood[0], at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.add(flood[1], at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.memory_used_by(flooder) == first_cost + next_cost);  // at its share
  CHECK(h.add(more[0], at_s(0)) == ReassemblyResult::source_limit);
  CHECK(h.add(flood[2], at_s(0)) == ReassemblyResult::source_limit);
  // Another source is not held back by the first one's share.
  CHECK(h.add(good[0], at_s(0)) == ReassemblyResult::incomplete);
  CHECK(h.reassembler.memory_used_by(other) == first_cost);
  CHECK(h.add(good[1], at_s(0)) == ReassemblyResult::complete);
  CHECK(bytes_of(h.out) == whole(1580, Fields{.src = "10.0.0.1", .id = 1}));
  CHECK(h.reassembler.memory_used_by(other) == 0);
  CHECK(h.reassembler.memory_used() == first_cost + next_cost);
  // When the flooder's datagram times out its share is free again.
  h.timers.advance(at_s(30));
  CHECK(h.idle());
  CHECK(h.reassembler.memory_used_by(flooder) == 0);
  CHECK(h.add(more[0], at_s(31)) == ReassemblyResult::incomplete);
}
