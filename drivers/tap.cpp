// TapDriver: frames in and out of a TAP device, one read()/write() per frame (tuntap.rst).
#include "drivers/tap.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "drivers/netdev.hpp"

namespace tapir {

namespace {

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::system_category(), what);
}

// TUNSETIFF's errors, told in terms of what the user can do about them.
std::string explain_setiff(int error, const std::string& name, bool existed) {
  switch (error) {
    case EPERM:
      return "cannot " + std::string(existed ? "attach to" : "create") + " TAP " + name +
             " (needs root or CAP_NET_ADMIN, or a TAP created with `ip tuntap add mode tap user "
             "USER`)";
    case EBUSY:
      return "TAP " + name + " is already attached by another process";
    case EINVAL:
      // drivers/net/tun.c: an existing device of another kind, or a TAP made with other flags
      // (tun vs tap, multi_queue), refuses the attach.
      return name + " exists but is not a single-queue TAP device";
    default:
      return "cannot " + std::string(existed ? "attach to" : "create") + " TAP " + name;
  }
}

}  // namespace

TapDriver::TapDriver(std::string name, std::uint32_t mtu)
    : name_(std::move(name)), buffer_(new std::uint8_t[max_frame_size]) {
  if (name_.empty() || name_.size() > netdev::max_name_len) {
    fail(ENAMETOOLONG, "TAP name \"" + name_ + "\" must have 1 to 15 characters");
  }
  // Non-blocking: the Host polls and drains; a read must never stall the event loop.
  fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    const int error = errno;
    fail(error, error == ENOENT ? "cannot open /dev/net/tun (is the tun module loaded?)"
                                : "cannot open /dev/net/tun");
  }
  // TUNSETIFF creates the device if it is missing and attaches to it if it exists; ask first so
  // we know whether the device (and bringing it up) is ours.
  const bool existed = netdev::index_of(name_) != 0;
  ifreq ifr{};
  // IFF_NO_PI: plain Ethernet frames, without the 4-byte packet-information prefix.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    fail(error, explain_setiff(error, name_, existed));
  }
  created_ = !existed;
  if (created_) {
    // A device we made is not persistent (it goes when fd_ closes) and starts down.
    try {
      if (mtu != 0) netdev::set_mtu(name_, mtu);
      netdev::bring_up(name_);
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
}

TapDriver::~TapDriver() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t TapDriver::receive(Instant /*now*/, const FrameHandler& on_frame, std::size_t budget) {
  std::size_t count = 0;
  while (count < budget) {
    // A TAP read returns exactly one frame (or EAGAIN when the queue is empty).
    const ssize_t n = ::read(fd_, buffer_.get(), max_frame_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      ++rx_errors_;
      // drivers/net/tun.c: a deleted TAP leaves its file detached; reads fail with EBADFD.
      if (errno == EBADFD) gone_ = true;
      break;
    }
    if (n == 0) break;
    ++count;
    on_frame(std::span<const std::uint8_t>(buffer_.get(), static_cast<std::size_t>(n)));
  }
  return count;
}

void TapDriver::transmit(Instant /*now*/, std::span<const std::uint8_t> frame) {
  for (;;) {
    if (::write(fd_, frame.data(), frame.size()) >= 0) return;
    if (errno == EINTR) continue;
    // EAGAIN (queue full), EIO (device down), EINVAL (too big): the frame is lost, as on a
    // wire; transports retransmit (RFC 1122 §2.4: the link layer may drop).
    ++tx_dropped_;
    return;
  }
}

}  // namespace tapir
