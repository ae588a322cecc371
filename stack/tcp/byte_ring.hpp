// ByteRing: a bounded FIFO of bytes (a circular buffer), for TCP's send and receive buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tapir::tcp {

// The storage is allocated on the first write, not at construction, so an idle connection
// costs no buffer memory (DESIGN.md: "buffers are allocated when data flows").
class ByteRing {
 public:
  explicit ByteRing(std::size_t capacity = 0) : capacity_(capacity) {}

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t free() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }

  // Changes the capacity (SO_SNDBUF / SO_RCVBUF); never below size(), keeps the bytes.
  void set_capacity(std::size_t capacity);
  // Appends as much of `data` as fits; returns how much.
  std::size_t write(std::span<const std::uint8_t> data);
  // Copies up to out.size() bytes starting `offset` bytes from the front, without removing
  // them; returns how many.
  std::size_t peek(std::size_t offset, std::span<std::uint8_t> out) const;
  // Copies and removes up to out.size() bytes from the front; returns how many.
  std::size_t read(std::span<std::uint8_t> out);
  // Removes up to `n` bytes from the front; returns how many.
  std::size_t discard(std::size_t n);
  // Removes everything and frees the storage.
  void clear();

 private:
  std::vector<std::uint8_t> storage_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the first byte in storage_
  std::size_t size_ = 0;
};

}  // namespace tapir::tcp
