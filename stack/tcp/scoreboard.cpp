// Scoreboard: outstanding segments, SACK and cumulative acknowledgement, RACK's loss marking.
#include "stack/tcp/scoreboard.hpp"

#include <algorithm>

namespace tapir::tcp {

namespace {

// What a segment adds to pipe (RFC 6675 §3 SetPipe): its bytes unless SACKed or lost, and its
// bytes again once retransmitted after being deemed lost.
std::uint32_t in_pipe(const SentSegment& s) {
  if (s.sacked) return 0;
  return (s.lost ? 0 : s.length()) + (s.retransmitted ? s.length() : 0);
}

// RFC 8985 §6.2's RACK_sent_after: was (t1, seq1) sent after (t2, seq2)?
bool sent_after(Instant t1, SeqNum seq1, Instant t2, SeqNum seq2) {
  return t1 > t2 || (t1 == t2 && seq1 > seq2);
}

}  // namespace

void Scoreboard::sent(SeqNum start, SeqNum end, bool fin, Instant now) {
  SentSegment s;
  s.start = start;
  s.end = end;
  s.fin = fin;
  s.sent_at = now;
  pipe_ += in_pipe(s);
  segments_.push_back(s);
}

std::size_t Scoreboard::index_of(SeqNum seq) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                             [](SeqNum v, const SentSegment& s) { return v < s.start; });
  if (it == segments_.begin()) return segments_.size();
  --it;
  if (seq >= it->end) return segments_.size();
  return static_cast<std::size_t>(it - segments_.begin());
}

const SentSegment* Scoreboard::find(SeqNum seq) const {
  const std::size_t i = index_of(seq);
  return i < segments_.size() ? &segments_[i] : nullptr;
}

std::size_t Scoreboard::split(std::size_t index, SeqNum at) {
  SentSegment& first = segments_[index];
  SentSegment second = first;
  second.start = at;
  first.end = at;
  first.fin = false;
  segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(index) + 1, second);
  return index + 1;
}

void Scoreboard::set_sacked(SentSegment& s) {
  pipe_ -= in_pipe(s);
  if (s.lost) lost_ -= s.length();
  s.sacked = true;
  s.lost = false;
  s.retransmitted = false;
  sacked_ += s.length();
}

void Scoreboard::set_lost(SentSegment& s, bool lost) {
  if (s.sacked || s.lost == lost) return;
  pipe_ -= in_pipe(s);
  s.lost = lost;
  s.retransmitted = false;
  if (lost) {
    lost_ += s.length();
  } else {
    lost_ -= s.length();
  }
  pipe_ += in_pipe(s);
}

void Scoreboard::resent(SeqNum start, std::uint32_t max_len, Instant now) {
  std::size_t i = index_of(start);
  if (i >= segments_.size()) return;
  if (segments_[i].start != start) i = split(i, start);
  if (segments_[i].length() > max_len) split(i, start + max_len);
  SentSegment& s = segments_[i];
  pipe_ -= in_pipe(s);
  s.sent_at = now;
  if (s.transmissions < 255) ++s.transmissions;
  // A segment deemed lost is in flight again; one resent without being deemed lost (a tail
  // loss probe, the rescue retransmission) was in flight all along.
  if (s.lost) s.retransmitted = true;
  pipe_ += in_pipe(s);
}

