// tap-raw: the frame-rate limit of a plain Linux TAP fd at MTU 1500 — the ceiling for tapir's TCP.
//
// No tapir code at all: one TAP fd (IFF_TAP | IFF_NO_PI), one read() or write() per frame, the
// way a user-space stack moves frames. Two directions, each for --seconds (default 3):
//
//   tap-raw --tap NAME --write --dst-ip A --src-ip B [--port P] [--frame 1514] [--seconds S]
//     Writes frames of --frame bytes (default 1514: 14 Ethernet + 20 IPv4 + 8 UDP + 1472 data)
//     as fast as it can. Each is a valid UDP/IPv4 datagram with a correct checksum, from B to A
//     (the Linux side's address on the TAP) at port P, where a kernel UDP socket (`--udp-sink`)
//     drains them. Why such frames, and not ones the kernel drops at once (a foreign MAC, a bad
//     checksum): a TCP segment that tapir writes is, for the kernel, a frame that goes all the
//     way up — Ethernet, IPv4, a full checksum over the payload (no offload on a TAP without a
//     virtio-net header), a socket lookup, a queue on a socket. A UDP datagram to a listening
//     socket takes that same path with the least extra work (no TCP state, no ACK to send), so
//     "frames/s the writer can push through" is the most a user-space stack writing one MSS
//     per write() can reach. Frames that were dropped early would measure only tun_get_user()
//     and overstate the limit. On a TAP the kernel's receive path runs in the writer's own
//     system call (softirq on the writer's CPU), so the figure also says what that costs.
//     It also reports how many of the datagrams reached the socket (/proc/net/snmp Udp
//     InDatagrams) and how many the socket's full buffer dropped (RcvbufErrors): the written
//     rate is what counts; a low delivered share only says the sink's CPU was the slower one.
//
//   tap-raw --tap NAME --read --from-kernel ADDR:PORT [--reader-cpu N] [--sender-cpu N]
//           [--window 900] [--size 1472] [--seconds S]
//     Reads whatever the kernel transmits on the TAP (one read() per frame, non-blocking, in a
//     busy loop that never sleeps) and counts frames and bytes, from the first frame on. A kernel
//     UDP socket in a second thread of this process (pinned to --sender-cpu; the reader to
//     --reader-cpu) sends 1472-byte datagrams to ADDR, a neighbour whose ARP entry is permanent and
//     points through the TAP, so every datagram becomes one 1514-byte frame on the TAP with no ARP
//     in between. The sender keeps at most --window datagrams unread (the TAP's queue holds 1000):
//     a sender that overruns the reader makes tun drop frames, and producer and consumer then fight
//     over the queue's cache lines, which slows the reader down to well below what it can do
//     when paced (a TCP sender is paced by its window too). This is the most frames/s a
//     user-space stack reading one frame per read() can receive. Without --from-kernel it
//     only counts what something else sends.
//
// Two kernel-socket helpers for those measurements (run them in the same namespace):
//
//   tap-raw --udp-sink --port P [--seconds S]           bind UDP port P, drain until S or SIGTERM
//   tap-raw --udp-blast ADDR:PORT [--size 1472] [--seconds S]   send datagrams flat out
//                                                       (unpaced: to see the overrun above)
//
// Output: "ready ..." once set up (the TAP is attached, the socket bound), then at the end
// "frames N", "bytes N", "seconds S", "frames/s X", "gbit/s Y" (frame bytes, Ethernet header
// included, no preamble/FCS), plus "delivered N" and "rcvbuf_errors N" for --write, "sent N"
// and "stalls N" (times the window held frames that tun dropped) for --read --from-kernel, and
// the CPU time each thread got ("writer_cpu_seconds", "reader_cpu_seconds",
// "sender_cpu_seconds", the kernel's work in the thread's system calls included: on a busy
// machine these are less than "seconds", and the rate is what that share of a CPU allows). A stack
// that writes TSO super-frames through IFF_VNET_HDR could exceed these figures; tapir writes
// one MTU-sized frame per write(), which is what this measures.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

enum class Mode { none, write, read, sink, blast };

