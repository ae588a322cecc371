// The small services tapird runs on UDP and on TCP (RFC 862 echo, RFC 863 discard, RFC 867
// daytime, RFC 864 chargen): their ports and names, and the text daytime and chargen send.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace tapird {

enum Service { echo, discard, daytime, chargen };
inline constexpr int kServiceCount = 4;
inline constexpr std::array<std::uint16_t, kServiceCount> kServicePorts{7, 9, 13, 19};
inline constexpr std::array<const char*, kServiceCount> kServiceNames{"echo", "discard", "daytime",
                                                                      "chargen"};

// RFC 867: "there is no specific syntax for the daytime"; this is the example's layout,
// "Weekday, Month Day, Year HH:MM:SS-ZONE", in UTC.
std::string daytime_line();

// RFC 864's pattern: lines of 72 of the 95 printable ASCII characters, each line starting one
// character further on, so the stream is easy to check by eye.
class Chargen {
 public:
  // RFC 864 over UDP: "a random number (between 0 and 512) of characters".
  std::string next_datagram();

 private:
  static constexpr std::size_t line_length = 72;
  std::size_t first_line_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

// RFC 864's pattern as one TCP stream: lines of 72 characters and CRLF, line k starting with
// printable character k mod 95; byte `offset` of it.
char chargen_stream_byte(std::uint64_t offset);

}  // namespace tapird
