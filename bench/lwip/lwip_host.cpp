// lwip-host: Debian's lwIP 2.1.3 (liblwip-dev) behind a TAP, with TCP echo/discard/chargen, for bench/tcp.sh.
//
//   lwip-host --tap NAME --ip ADDR/PREFIX [--gw ADDR] [--mac MAC] [--stats]
//
// It is the lwIP counterpart of tapird for the benchmarks: the same TAP, the same services
// (TCP echo on port 7, discard on 9, chargen on 19; ARP and ICMP echo are lwIP's own), the same
// "ready" line once the interface is up, exit 0 on SIGINT/SIGTERM and exit 2 with one line on a
// bad flag. It is written against lwIP's raw (callback) API and runs in one thread.
//
// How the packaged library shapes the configuration
// -------------------------------------------------
// liblwip.so is prebuilt, and its options are the ones in the lwipopts.h that liblwip-dev ships
// (/usr/include/lwip/lwipopts.h, the GNU Hurd's): the structures in lwIP's headers (tcp_pcb,
// pbuf, netif) change shape with those options, so this program must be compiled with exactly
// that file and cannot pick its own TCP_WND or TCP_SND_BUF. What the library was built with:
//   NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1   built for lwIP's threaded mode (tcpip_thread + mbox).
//        We do not start tcpip_thread: lwip_init() alone brings up the core, and the raw API,
//        the input path and sys_check_timeouts() are called from this one thread, as NO_SYS=1
//        programs do. The port's core-locking check only applies once a tcpip thread has been
//        marked (sys_mark_tcpip_thread), which never happens here, so nothing asserts.
//   MEM_LIBC_MALLOC 1, MEMP_MEM_MALLOC 1  every pbuf, segment and PCB is a malloc(): no
//        MEMP_NUM_TCP_PCB or PBUF_POOL_SIZE ceiling, so the connections/s test never runs out
//        of PCBs (a fixed pool would be the first thing to raise for that test).
//   TCP_MSS 1460, TCP_WND 0xFFFF, LWIP_WND_SCALE 1 with TCP_RCV_SCALE 1, TCP_SND_BUF = TCP_WND
//        a 64 KiB receive window (offered with window scale 1) and a 64 KiB send buffer per
//        connection, TCP_SND_QUEUELEN the default 4 * TCP_SND_BUF / TCP_MSS = 180 segments.
//        Over a TAP whose round trip is tens of microseconds, 64 KiB in flight allows several
//        Gbit/s, above what one CPU moving one frame per system call reaches, so the window is
//        not what limits the bulk figures.
//   LWIP_CHECKSUM_ON_COPY 1, LWIP_NETIF_TX_SINGLE_PBUF 1  tcp_write() copies the data into one
//        pbuf per segment and sums it while copying; every outgoing frame is one contiguous
//        buffer, written with one write().
//   TCP_LISTEN_BACKLOG 0 (default)       no accept-queue limit in the listeners.
//   LWIP_STATS 0                         no lwIP counters; --stats prints this program's own.
// Timers: lwIP's cyclic timers (TCP's 250 ms tcp_tmr with its delayed-ACK fast timer, ARP,
// reassembly, IGMP/MLD) run from sys_check_timeouts(), called on every pass of the loop; the
// loop sleeps in ppoll() no longer than sys_timeouts_sleeptime() says.
//
// The TAP netif is this file's own (the package's tapif is built for the threaded mode and
// reads one frame per wake-up on a thread of its own): each wake-up drains up to 64 frames,
// as tapir's TAP driver does, reading each straight into a pbuf that goes to ethernet_input();
// linkoutput writes each frame with one write(), as tapir does.
//
// Services (RFC 862, 863, 864), as tapird's TCP ones behave:
//   echo (7)     sends back everything until the client closes; Nagle off (a request/response
//                server answers at once; lwIP would otherwise hold a small echo until the
//                previous one is acknowledged). What does not fit the send buffer waits in a
//                per-connection queue and is acknowledged to lwIP (tcp_recved) only once it has
//                been written, so the peer's window bounds that queue.
//   discard (9)  reads and frees everything, reopening the window at once (tcp_recved).
//   chargen (19) keeps the send buffer full of the 72-column pattern from the accept (and
//                from every "sent" callback) until the client closes.
// Everything else (ARP replies, ICMP echo replies, RSTs for closed ports) is lwIP's default.

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern "C" {
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/etharp.h"
#include "netif/ethernet.h"
#if LWIP_IPV6
#include "lwip/ethip6.h"
#endif
}