struct Options {
  Mode mode = Mode::none;
  std::string tap;
  in_addr dst_ip{};
  in_addr src_ip{};
  bool have_dst = false;
  std::uint16_t port = 9000;
  std::size_t frame = 1514;
  std::size_t size = 1472;
  double seconds = 3.0;
  sockaddr_in blast_to{};
  bool have_blast = false;
  int reader_cpu = -1;
  int sender_cpu = -1;
  unsigned window = 900;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(
      stderr,
      "tap-raw: %s (usage: tap-raw --tap NAME --write --dst-ip A --src-ip B [--port P] "
      "[--frame N] [--seconds S] | --tap NAME --read [--from-kernel ADDR:PORT] [--reader-cpu N] "
      "[--sender-cpu N] [--window N] [--seconds S] | --udp-sink --port P "
      "[--seconds S] | --udp-blast ADDR:PORT [--size N] [--seconds S])\n",
      message.c_str());
  std::exit(2);
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "tap-raw: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

in_addr parse_ip(std::string_view text, const char* flag) {
  in_addr a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &a) != 1) {
    usage_error(std::string(flag) + " expects an IPv4 address");
  }
  return a;
}

unsigned long parse_number(std::string_view text, const char* flag, unsigned long max) {
  char* end = nullptr;
  const std::string s(text);
  errno = 0;
  const unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v == 0 || v > max) {
    usage_error(std::string(flag) + " expects a number from 1 to " + std::to_string(max));
  }
  return v;
}

int parse_cpu(std::string_view text, const char* flag) {
  if (text == "0") return 0;
  return static_cast<int>(parse_number(text, flag, CPU_SETSIZE - 1));
}

Options parse(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--write") {
      opt.mode = Mode::write;
      continue;
    }
    if (flag == "--read") {
      opt.mode = Mode::read;
      continue;
    }
    if (flag == "--udp-sink") {
      opt.mode = Mode::sink;
      continue;
    }
    if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--tap") {
      if (value.empty() || value.size() >= IFNAMSIZ) usage_error("--tap expects an interface name");
      opt.tap = value;
    } else if (flag == "--dst-ip") {
      opt.dst_ip = parse_ip(value, "--dst-ip");
      opt.have_dst = true;
    } else if (flag == "--src-ip") {
      opt.src_ip = parse_ip(value, "--src-ip");
    } else if (flag == "--port") {
      opt.port = static_cast<std::uint16_t>(parse_number(value, "--port", 65535));
    } else if (flag == "--frame") {
      opt.frame = parse_number(value, "--frame", 1514);
      if (opt.frame < 60) usage_error("--frame expects 60 to 1514");
    } else if (flag == "--size") {
      opt.size = parse_number(value, "--size", 65507);
    } else if (flag == "--seconds") {
      char* end = nullptr;
      const std::string s(value);
      opt.seconds = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || !(opt.seconds > 0) || opt.seconds > 3600) {
        usage_error("--seconds expects a positive number");
      }
    } else if (flag == "--reader-cpu") {
      opt.reader_cpu = parse_cpu(value, "--reader-cpu");
    } else if (flag == "--sender-cpu") {
      opt.sender_cpu = parse_cpu(value, "--sender-cpu");
    } else if (flag == "--window") {
      opt.window = static_cast<unsigned>(parse_number(value, "--window", 100000));
    } else if (flag == "--udp-blast" || flag == "--from-kernel") {
      if (flag == "--udp-blast") opt.mode = Mode::blast;
      opt.have_blast = true;
      const auto colon = value.rfind(':');
      if (colon == std::string_view::npos) usage_error("--udp-blast expects ADDR:PORT");
      opt.blast_to.sin_family = AF_INET;
      opt.blast_to.sin_addr = parse_ip(value.substr(0, colon), "--udp-blast");
      opt.blast_to.sin_port =
          htons(static_cast<std::uint16_t>(parse_number(value.substr(colon + 1), "port", 65535)));
    } else {
      usage_error("unknown flag " + std::string(flag));
    }
  }
  if (opt.mode == Mode::none) usage_error("one of --write, --read, --udp-sink, --udp-blast");
  if ((opt.mode == Mode::write || opt.mode == Mode::read) && opt.tap.empty()) {
    usage_error("--tap is required");
  }
  if (opt.mode == Mode::write && (!opt.have_dst || opt.src_ip.s_addr == 0)) {
    usage_error("--write needs --dst-ip and --src-ip");
  }
  return opt;
}

