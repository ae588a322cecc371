// The host-group table's entries: per (interface, group) socket filters, the merged interface
// state and the protocol's per-group and per-interface timers (internal to stack/igmp/).
#pragma once

#include <map>
#include <unordered_map>

#include "stack/igmp/filter.hpp"
#include "stack/igmp/igmp.hpp"

namespace tapir::igmp {

// RFC 2236 §6: the per-group states of a v1/v2 host.
enum class V2State : std::uint8_t { non_member, delaying_member, idle_member };

struct Layer::Group {
  std::unordered_map<int, Filter> sockets;  // owner id -> that socket's filter (RFC 3376 §3.1)
  Filter state{FilterMode::include, {}};    // the interface state (§3.2); INCLUDE {}: none
  bool permanent = false;                   // 224.0.0.1: joined at interface_up, never reported

  // IGMPv3 state-change retransmission (RFC 3376 §5.1): how many more reports carry a
  // filter-mode-change record, and per source how many more carry it in ALLOW/BLOCK.
  int mode_retransmits = 0;
  std::map<Ipv4Address, int> source_retransmits;
  TimerId change_timer = 0;

  // IGMPv3 pending response to a group(-and-source)-specific query (RFC 3376 §5.2).
  TimerId query_timer = 0;
  Instant query_deadline;
  SourceSet query_sources;  // empty: the group-specific case

  // IGMPv1/v2 (RFC 2236 §6).
  V2State v2_state = V2State::non_member;
  bool last_reporter = false;  // the "flag": we sent the last report, so we send the leave
  int unsolicited_left = 0;    // unsolicited report repeats still to send (RFC 2236 §3)
  TimerId v2_timer = 0;
  Instant v2_deadline;

  bool pending_change() const { return mode_retransmits > 0 || !source_retransmits.empty(); }
};

struct Layer::Interface {
  // RFC 3376 §5.2: one pending response to a General Query per interface.
  TimerId general_timer = 0;
  Instant general_deadline;
  // RFC 3376 §7.2.1: Older Version Querier Present timers.
  TimerId v1_querier_timer = 0;
  TimerId v2_querier_timer = 0;
  int mode = 3;  // Host Compatibility Mode
};

}  // namespace tapir::igmp
