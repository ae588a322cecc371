// tap-echo: the least a program can do to answer ping over a TAP — the benchmark's floor.
//
// It opens a TAP (IFF_TAP | IFF_NO_PI), reads frames in a blocking loop and answers, in
// place, ARP requests for its address and ICMP echo requests to it: swap the addresses,
// flip the type, patch the ICMP checksum incrementally (RFC 1624), write the frame back.
// No stack, no copies, no allocation, no poll: one read and one write per ping. Whatever
// tapird adds on top of this is the cost of being a stack.
//
//   tap-echo --tap NAME --ip ADDR [--mac MAC]     prints "ready" once the TAP is open
//
// Fragmented or malformed requests are ignored (a benchmark ping is never fragmented).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one's-complement sums of 16-bit words.
std::uint16_t checksum_update(std::uint16_t hc, std::uint16_t old_word, std::uint16_t new_word) {
  std::uint32_t sum = static_cast<std::uint16_t>(~hc) + static_cast<std::uint16_t>(~old_word) +
                      static_cast<std::uint32_t>(new_word);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

struct Options {
  std::string tap;
  std::array<std::uint8_t, 4> ip{};
  std::array<std::uint8_t, 6> mac{0x02, 0x00, 0x00, 0x00, 0xec, 0x01};
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "tap-echo: %s (usage: tap-echo --tap NAME --ip ADDR [--mac MAC])\n",
               message.c_str());
  std::exit(2);
}

std::optional<std::array<std::uint8_t, 6>> parse_mac(std::string_view text) {
  std::array<std::uint8_t, 6> mac{};
  unsigned int b[6];
  char tail = 0;
  if (std::sscanf(std::string(text).c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                  &b[3], &b[4], &b[5], &tail) != 6) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<std::uint8_t>(b[i]);
  return mac;
}

Options parse(int argc, char** argv) {
  Options opt;
  bool have_ip = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
    std::string_view value = argv[++i];
    if (flag == "--tap") {
      if (value.empty() || value.size() >= IFNAMSIZ) usage_error("--tap expects an interface name");
      opt.tap = value;
    } else if (flag == "--ip") {
      in_addr a{};
      if (inet_pton(AF_INET, std::string(value).c_str(), &a) != 1) {
        usage_error("--ip expects an IPv4 address such as 10.0.0.2");
      }
      std::memcpy(opt.ip.data(), &a, 4);
      have_ip = true;
    } else if (flag == "--mac") {
      auto mac = parse_mac(value);
      if (!mac) usage_error("--mac expects a MAC such as 02:00:00:00:ec:01");
      opt.mac = *mac;
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if (opt.tap.empty() || !have_ip) usage_error("--tap and --ip are required");
  return opt;
}

int open_tap(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::perror("tap-echo: open /dev/net/tun");
    std::exit(1);
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    std::perror("tap-echo: TUNSETIFF");
    std::exit(1);
  }
  return fd;
}

// ARP request for our address → reply in place (RFC 826). Returns the length to send, or 0.
std::size_t answer_arp(std::uint8_t* f, std::size_t len, const Options& opt) {
  constexpr std::size_t kArpLen = 28;
  if (len < kEthHeader + kArpLen) return 0;
  std::uint8_t* a = f + kEthHeader;
  if (load16(a) != 1 || load16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4 ||
      load16(a + 6) != 1 || std::memcmp(a + 24, opt.ip.data(), 4) != 0) {
    return 0;
  }
  store16(a + 6, 2);                      // op: reply
  std::memcpy(a + 18, a + 8, 10);         // target := sender (MAC + IP)
  std::memcpy(a + 8, opt.mac.data(), 6);  // sender := us
  std::memcpy(a + 14, opt.ip.data(), 4);
  std::memcpy(f, a + 18, 6);  // Ethernet: to the asker, from us
  std::memcpy(f + 6, opt.mac.data(), 6);
  return len;
}

// ICMP echo request to us → echo reply in place (RFC 792). Returns the length to send, or 0.
std::size_t answer_echo(std::uint8_t* f, std::size_t len, const Options& opt) {
  if (len < kEthHeader + 20) return 0;
  std::uint8_t* ip = f + kEthHeader;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  const std::size_t total = load16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || kEthHeader + total > len) return 0;
  if ((load16(ip + 6) & 0x3fff) != 0) return 0;  // MF or an offset: a fragment
  if (ip[9] != 1 || std::memcmp(ip + 16, opt.ip.data(), 4) != 0) return 0;
  std::uint8_t* icmp = ip + ihl;
  if (icmp[0] != 8 || icmp[1] != 0) return 0;

  std::array<std::uint8_t, 4> src;
  std::memcpy(src.data(), ip + 12, 4);  // swapping src and dst keeps the IP checksum
  std::memcpy(ip + 12, ip + 16, 4);
  std::memcpy(ip + 16, src.data(), 4);
  icmp[0] = 0;  // type 8 → 0: patch the checksum (RFC 1624)
  store16(icmp + 2, checksum_update(load16(icmp + 2), 0x0800, 0x0000));
  std::memcpy(f, f + 6, 6);
  std::memcpy(f + 6, opt.mac.data(), 6);
  return kEthHeader + total;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const int fd = open_tap(opt.tap);
  std::printf("ready tap-echo on %s\n", opt.tap.c_str());
  std::fflush(stdout);

  alignas(8) static std::uint8_t frame[65536 + kEthHeader];
  for (;;) {
    const ssize_t n = read(fd, frame, sizeof frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("tap-echo: read");
      return 1;
    }
    const auto len = static_cast<std::size_t>(n);
    if (len < kEthHeader) continue;
    std::size_t reply = 0;
    switch (load16(frame + 12)) {
      case kEtherTypeArp:
        reply = answer_arp(frame, len, opt);
        break;
      case kEtherTypeIpv4:
        reply = answer_echo(frame, len, opt);
        break;
      default:
        break;
    }
    if (reply != 0 && write(fd, frame, reply) < 0 && errno != EINTR) {
      std::perror("tap-echo: write");
      return 1;
    }
  }
}
