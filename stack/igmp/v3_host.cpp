// IGMPv3 host (RFC 3376 §5): state-change reports with retransmission, and query responses.
#include <algorithm>

#include "stack/igmp/group_table.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/igmp/message.hpp"

namespace tapir::igmp {
namespace {

// IPv4 header (20) + Router Alert (4): what an IGMP message leaves of the MTU.
constexpr std::size_t ip_overhead = 24;

RecordType change_record(FilterMode mode) {
  return mode == FilterMode::include ? RecordType::change_to_include
                                     : RecordType::change_to_exclude;
}

RecordType current_record(FilterMode mode) {
  return mode == FilterMode::include ? RecordType::mode_is_include : RecordType::mode_is_exclude;
}

}  // namespace

// RFC 3376 §5.1: compare the states before and after; a filter-mode change is announced with
// TO_IN/TO_EX of the new state, a same-mode change with ALLOW/BLOCK of the sources that
// moved. Whatever is still pending from earlier changes is merged, and the merged report goes
// at once as the first of [Robustness Variable] transmissions.
void Layer::v3_state_changed(Key key, Group& g, const Filter& before) {
  TimerQueue& timers = context_.timers();
  if (!is_member(g.state)) {
    // Nothing left to answer queries about.
    timers.cancel(g.query_timer);
    g.query_timer = 0;
    g.query_sources.clear();
  }
  const int robustness = std::max(1, config_.robustness);
  if (before.mode != g.state.mode) {
    // A filter-mode-change record carries the whole new state, so source retransmissions
    // pending from before it are subsumed.
    g.mode_retransmits = robustness;
    g.source_retransmits.clear();
  } else {
    for (Ipv4Address s : changed_sources(before, g.state)) g.source_retransmits[s] = robustness;
  }
  timers.cancel(g.change_timer);
  g.change_timer = 0;
  v3_send_pending(key);
}

// One transmission of the pending State-Change Report. RFC 3376 §5.1: while filter-mode-
// change transmissions remain, the report carries only that record (source-list changes wait
// their turn); then ALLOW/BLOCK records for every source still owed a transmission.
void Layer::v3_send_pending(Key key) {
  Group* g = find(key);
  if (g == nullptr) return;
  g->change_timer = 0;
  std::vector<GroupRecord> records;
  if (g->mode_retransmits > 0) {
    records.push_back({change_record(g->state.mode), key.group, g->state.sources});
    --g->mode_retransmits;
  } else if (!g->source_retransmits.empty()) {
    SourceSet pending;
    for (auto it = g->source_retransmits.begin(); it != g->source_retransmits.end();) {
      pending.insert(it->first);
      it = --it->second <= 0 ? g->source_retransmits.erase(it) : std::next(it);
    }
    auto [allow, block] = allow_block(g->state, pending);
    if (!allow.empty()) records.push_back({RecordType::allow_new_sources, key.group, allow});
    if (!block.empty()) records.push_back({RecordType::block_old_sources, key.group, block});
  }
  if (!records.empty()) send_v3_records(key.netif, records);
  if (g->pending_change()) {
    // RFC 3376 §5.1 / §8.11: the next retransmission after a random delay in
    // [0, Unsolicited Report Interval].
    const Instant at = context_.now() + random_delay(config_.unsolicited_report_interval);
    g->change_timer =
        context_.timers().schedule(at, [this, key](Instant) { v3_send_pending(key); });
    return;
  }
  erase_if_idle(key);
}

// RFC 3376 §5.2: how a host schedules its response to a query.
void Layer::v3_query(NetifId netif, const Query& q) {
  TimerQueue& timers = context_.timers();
  Interface& itf = interface(netif);
  Instant at = context_.now() + random_delay(q.max_resp_time);
  // Rule 1: a pending General Query response that goes sooner covers this query too.
  if (timers.pending(itf.general_timer) && itf.general_deadline <= at) return;
  if (q.group.is_unspecified()) {
    // Rule 2: the interface timer answers a General Query; an earlier pending one is replaced.
    itf.general_deadline = at;
    itf.general_timer = timers.reschedule(itf.general_timer, at,
                                          [this, netif](Instant) { v3_general_response(netif); });
    return;
  }
  const Key key{netif, q.group};
  Group* g = find(key);
  if (g == nullptr || g->permanent || !is_member(g->state)) {
    context_.stats().igmpInQueriesIgnored++;
    return;
  }
  if (!timers.pending(g->query_timer)) {
    // Rule 3: a new per-group response, recording the queried sources.
    g->query_sources = SourceSet(q.sources.begin(), q.sources.end());
  } else {
    // Rule 4: merge with the pending one; a group-specific query on either side wins.
    if (q.sources.empty() || g->query_sources.empty()) {
      g->query_sources.clear();
    } else {
      g->query_sources.insert(q.sources.begin(), q.sources.end());
    }
    at = std::min(at, g->query_deadline);
  }
  g->query_deadline = at;
  g->query_timer =
      timers.reschedule(g->query_timer, at, [this, key](Instant) { v3_group_response(key); });
}

// RFC 3376 §5.2: the General Query response lists the current state of every group joined
// on the interface (224.0.0.1 excepted, §5).
void Layer::v3_general_response(NetifId netif) {
  interface(netif).general_timer = 0;
  std::vector<GroupRecord> records;
  for (const auto& [key, g] : groups_) {
    if (key.netif != netif || g->permanent || !is_member(g->state)) continue;
    records.push_back({current_record(g->state.mode), key.group, g->state.sources});
  }
  std::ranges::sort(records, {}, [](const GroupRecord& r) { return r.group; });
  if (!records.empty()) send_v3_records(netif, records);
}

// RFC 3376 §5.2: a group-specific query is answered with the group's current state; a
// group-and-source-specific one with IS_IN of the asked sources the host wants: in INCLUDE
// mode those it includes (A*B), in EXCLUDE mode those it does not exclude (B-A). Nothing is
// sent when that list is empty.
void Layer::v3_group_response(Key key) {
  Group* g = find(key);
  if (g == nullptr) return;
  g->query_timer = 0;
  const SourceSet asked = std::move(g->query_sources);
  g->query_sources.clear();
  if (!is_member(g->state)) return;
  GroupRecord record{current_record(g->state.mode), key.group, g->state.sources};
  if (!asked.empty()) {
    record.type = RecordType::mode_is_include;
    record.sources = g->state.mode == FilterMode::include
                         ? set_intersection(g->state.sources, asked)
                         : set_difference(asked, g->state.sources);
    if (record.sources.empty()) return;
  }
  send_v3_records(key.netif, {record});
}

// RFC 3376 §4.2.14: v3 reports go to 224.0.0.22, split to fit the interface MTU (§4.2.16).
void Layer::send_v3_records(NetifId netif, const std::vector<GroupRecord>& records) {
  const std::size_t mtu = netifs_.at(netif).mtu;
  for (Packet& report : build_v3_reports(records, std::max<std::size_t>(mtu, 576) - ip_overhead)) {
    context_.stats().igmpOutReports++;
    transmit(netif, std::move(report), all_v3_routers);
  }
}

}  // namespace tapir::igmp