namespace {

constexpr const char* program = "lwip-host";
// Frames per wake-up before the timers get a turn (tapir's Host uses the same budget).
constexpr int receive_budget = 64;
// MTU 1500 + Ethernet header + room for one VLAN tag: the largest frame a TAP at MTU 1500 gives.
constexpr u16_t mtu = 1500;
constexpr u16_t max_frame = mtu + 14 + 4;

struct Counters {
  unsigned long long rx_frames = 0, rx_dropped = 0, tx_frames = 0, tx_errors = 0;
  unsigned long long accepted[3] = {0, 0, 0};  // echo, discard, chargen
};
Counters counters;
int tap_fd = -1;
volatile std::sig_atomic_t stop_signal = 0;

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s (try --help)\n", program, message.c_str());
  std::exit(2);
}

[[noreturn]] void fatal(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program, message.c_str());
  std::exit(1);
}

// ---- The TAP netif ----------------------------------------------------------------------

// Attach to TAP `name` (created if missing, then brought up) as plain Ethernet frames
// (IFF_NO_PI), non-blocking.
int open_tap(const std::string& name) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fatal("/dev/net/tun: " + std::string(std::strerror(errno)));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fatal("--tap " + name + ": TUNSETIFF: " + std::strerror(errno));
  }
  // A TAP that the caller made is usually up already; one we just made is not.
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock >= 0) {
    ifreq up{};
    std::strncpy(up.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock, SIOCGIFFLAGS, &up) == 0 && !(up.ifr_flags & IFF_UP)) {
      up.ifr_flags = static_cast<short>(up.ifr_flags | IFF_UP);
      if (::ioctl(sock, SIOCSIFFLAGS, &up) < 0) {
        fatal("--tap " + name + ": cannot bring it up: " + std::strerror(errno));
      }
    }
    ::close(sock);
  }
  return fd;
}

// netif->linkoutput: one frame, one write(). With LWIP_NETIF_TX_SINGLE_PBUF the frame is a
// single pbuf; a chain (not expected) goes out with writev().
err_t tap_linkoutput(struct netif* /*netif*/, struct pbuf* p) {
  ssize_t n;
  if (p->next == nullptr) {
    do n = ::write(tap_fd, p->payload, p->len); while (n < 0 && errno == EINTR);
  } else {
    iovec iov[16];
    int count = 0;
    for (struct pbuf* q = p; q != nullptr && count < 16; q = q->next) {
      iov[count].iov_base = q->payload;
      iov[count].iov_len = q->len;
      ++count;
    }
    do n = ::writev(tap_fd, iov, count); while (n < 0 && errno == EINTR);
  }
  if (n < 0) {
    // Queue full or device down: the frame is lost, as on a wire; TCP retransmits.
    ++counters.tx_errors;
    return ERR_OK;
  }
  ++counters.tx_frames;
  return ERR_OK;
}

u8_t mac_address[6] = {0x02, 0x00, 0x00, 0x00, 0x1c, 0x02};

err_t tap_netif_init(struct netif* netif) {
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
#if LWIP_IPV6
  netif->output_ip6 = ethip6_output;
#endif
  netif->linkoutput = tap_linkoutput;
  netif->mtu = mtu;
  netif->hwaddr_len = 6;
  std::memcpy(netif->hwaddr, mac_address, 6);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

// Drain up to receive_budget frames: each is read straight into a pbuf (with MEM_LIBC_MALLOC a
// PBUF_RAM pbuf is one malloc, and pbuf_realloc's mem_trim is free) and handed to lwIP.
// Returns false when the TAP went away.
struct pbuf* spare = nullptr;
bool tap_receive(struct netif* netif) {
  for (int i = 0; i < receive_budget; ++i) {
    if (spare == nullptr) {
      spare = pbuf_alloc(PBUF_RAW, max_frame, PBUF_RAM);
      if (spare == nullptr) return true;  // out of memory: leave the frames queued in the TAP
    }
    const ssize_t n = ::read(tap_fd, spare->payload, max_frame);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      return errno != EBADFD;  // a deleted TAP leaves its file detached
    }
    if (n < 14) {
      ++counters.rx_dropped;
      continue;
    }
    struct pbuf* p = spare;
    spare = nullptr;
    pbuf_realloc(p, static_cast<u16_t>(n));
    ++counters.rx_frames;
    if (netif->input(p, netif) != ERR_OK) {
      ++counters.rx_dropped;
      pbuf_free(p);
    }
  }
  return true;
}

