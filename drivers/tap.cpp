// TapDriver: frames in and out of a TAP device, one read()/write() per frame (tuntap.rst).
#include "drivers/tap.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "drivers/netdev.hpp"
#include "stack/core/checksum.hpp"

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

// VIRTIO_NET_HDR_F_NEEDS_CSUM (virtio 1.2 §5.1.6.2): the 16-bit field at csum_start +
// csum_offset holds the pseudo-header's sum; the checksum is that, folded with every byte from
// csum_start to the end, complemented. parse_vnet_header checked the field lies in the frame.
void complete_checksum(std::span<std::uint8_t> frame, const VnetHeader& h) {
  const std::span<std::uint8_t> covered = frame.subspan(h.csum_start);
  const std::uint16_t sum = checksum_finish(checksum_add(covered));
  std::uint8_t* field = frame.data() + h.csum_start + h.csum_offset;
  field[0] = static_cast<std::uint8_t>(sum >> 8);
  field[1] = static_cast<std::uint8_t>(sum);
}

}  // namespace

TapDriver::TapDriver(std::string name, std::uint32_t mtu, bool offload)
    : name_(std::move(name)), buffer_(new std::uint8_t[vnet_header_size + max_frame_size]) {
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
  // IFF_VNET_HDR: a struct virtio_net_hdr before each frame, both ways (offloads).
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    fail(error, explain_setiff(error, name_, existed));
  }
  created_ = !existed;
  if (offload) {
    // What this end takes from the kernel: partial checksums and TCPv4 super-frames. The
    // kernel then turns on TSO and checksum offload on the device (tun_set_offload).
    vnet_ = true;
    int size = static_cast<int>(vnet_header_size);
    offloads_ = ::ioctl(fd_, TUNSETVNETHDRSZ, &size) == 0 &&
                ::ioctl(fd_, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
    // Refused: the headers stay (IFF_VNET_HDR is set), all zeros: whole, checksummed frames.
    if (!offloads_) (void)::ioctl(fd_, TUNSETOFFLOAD, 0);
  } else {
    // The device keeps the offloads an earlier user set: turn them off, or the kernel would
    // go on sending super-frames with partial checksums and no header to say so.
    (void)::ioctl(fd_, TUNSETOFFLOAD, 0);
  }
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
  // A device that outlives us (persistent, made by `ip tuntap add`) is left as we found it
  // most often: without offloads, for a next user that knows nothing of vnet headers.
  if (fd_ >= 0 && offloads_ && !created_) (void)::ioctl(fd_, TUNSETOFFLOAD, 0);
  if (fd_ >= 0) ::close(fd_);
}

std::size_t TapDriver::receive(Instant /*now*/, const FrameHandler& on_frame, std::size_t budget) {
  std::size_t count = 0;
  while (count < budget) {
    // A TAP read returns exactly one frame (or EAGAIN when the queue is empty).
    const ssize_t n = ::read(fd_, buffer_.get(), vnet_header_size + max_frame_size);
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
    std::span<std::uint8_t> frame(buffer_.get(), static_cast<std::size_t>(n));
    if (vnet_) {
      const std::optional<VnetHeader> header = parse_vnet_header(frame, vnet_counters_);
      frame = frame.subspan(std::min(frame.size(), vnet_header_size));
      if (!header) {
        ++rx_errors_;  // counted by why in vnet_counters_; never handed on
        continue;
      }
      if (header->needs_csum) {
        complete_checksum(frame, *header);
        ++csum_completed_;
      }
    }
    on_frame(frame);
  }
  return count;
}

void TapDriver::transmit(Instant /*now*/, std::span<const std::uint8_t> frame) {
  // With IFF_VNET_HDR every frame starts with a header: all zeros says "a whole frame, its
  // checksums done" (no GSO, no NEEDS_CSUM).
  static constexpr std::uint8_t no_offload[vnet_header_size] = {};
  const iovec parts[2] = {{const_cast<std::uint8_t*>(no_offload), vnet_header_size},
                          {const_cast<std::uint8_t*>(frame.data()), frame.size()}};
  for (;;) {
    const ssize_t n = vnet_ ? ::writev(fd_, parts, 2) : ::write(fd_, frame.data(), frame.size());
    if (n >= 0) return;
    if (errno == EINTR) continue;
    // EAGAIN (queue full), EIO (device down), EINVAL (too big): the frame is lost, as on a
    // wire; transports retransmit (RFC 1122 §2.4: the link layer may drop).
    ++tx_dropped_;
    return;
  }
}

void TapDriver::for_each_counter(const CounterFn& f) const {
  if (!vnet_) return;
  const VnetCounters& c = vnet_counters_;
  f("rxGsoFrames", c.gso_frames);
  f("rxCsumCompleted", csum_completed_);
  f("rxVnetDrops",
    c.short_frame + c.bad_flags + c.bad_gso_type + c.bad_gso_size + c.bad_hdr_len + c.bad_csum);
}

}  // namespace tapir
