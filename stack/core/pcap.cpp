// The classic libpcap file format, little-endian as every reader accepts.
#include "stack/core/pcap.hpp"

#include <algorithm>
#include <array>

namespace tapir {

namespace {
void put32(std::ostream& out, std::uint32_t v) {
  const std::array<char, 4> b = {static_cast<char>(v), static_cast<char>(v >> 8),
                                 static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.write(b.data(), b.size());
}
void put16(std::ostream& out, std::uint16_t v) {
  const std::array<char, 2> b = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.write(b.data(), b.size());
}
}  // namespace

PcapWriter::PcapWriter(std::ostream& out, std::uint32_t snaplen) : out_(out), snaplen_(snaplen) {
  put32(out_, 0xa1b2c3d4);  // magic: microsecond resolution
  put16(out_, 2);           // version 2.4
  put16(out_, 4);
  put32(out_, 0);  // thiszone
  put32(out_, 0);  // sigfigs
  put32(out_, snaplen_);
  put32(out_, 1);  // LINKTYPE_ETHERNET
  out_.flush();
}

void PcapWriter::write(Instant when, std::span<const std::uint8_t> frame) {
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snaplen_));
  put32(out_, static_cast<std::uint32_t>(when.micros() / 1000000));
  put32(out_, static_cast<std::uint32_t>(when.micros() % 1000000));
  put32(out_, captured);
  put32(out_, static_cast<std::uint32_t>(frame.size()));
  out_.write(reinterpret_cast<const char*>(frame.data()), captured);
}

}  // namespace tapir
