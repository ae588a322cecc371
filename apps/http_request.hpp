// HTTP/1.x request heads (RFC 9112 §2-§9): bytes from a connection in, the request or the status
// to refuse it with out. Pure functions, no I/O, so every rule is tested on strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapir::http {

// The most a request head (request line, header fields and the blank line) may take. Apache
// and nginx allow 8 KiB per line; a head this large is refused whole with 400.
inline constexpr std::size_t kMaxHeadBytes = 8192;

struct Header {
  std::string name;   // lower case: field names are case-insensitive (RFC 9110 §5.1)
  std::string value;  // without the optional whitespace around it
};

struct Request {
  std::string method;     // case-sensitive (RFC 9110 §9.1): "GET", never "get"
  std::string target;     // as sent: "/a%20b.html?x=1"
  std::string path;       // the target's path, percent-decoded: "/a b.html" ("*" for OPTIONS *)
  int minor_version = 1;  // HTTP/1.<minor>
  std::vector<Header> headers;
  std::uint64_t content_length = 0;  // body bytes after the head, to be skipped by a GET server
  // Whether the connection may carry another request after this one's response (RFC 9112
  // §9.3): HTTP/1.1 unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;

  // The first field named `lower_name` (lower case), or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct ParseResult {
  enum class Status { complete, incomplete, error };
  Status status = Status::incomplete;
  Request request;           // complete only
  std::size_t consumed = 0;  // complete only: the head's bytes, leading blank lines included
  int error_status = 0;      // error only: 400, 501 or 505
  std::string error_reason;  // error only: why, for a log line ("bad header field name")
};

// Reads the request head at the start of `text` (which may hold more: a body, the next
// pipelined request). Lines end in CRLF or a bare LF (RFC 9112 §2.2). Refuses with
//   400 a malformed request line, target, version or field; obs-fold; a bare CR; a head over
//       kMaxHeadBytes (even before it is complete); HTTP/1.1 without exactly one Host; a bad or
//       conflicting Content-Length (RFC 9112 §6.3)
//   501 a Transfer-Encoding (no request body codings are implemented: RFC 9112 §6.1)
//   505 a well-formed version other than HTTP/1.x
// Incomplete means: wait for more bytes.
ParseResult parse_request(std::string_view text);

// "%41b" -> "Ab"; nullopt for a '%' without two hex digits after it, or for an encoded NUL,
// which no file name can hold.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace tapir::http