int open_tap(const std::string& name) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) fail("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");
  return fd;
}

// The MAC the kernel uses on the TAP (the destination of frames we write to it).
std::array<std::uint8_t, 6> kernel_mac(const std::string& name) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) fail("SIOCGIFHWADDR");
  close(s);
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  return mac;
}

void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

// One Ethernet + IPv4 + UDP frame of `len` bytes, checksums correct.
std::vector<std::uint8_t> build_frame(const Options& opt,
                                      const std::array<std::uint8_t, 6>& dst_mac) {
  std::vector<std::uint8_t> f(opt.frame, 0);
  std::memcpy(f.data(), dst_mac.data(), 6);
  const std::array<std::uint8_t, 6> src_mac{0x02, 0x00, 0x00, 0x00, 0xec, 0x02};
  std::memcpy(f.data() + 6, src_mac.data(), 6);
  store16(f.data() + 12, 0x0800);
  std::uint8_t* ip = f.data() + 14;
  const auto ip_len = static_cast<std::uint16_t>(opt.frame - 14);
  ip[0] = 0x45;
  store16(ip + 2, ip_len);
  store16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &opt.src_ip, 4);
  std::memcpy(ip + 16, &opt.dst_ip, 4);
  store16(ip + 10, fold(sum16(ip, 20)));
  std::uint8_t* udp = ip + 20;
  const auto udp_len = static_cast<std::uint16_t>(ip_len - 20);
  store16(udp, 40000);
  store16(udp + 2, opt.port);
  store16(udp + 4, udp_len);
  for (std::size_t i = 8; i < udp_len; ++i) udp[i] = static_cast<std::uint8_t>('a' + i % 26);
  std::uint32_t pseudo = sum16(ip + 12, 8) + 17 + udp_len;
  std::uint16_t c = fold(sum16(udp, udp_len, pseudo));
  store16(udp + 6, c == 0 ? 0xffff : c);
  return f;
}

// /proc/net/snmp "Udp:" counter by name (this namespace's), or 0.
unsigned long long udp_counter(const std::string& name) {
  std::ifstream in("/proc/net/snmp");
  std::string header, values, line;
  while (std::getline(in, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (header.empty()) {
      header = line;
    } else {
      values = line;
      break;
    }
  }
  std::istringstream h(header), v(values);
  std::string key, val;
  while (h >> key && v >> val) {
    if (key == name) return std::stoull(val);
  }
  return 0;
}

void print_rate(unsigned long long frames, unsigned long long bytes, double seconds) {
  std::printf("frames %llu\nbytes %llu\nseconds %.3f\nframes/s %.0f\ngbit/s %.3f\n", frames, bytes,
              seconds, seconds > 0 ? static_cast<double>(frames) / seconds : 0.0,
              seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e9 : 0.0);
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int run_write(const Options& opt) {
  const int fd = open_tap(opt.tap);
  const auto frame = build_frame(opt, kernel_mac(opt.tap));
  std::printf("ready tap-raw --write on %s\n", opt.tap.c_str());
  std::fflush(stdout);
  const unsigned long long in_before = udp_counter("InDatagrams");
  const unsigned long long drop_before = udp_counter("RcvbufErrors");
  unsigned long long frames = 0, failed = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  while (!g_stop) {
    const ssize_t n = write(fd, frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) {
      ++frames;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      fail("write");
    } else {
      ++failed;
    }
    if ((frames & 255) == 0 && (elapsed = since(t0)) >= opt.seconds) break;
  }
  elapsed = since(t0);
  const double writer_cpu = thread_cpu_seconds();
  usleep(200000);  // let the sink take what is queued before reading the counters
  print_rate(frames, frames * frame.size(), elapsed);
  std::printf("delivered %llu\nrcvbuf_errors %llu\n", udp_counter("InDatagrams") - in_before,
              udp_counter("RcvbufErrors") - drop_before);
  if (failed) std::printf("short_writes %llu\n", failed);
  std::printf("writer_cpu_seconds %.3f\n", writer_cpu);
  return 0;
}

void pin_this_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set); e != 0) {
    errno = e;
    fail("pthread_setaffinity_np");
  }
}

