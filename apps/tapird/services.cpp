// What tapird's daytime and chargen services send (RFC 867, RFC 864).
#include "services.hpp"

#include <ctime>

namespace tapird {

std::string daytime_line() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &utc);
  return std::string(text, n);
}

std::string Chargen::next_datagram() {
  const std::size_t length = std::uniform_int_distribution<std::size_t>(0, 512)(random_);
  std::string data;
  for (std::size_t line = first_line_; data.size() < length; ++line) {
    for (std::size_t i = 0; i < line_length; ++i) data += static_cast<char>(' ' + (line + i) % 95);
    data += "\r\n";
  }
  data.resize(length);
  first_line_ = (first_line_ + 1) % 95;  // the next datagram starts one character on
  return data;
}

char chargen_stream_byte(std::uint64_t offset) {
  constexpr std::uint64_t line_bytes = 74;  // 72 characters, CR, LF
  const std::uint64_t line = offset / line_bytes;
  const std::uint64_t column = offset % line_bytes;
  if (column == 72) return '\r';
  if (column == 73) return '\n';
  return static_cast<char>(' ' + (line + column) % 95);
}

}  // namespace tapird
