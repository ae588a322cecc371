// The multicast socket options of ip(7): memberships, source filters (RFC 3678), TTL/IF/LOOP.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/socket/api.hpp"

namespace tapir::sock {

namespace {

Ipv4Address from_in_addr(in_addr a) {
  return Ipv4Address{ntohl(a.s_addr)};
}

// A membership request as Linux reads it: an ip_mreqn when optlen allows, else an ip_mreq
// (whose second field is the interface's address, and no index).
int read_mreqn(const void* value, socklen_t len, ip_mreqn& out) {
  if (!value || len < static_cast<socklen_t>(sizeof(ip_mreq))) return -EINVAL;
  out = ip_mreqn{};
  if (len >= static_cast<socklen_t>(sizeof(ip_mreqn))) {
    std::memcpy(&out, value, sizeof out);
  } else {
    ip_mreq mreq{};
    std::memcpy(&mreq, value, sizeof mreq);
    out.imr_multiaddr = mreq.imr_multiaddr;
    out.imr_address = mreq.imr_interface;
  }
  return 0;
}

// An int option, or a single byte when optlen is 1 to 3 (do_ip_setsockopt).
int read_small_int(const void* value, socklen_t len, int& out) {
  if (!value || len < 1) return -EINVAL;
  if (len >= static_cast<socklen_t>(sizeof(int))) {
    std::memcpy(&out, value, sizeof(int));
  } else {
    out = *static_cast<const std::uint8_t*>(value);
  }
  return 0;
}

}  // namespace

std::optional<NetifId> Api::group_netif(int ifindex, Ipv4Address local, Ipv4Address group) const {
  const std::size_t count = interfaces_.size();
  // tapir's interface index is the netif id + 1, so that 0 can mean "any" as in Linux.
  if (ifindex != 0) {
    if (ifindex < 0 || static_cast<std::size_t>(ifindex) > count) return std::nullopt;
    return static_cast<NetifId>(ifindex - 1);
  }
  if (!local.is_unspecified()) {
    for (std::size_t i = 0; i < count; ++i) {
      if (interfaces_.at(static_cast<NetifId>(i)).has_address(local))
        return static_cast<NetifId>(i);
    }
    return std::nullopt;
  }
  // Neither: the interface the route to the group uses, or (no 224/4 route, as the IP layer
  // sends multicast) the first one.
  if (auto route = ip_.routes().lookup(group)) return route->netif;
  if (count > 0) return NetifId{0};
  return std::nullopt;
}

void Api::publish(const InetSocket& s, NetifId netif, Ipv4Address group,
                  const std::optional<igmp::Filter>& filter) {
  igmp_.set_socket_filter(netif, group, s.fd, filter);
}

int Api::join_group(InetSocket& s, Ipv4Address group, int ifindex, Ipv4Address local) {
  // ip_mc_join_group's checks, in its order.
  if (!group.is_multicast()) return -EINVAL;
  const auto netif = group_netif(ifindex, local, group);
  if (!netif) return -ENODEV;
  if (s.membership(*netif, group)) return -EADDRINUSE;
  if (s.memberships.size() >= max_memberships) return -ENOBUFS;
  s.memberships.push_back(Membership{*netif, group, igmp::Filter{}});
  publish(s, *netif, group, igmp::Filter{});
  return 0;
}

int Api::leave_group(InetSocket& s, Ipv4Address group, int ifindex, Ipv4Address local) {
  // As ip_mc_leave_group: with neither an index nor an address, the group's first
  // membership goes, whatever its interface; a request naming nothing that exists is ENODEV.
  const auto netif = group_netif(ifindex, local, group);
  if (ifindex == 0 && local.is_unspecified() && !netif) return -ENODEV;
  auto it = std::find_if(s.memberships.begin(), s.memberships.end(), [&](const Membership& m) {
    if (m.group != group) return false;
    if (ifindex != 0 || !local.is_unspecified()) return netif && m.netif == *netif;
    return true;
  });
  if (it == s.memberships.end()) return -EADDRNOTAVAIL;
  const Membership gone = *it;
  s.memberships.erase(it);
  publish(s, gone.netif, gone.group, std::nullopt);
  return 0;
}

// IP_ADD/DROP_SOURCE_MEMBERSHIP (INCLUDE mode) and IP_BLOCK/UNBLOCK_SOURCE (EXCLUDE mode),
// as Linux's ip_mc_source: a socket's filter for a group has one mode; the mode may change
// only while its source list is empty.
int Api::change_source(InetSocket& s, int name, Ipv4Address group, Ipv4Address local,
                       Ipv4Address source) {
  const bool include = name == IP_ADD_SOURCE_MEMBERSHIP || name == IP_DROP_SOURCE_MEMBERSHIP;
  const bool add = name == IP_ADD_SOURCE_MEMBERSHIP || name == IP_BLOCK_SOURCE;
  const igmp::FilterMode mode = include ? igmp::FilterMode::include : igmp::FilterMode::exclude;
  if (!group.is_multicast()) return -EINVAL;
  const auto netif = group_netif(0, local, group);
  if (!netif) return -ENODEV;

  Membership* m = s.membership(*netif, group);
  if (name == IP_ADD_SOURCE_MEMBERSHIP && !m) {
    // A source-specific join starts as INCLUDE {} (ip_mc_join_group_ssm).
    if (s.memberships.size() >= max_memberships) return -ENOBUFS;
    s.memberships.push_back(Membership{*netif, group, igmp::Filter{igmp::FilterMode::include, {}}});
    m = &s.memberships.back();
  }
  if (!m) return -EINVAL;  // blocking or unblocking needs a prior join

  igmp::Filter& filter = m->filter;
  if (filter.mode != mode) {
    if (!filter.sources.empty()) return -EINVAL;
    if (!add) return -EADDRNOTAVAIL;  // nothing listed in that mode to remove
    filter.mode = mode;
  }
  if (add) {
    if (filter.sources.size() >= max_sources) return -ENOBUFS;
    if (!filter.sources.insert(source).second) return -EADDRNOTAVAIL;  // already listed
  } else {
    if (filter.sources.erase(source) == 0) return -EADDRNOTAVAIL;
    // INCLUDE {} receives nothing: dropping the last source leaves the group.
    if (filter.mode == igmp::FilterMode::include && filter.sources.empty()) {
      const NetifId id = m->netif;
      std::erase_if(s.memberships, [&](const Membership& x) { return &x == m; });
      publish(s, id, group, std::nullopt);
      return 0;
    }
  }
  publish(s, m->netif, group, filter);
  return 0;
}

int Api::set_multicast_interface(InetSocket& s, const void* value, socklen_t len) {
  // As Linux: an in_addr, an ip_mreq (its interface field) or an ip_mreqn.
  if (!value || len < static_cast<socklen_t>(sizeof(in_addr))) return -EINVAL;
  ip_mreqn req{};
  if (len >= static_cast<socklen_t>(sizeof(ip_mreq))) {
    if (int err = read_mreqn(value, len, req); err != 0) return err;
  } else {
    std::memcpy(&req.imr_address, value, sizeof(in_addr));
  }
  const Ipv4Address local = from_in_addr(req.imr_address);
  if (req.imr_ifindex == 0 && local.is_unspecified()) {
    s.multicast_netif.reset();
    s.multicast_addr = Ipv4Address::any();
    return 0;
  }
  // Unlike a join, an unknown interface here is EADDRNOTAVAIL, as Linux.
  const auto netif = group_netif(req.imr_ifindex, local, Ipv4Address::any());
  if (!netif) return -EADDRNOTAVAIL;
  s.multicast_netif = netif;
  s.multicast_addr = local;
  return 0;
}

int Api::set_multicast_option(InetSocket& s, int name, const void* value, socklen_t len) {
  switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP: {
      ip_mreqn req{};
      if (int err = read_mreqn(value, len, req); err != 0) return err;
      const Ipv4Address group = from_in_addr(req.imr_multiaddr);
      const Ipv4Address local = from_in_addr(req.imr_address);
      return name == IP_ADD_MEMBERSHIP ? join_group(s, group, req.imr_ifindex, local)
                                       : leave_group(s, group, req.imr_ifindex, local);
    }
    case IP_ADD_SOURCE_MEMBERSHIP:
    case IP_DROP_SOURCE_MEMBERSHIP:
    case IP_BLOCK_SOURCE:
    case IP_UNBLOCK_SOURCE: {
      // Linux wants exactly an ip_mreq_source here.
      if (!value || len != static_cast<socklen_t>(sizeof(ip_mreq_source))) return -EINVAL;
      ip_mreq_source req{};
      std::memcpy(&req, value, sizeof req);
      return change_source(s, name, from_in_addr(req.imr_multiaddr),
                           from_in_addr(req.imr_interface), from_in_addr(req.imr_sourceaddr));
    }
    case IP_MULTICAST_IF:
      return set_multicast_interface(s, value, len);
    case IP_MULTICAST_TTL: {
      int v = 0;
      if (int err = read_small_int(value, len, v); err != 0) return err;
      if (v == -1) v = 1;  // ip(7): -1 means the default
      if (v < 0 || v > 255) return -EINVAL;
      s.multicast_ttl = v;
      return 0;
    }
    case IP_MULTICAST_LOOP:
    case IP_MULTICAST_ALL: {
      int v = 0;
      if (int err = read_small_int(value, len, v); err != 0) return err;
      (name == IP_MULTICAST_LOOP ? s.multicast_loop : s.multicast_all) = v != 0;
      return 0;
    }
    default:
      return -ENOPROTOOPT;
  }
}

