// IGMPv1/v2 host (RFC 2236 §6, RFC 1112 App. I) and the RFC 3376 §7 compatibility modes.
#include "stack/igmp/group_table.hpp"
#include "stack/igmp/igmp.hpp"
#include "stack/igmp/message.hpp"

namespace tapir::igmp {
namespace {

// RFC 2236 §8.10: Unsolicited Report Interval of a v1/v2 host.
constexpr Duration v2_unsolicited_report_interval = 10s;
// RFC 2236 §8.11 (Version 1 Router Present Timeout, 400 s) used for both older versions, as
// Linux does when the querier's QRV/QQI are unknown; RFC 3376 §8.12's formula would give
// 2 x 125 s + 10 s = 260 s with default values.
constexpr Duration older_querier_present_timeout = 400s;

}  // namespace

// RFC 3376 §7.2.1: hearing an older query starts (or restarts) that version's Older Version
// Querier Present timer; the Host Compatibility Mode is the oldest version still present.
void Layer::older_querier_heard(NetifId netif, int querier_version) {
  Interface& itf = interface(netif);
  TimerId& timer = querier_version == 1 ? itf.v1_querier_timer : itf.v2_querier_timer;
  timer = context_.timers().reschedule(
      timer, context_.now() + older_querier_present_timeout,
      [this, netif, querier_version](Instant) {
        Interface& i = interface(netif);
        (querier_version == 1 ? i.v1_querier_timer : i.v2_querier_timer) = 0;
        compat_mode_changed(netif);
      });
  compat_mode_changed(netif);
}

void Layer::compat_mode_changed(NetifId netif) {
  Interface& itf = interface(netif);
  const TimerQueue& timers = context_.timers();
  const int old_version = version(netif);
  const int old_mode = itf.mode;
  itf.mode = timers.pending(itf.v1_querier_timer)   ? 1
             : timers.pending(itf.v2_querier_timer) ? 2
                                                    : 3;
  if (itf.mode < old_mode) context_.stats().igmpOlderQuerierSwitches++;
  if (version(netif) == old_version) return;  // also: force_version pins the version
  context_.trace(tapir::Layer::igmp, [&] {
    return netifs_.at(netif).name + " now IGMPv" + std::to_string(version(netif));
  });
  // RFC 3376 §7.2.1: on a change of Host Compatibility Mode, pending responses and
  // retransmissions are cancelled (the RFC asks it when going older; tapir does it both ways
  // so no timer of one version's machine fires in another). Members become Idle, not having
  // reported (RFC 2236 §6).
  TimerQueue& queue = context_.timers();
  queue.cancel(itf.general_timer);
  itf.general_timer = 0;
  std::vector<Key> idle;
  for (auto& [key, g] : groups_) {
    if (key.netif != netif || g->permanent) continue;
    queue.cancel(g->change_timer);
    queue.cancel(g->query_timer);
    queue.cancel(g->v2_timer);
    g->change_timer = g->query_timer = g->v2_timer = 0;
    g->mode_retransmits = 0;
    g->source_retransmits.clear();
    g->query_sources.clear();
    g->unsolicited_left = 0;
    g->last_reporter = false;
    g->v2_state = is_member(g->state) ? V2State::idle_member : V2State::non_member;
    idle.push_back(key);
  }
  for (Key key : idle) erase_if_idle(key);
}

// RFC 3376 §7.3.2: a v1/v2 host can only say "member" or "not"; source lists are not
// expressible, so only the membership edge matters.
void Layer::v2_membership_changed(Key key, Group& g, bool was_member) {
  const bool member = is_member(g.state);
  if (member == was_member) return;
  const int v = version(key.netif);
  TimerQueue& timers = context_.timers();
  if (member) {
    // RFC 2236 §6 Non-Member --join--> Delaying Member: send a report, set the flag, and
    // (§3) repeat it [Robustness Variable] - 1 times after random delays.
    send_v1v2(key.netif, v == 1 ? type::v1_membership_report : type::v2_membership_report,
              key.group, key.group);
    g.last_reporter = true;
    g.unsolicited_left = std::max(0, config_.robustness - 1);
    g.v2_state = V2State::idle_member;
    if (g.unsolicited_left > 0) {
      g.v2_state = V2State::delaying_member;
      g.v2_deadline = context_.now() + random_delay(v2_unsolicited_report_interval);
      g.v2_timer = timers.reschedule(g.v2_timer, g.v2_deadline,
                                     [this, key](Instant) { v2_timer_expired(key); });
    }
    return;
  }
  // RFC 2236 §6 Delaying/Idle --leave--> Non-Member: stop the timer, and send a Leave only if
  // the flag says we sent the last report (as Linux; §3 allows skipping it otherwise, since
  // another member is there). v1 has no Leave (RFC 1112).
  timers.cancel(g.v2_timer);
  g.v2_timer = 0;
  if (v == 2 && g.last_reporter) {
    send_v1v2(key.netif, type::v2_leave_group, key.group, all_routers);
  }
  g.v2_state = V2State::non_member;
  g.last_reporter = false;
  g.unsolicited_left = 0;
  erase_if_idle(key);
}

// RFC 2236 §3 / §6: a query (any version, answered the v1/v2 way in these modes) starts a
// random timer up to Max Resp Time for each group it is about.
void Layer::v2_query(NetifId netif, const Query& q) {
  if (!q.group.is_unspecified()) {
    Group* g = find(Key{netif, q.group});
    if (g == nullptr || g->permanent || !is_member(g->state)) {
      context_.stats().igmpInQueriesIgnored++;
      return;
    }
    v2_start_timer(Key{netif, q.group}, *g, q.max_resp_time);
    return;
  }
  for (auto& [key, g] : groups_) {
    if (key.netif == netif && !g->permanent && is_member(g->state)) {
      v2_start_timer(key, *g, q.max_resp_time);
    }
  }
}

// RFC 2236 §6: Idle --query--> Delaying (start timer); in Delaying, "reset timer if Max Resp
// Time is less than the remaining value" (§3).
void Layer::v2_start_timer(Key key, Group& g, Duration max) {
  const Instant now = context_.now();
  if (g.v2_state == V2State::delaying_member && context_.timers().pending(g.v2_timer) &&
      g.v2_deadline - now <= max) {
    return;
  }
  g.v2_state = V2State::delaying_member;
  g.v2_deadline = now + random_delay(max);
  g.v2_timer = context_.timers().reschedule(g.v2_timer, g.v2_deadline,
                                            [this, key](Instant) { v2_timer_expired(key); });
}

// RFC 2236 §6 Delaying --timer expired--> Idle: send a report, set the flag.
void Layer::v2_timer_expired(Key key) {
  Group* g = find(key);
  if (g == nullptr) return;
  g->v2_timer = 0;
  if (!is_member(g->state)) return;
  const int v = version(key.netif);
  send_v1v2(key.netif, v == 1 ? type::v1_membership_report : type::v2_membership_report, key.group,
            key.group);
  g->last_reporter = true;
  g->v2_state = V2State::idle_member;
  if (g->unsolicited_left > 0 && --g->unsolicited_left > 0) {
    g->v2_state = V2State::delaying_member;
    g->v2_deadline = context_.now() + random_delay(v2_unsolicited_report_interval);
    g->v2_timer =
        context_.timers().schedule(g->v2_deadline, [this, key](Instant) { v2_timer_expired(key); });
  }
}

// RFC 2236 §6 Delaying --report received--> Idle: stop the timer, clear the flag (another
// member spoke for the group). A v3 host does no suppression (RFC 3376 §5, §7.2.2 only in
// the older modes).
void Layer::v2_heard_report(NetifId netif, Ipv4Address group) {
  if (version(netif) == 3) return;
  Group* g = find(Key{netif, group});
  if (g == nullptr || g->v2_state != V2State::delaying_member) return;
  context_.timers().cancel(g->v2_timer);
  g->v2_timer = 0;
  g->last_reporter = false;
  g->unsolicited_left = 0;
  g->v2_state = V2State::idle_member;
  context_.stats().igmpReportsSuppressed++;
}

// RFC 2236 §3: reports go to the group itself, leaves to 224.0.0.2.
void Layer::send_v1v2(NetifId netif, std::uint8_t message_type, Ipv4Address group,
                      Ipv4Address dst) {
  (message_type == type::v2_leave_group ? context_.stats().igmpOutLeaves
                                        : context_.stats().igmpOutReports)++;
  transmit(netif, build_v1v2(message_type, group), dst);
}

}  // namespace tapir::igmp
