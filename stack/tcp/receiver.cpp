// Receiver: acceptability, the segment text and FIN, the advertised window, SACK blocks, reads.
#include "stack/tcp/receiver.hpp"

#include <algorithm>

namespace tapir::tcp {

void Receiver::open(SeqNum irs) {
  irs_ = irs;
  nxt_ = irs + 1;
  adv_ = nxt_;
}

std::uint32_t Receiver::offered() const {
  return adv_ > nxt_ ? static_cast<std::uint32_t>(adv_ - nxt_) : 0;
}

bool Receiver::acceptable(SeqNum seq, std::size_t len) const {
  // RFC 9293 §3.10.7.4's table of the four cases.
  const std::uint32_t window = offered();
  if (len == 0) {
    if (window == 0) return seq == nxt_;
    return in_window(seq, nxt_, window);
  }
  if (window == 0) return false;
  const SeqNum last = seq + static_cast<std::uint32_t>(len - 1);
  return in_window(seq, nxt_, window) || in_window(last, nxt_, window);
}

std::uint32_t Receiver::space() const {
  const std::size_t used = std::min(buffer_.size(), rcvbuf_);
  return static_cast<std::uint32_t>(rcvbuf_ - used);
}

std::uint16_t Receiver::syn_window(bool advertise) {
  // RFC 7323 §2.2: the window in a SYN is never scaled.
  const auto window = static_cast<std::uint16_t>(std::min<std::size_t>(rcvbuf_, 0xffff));
  if (advertise) adv_ = seq_max(adv_, nxt_ + window);
  return window;
}

std::uint16_t Receiver::window() {
  const std::uint32_t current = offered();
  // RFC 1122 §4.2.3.3 (receiver SWS avoidance): the right edge moves only by at least
  // min(half the buffer, one MSS); RFC 9293 §3.8.6: it never moves left.
  const std::uint32_t step = std::min<std::uint32_t>(static_cast<std::uint32_t>(rcvbuf_ / 2), mss_);
  const std::uint32_t free = space();
  const std::uint32_t window = free >= current + step ? free : current;
  std::uint32_t wire = window >> scale_;
  if ((wire << scale_) < current) ++wire;  // round up rather than shrink
  const auto field = static_cast<std::uint16_t>(std::min<std::uint32_t>(wire, 0xffff));
  adv_ = seq_max(adv_, nxt_ + (static_cast<std::uint32_t>(field) << scale_));
  return field;
}

std::uint8_t Receiver::sack_blocks(std::span<SackBlock> out, std::size_t room) const {
  room = std::min(room, out.size());
  std::uint8_t count = 0;
  // RFC 2883 §4: a D-SACK block comes first, the ordinary blocks after it.
  if (dsack_ && room > 0) out[count++] = *dsack_;
  if (ooo_.empty()) return count;
  const std::uint8_t first = count;
  const auto ranges = ooo_.ranges();
  // RFC 2018 §4: the block holding the latest arrival first, then the others.
  for (const SackBlock& b : ranges) {
    if (count >= room) break;
    if (in_window(last_ooo_, b.left, static_cast<std::uint32_t>(b.right - b.left))) {
      out[count++] = b;
      break;
    }
  }
  for (const SackBlock& b : ranges) {
    if (count >= room) break;
    if (count > first && out[first] == b) continue;
    out[count++] = b;
  }
  return count;
}

void Receiver::ack_sent() {
  last_ack_sent_ = nxt_;
  dsack_.reset();
  ack_pending_ = false;
  ack_now_ = false;
  unacked_segments_ = 0;
}

bool Receiver::data_arrived(bool full_segment) {
  ack_pending_ = true;
  // RFC 1122 §4.2.3.2: at least every second full-sized segment is ACKed at once.
  if (full_segment && ++unacked_segments_ >= 2) ack_now_ = true;
  return ack_now_;
}

void Receiver::note_urgent(SeqNum seq, std::uint16_t pointer) {
  // RFC 9293 §3.10.7.4 sixth, with RFC 6093 §4: the pointer is the byte after urgent data.
  const SeqNum up = seq + pointer;
  if (up <= nxt_) return;  // already read past it
  if (!up_ || up > *up_) up_ = up;
}

TextResult Receiver::text(SeqNum seq, std::span<const std::uint8_t> data, bool oob_inline) {
  TextResult result;
  if (seq < nxt_) {
    const auto old = static_cast<std::size_t>(nxt_ - seq);
    // RFC 2883 §4.1: the duplicate part is reported in a D-SACK block.
    dsack_ = SackBlock{seq, seq + static_cast<std::uint32_t>(std::min(old, data.size()))};
    if (old >= data.size()) {
      ack_now_ = true;  // an old duplicate: the peer missed our ACK
      return result;
    }
    data = data.subspan(old);
    seq = nxt_;
  }
  const std::size_t room = buffer_.free();
  if (data.size() > room) result.dropped = data.size() - room;
  if (seq != nxt_) {
    // Ahead of a gap: kept (RFC 9293 §3.10.7.4), and answered at once with a duplicate ACK
    // carrying SACK blocks (RFC 5681 §4.2, RFC 2018 §4).
    const auto offset = static_cast<std::size_t>(seq - nxt_);
    // RFC 2883 §4.2: data already held out of order is a duplicate too.
    const SeqNum end = seq + static_cast<std::uint32_t>(data.size());
    for (const SackBlock& b : ooo_.ranges()) {
      if (b.left <= seq && end <= b.right && !data.empty()) dsack_ = SackBlock{seq, end};
    }
    if (offset < room) {
      ooo_.insert(nxt_, static_cast<std::uint32_t>(room), seq, data);
      last_ooo_ = seq;
      result.queued_out_of_order = true;
    }
    ack_now_ = true;
    return result;
  }
  data = data.first(std::min(data.size(), room));
  // The urgent byte, unless SO_OOBINLINE, leaves the stream for MSG_OOB (RFC 6093 §5).
  if (up_ && !oob_inline) {
    const SeqNum urgent = *up_ - 1;
    if (in_window(urgent, seq, static_cast<std::uint32_t>(data.size()))) {
      const auto at = static_cast<std::size_t>(urgent - seq);
      buffer_.write(data.first(at));
      urgent_byte_ = data[at];
      mark_ = buffer_.size();
      buffer_.write(data.subspan(at + 1));
      up_.reset();
    } else {
      buffer_.write(data);
    }
  } else {
    buffer_.write(data);
  }
  nxt_ += static_cast<std::uint32_t>(data.size());
  result.in_order = true;
  result.accepted = data.size();
  if (!ooo_.empty()) {
    const std::size_t taken = ooo_.take(nxt_, buffer_);
    nxt_ += static_cast<std::uint32_t>(taken);
    result.filled_gap = true;
    ack_now_ = true;  // RFC 5681 §4.2: a segment that fills a gap is ACKed at once
  }
  return result;
}

bool Receiver::fin(std::optional<SeqNum> fin) {
  if (fin && !fin_seq_ && *fin >= nxt_) fin_seq_ = fin;
  if (!fin_seq_ || fin_received_ || nxt_ != *fin_seq_) return false;
  fin_received_ = true;
  nxt_ += 1;
  ack_now_ = true;
  return true;
}

std::size_t Receiver::read(std::span<std::uint8_t> out, bool peek) {
  if (buffer_.empty()) return 0;
  // As Linux's tcp_recvmsg, a read stops at the urgent mark (RFC 6093 §5: the reader learns
  // where the urgent byte stood in the stream).
  if (mark_ && *mark_ > 0 && out.size() > *mark_) out = out.first(*mark_);
  const std::size_t n = peek ? buffer_.peek(0, out) : buffer_.read(out);
  if (!peek && mark_ && n > 0) {
    if (*mark_ == 0) {
      mark_.reset();  // read past the mark
    } else {
      *mark_ -= n;
    }
  }
  return n;
}

bool Receiver::window_update_due() const {
  if (fin_received_) return false;
  // RFC 1122 §4.2.3.3: announce the opened window once it has grown by min(half the buffer,
  // one MSS), not byte by byte (receiver-side silly window avoidance). What the window could
  // grow to: the free buffer, but no more than the window field can say (65535 unscaled), or
  // every read would look like a worthwhile update.
  const std::uint32_t room = std::min<std::uint32_t>(space(), std::uint32_t{0xffff} << scale_);
  const std::uint32_t step = std::min<std::uint32_t>(static_cast<std::uint32_t>(rcvbuf_ / 2), mss_);
  return room >= offered() + step;
}

std::optional<std::uint8_t> Receiver::read_urgent(bool peek) {
  if (!urgent_byte_) return std::nullopt;
  const std::uint8_t byte = *urgent_byte_;
  if (!peek) urgent_byte_.reset();
  return byte;
}

void Receiver::set_buffer(std::size_t rcvbuf, bool scaled) {
  rcvbuf_ = rcvbuf;
  if (!scaled) {
    buffer_.set_capacity(rcvbuf);
  } else if (buffer_.size() <= rcvbuf) {
    buffer_.set_capacity(rcvbuf + (std::size_t{1} << scale_));
  }
}

}  // namespace tapir::tcp
