// Source-filter algebra: merging socket filters (RFC 3376 §3.2) and state-change records (§5.1).
#pragma once

#include <set>
#include <utility>

#include "stack/core/address.hpp"
#include "stack/igmp/igmp.hpp"

namespace tapir::igmp {

using SourceSet = std::set<Ipv4Address>;

SourceSet set_union(const SourceSet& a, const SourceSet& b);
SourceSet set_intersection(const SourceSet& a, const SourceSet& b);
SourceSet set_difference(const SourceSet& a, const SourceSet& b);

// RFC 3376 §3.1: INCLUDE {} is "no reception"; anything else is a membership.
inline bool is_member(const Filter& f) {
  return f.mode == FilterMode::exclude || !f.sources.empty();
}

// Does the filter let a datagram from `source` through (RFC 3376 §3.2)?
bool lets_through(const Filter& f, Ipv4Address source);

// Accumulates socket filters into the interface state (RFC 3376 §3.2): EXCLUDE if any socket
// is EXCLUDE, with the intersection of the EXCLUDE lists minus the union of the INCLUDE
// lists; otherwise INCLUDE with the union of the INCLUDE lists.
class Merger {
 public:
  void add(const Filter& socket_filter);
  Filter result() const;

 private:
  bool any_exclude_ = false;
  SourceSet excluded_;  // intersection of the EXCLUDE lists so far
  SourceSet included_;  // union of the INCLUDE lists
};

// RFC 3376 §5.1: the sources a same-mode change names (ALLOW and BLOCK together):
// INCLUDE(A)->INCLUDE(B) gives ALLOW(B-A) + BLOCK(A-B), EXCLUDE(A)->EXCLUDE(B) gives
// ALLOW(A-B) + BLOCK(B-A); either way the symmetric difference of A and B.
SourceSet changed_sources(const Filter& before, const Filter& after);

// Splits sources awaiting (re)transmission into the ALLOW and BLOCK lists they belong to
// under the *current* state, so successive changes merge (RFC 3376 §5.1, merging rules):
// in INCLUDE a pending source now included is ALLOW, otherwise BLOCK; in EXCLUDE a pending
// source now excluded is BLOCK, otherwise ALLOW.
std::pair<SourceSet, SourceSet> allow_block(const Filter& current, const SourceSet& pending);

}  // namespace tapir::igmp
