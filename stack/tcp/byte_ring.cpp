// ByteRing: TCP's send and receive buffers as one circular array, copied in at most two pieces.
#include "stack/tcp/byte_ring.hpp"

#include <algorithm>
#include <cstring>

namespace tapir::tcp {

namespace {
// memcpy with a null pointer is undefined even for zero bytes, and an empty span may hold one.
void copy(std::uint8_t* to, const std::uint8_t* from, std::size_t n) {
  if (n > 0) std::memcpy(to, from, n);
}
}  // namespace

void ByteRing::set_capacity(std::size_t capacity) {
  capacity = std::max(capacity, size_);
  if (capacity == capacity_) return;
  if (storage_.empty()) {
    capacity_ = capacity;  // nothing allocated yet: the first write allocates the new size
    return;
  }
  // Unroll the bytes to the front of new storage; an empty ring keeps no storage at all.
  std::vector<std::uint8_t> grown(size_ > 0 ? capacity : 0);
  peek(0, grown);
  storage_ = std::move(grown);
  capacity_ = capacity;
  head_ = 0;
}

std::size_t ByteRing::write(std::span<const std::uint8_t> data) {
  const std::size_t n = std::min(free(), data.size());
  if (n == 0) return 0;
  if (storage_.empty()) storage_.resize(capacity_);
  const std::size_t tail = (head_ + size_) % capacity_;
  const std::size_t first = std::min(n, capacity_ - tail);
  copy(storage_.data() + tail, data.data(), first);
  copy(storage_.data(), data.data() + first, n - first);
  size_ += n;
  return n;
}

std::size_t ByteRing::peek(std::size_t offset, std::span<std::uint8_t> out) const {
  if (offset >= size_) return 0;
  const std::size_t n = std::min(out.size(), size_ - offset);
  const std::size_t start = (head_ + offset) % capacity_;
  const std::size_t first = std::min(n, capacity_ - start);
  copy(out.data(), storage_.data() + start, first);
  copy(out.data() + first, storage_.data(), n - first);
  return n;
}

std::size_t ByteRing::read(std::span<std::uint8_t> out) {
  return discard(peek(0, out));
}

std::size_t ByteRing::discard(std::size_t n) {
  n = std::min(n, size_);
  if (n == 0) return 0;
  size_ -= n;
  // Once empty, start again at 0 so the next write lands in one piece.
  head_ = size_ == 0 ? 0 : (head_ + n) % capacity_;
  return n;
}

void ByteRing::clear() {
  std::vector<std::uint8_t>().swap(storage_);  // clear() alone would keep the allocation
  head_ = 0;
  size_ = 0;
}

}  // namespace tapir::tcp
