// The control protocol's commands: what tapirctl asks a running program (docs/TAPIRCTL.md).
// Each reads the stack under the Host lock (Host::with_stack) and prints columns as iproute2's
// `ip neigh`, `ip route`, `ip addr` and `ss -tuna` do.
#include "runtime/control/commands.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/host.hpp"
#include "stack/stack.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/state.hpp"

namespace tapir::runtime {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string error(const std::string& what) {
  return "error: " + what + "\n";
}

std::string seconds_text(Duration d) {
  std::ostringstream out;
  out << std::chrono::duration_cast<std::chrono::seconds>(d).count() << 's';
  return out.str();
}

std::string millis_text(Duration d) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(3);
  out << static_cast<double>(d.count()) / 1000.0;
  return out.str();
}

// Sorted lines, so that the output of a hash table reads the same run after run.
std::string sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// `ip neigh`: ADDRESS dev NAME lladdr MAC STATE, and what ARP holds for it.
std::string neigh(Stack& stack) {
  std::vector<std::tuple<std::uint32_t, NetifId, std::string>> rows;
  const Instant now = stack.now();
  stack.arp().for_each([&](NetifId netif, Ipv4Address ip, const arp::Entry& e) {
    std::ostringstream line;
    line << ip.to_string() << " dev " << stack.netif(netif).name;
    switch (e.state) {
      case arp::State::incomplete:
        line << " INCOMPLETE requests " << e.requests_sent;
        break;
      case arp::State::resolved:
        line << " lladdr " << e.mac.to_string() << " REACHABLE used "
             << seconds_text(now - e.last_used) << " ago";
        break;
      case arp::State::permanent:
        line << " lladdr " << e.mac.to_string() << " PERMANENT";
        break;
    }
    if (!e.pending.empty()) {
      line << " queued " << e.pending.size() << " (" << e.pending_bytes << " bytes)";
    }
    rows.emplace_back(ip.value(), netif, line.str());
  });
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& row : rows) out += std::get<2>(row) + "\n";
  return out;
}

// `ip route`: longest prefix first, as the table matches.
std::string route_show(Stack& stack) {
  std::string out;
  for (const ip::Route& r : stack.ip().routes().routes()) {
    out += r.destination.prefix_len == 0
               ? std::string("default")
               : Ipv4Cidr{r.destination.network(), r.destination.prefix_len}.to_string();
    if (r.gateway) out += " via " + r.gateway->to_string();
    out += " dev " + stack.netif(r.netif).name;
    if (!r.gateway) out += " scope link";
    if (r.metric != 0) out += " metric " + std::to_string(r.metric);
    out += "\n";
  }
  return out;
}

// route add PREFIX via GATEWAY | route del PREFIX ("default" for 0.0.0.0/0).
std::string route_change(Stack& stack, const std::vector<std::string>& words) {
  const std::string usage = "usage: route add PREFIX via GATEWAY | route del PREFIX";
  if (words.size() < 3) return error(usage);
  const std::optional<Ipv4Cidr> prefix =
      words[2] == "default" ? Ipv4Cidr{Ipv4Address::any(), 0} : Ipv4Cidr::parse(words[2]);
  if (!prefix) return error("route: expected a prefix like 10.1.0.0/16, got \"" + words[2] + "\"");
  if (words[1] == "del") {
    if (words.size() != 3) return error(usage);
    const Ipv4Cidr network{prefix->network(), prefix->prefix_len};
    if (!stack.ip().routes().remove(network)) {
      return error("route del: no route to " + network.to_string());
    }
    return "";
  }
  if (words.size() != 5 || words[3] != "via") return error(usage);
  const std::optional<Ipv4Address> gateway = Ipv4Address::parse(words[4]);
  if (!gateway) return error("route: expected a gateway address, got \"" + words[4] + "\"");
  // RFC 1122 §3.3.1.1: the gateway must be on a connected network.
  if (!stack.add_route(*prefix, *gateway)) {
    return error("route add: gateway " + gateway->to_string() + " is not on a connected network");
  }
  return "";
}

// `ip addr`: each interface, its MAC, MTU and address.
std::string addr(Stack& stack) {
  std::ostringstream out;
  for (std::size_t i = 0; i < stack.netif_count(); ++i) {
    const Netif& n = stack.netif(static_cast<NetifId>(i));
    out << i + 1 << ": " << n.name << ": mtu " << n.mtu << "\n";
    out << "    link/ether " << n.mac.to_string() << "\n";
    if (n.address) out << "    inet " << n.address->to_string() << "\n";
  }
  return out.str();
}

std::string endpoint_text(Ipv4Address a, std::uint16_t port) {
  return (a == Ipv4Address::any() ? std::string("*") : a.to_string()) + ":" +
         (port == 0 ? std::string("*") : std::to_string(port));
}