// The in-process kernel sender for --read --from-kernel: UDP datagrams through the TAP, at
// most `window` of them not yet read (so the TAP's queue never overflows: a sender that
// overruns the reader makes tun drop frames, and the producer and consumer then fight over
// the ring's cache lines, which slows the reader — a TCP peer is paced by its window too).
struct Sender {
  std::atomic<unsigned long long> read{0};  // frames of ours the reader has taken
  std::atomic<bool> stop{false};
  unsigned long long sent = 0;
  unsigned long long stalls = 0;  // times the window was found to hold frames tun dropped
  bool gso = false;               // the sender used UDP_SEGMENT
  double cpu_seconds = 0;         // CPU time the sender thread got
};

void run_sender(const Options& opt, Sender& sh) {
  pin_this_thread(opt.sender_cpu);
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  if (connect(s, reinterpret_cast<const sockaddr*>(&opt.blast_to), sizeof opt.blast_to) < 0) {
    fail("connect");
  }
  constexpr unsigned kBatch = 32;
  std::vector<std::uint8_t> payload(opt.size, 'x');
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  // UDP GSO (UDP_SEGMENT): the kernel's per-frame cost becomes what a TCP sender's is (it
  // segments a large buffer too), so the sender is not the bottleneck of this measurement.
  const int seg = static_cast<int>(opt.size);
  bool gso =
      kBatch * opt.size <= 65507 && setsockopt(s, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
  sh.gso = gso;
  std::vector<std::uint8_t> big(gso ? kBatch * opt.size : 0, 'x');
  // Frames tun dropped (its queue full: the reader was descheduled a long while) are not
  // in flight any more; the device's tx_dropped counter says how many.
  const std::string dropped_path = "/sys/class/net/" + opt.tap + "/statistics/tx_dropped";
  auto tx_dropped = [&dropped_path] {
    std::ifstream in(dropped_path);
    unsigned long long v = 0;
    in >> v;
    return v;
  };
  const unsigned long long dropped_before = tx_dropped();
  unsigned long long lost = 0;
  auto stalled_since = Clock::time_point{};
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const unsigned long long done = sh.read.load(std::memory_order_acquire) + lost;
    const unsigned long long inflight = sh.sent - std::min(done, sh.sent);
    if (inflight + kBatch > opt.window) {
      // Full window: wait for the reader; every 5 ms without progress, count tun's drops.
      if (stalled_since == Clock::time_point{}) stalled_since = Clock::now();
      if (Clock::now() - stalled_since > std::chrono::milliseconds(5)) {
        const unsigned long long now_lost = tx_dropped() - dropped_before;
        if (now_lost != lost) ++sh.stalls;
        lost = now_lost;
        stalled_since = {};
      }
      continue;
    }
    stalled_since = {};
    if (gso) {
      // One send of kBatch datagrams that the kernel cuts up (UDP GSO, in software on a TAP).
      const ssize_t n = send(s, big.data(), big.size(), 0);
      if (n > 0) {
        sh.sent += kBatch;
        continue;
      }
      if (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP) {
        gso = false;  // this kernel or device cannot: one datagram per message instead
        sh.gso = false;
        continue;
      }
      if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
        fail("send");
      }
      continue;
    }
    const int n = sendmmsg(s, msgs.data(), kBatch, 0);
    if (n > 0)
      sh.sent += static_cast<unsigned>(n);
    else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
      fail("sendmmsg");
    }
  }
  sh.cpu_seconds = thread_cpu_seconds();
  close(s);
}

