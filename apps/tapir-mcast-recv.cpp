// tapir-mcast-recv: joins multicast groups (any-source or source-specific) and prints what comes.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tapir/app.hpp>
#include <tapir/host.hpp>
#include <tapir/socket.hpp>

namespace {

constexpr const char* kProgram = "tapir-mcast-recv";

struct Settings {
  std::vector<in_addr> groups;
  std::optional<std::uint16_t> port;
  std::vector<in_addr> sources;  // --source: INCLUDE these only (RFC 3678 source-specific)
  std::vector<in_addr> blocked;  // --block: EXCLUDE these
  std::optional<long> count;
};

bool report(int rc, const char* what, in_addr group) {
  if (rc == 0) return true;
  std::fprintf(stderr, "tapir-mcast-recv: %s %s: %s\n", what, tapir::address_text(group).c_str(),
               std::strerror(errno));
  return false;
}

// Joins each group on the interface the route to it uses: with --source, one source-specific
// join per source (INCLUDE mode); otherwise an any-source join, then --block per source
// (EXCLUDE mode).
bool join_groups(int fd, const Settings& settings) {
  for (const in_addr group : settings.groups) {
    if (!settings.sources.empty()) {
      for (const in_addr source : settings.sources) {
        ip_mreq_source req{};
        req.imr_multiaddr = group;
        req.imr_sourceaddr = source;
        if (!report(tapir::setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &req, sizeof req),
                    "IP_ADD_SOURCE_MEMBERSHIP", group)) {
          return false;
        }
      }
      continue;
    }
    ip_mreqn req{};
    req.imr_multiaddr = group;
    if (!report(tapir::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &req, sizeof req),
                "IP_ADD_MEMBERSHIP", group)) {
      return false;
    }
    for (const in_addr source : settings.blocked) {
      ip_mreq_source block{};
      block.imr_multiaddr = group;
      block.imr_sourceaddr = source;
      if (!report(tapir::setsockopt(fd, IPPROTO_IP, IP_BLOCK_SOURCE, &block, sizeof block),
                  "IP_BLOCK_SOURCE", group)) {
        return false;
      }
    }
  }
  return true;
}

// Binds the port on INADDR_ANY (so every joined group's datagrams come to this one socket),
// joins, announces itself, and prints one line per datagram with its destination group
// (IP_PKTINFO's ipi_addr).
int receive(int fd, const Settings& settings, const tapir::StopSignals& stop, tapir::Host& host) {
  const int on = 1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(*settings.port);
  if (tapir::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      tapir::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) < 0 ||
      tapir::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    std::fprintf(stderr, "tapir-mcast-recv: bind port %u: %s\n", *settings.port,
                 std::strerror(errno));
    return 1;
  }
  if (!join_groups(fd, settings)) return 1;
  tapir::print_ready_line(host);

  std::vector<std::uint8_t> buffer(65536);
  for (long received = 0; !settings.count || received < *settings.count; ++received) {
    sockaddr_in from{};
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(in_pktinfo))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = tapir::recvmsg(fd, &msg, 0);
    if (stop.stopped()) break;
    if (n < 0) {
      std::fprintf(stderr, "tapir-mcast-recv: recvmsg: %s\n", std::strerror(errno));
      return 1;
    }
    in_addr to{};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        to = info.ipi_addr;
      }
    }
    std::printf("from %s to %s %zd bytes: %s\n", tapir::address_text(from).c_str(),
                tapir::address_text(to).c_str(), n,
                tapir::printable(buffer.data(), static_cast<std::size_t>(n)).c_str());
    std::fflush(stdout);
  }
  return 0;
}

tapir::Options parse_command_line(int argc, char** argv, Settings& settings) {
  tapir::OptionParser parser(
      kProgram,
      "Joins multicast groups (IGMP) and prints each datagram that comes to PORT:\n"
      "  from 10.0.0.1:40000 to 239.1.2.3 5 bytes: hello");
  parser.add_option("--group", "GROUP", "join GROUP (repeatable)",
                    tapir::group_check([&](in_addr group) { settings.groups.push_back(group); }));
  parser.add_option("--port", "PORT", "the port to listen on",
                    tapir::port_check([&](std::uint16_t port) { settings.port = port; }));
  parser.add_option("--source", "ADDR", "receive only from ADDR (repeatable; source-specific)",
                    tapir::address_check("an IPv4 address like 10.0.0.1",
                                         [&](in_addr a) { settings.sources.push_back(a); }));
  parser.add_option("--block", "ADDR", "receive from anyone but ADDR (repeatable)",
                    tapir::address_check("an IPv4 address like 10.0.0.1",
                                         [&](in_addr a) { settings.blocked.push_back(a); }));
  parser.add_option("--count", "N", "stop after N datagrams (never)",
                    tapir::count_check([&](long n) { settings.count = n; }));
  return parser.parse_or_exit(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const tapir::Options options = parse_command_line(argc, argv, settings);
  if (settings.groups.empty() || !settings.port) {
    std::fprintf(stderr, "tapir-mcast-recv: expected --group GROUP and --port PORT (try --help)\n");
    return 2;
  }
  if (!settings.sources.empty() && !settings.blocked.empty()) {
    std::fprintf(stderr, "tapir-mcast-recv: --source and --block exclude each other\n");
    return 2;
  }

  const std::unique_ptr<tapir::Host> host = tapir::start_host(kProgram, options);
  if (!host) return 1;

  const int fd = tapir::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "tapir-mcast-recv: socket: %s\n", std::strerror(errno));
    return 1;
  }
  // Closing the socket at the end leaves its groups: IGMP tells the routers (a leave or a
  // state change).
  return tapir::run_until_stopped(
      kProgram, *host, options, fd,
      [&](const tapir::StopSignals& stop) { return receive(fd, settings, stop, *host); });
}
