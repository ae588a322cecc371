// Scoreboard: every segment sent and not yet cumulatively acknowledged, with what the peer's
// SACK blocks said of it (RFC 2018, RFC 6675 §3), whether it is deemed lost, and when it was
// last sent (RACK, RFC 8985 §6). The sender's loss recovery reads and marks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "stack/core/time.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

struct SentSegment {
  SeqNum start;
  SeqNum end;        // one past its last sequence number (the FIN's included)
  bool fin = false;  // it carries the FIN (the last sequence number is the FIN's)
  Instant sent_at;   // its last transmission (RACK.xmit_ts)
  std::uint8_t transmissions = 1;
  bool sacked = false;
  bool lost = false;           // marked lost; counts out of pipe until retransmitted
  bool retransmitted = false;  // retransmitted since it was marked lost: in pipe again

  std::uint32_t length() const { return static_cast<std::uint32_t>(end - start); }
};

// What an acknowledgement (cumulative ACK and SACK blocks) did to the scoreboard.
struct Delivery {
  std::uint32_t acked = 0;   // bytes newly acknowledged cumulatively
  std::uint32_t sacked = 0;  // bytes newly SACKed (RFC 6937's DeliveredData is the sum)
  // The newly delivered segment sent last (RFC 8985 §6.2 step 2's RACK.segment), if any.
  std::optional<SentSegment> newest;
  // The RTT that segment gives, unless it was retransmitted (then the sample is ambiguous).
  std::optional<Duration> rtt;
  // A delivered segment lay below one delivered before and was never retransmitted: the
  // network reordered (RFC 8985 §6.2 step 3).
  bool reordered = false;
  // RFC 2883: the first block reported a duplicate (D-SACK), and whether what it covers was
  // retransmitted (a spurious retransmission, RFC 3708).
  bool dsack = false;
  bool dsack_of_retransmission = false;
};

class Scoreboard {
 public:
  // A new segment [start, end) went out at `now`.
  void sent(SeqNum start, SeqNum end, bool fin, Instant now);
  // The segment starting at `start` went out again (it is split first if it is longer than
  // `max_len`, as after a smaller MSS).
  void resent(SeqNum start, std::uint32_t max_len, Instant now);
  // An ACK of `ack` with `blocks` (the first may be a D-SACK, RFC 2883 §4).
  Delivery acknowledge(SeqNum ack, std::span<const SackBlock> blocks, Instant now);

  // RFC 6675 §3 SetPipe: what is in flight: every unSACKed byte not deemed lost, and every
  // byte retransmitted since it was deemed lost.
  std::uint32_t pipe() const { return pipe_; }
  std::uint32_t sacked_bytes() const { return sacked_; }
  std::uint32_t lost_bytes() const { return lost_; }
  std::size_t segments() const { return segments_.size(); }
  bool empty() const { return segments_.empty(); }

  // RFC 8985 §6.2 step 5: every segment sent before the RACK segment (xmit_ts, end_seq) and
  // not delivered within rtt + reo_wnd of its transmission is lost. Returns how long until
  // the next one would be (for the reordering timer), if one is waiting.
  std::optional<Duration> detect_lost(Instant rack_xmit, SeqNum rack_end, Duration rtt,
                                      Duration reo_wnd, Instant now);
  // The retransmission timer expired: every unSACKed segment is lost (RFC 6675 §5.1).
  void mark_all_lost();
  // Only the first unSACKed segment is lost (F-RTO's first step, RFC 5682 §3.1).
  void mark_first_lost();
  // F-RTO found the timeout spurious: nothing is lost after all.
  void unmark_lost();

  // RFC 6675 §4 NextSeg rule 1: the first segment deemed lost and not yet retransmitted.
  const SentSegment* first_lost() const;
  // Rule 4 (the rescue retransmission): the last unSACKed segment before `before`.
  const SentSegment* last_unsacked(SeqNum before) const;
  // The highest sequence number SACKed (RFC 6675's HighACK... HighSACK), if any.
  std::optional<SeqNum> highest_sacked() const;
  // The segment holding sequence number `seq`, if it is outstanding.
  const SentSegment* find(SeqNum seq) const;
  const SentSegment* last() const { return segments_.empty() ? nullptr : &segments_.back(); }
  void clear();

 private:
  // Splits the segment at `index` so that one starts at `at`; returns the second's index.
  std::size_t split(std::size_t index, SeqNum at);
  void set_sacked(SentSegment& s);
  void set_lost(SentSegment& s, bool lost);
  std::size_t index_of(SeqNum seq) const;  // the segment holding `seq`, or size()

  std::deque<SentSegment> segments_;  // in sequence order, from SND.UNA to SND.MAX
  std::uint32_t pipe_ = 0;
  std::uint32_t sacked_ = 0;
  std::uint32_t lost_ = 0;
  // The highest end of a delivered segment (RACK.fack), for reordering detection.
  std::optional<SeqNum> fack_;
};

}  // namespace tapir::tcp