int Api::get_multicast_option(const InetSocket& s, int name, void* value, socklen_t* len) const {
  int v = 0;
  switch (name) {
    case IP_MULTICAST_IF: {
      // Linux returns the address IP_MULTICAST_IF was given (INADDR_ANY after an index).
      in_addr a{htonl(s.multicast_addr.value())};
      const auto n = std::min<socklen_t>(*len, sizeof a);
      std::memcpy(value, &a, n);
      *len = n;
      return 0;
    }
    case IP_MULTICAST_TTL:
      v = s.multicast_ttl;
      break;
    case IP_MULTICAST_LOOP:
      v = s.multicast_loop;
      break;
    case IP_MULTICAST_ALL:
      v = s.multicast_all;
      break;
    default:
      return -ENOPROTOOPT;
  }
  // As do_ip_getsockopt: a buffer shorter than an int gets one byte.
  if (*len < static_cast<socklen_t>(sizeof(int)) && *len > 0) {
    *static_cast<std::uint8_t*>(value) = static_cast<std::uint8_t>(v);
    *len = 1;
    return 0;
  }
  *len = std::min<socklen_t>(*len, sizeof v);
  std::memcpy(value, &v, *len);
  return 0;
}

void Api::leave_all_groups(InetSocket& s) {
  for (const Membership& m : s.memberships) publish(s, m.netif, m.group, std::nullopt);
  s.memberships.clear();
}

}  // namespace tapir::sock
