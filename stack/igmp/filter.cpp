// Source-filter algebra: the RFC 3376 §3.2 merge and the §5.1 state-change source lists.
#include "stack/igmp/filter.hpp"

#include <algorithm>
#include <iterator>

namespace tapir::igmp {

SourceSet set_union(const SourceSet& a, const SourceSet& b) {
  SourceSet out = a;
  out.insert(b.begin(), b.end());
  return out;
}

SourceSet set_intersection(const SourceSet& a, const SourceSet& b) {
  SourceSet out;
  std::ranges::set_intersection(a, b, std::inserter(out, out.end()));
  return out;
}

SourceSet set_difference(const SourceSet& a, const SourceSet& b) {
  SourceSet out;
  std::ranges::set_difference(a, b, std::inserter(out, out.end()));
  return out;
}

bool lets_through(const Filter& f, Ipv4Address source) {
  const bool listed = f.sources.contains(source);
  return f.mode == FilterMode::include ? listed : !listed;
}

void Merger::add(const Filter& socket_filter) {
  if (socket_filter.mode == FilterMode::include) {
    included_.insert(socket_filter.sources.begin(), socket_filter.sources.end());
    return;
  }
  excluded_ =
      any_exclude_ ? set_intersection(excluded_, socket_filter.sources) : socket_filter.sources;
  any_exclude_ = true;
}

Filter Merger::result() const {
  if (any_exclude_) return Filter{FilterMode::exclude, set_difference(excluded_, included_)};
  return Filter{FilterMode::include, included_};
}

SourceSet changed_sources(const Filter& before, const Filter& after) {
  return set_union(set_difference(before.sources, after.sources),
                   set_difference(after.sources, before.sources));
}

std::pair<SourceSet, SourceSet> allow_block(const Filter& current, const SourceSet& pending) {
  SourceSet listed = set_intersection(pending, current.sources);
  SourceSet unlisted = set_difference(pending, current.sources);
  if (current.mode == FilterMode::include) return {std::move(listed), std::move(unlisted)};
  return {std::move(unlisted), std::move(listed)};
}

}  // namespace tapir::igmp
