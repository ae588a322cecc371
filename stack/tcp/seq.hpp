// SeqNum: a 32-bit TCP sequence number, compared and subtracted modulo 2^32 (RFC 9293 §3.4).
#pragma once

#include <cstdint>

namespace tapir::tcp {

// Comparisons use the signed distance a - b (RFC 1982 serial arithmetic), so they are right
// across the wrap as long as the two numbers are less than 2^31 apart, which TCP's windows
// guarantee. They are therefore not a total order: never sort SeqNums across a 2^31 span.
class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t value) : value_(value) {}
  constexpr std::uint32_t value() const { return value_; }

  friend constexpr SeqNum operator+(SeqNum a, std::uint32_t n) { return SeqNum{a.value_ + n}; }
  friend constexpr SeqNum operator-(SeqNum a, std::uint32_t n) { return SeqNum{a.value_ - n}; }
  // The signed distance from b to a.
  friend constexpr std::int32_t operator-(SeqNum a, SeqNum b) {
    return static_cast<std::int32_t>(a.value_ - b.value_);
  }
  constexpr SeqNum& operator+=(std::uint32_t n) {
    value_ += n;
    return *this;
  }
  friend constexpr bool operator==(SeqNum, SeqNum) = default;
  friend constexpr bool operator<(SeqNum a, SeqNum b) { return (a - b) < 0; }
  friend constexpr bool operator<=(SeqNum a, SeqNum b) { return (a - b) <= 0; }
  friend constexpr bool operator>(SeqNum a, SeqNum b) { return (a - b) > 0; }
  friend constexpr bool operator>=(SeqNum a, SeqNum b) { return (a - b) >= 0; }

 private:
  std::uint32_t value_ = 0;
};

// The larger / smaller of two sequence numbers (modulo 2^32).
constexpr SeqNum seq_max(SeqNum a, SeqNum b) {
  return a < b ? b : a;
}
constexpr SeqNum seq_min(SeqNum a, SeqNum b) {
  return a < b ? a : b;
}

// first <= x < first + len, modulo 2^32 (RFC 9293 §3.4's window tests).
constexpr bool in_window(SeqNum x, SeqNum first, std::uint32_t len) {
  return static_cast<std::uint32_t>(x.value() - first.value()) < len;
}

}  // namespace tapir::tcp
