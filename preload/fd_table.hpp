// Which of the process's descriptors are tapir sockets: each kernel descriptor number that
// names one maps to tapir's number for the socket. Reads are lock-free, since every read(),
// write() and close() in the process asks; changes come from socket(), accept(), dup*() and
// close() under the table's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tapir::preload {

// What lookup() says of a descriptor that is no tapir socket.
inline constexpr int kKernel = -1;
// ... and of one inherited across fork() from a parent whose stack it lives in: the child may
// close it, and every other call on it fails with ENETDOWN (docs/PRELOAD.md, "fork and exec").
inline constexpr int kOrphan = -2;

class FdTable {
 public:
  FdTable() = default;
  ~FdTable();
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  // Descriptors at or above this are never tapir sockets (a socket() that gets one fails
  // with EMFILE).
  static constexpr int kLimit = 1 << 20;

  // The tapir socket behind `fd`, or kKernel, or kOrphan. Any thread, no lock.
  int lookup(int fd) const {
    if (!any_.load(std::memory_order_acquire) || fd < 0 || fd >= kLimit) return kKernel;
    const std::atomic<int>* chunk = chunks_[fd / kChunk].load(std::memory_order_acquire);
    if (!chunk) return kKernel;
    return chunk[fd % kChunk].load(std::memory_order_acquire) - 1;
  }
  // Whether any descriptor was ever a tapir socket: until then every call goes straight to
  // the kernel.
  bool any() const { return any_.load(std::memory_order_relaxed); }

  // The rest under mutex().
  std::mutex& mutex() { return mutex_; }
  // `fd` now names tapir socket `tapir_fd` (which counts one more descriptor), or is kOrphan.
  void bind(int fd, int tapir_fd);
  // `fd` names nothing of ours any more. Returns how many descriptors still name its socket
  // (0: this was the last one, the socket itself can go), or -1 if it named none.
  int unbind(int fd);
  // How many descriptors name tapir socket `tapir_fd`.
  int references(int tapir_fd) const;
  // Every descriptor that names a tapir socket (or an orphan), for fork and exit.
  std::vector<int> descriptors() const;

 private:
  static constexpr int kChunk = 4096;
  void store(int fd, int value);

  std::atomic<bool> any_{false};
  std::atomic<std::atomic<int>*> chunks_[kLimit / kChunk] = {};
  std::vector<int> references_;  // by tapir socket number
  std::mutex mutex_;
};

// The process's table (never destroyed: calls during exit still use it).
FdTable& fd_table();

}  // namespace tapir::preload
