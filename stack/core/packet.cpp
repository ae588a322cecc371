// Packet: a byte buffer with headroom.
#include "stack/core/packet.hpp"

#include <algorithm>
#include <cassert>

namespace tapir {

Packet::Packet(std::size_t size, std::size_t headroom)
    : storage_(headroom + size), begin_(headroom), end_(headroom + size) {}

Packet Packet::copy_of(std::span<const std::uint8_t> bytes, std::size_t headroom) {
  Packet p(bytes.size(), headroom);
  std::copy(bytes.begin(), bytes.end(), p.data());
  return p;
}

std::span<std::uint8_t> Packet::prepend(std::size_t n) {
  if (n > begin_) {
    // Out of headroom: make room for this header and a default headroom more.
    const std::size_t grow = n - begin_ + default_headroom;
    storage_.insert(storage_.begin(), grow, std::uint8_t{0});
    begin_ += grow;
    end_ += grow;
  }
  begin_ -= n;
  return {data(), n};
}

void Packet::consume(std::size_t n) {
  assert(n <= size());
  begin_ += std::min(n, size());
}

void Packet::truncate(std::size_t n) {
  assert(n <= size());
  end_ = begin_ + std::min(n, size());
}

std::span<std::uint8_t> Packet::append(std::size_t n) {
  if (end_ + n > storage_.size()) storage_.resize(end_ + n);
  std::fill_n(storage_.begin() + static_cast<std::ptrdiff_t>(end_), n, std::uint8_t{0});
  end_ += n;
  return {storage_.data() + end_ - n, n};
}

}  // namespace tapir