int run_read(const Options& opt) {
  const int fd = open_tap(opt.tap);
  pin_this_thread(opt.reader_cpu);
  Sender sh;
  std::thread sender;
  if (opt.have_blast) {
    // Signals (SIGALRM, SIGTERM) go to this thread, which is the one that may be blocked.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    sender = std::thread(run_sender, std::cref(opt), std::ref(sh));
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  std::printf("ready tap-raw --read on %s\n", opt.tap.c_str());
  std::fflush(stdout);
  // Non-blocking reads in a busy loop: the reader never sleeps, so the figure is what reading
  // costs, not how soon the scheduler wakes a sleeper (on a busy machine that takes
  // milliseconds, and the sender's window then limits the rate, not the reads).
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl O_NONBLOCK");
  alignas(8) static std::uint8_t buf[65536];
  unsigned long long frames = 0, bytes = 0, ours = 0, idle = 0;
  Clock::time_point t0{};
  const auto give_up = Clock::now() + std::chrono::duration<double>(opt.seconds + 10);
  while (!g_stop) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail("read");
      // Nothing queued: check the clocks now and then (the first frame may never come).
      if ((++idle & 1023) == 0 && (frames ? since(t0) >= opt.seconds : Clock::now() > give_up)) {
        break;
      }
      continue;
    }
    if (frames == 0) t0 = Clock::now();  // from the first frame on
    ++frames;
    bytes += static_cast<unsigned long long>(n);
    if (static_cast<std::size_t>(n) == opt.size + 42 && ++ours % 16 == 0) {
      sh.read.store(ours, std::memory_order_release);
    }
    if ((frames & 255) == 0 && since(t0) >= opt.seconds) break;
  }
  const double elapsed = frames ? since(t0) : 0.0;
  const double reader_cpu = thread_cpu_seconds();
  sh.stop = true;
  if (sender.joinable()) sender.join();
  print_rate(frames, bytes, elapsed);
  if (opt.have_blast) {
    std::printf("sent %llu\nstalls %llu\nudp_gso %d\nsender_cpu_seconds %.3f\n", sh.sent, sh.stalls,
                sh.gso ? 1 : 0, sh.cpu_seconds);
  }
  // CPU time the reader got (a busy CPU shares it with others; frames / this = reads' cost).
  std::printf("reader_cpu_seconds %.3f\n", reader_cpu);
  return 0;
}

int run_sink(const Options& opt) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  const int rcvbuf = 8 << 20;  // root may exceed rmem_max; ignore a refusal
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(opt.port);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("bind");
  std::printf("ready tap-raw --udp-sink on port %u\n", opt.port);
  std::fflush(stdout);
  constexpr unsigned kBatch = 64;
  static std::array<std::array<std::uint8_t, 2048>, kBatch> bufs;
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {bufs[i].data(), bufs[i].size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long datagrams = 0, bytes = 0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(opt.seconds);
  while (!g_stop && Clock::now() < deadline) {
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int n = recvmmsg(s, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      fail("recvmmsg");
    }
    datagrams += static_cast<unsigned>(n);
    for (int i = 0; i < n; ++i) bytes += msgs[i].msg_len;
  }
  std::printf("datagrams %llu\nbytes %llu\n", datagrams, bytes);
  return 0;
}

int run_blast(const Options& opt) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  const int sndbuf = 4 << 20;
  if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) {
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  if (connect(s, reinterpret_cast<const sockaddr*>(&opt.blast_to), sizeof opt.blast_to) < 0) {
    fail("connect");
  }
  std::printf("ready tap-raw --udp-blast\n");
  std::fflush(stdout);
  constexpr unsigned kBatch = 32;
  std::vector<std::uint8_t> payload(opt.size, 'x');
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {payload.data(), payload.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0, refused = 0;
  const auto t0 = Clock::now();
  while (!g_stop && since(t0) < opt.seconds) {
    const int n = sendmmsg(s, msgs.data(), kBatch, 0);
    if (n > 0) {
      sent += static_cast<unsigned>(n);
    } else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED || errno == EINTR) {
      ++refused;
    } else {
      fail("sendmmsg");
    }
  }
  const double elapsed = since(t0);
  std::printf("datagrams %llu\nseconds %.3f\nsend_errors %llu\n", sent, elapsed, refused);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: a blocked read or poll returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGALRM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  switch (opt.mode) {
    case Mode::write:
      return run_write(opt);
    case Mode::read:
      return run_read(opt);
    case Mode::sink:
      return run_sink(opt);
    case Mode::blast:
      return run_blast(opt);
    case Mode::none:
      break;
  }
  return 2;
}