Delivery Scoreboard::acknowledge(SeqNum ack, std::span<const SackBlock> blocks, Instant now) {
  Delivery d;
  const std::optional<SeqNum> fack_before = fack_;
  auto delivered = [&](const SentSegment& s) {
    if (!d.newest || sent_after(s.sent_at, s.end, d.newest->sent_at, d.newest->end)) {
      d.newest = s;
      d.rtt = s.transmissions == 1 ? std::optional<Duration>(now - s.sent_at) : std::nullopt;
    }
    if (s.transmissions == 1 && fack_before && s.end < *fack_before) d.reordered = true;
    if (!fack_ || s.end > *fack_) fack_ = s.end;
  };

  // RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK or inside
  // the second block.
  if (!blocks.empty()) {
    const SackBlock& b0 = blocks[0];
    const bool below = b0.right <= ack;
    const bool inside =
        blocks.size() > 1 && b0.left >= blocks[1].left && b0.right <= blocks[1].right;
    d.dsack = b0.left < b0.right && (below || inside);
    if (d.dsack && !below) {
      const SentSegment* s = find(b0.left);
      d.dsack_of_retransmission = s && s->transmissions > 1;
    }
  }

  // The cumulative ACK: whole segments leave, a partly covered one is trimmed.
  while (!segments_.empty() && segments_.front().start < ack) {
    SentSegment& s = segments_.front();
    if (s.end <= ack) {
      pipe_ -= in_pipe(s);
      if (s.lost) lost_ -= s.length();
      if (s.sacked) {
        sacked_ -= s.length();
      } else {
        d.acked += s.length();
        delivered(s);
      }
      segments_.pop_front();
      continue;
    }
    // Partly acknowledged (a smaller MSS, or an odd receiver): the rest stays outstanding.
    const auto covered = static_cast<std::uint32_t>(ack - s.start);
    pipe_ -= in_pipe(s);
    if (s.lost) lost_ -= covered;
    if (s.sacked) {
      sacked_ -= covered;
    } else {
      d.acked += covered;
      delivered(s);
    }
    s.start = ack;
    pipe_ += in_pipe(s);
    break;
  }

  // The SACK blocks (RFC 2018 §3): every segment they cover is delivered.
  for (std::size_t b = d.dsack ? 1 : 0; b < blocks.size(); ++b) {
    SeqNum left = seq_max(blocks[b].left, ack);
    const SeqNum right = blocks[b].right;
    if (!(left < right)) continue;
    std::size_t i = index_of(left);
    while (i < segments_.size() && segments_[i].start < right) {
      if (segments_[i].start < left) {
        i = split(i, left);
        continue;
      }
      if (segments_[i].end > right) split(i, right);
      SentSegment& s = segments_[i];
      if (!s.sacked) {
        d.sacked += s.length();
        set_sacked(s);
        delivered(s);
      }
      left = s.end;
      ++i;
    }
  }
  return d;
}

std::optional<Duration> Scoreboard::detect_lost(Instant rack_xmit, SeqNum rack_end, Duration rtt,
                                                Duration reo_wnd, Instant now) {
  std::optional<Duration> timeout;
  for (SentSegment& s : segments_) {
    if (s.sacked) continue;
    // RFC 8985 §6.2 step 5: a lost segment not yet sent again is not judged again (its
    // xmit_ts counts as infinite until it is retransmitted).
    if (s.lost && !s.retransmitted) continue;
    if (!sent_after(rack_xmit, rack_end, s.sent_at, s.end)) continue;
    const Duration remaining = (s.sent_at + rtt + reo_wnd) - now;
    if (remaining <= Duration{0}) {
      pipe_ -= in_pipe(s);
      if (!s.lost) lost_ += s.length();
      s.lost = true;
      s.retransmitted = false;
      pipe_ += in_pipe(s);
    } else if (!timeout || remaining > *timeout) {
      timeout = remaining;  // as the RFC (and Linux): wait for the last of them
    }
  }
  return timeout;
}

void Scoreboard::mark_all_lost() {
  for (SentSegment& s : segments_) {
    if (s.sacked) continue;
    pipe_ -= in_pipe(s);
    if (!s.lost) lost_ += s.length();
    s.lost = true;
    s.retransmitted = false;
    pipe_ += in_pipe(s);
  }
}

void Scoreboard::mark_first_lost() {
  for (SentSegment& s : segments_) {
    if (s.sacked) continue;
    set_lost(s, true);
    return;
  }
}

void Scoreboard::unmark_lost() {
  for (SentSegment& s : segments_) {
    if (s.lost) set_lost(s, false);
  }
}

const SentSegment* Scoreboard::first_lost() const {
  for (const SentSegment& s : segments_) {
    if (s.lost && !s.retransmitted && !s.sacked) return &s;
  }
  return nullptr;
}

const SentSegment* Scoreboard::last_unsacked(SeqNum before) const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!it->sacked && it->end <= before) return &*it;
  }
  return nullptr;
}

std::optional<SeqNum> Scoreboard::highest_sacked() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->sacked) return it->end;
  }
  return std::nullopt;
}

void Scoreboard::clear() {
  segments_.clear();
  pipe_ = sacked_ = lost_ = 0;
  fack_.reset();
}

}  // namespace tapir::tcp