// ---- Services -----------------------------------------------------------------------------

// Close our side; if lwIP cannot (out of memory), abort. Returns what a callback must return.
err_t close_or_abort(struct tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_recv(pcb, nullptr);
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
  if (tcp_close(pcb) == ERR_OK) return ERR_OK;
  tcp_abort(pcb);
  return ERR_ABRT;
}

// echo (RFC 862)
struct Echo {
  std::vector<u8_t> queue;  // received, not yet written to lwIP (and not yet tcp_recved)
  std::size_t head = 0;
  bool peer_closed = false;
};

// Write as much of the queue as the send buffer takes; acknowledge that much to lwIP.
void echo_flush(struct tcp_pcb* pcb, Echo* e) {
  bool wrote = false;
  while (e->head < e->queue.size()) {
    const std::size_t room = tcp_sndbuf(pcb);
    const u16_t n = static_cast<u16_t>(std::min<std::size_t>({e->queue.size() - e->head, room, 0xffff}));
    if (n == 0 || tcp_write(pcb, e->queue.data() + e->head, n, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
    e->head += n;
    tcp_recved(pcb, n);
    wrote = true;
  }
  if (e->head == e->queue.size()) {
    e->queue.clear();
    e->head = 0;
  }
  if (wrote) tcp_output(pcb);
}

err_t echo_sent(void* arg, struct tcp_pcb* pcb, u16_t /*len*/) {
  auto* e = static_cast<Echo*>(arg);
  echo_flush(pcb, e);
  if (e->peer_closed && e->queue.empty()) {
    delete e;
    return close_or_abort(pcb);
  }
  return ERR_OK;
}

err_t echo_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
  auto* e = static_cast<Echo*>(arg);
  if (p == nullptr || err != ERR_OK) {
    if (p != nullptr) pbuf_free(p);
    e->peer_closed = true;
    if (e->queue.empty()) {
      delete e;
      return close_or_abort(pcb);
    }
    return ERR_OK;
  }
  if (e->queue.empty()) {
    // The usual case (a request smaller than the send buffer): straight from the pbufs.
    struct pbuf* q = p;
    for (; q != nullptr; q = q->next) {
      if (q->len > tcp_sndbuf(pcb) || tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
      tcp_recved(pcb, q->len);
    }
    for (; q != nullptr; q = q->next) {
      const auto* bytes = static_cast<const u8_t*>(q->payload);
      e->queue.insert(e->queue.end(), bytes, bytes + q->len);
    }
    tcp_output(pcb);
  } else {
    const std::size_t old = e->queue.size();
    e->queue.resize(old + p->tot_len);
    pbuf_copy_partial(p, e->queue.data() + old, p->tot_len, 0);
    echo_flush(pcb, e);
  }
  pbuf_free(p);
  return ERR_OK;
}

void echo_error(void* arg, err_t /*err*/) { delete static_cast<Echo*>(arg); }  // pcb already freed

err_t echo_accept(void* /*arg*/, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  ++counters.accepted[0];
  tcp_nagle_disable(pcb);
  tcp_arg(pcb, new Echo);
  tcp_recv(pcb, echo_recv);
  tcp_sent(pcb, echo_sent);
  tcp_err(pcb, echo_error);
  return ERR_OK;
}

// discard (RFC 863)
err_t discard_recv(void* /*arg*/, struct tcp_pcb* pcb, struct pbuf* p, err_t /*err*/) {
  if (p == nullptr) return close_or_abort(pcb);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

err_t discard_accept(void* /*arg*/, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  ++counters.accepted[1];
  tcp_recv(pcb, discard_recv);
  return ERR_OK;
}

// chargen (RFC 864): line i is the 72 printable characters starting at (i mod 95), CR LF.
constexpr std::size_t chargen_cycle = 95 * 74;
std::vector<u8_t> chargen_pattern;  // the cycle repeated so any offset has 64 KiB after it

void chargen_make_pattern() {
  std::vector<u8_t> cycle;
  for (std::size_t line = 0; line < 95; ++line) {
    for (std::size_t c = 0; c < 72; ++c) cycle.push_back(static_cast<u8_t>(' ' + (line + c) % 95));
    cycle.push_back('\r');
    cycle.push_back('\n');
  }
  while (chargen_pattern.size() < chargen_cycle + 0x10000) {
    chargen_pattern.insert(chargen_pattern.end(), cycle.begin(), cycle.end());
  }
}

struct Chargen {
  std::size_t offset = 0;  // position in the cycle of the next byte to send
};

void chargen_fill(struct tcp_pcb* pcb, Chargen* c) {
  bool wrote = false;
  for (;;) {
    const u16_t n = tcp_sndbuf(pcb);
    if (n == 0) break;
    if (tcp_write(pcb, chargen_pattern.data() + c->offset, n, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK) break;
    c->offset = (c->offset + n) % chargen_cycle;
    wrote = true;
  }
  if (wrote) tcp_output(pcb);
}

err_t chargen_sent(void* arg, struct tcp_pcb* pcb, u16_t /*len*/) {
  chargen_fill(pcb, static_cast<Chargen*>(arg));
  return ERR_OK;
}

err_t chargen_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t /*err*/) {
  if (p == nullptr) {
    delete static_cast<Chargen*>(arg);
    return close_or_abort(pcb);
  }
  tcp_recved(pcb, p->tot_len);  // what the client sends is ignored
  pbuf_free(p);
  return ERR_OK;
}

void chargen_error(void* arg, err_t /*err*/) { delete static_cast<Chargen*>(arg); }

err_t chargen_accept(void* /*arg*/, struct tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  ++counters.accepted[2];
  auto* c = new Chargen;
  tcp_arg(pcb, c);
  tcp_recv(pcb, chargen_recv);
  tcp_sent(pcb, chargen_sent);
  tcp_err(pcb, chargen_error);
  chargen_fill(pcb, c);
  return ERR_OK;
}

void listen_on(u16_t port, tcp_accept_fn accept) {
  struct tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) fatal("tcp_new: out of memory");
  if (tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK) fatal("tcp_bind port " + std::to_string(port) + " failed");
  struct tcp_pcb* listener = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
  if (listener == nullptr) fatal("tcp_listen port " + std::to_string(port) + " failed");
  tcp_accept(listener, accept);
}

// ---- Flags --------------------------------------------------------------------------------

bool parse_ip(const std::string& text, ip4_addr_t* out) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  ip4_addr_set_u32(out, a.s_addr);
  return true;
}

bool parse_mac(const std::string& text, u8_t out[6]) {
  unsigned v[6];
  char tail = 0;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) return false;
  if (v[0] & 1) return false;  // a multicast address cannot be an interface's
  for (int i = 0; i < 6; ++i) out[i] = static_cast<u8_t>(v[i]);
  return true;
}

