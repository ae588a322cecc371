// Packet: a byte buffer with headroom, so each layer prepends its header without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tapir {

class Packet {
 public:
  // Enough for Ethernet (14) + IPv4 with options (60) + TCP with options (60).
  static constexpr std::size_t default_headroom = 136;

  Packet() = default;
  // A packet of `size` zeroed bytes with `headroom` spare bytes in front.
  explicit Packet(std::size_t size, std::size_t headroom = default_headroom);
  // A copy of `bytes` with `headroom` spare bytes in front.
  static Packet copy_of(std::span<const std::uint8_t> bytes,
                        std::size_t headroom = default_headroom);

  std::uint8_t* data() { return storage_.data() + begin_; }
  const std::uint8_t* data() const { return storage_.data() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return size() == 0; }
  std::span<std::uint8_t> bytes() { return {data(), size()}; }
  std::span<const std::uint8_t> bytes() const { return {data(), size()}; }
  std::size_t headroom() const { return begin_; }

  // Grows the front by `n` bytes (into the headroom; reallocates only if it is short) and
  // returns the new front bytes for the caller's header.
  std::span<std::uint8_t> prepend(std::size_t n);
  // Removes `n` bytes from the front (a layer strips its header); n <= size().
  void consume(std::size_t n);
  // Keeps only the first `n` bytes (drops link padding); n <= size().
  void truncate(std::size_t n);
  // Grows the back by `n` zeroed bytes and returns them.
  std::span<std::uint8_t> append(std::size_t n);

 private:
  std::vector<std::uint8_t> storage_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tapir
