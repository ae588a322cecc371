// Receiver: the receiving half of a connection — RFC 9293 §3.3.1's receive sequence variables,
// the receive buffer and out-of-order queue, the window we advertise, SACK blocks, urgent data
// and the acknowledgement policy. It keeps state and decides; the Connection sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/tcp/byte_ring.hpp"
#include "stack/tcp/out_of_order.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

// What became of a segment's text (RFC 9293 §3.10.7.4, seventh).
struct TextResult {
  bool in_order = false;     // the text began at RCV.NXT and was buffered (an ACK is owed)
  std::size_t accepted = 0;  // of it, the bytes the buffer had room for
  std::size_t dropped = 0;   // bytes beyond the receive buffer's room
  bool queued_out_of_order = false;
  bool filled_gap = false;
};

class Receiver {
 public:
  explicit Receiver(std::size_t rcvbuf) : rcvbuf_(rcvbuf), buffer_(rcvbuf) {}

  // --- The sequence space -------------------------------------------------------------------
  // The peer's SYN arrived: IRS, and RCV.NXT just past it.
  void open(SeqNum irs);
  SeqNum irs() const { return irs_; }
  SeqNum nxt() const { return nxt_; }
  SeqNum last_ack_sent() const { return last_ack_sent_; }
  // RFC 9293 §3.10.7.4's table of the four cases: is any of the segment in the window?
  bool acceptable(SeqNum seq, std::size_t len) const;

  // --- What we tell the peer ----------------------------------------------------------------
  // The window scale we use (RFC 7323 §2) and the MSS we advertised, once chosen.
  void set_scale(std::uint8_t shift) { scale_ = shift; }
  std::uint8_t scale() const { return scale_; }
  void set_mss(std::uint16_t mss) { mss_ = mss; }
  std::uint16_t mss() const { return mss_; }
  // The window field of a SYN (RFC 7323 §2.2: never scaled); `advertise` records the right
  // edge it opens.
  std::uint16_t syn_window(bool advertise);
  // The window field of any other segment, with receiver SWS avoidance (RFC 1122 §4.2.3.3)
  // and a right edge that never moves left (RFC 9293 §3.8.6); records the edge.
  std::uint16_t window();
  // RFC 2018 §4: the blocks of out-of-order data, the one holding the latest arrival first;
  // at most `room` of them, after a D-SACK block for a duplicate just received (RFC 2883 §4).
  // Returns how many were written.
  std::uint8_t sack_blocks(std::span<SackBlock> out, std::size_t room) const;
  // An ACK (of RCV.NXT) went out: nothing is owed any more.
  void ack_sent();

  // --- The acknowledgement policy (RFC 1122 §4.2.3.2) ----------------------------------------
  // An ACK must go before this segment's processing ends (out of order, a gap filled, a FIN,
  // an old duplicate).
  void ack_now() { ack_now_ = ack_pending_ = true; }
  bool ack_due() const { return ack_now_; }
  bool ack_pending() const { return ack_pending_; }
  // In-order data arrived: at least every second full-sized segment is acknowledged at once;
  // false means the ACK may be delayed.
  bool data_arrived(bool full_segment);

  // --- Data ---------------------------------------------------------------------------------
  // The URG bit with its pointer (RFC 6093 §4: the byte after the urgent data).
  void note_urgent(SeqNum seq, std::uint16_t pointer);
  // Seventh: the segment's text. Old bytes are trimmed, bytes ahead of a gap kept (within the
  // window), in-order ones buffered; the urgent byte leaves the stream unless `oob_inline`.
  TextResult text(SeqNum seq, std::span<const std::uint8_t> data, bool oob_inline);
  // Eighth: a FIN at `fin` (the sequence number after the segment's data). Returns true when
  // it is next in sequence and was taken (RCV.NXT moves past it).
  bool fin(std::optional<SeqNum> fin);
  bool fin_received() const { return fin_received_; }

  // RECEIVE: copies up to out.size() bytes (stopping at the urgent mark, as Linux); 0 when
  // empty. After a read, window_update_due() says whether the opened window is worth an ACK.
  std::size_t read(std::span<std::uint8_t> out, bool peek);
  bool window_update_due() const;
  // MSG_OOB: the urgent byte, if one waits.
  std::optional<std::uint8_t> read_urgent(bool peek);

  std::size_t unread() const { return buffer_.size(); }
  bool holds_data() const { return !buffer_.empty() || !ooo_.empty(); }
  bool has_urgent() const { return urgent_byte_.has_value(); }
  // SO_RCVBUF. The ring may be asked to hold up to one scaling unit past it, because an
  // advertised window is rounded up rather than let the right edge move left (§3.8.6).
  void set_buffer(std::size_t rcvbuf, bool scaled);
  std::size_t buffer_limit() const { return rcvbuf_; }

 private:
  // The free receive buffer, never more than SO_RCVBUF.
  std::uint32_t space() const;
  // The window currently offered: RCV.ADV - RCV.NXT.
  std::uint32_t offered() const;

  SeqNum irs_;
  SeqNum nxt_;
  SeqNum adv_;  // the right edge we advertised: never moves left (§3.8.6)
  SeqNum last_ack_sent_;
  std::uint8_t scale_ = 0;
  std::uint16_t mss_ = default_mss;

  std::size_t rcvbuf_;
  ByteRing buffer_;
  OutOfOrderQueue ooo_;
  SeqNum last_ooo_;  // the latest out-of-order arrival: its SACK block comes first
  // RFC 2883: a duplicate received and not yet reported (in one ACK only, §4).
  std::optional<SackBlock> dsack_;
  std::optional<SeqNum> fin_seq_;  // the peer's FIN, when seen (possibly ahead of RCV.NXT)
  bool fin_received_ = false;
  std::optional<SeqNum> up_;  // the peer's urgent pointer (the byte after the urgent one)
  std::optional<std::uint8_t> urgent_byte_;
  std::optional<std::size_t> mark_;  // bytes readable before the urgent mark

  unsigned unacked_segments_ = 0;
  bool ack_pending_ = false;  // an ACK is owed (delayed)
  bool ack_now_ = false;      // ... and must go out before the segment's processing ends
};

}  // namespace tapir::tcp
