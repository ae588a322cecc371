// IGMP host side: the host-group table (Xinu's hg* as a hash table) and message dispatch.
#include "stack/igmp/igmp.hpp"

#include <variant>

#include "stack/igmp/group_table.hpp"
#include "stack/igmp/message.hpp"

namespace tapir::igmp {

Layer::Layer(Context& context, Interfaces& netifs, ip::Layer& ip, Config config)
    : context_(context), netifs_(netifs), ip_(ip), config_(config) {}
Layer::~Layer() = default;

Layer::Group* Layer::find(Key key) {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : it->second.get();
}

const Layer::Group* Layer::find(Key key) const {
  auto it = groups_.find(key);
  return it == groups_.end() ? nullptr : it->second.get();
}

Layer::Interface& Layer::interface(NetifId id) {
  auto& slot = interfaces_[id];
  if (!slot) slot = std::make_unique<Interface>();
  return *slot;
}

Duration Layer::random_delay(Duration max) {
  if (max <= Duration::zero()) return Duration::zero();
  std::uniform_int_distribution<std::int64_t> pick(0, max.count());
  return Duration{pick(context_.random())};
}

void Layer::interface_up(Netif& netif) {
  interface(netif.id);
  const Key key{netif.id, all_systems};
  if (find(key) != nullptr) return;
  auto& g = groups_[key];
  g = std::make_unique<Group>();
  // RFC 1112 §4 / RFC 3376 §5: every interface is a member of 224.0.0.1 for as long as it is
  // up; the membership is never reported.
  g->permanent = true;
  g->state = Filter{FilterMode::exclude, {}};
  netif.join_mac(MacAddress::multicast_for(all_systems));
}

void Layer::set_socket_filter(NetifId netif, Ipv4Address group, int owner,
                              const std::optional<Filter>& filter) {
  if (!group.is_multicast() || !netifs_.contains(netif)) return;
  const Key key{netif, group};
  // RFC 3376 §3.1: INCLUDE {} is the same as not asking for the group at all.
  const bool leaving = !filter || (filter->mode == FilterMode::include && filter->sources.empty());
  Group* g = find(key);
  if (g == nullptr) {
    if (leaving) return;
    auto& slot = groups_[key];
    slot = std::make_unique<Group>();
    g = slot.get();
  }
  if (leaving) {
    g->sockets.erase(owner);
  } else {
    g->sockets[owner] = *filter;
  }
  recompute(key, *g);  // may erase the entry: `g` is not used after this
  erase_if_idle(key);
}

// RFC 3376 §3.2: the interface state follows from the socket states; every change of it is
// reported (§5.1), and the link-layer filter follows membership (RFC 1112 §6.4).
void Layer::recompute(Key key, Group& g) {
  const Filter before = g.state;
  const bool was_member = is_member(before);
  Merger merger;
  if (g.permanent) merger.add(Filter{FilterMode::exclude, {}});
  for (const auto& [owner, f] : g.sockets) merger.add(f);
  g.state = merger.result();
  const bool now_member = is_member(g.state);
  // 224.0.0.1 stays EXCLUDE {} whatever its sockets say, and is never reported.
  if (g.permanent || g.state == before) return;
  Netif& netif = netifs_.at(key.netif);
  if (!was_member && now_member) netif.join_mac(MacAddress::multicast_for(key.group));
  if (was_member && !now_member) netif.leave_mac(MacAddress::multicast_for(key.group));
  context_.trace(tapir::Layer::igmp, [&] {
    return netif.name + " " + key.group.to_string() + (now_member ? " state " : " left") +
           (now_member ? (g.state.mode == FilterMode::include ? "INCLUDE" : "EXCLUDE") : "");
  });
  if (version(key.netif) == 3) {
    v3_state_changed(key, g, before);
  } else {
    v2_membership_changed(key, g, was_member);
  }
}

void Layer::erase_if_idle(Key key) {
  Group* g = find(key);
  if (g == nullptr || g->permanent || !g->sockets.empty() || is_member(g->state) ||
      g->pending_change()) {
    return;
  }
  TimerQueue& timers = context_.timers();
  timers.cancel(g->change_timer);
  timers.cancel(g->query_timer);
  timers.cancel(g->v2_timer);
  groups_.erase(key);
}

bool Layer::accepts(NetifId netif, Ipv4Address group, Ipv4Address source) const {
  const Group* g = find(Key{netif, group});
  return g != nullptr && is_member(g->state) && lets_through(g->state, source);
}

bool Layer::joined(NetifId netif, Ipv4Address group) const {
  const Group* g = find(Key{netif, group});
  return g != nullptr && is_member(g->state);
}

std::optional<Filter> Layer::interface_filter(NetifId netif, Ipv4Address group) const {
  const Group* g = find(Key{netif, group});
  if (g == nullptr || !is_member(g->state)) return std::nullopt;
  return g->state;
}

int Layer::version(NetifId netif) const {
  if (config_.force_version >= 1 && config_.force_version <= 3) return config_.force_version;
  auto it = interfaces_.find(netif);
  return it == interfaces_.end() ? 3 : it->second->mode;
}

void Layer::transmit(NetifId netif, Packet&& message, Ipv4Address dst) {
  Stats& stats = context_.stats();
  ip::SendOptions options;
  options.ttl = 1;  // RFC 3376 §4 / RFC 2236 §2: link-local, TTL 1
  options.netif = netif;
  options.multicast_loop = false;  // our own report must not suppress our own timers
  options.router_alert = true;     // RFC 2113, RFC 2236 §2, RFC 3376 §4
  stats.igmpOutMsgs++;
  if (ip_.send(Ipv4Address::any(), dst, ip::protocol::igmp, std::move(message), options) !=
      ip::SendError::none) {
    stats.igmpOutErrors++;
  }
}

void Layer::input(const ip::Delivery& delivery, Packet& payload) {
  Stats& stats = context_.stats();
  stats.igmpInMsgs++;
  const NetifId netif = delivery.netif;
  Message message = parse(payload.bytes());
  if (auto* error = std::get_if<ParseError>(&message)) {
    stats.igmpInErrors++;
    if (*error == ParseError::bad_checksum) stats.igmpInCsumErrors++;
    context_.trace(tapir::Layer::igmp, [] { return std::string{"drop: malformed message"}; });
    return;
  }
  if (auto* query = std::get_if<Query>(&message)) {
    stats.igmpInQueries++;
    // RFC 3376 §4.1.3: a query's group is 0 (general) or a multicast address.
    if (!query->group.is_unspecified() && !query->group.is_multicast()) {
      stats.igmpInErrors++;
      return;
    }
    context_.trace(tapir::Layer::igmp, [&] {
      return "v" + std::to_string(query->version) + " query for " +
             (query->group.is_unspecified() ? std::string{"all groups"} : query->group.to_string());
    });
    if (query->version < 3) older_querier_heard(netif, query->version);
    if (version(netif) == 3) {
      v3_query(netif, *query);
    } else {
      v2_query(netif, *query);
    }
    return;
  }
  if (auto* heard = std::get_if<MembershipMessage>(&message)) {
    if (heard->type == type::v2_leave_group) {
      stats.igmpInLeaves++;
      return;
    }
    stats.igmpInReports++;
    v2_heard_report(netif, heard->group);
    return;
  }
  if (std::holds_alternative<V3Report>(message)) {
    stats.igmpInReports++;  // RFC 3376 §5: hosts do not suppress on v3 reports
    return;
  }
  stats.igmpInUnknownTypes++;  // RFC 3376 §4: unknown types are silently ignored
}

}  // namespace tapir::igmp