void print_help() {
  std::printf(
      "usage: %s --tap NAME --ip ADDR/PREFIX [--gw ADDR] [--mac MAC] [--stats]\n"
      "  lwIP %s (Debian's liblwip) on TAP NAME: ARP, ping, TCP echo (7), discard (9),\n"
      "  chargen (19). Prints 'ready' once up; SIGINT/SIGTERM stop it (exit 0).\n"
      "  --stats  print frame and connection counts on exit\n",
      program, LWIP_VERSION_STRING);
}

void on_stop(int signal) { stop_signal = signal; }

}  // namespace

int main(int argc, char** argv) {
  std::string tap, ip_text, gw_text;
  bool stats = false;
  ip4_addr_t ip{}, mask{}, gw{};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&](const char* what) -> std::string {
      if (i + 1 >= argc) usage_error(flag + " expects " + what);
      return argv[++i];
    };
    if (flag == "--tap") {
      tap = value("a TAP device name");
      if (tap.empty() || tap.size() >= IFNAMSIZ) usage_error("--tap expects a name of 1 to 15 characters, got \"" + tap + "\"");
    } else if (flag == "--ip") {
      ip_text = value("ADDR/PREFIX");
      const auto slash = ip_text.find('/');
      char* end = nullptr;
      const long prefix = slash == std::string::npos ? -1 : std::strtol(ip_text.c_str() + slash + 1, &end, 10);
      if (slash == std::string::npos || slash + 1 == ip_text.size() || *end != '\0' || prefix < 1 || prefix > 32 ||
          !parse_ip(ip_text.substr(0, slash), &ip)) {
        usage_error("--ip expects ADDR/PREFIX like 10.0.0.2/24, got \"" + ip_text + "\"");
      }
      ip4_addr_set_u32(&mask, htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)));
    } else if (flag == "--gw") {
      gw_text = value("an IPv4 address");
      if (!parse_ip(gw_text, &gw)) usage_error("--gw expects an IPv4 address, got \"" + gw_text + "\"");
    } else if (flag == "--mac") {
      const std::string text = value("a MAC address");
      if (!parse_mac(text, mac_address)) usage_error("--mac expects a unicast MAC like 02:00:00:00:00:01, got \"" + text + "\"");
    } else if (flag == "--stats") {
      stats = true;
    } else if (flag == "-h" || flag == "--help") {
      print_help();
      return 0;
    } else {
      usage_error("unknown flag " + flag);
    }
  }
  if (tap.empty()) usage_error("--tap NAME is required");
  if (ip_text.empty()) usage_error("--ip ADDR/PREFIX is required");

  // SIGINT/SIGTERM are blocked except inside ppoll(), so a stop is seen between passes.
  sigset_t stop_set, wait_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_set, &wait_set);
  sigdelset(&wait_set, SIGINT);
  sigdelset(&wait_set, SIGTERM);
  struct sigaction action{};
  action.sa_handler = on_stop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Wake at a timer to the microsecond rather than up to 50 us late, as tapir's loop does.
  (void)::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  std::srand(static_cast<unsigned>(std::time(nullptr)) ^ static_cast<unsigned>(::getpid()));  // LWIP_RAND: ports

  tap_fd = open_tap(tap);
  lwip_init();
  chargen_make_pattern();

  static struct netif netif;
  if (netif_add(&netif, &ip, &mask, &gw, nullptr, tap_netif_init, ethernet_input) == nullptr) fatal("netif_add failed");
  netif_set_default(&netif);
  netif_set_up(&netif);  // and a gratuitous ARP, the link being up
  listen_on(7, echo_accept);
  listen_on(9, discard_accept);
  listen_on(19, chargen_accept);

  std::printf("ready %s lwIP %s on %s %s\n", program, LWIP_VERSION_STRING, tap.c_str(), ip_text.c_str());
  std::fflush(stdout);

  pollfd fd{tap_fd, POLLIN, 0};
  bool readable = true;  // drain whatever queued before the loop
  while (stop_signal == 0) {
    if (readable && !tap_receive(&netif)) fatal(tap + ": the device went away");
    sys_check_timeouts();
    const u32_t sleep_ms = sys_timeouts_sleeptime();
    timespec timeout{};
    timespec* wait = nullptr;
    if (sleep_ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
      timeout.tv_sec = static_cast<time_t>(sleep_ms / 1000);
      timeout.tv_nsec = static_cast<long>(sleep_ms % 1000) * 1000000L;
      wait = &timeout;
    }
    fd.revents = 0;
    const int ready = ::ppoll(&fd, 1, wait, &wait_set);
    if (ready < 0 && errno != EINTR) fatal(std::string("poll: ") + std::strerror(errno));
    if (fd.revents & POLLNVAL) fatal(tap + ": its descriptor was closed");
    readable = ready > 0 && fd.revents != 0;
  }
  if (stats) {
    std::printf("rxFrames %llu\nrxDropped %llu\ntxFrames %llu\ntxErrors %llu\n"
                "echoAccepted %llu\ndiscardAccepted %llu\nchargenAccepted %llu\n",
                counters.rx_frames, counters.rx_dropped, counters.tx_frames, counters.tx_errors,
                counters.accepted[0], counters.accepted[1], counters.accepted[2]);
  }
  std::fflush(stdout);
  ::close(tap_fd);
  return 0;
}
