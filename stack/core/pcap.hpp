// The classic libpcap file format (LINKTYPE_ETHERNET, microsecond stamps), written to a stream.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>

#include "stack/core/time.hpp"

namespace tapir {

class PcapWriter {
 public:
  // Writes the global header at once; `snaplen` caps each record's captured bytes.
  explicit PcapWriter(std::ostream& out, std::uint32_t snaplen = 262144);
  void write(Instant when, std::span<const std::uint8_t> frame);

 private:
  std::ostream& out_;
  std::uint32_t snaplen_;
};

}  // namespace tapir