// `ss -tuna` with `-i`'s TCP details on the same line: every TCP connection and listener and
// every bound UDP endpoint.
std::string sockets(Stack& stack) {
  std::vector<std::string> lines;
  char row[256];
  stack.tcp().for_each_listener([&](const tcp::Listener& l) {
    std::snprintf(row, sizeof row, "tcp   %-12s %6zu %6d %-22s %-22s", "LISTEN",
                  l.accept_queue.size(), l.backlog, endpoint_text(l.local, l.port).c_str(), "*:*");
    lines.emplace_back(std::string(row) + " synq " + std::to_string(l.syn_queue.size()));
  });
  stack.tcp().for_each_connection([&](const tcp::Connection& c) {
    const tcp::FourTuple& t = c.tuple();
    const tcp::Sender& snd = c.sender();
    std::snprintf(row, sizeof row, "tcp   %-12s %6zu %6zu %-22s %-22s",
                  std::string(tcp::name(c.state())).c_str(), c.receiver().unread(), snd.buffered(),
                  endpoint_text(t.local, t.local_port).c_str(),
                  endpoint_text(t.remote, t.remote_port).c_str());
    std::ostringstream detail;
    detail << ' ' << c.congestion() << " cwnd "
           << snd.congestion().cwnd() / std::max<int>(snd.mss(), 1) << " ssthresh ";
    const std::uint32_t ssthresh = snd.congestion().ssthresh();
    if (ssthresh >= 0x7fffffffU) {
      detail << "inf";
    } else {
      detail << ssthresh / std::max<int>(snd.mss(), 1);
    }
    detail << " mss " << snd.mss();
    if (const auto srtt = c.rto().srtt()) {
      detail << " rtt " << millis_text(*srtt) << '/' << millis_text(c.rto().rttvar());
    }
    detail << " rto " << millis_text(c.rto().rto()) << " retrans " << c.counts().total_retrans;
    lines.push_back(row + detail.str());
  });
  stack.udp().for_each_endpoint([&](const udp::Endpoint& e) {
    std::snprintf(row, sizeof row, "udp   %-12s %6s %6s %-22s %-22s",
                  e.connected ? "ESTAB" : "UNCONN", "-", "-",
                  endpoint_text(e.local_addr, e.local_port).c_str(),
                  e.connected ? endpoint_text(e.peer_addr, e.peer_port).c_str() : "*:*");
    lines.emplace_back(row);
  });
  std::snprintf(row, sizeof row, "%-5s %-12s %6s %6s %-22s %-22s", "Netid", "State", "Recv-Q",
                "Send-Q", "Local Address:Port", "Peer Address:Port");
  return std::string(row) + "\n" + sorted(std::move(lines));
}

// trace LAYERS on|off: switches --trace layers at run time (lines go to stderr).
std::string trace(Host& host, const std::vector<std::string>& words) {
  if (words.size() != 3 || (words[2] != "on" && words[2] != "off")) {
    return error(
        "usage: trace LAYERS on|off (LAYERS: eth,arp,ip,icmp,igmp,udp,tcp,sock,tcp-cc or all)");
  }
  std::string bad;
  const std::optional<std::uint32_t> mask = Trace::parse_layers(words[1], &bad);
  if (!mask) return error("trace: unknown layer \"" + bad + "\"");
  const std::uint32_t now_on = host.with_stack([](Stack& s) { return s.trace().enabled(); });
  host.enable_trace(words[2] == "on" ? now_on | *mask : now_on & ~*mask);
  return "";
}

}  // namespace

std::string answer_control(Host& host, const std::string& request) {
  const std::vector<std::string> words = split_words(request);
  if (words.empty()) return error("empty request");
  const std::string& command = words[0];
  if (command == "ping") return "pong\n";
  if (command == "stats" && words.size() == 1) {
    std::ostringstream out;
    host.print_stats(out);
    return out.str();
  }
  if ((command == "neigh" || command == "addr" || command == "ss" || command == "sockets") &&
      words.size() == 1) {
    return host.with_stack([&](Stack& stack) {
      if (command == "neigh") return neigh(stack);
      if (command == "addr") return addr(stack);
      return sockets(stack);
    });
  }
  if (command == "route") {
    if (words.size() == 1 || (words.size() == 2 && words[1] == "show")) {
      return host.with_stack([](Stack& stack) { return route_show(stack); });
    }
    if (words[1] == "add" || words[1] == "del") {
      return host.with_stack([&](Stack& stack) { return route_change(stack, words); });
    }
  }
  if (command == "trace") return trace(host, words);
  return error("unknown command '" + request +
               "' (commands: stats, neigh, route, addr, ss, trace, ping)");
}

}  // namespace tapir::runtime
