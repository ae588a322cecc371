// HTTP/1.x request heads: the request line, header fields and the connection rules of RFC 9112.
#include "http_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tapir::http {

namespace {

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~" / DIGIT / ALPHA.
bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// A request-target has no whitespace or control characters: visible US-ASCII only.
bool is_visible(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// RFC 9110 §5.5: a field value is visible characters, SP, HTAB and obs-text (0x80..0xff).
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The comma-separated elements of a list field (RFC 9110 §5.6.1), empty ones skipped.
std::vector<std::string_view> list_elements(std::string_view value) {
  std::vector<std::string_view> out;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ParseResult refuse(int status, std::string reason) {
  ParseResult r;
  r.status = ParseResult::Status::error;
  r.error_status = status;
  r.error_reason = std::move(reason);
  return r;
}

// The lines of a head: each ends at LF, with a CR before it dropped. A CR anywhere else is
// refused, not read as a line end: parsers that disagree on bare CRs are how requests are
// smuggled past a proxy (RFC 9112 §2.2).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  enum class Result { line, incomplete, bare_cr };
  Result next(std::string_view& line) {
    const auto lf = text_.find('\n', pos_);
    if (lf == std::string_view::npos) return Result::incomplete;
    std::string_view l = text_.substr(pos_, lf - pos_);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.find('\r') != std::string_view::npos) return Result::bare_cr;
    pos_ = lf + 1;
    line = l;
    return Result::line;
  }
  std::size_t position() const { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// origin-form "/p?q", absolute-form "http://host/p?q", or asterisk-form "*" (RFC 9112 §3.2).
// Returns the path part, still percent-encoded, or nullopt for any other form.
std::optional<std::string_view> target_path(std::string_view target, std::string_view method) {
  if (target == "*") {
    if (method != "OPTIONS") return std::nullopt;
    return target;
  }
  if (target.front() != '/') {
    const std::string scheme = lower(target.substr(0, target.find("://")));
    if ((scheme != "http" && scheme != "https") || target.find("://") == std::string_view::npos) {
      return std::nullopt;
    }
    target.remove_prefix(scheme.size() + 3);
    const auto slash = target.find_first_of("/?#");
    if (slash == std::string_view::npos || target[slash] != '/') return std::string_view("/");
    target.remove_prefix(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

// "HTTP/1.1" -> 1; nullopt unless it is "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), which is
// case-sensitive.
struct Version {
  int major;
  int minor;
};
std::optional<Version> parse_version(std::string_view v) {
  if (v.size() != 8 || !v.starts_with("HTTP/") || v[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(v[5])) ||
      !std::isdigit(static_cast<unsigned char>(v[7]))) {
    return std::nullopt;
  }
  return Version{v[5] - '0', v[7] - '0'};
}

// Reads the request line into `request`; returns an error result, or nullopt when it is good.
std::optional<ParseResult> read_request_line(std::string_view line, Request& request) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return refuse(400, "request line is not METHOD SP TARGET SP VERSION");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version_text = line.substr(sp2 + 1);
  if (!is_token(method)) return refuse(400, "bad method");
  if (target.empty() || !is_visible(target)) return refuse(400, "bad request target");
  const auto version = parse_version(version_text);
  if (!version) return refuse(400, "bad HTTP version");
  if (version->major != 1) return refuse(505, "HTTP version not supported");

  const auto path = target_path(target, method);
  if (!path) return refuse(400, "unsupported request-target form");
  auto decoded = *path == "*" ? std::optional<std::string>("*") : percent_decode(*path);
  if (!decoded) return refuse(400, "bad percent-encoding in path");

  request.method = method;
  request.target = target;
  request.path = std::move(*decoded);
  request.minor_version = version->minor;
  return std::nullopt;
}

// One "name: value" line (RFC 9112 §5); returns an error result, or nullopt when it is good.
std::optional<ParseResult> read_field(std::string_view line, Request& request) {
  // obs-fold: a line starting with whitespace continues the previous one. RFC 9112 §5.2 lets a
  // server refuse it with 400, and it is another smuggling vector, so it is refused.
  if (line.front() == ' ' || line.front() == '\t') return refuse(400, "obsolete line folding");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return refuse(400, "header field without ':'");
  // "Host : x" is refused too (RFC 9112 §5.1: no whitespace between name and colon).
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return refuse(400, "bad header field name");
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) return refuse(400, "bad header field value");
  request.headers.push_back(Header{lower(name), std::string(value)});
  return std::nullopt;
}

// The fields that decide framing and the connection's fate: Host, Transfer-Encoding,
// Content-Length and Connection.
std::optional<ParseResult> apply_fields(Request& request) {
  int hosts = 0;
  std::optional<std::uint64_t> length;
  bool close = false;
  bool keep_alive = false;
  for (const Header& h : request.headers) {
    if (h.name == "host") {
      ++hosts;
    } else if (h.name == "transfer-encoding") {
      return refuse(501, "transfer codings are not implemented");
    } else if (h.name == "content-length") {
      // "5, 5" and repeated equal fields are one length; different ones are an attack
      // (RFC 9112 §6.3 rule 5).
      const auto elements = list_elements(h.value);
      if (elements.empty()) return refuse(400, "bad Content-Length");
      for (std::string_view e : elements) {
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), n);
        if (ec != std::errc{} || end != e.data() + e.size() || e.front() == '+' ||
            (length && *length != n)) {
          return refuse(400, "bad Content-Length");
        }
        length = n;
      }
    } else if (h.name == "connection") {
      for (std::string_view option : list_elements(h.value)) {
        const std::string o = lower(option);
        close = close || o == "close";
        keep_alive = keep_alive || o == "keep-alive";
      }
    }
  }
  // RFC 9112 §3.2: "A server MUST respond with a 400 ... to any HTTP/1.1 request message that
  // lacks a Host header field and to any request message that contains more than one".
  if (hosts > 1 || (hosts == 0 && request.minor_version >= 1)) {
    return refuse(400, "expected exactly one Host field");
  }
  request.content_length = length.value_or(0);
  request.keep_alive = request.minor_version >= 1 ? !close : keep_alive && !close;
  return std::nullopt;
}

}  // namespace

const std::string* Request::header(std::string_view lower_name) const {
  for (const Header& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

ParseResult parse_request(std::string_view text) {
  LineReader lines(text);
  std::string_view line;
  Request request;
  bool have_request_line = false;
  for (;;) {
    const LineReader::Result got = lines.next(line);
    if (got == LineReader::Result::bare_cr) return refuse(400, "bare CR in the head");
    if (got == LineReader::Result::incomplete) {
      if (text.size() > kMaxHeadBytes) return refuse(400, "request head over 8 KiB");
      return ParseResult{};
    }
    if (lines.position() > kMaxHeadBytes) return refuse(400, "request head over 8 KiB");
    if (!have_request_line) {
      // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
      if (line.empty()) continue;
      if (auto error = read_request_line(line, request)) return *error;
      have_request_line = true;
      continue;
    }
    if (line.empty()) break;  // the end of the head
    if (auto error = read_field(line, request)) return *error;
  }
  if (auto error = apply_fields(request)) return *error;
  ParseResult r;
  r.status = ParseResult::Status::complete;
  r.request = std::move(request);
  r.consumed = lines.position();
  return r;
}

}  // namespace tapir::http
