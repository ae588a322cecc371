// The descriptor table: chunks of atomic slots, allocated as descriptors reach them.
#include "preload/fd_table.hpp"

namespace tapir::preload {

void FdTable::store(int fd, int value) {
  std::atomic<int>* chunk = chunks_[fd / kChunk].load(std::memory_order_acquire);
  if (!chunk) {
    if (value == 0) return;
    chunk = new std::atomic<int>[kChunk] {};  // kept for the life of the process
    chunks_[fd / kChunk].store(chunk, std::memory_order_release);
  }
  chunk[fd % kChunk].store(value, std::memory_order_release);
}

// The process's table is never destroyed (calls during exit use it); tests make their own.
FdTable::~FdTable() {
  for (auto& chunk : chunks_) delete[] chunk.load(std::memory_order_acquire);
}

void FdTable::bind(int fd, int tapir_fd) {
  if (fd < 0 || fd >= kLimit) return;
  any_.store(true, std::memory_order_release);
  store(fd, tapir_fd + 1);
  if (tapir_fd < 0) return;
  if (static_cast<std::size_t>(tapir_fd) >= references_.size()) {
    references_.resize(static_cast<std::size_t>(tapir_fd) + 1, 0);
  }
  ++references_[static_cast<std::size_t>(tapir_fd)];
}

int FdTable::unbind(int fd) {
  const int tapir_fd = lookup(fd);
  if (tapir_fd == kKernel) return -1;
  store(fd, 0);
  if (tapir_fd < 0) return 0;  // an orphan names no socket of this process
  return --references_[static_cast<std::size_t>(tapir_fd)];
}

int FdTable::references(int tapir_fd) const {
  if (tapir_fd < 0 || static_cast<std::size_t>(tapir_fd) >= references_.size()) return 0;
  return references_[static_cast<std::size_t>(tapir_fd)];
}

std::vector<int> FdTable::descriptors() const {
  std::vector<int> list;
  for (int c = 0; c < kLimit / kChunk; ++c) {
    const std::atomic<int>* chunk = chunks_[c].load(std::memory_order_acquire);
    if (!chunk) continue;
    for (int i = 0; i < kChunk; ++i) {
      if (chunk[i].load(std::memory_order_acquire) != 0) list.push_back(c * kChunk + i);
    }
  }
  return list;
}

FdTable& fd_table() {
  static FdTable* table = new FdTable;  // never destroyed: calls during exit still use it
  return *table;
}

}  // namespace tapir::preload
