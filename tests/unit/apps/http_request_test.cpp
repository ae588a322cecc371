// HTTP/1.x request heads (apps/http_request.hpp) and how a decoded path maps to a served file
// (apps/http_server.hpp): one test per rule of RFC 9112 the parser enforces.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "apps/http_request.hpp"
#include "apps/http_server.hpp"

using namespace tapir::http;
using Status = ParseResult::Status;

namespace {

ParseResult parse(const std::string& text) {
  return parse_request(text);
}

int error_of(const std::string& text) {
  const ParseResult r = parse(text);
  return r.status == Status::error ? r.error_status : 0;
}

// A fresh directory under the system's temporary one, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string name = (std::filesystem::temp_directory_path() / "tapir-http-XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path_ = std::filesystem::canonical(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("a GET head is complete and consumes its bytes only, up to the blank line", "[http]") {
  const std::string first = "GET /index.html HTTP/1.1\r\nHost: 10.0.0.2\r\nAccept: */*\r\n\r\n";
  const ParseResult r = parse(first + "GET /second HTTP/1.1\r\n");
  REQUIRE(r.status == Status::complete);
  CHECK(r.consumed == first.size());
  CHECK(r.request.method == "GET");
  CHECK(r.request.target == "/index.html");
  CHECK(r.request.path == "/index.html");
  CHECK(r.request.minor_version == 1);
  REQUIRE(r.request.headers.size() == 2);
  CHECK(r.request.headers[0].name == "host");
  CHECK(r.request.headers[0].value == "10.0.0.2");
  CHECK(r.request.keep_alive);
  CHECK(r.request.content_length == 0);
}

TEST_CASE("a head without its blank line yet is incomplete", "[http]") {
  CHECK(parse("").status == Status::incomplete);
  CHECK(parse("GET / HTTP/1.1").status == Status::incomplete);
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n").status == Status::incomplete);
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r").status == Status::incomplete);
}

TEST_CASE("lines may end in a bare LF (RFC 9112 2.2)", "[http]") {
  const std::string head = "GET / HTTP/1.1\nHost: a\n\n";
  const ParseResult r = parse(head);
  REQUIRE(r.status == Status::complete);
  CHECK(r.consumed == head.size());
}

TEST_CASE("empty lines before the request line are skipped and counted as consumed", "[http]") {
  const std::string head = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const ParseResult r = parse(head);
  REQUIRE(r.status == Status::complete);
  CHECK(r.consumed == head.size());
}

TEST_CASE("a bare CR inside the head is refused with 400", "[http]") {
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == 400);
}

TEST_CASE("a request line that is not METHOD SP TARGET SP VERSION is refused with 400", "[http]") {
  CHECK(error_of("GET /\r\n\r\n") == 400);
  CHECK(error_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET / http/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
}

TEST_CASE("a well-formed version other than HTTP/1.x is refused with 505", "[http]") {
  CHECK(error_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
  CHECK(error_of("GET / HTTP/0.9\r\n\r\n") == 505);
}

TEST_CASE("any method token parses: the server, not the parser, answers 405", "[http]") {
  const ParseResult r = parse("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(r.status == Status::complete);
  CHECK(r.request.method == "DELETE");
  const ParseResult options = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(options.status == Status::complete);
  CHECK(options.request.path == "*");
}

TEST_CASE("HTTP/1.1 needs exactly one Host field, HTTP/1.0 none", "[http]") {
  CHECK(error_of("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(parse("GET / HTTP/1.0\r\n\r\n").status == Status::complete);
}

TEST_CASE("HTTP/1.1 keeps the connection unless Connection: close", "[http]") {
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").request.keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").request.keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n")
                  .request.keep_alive);
}

TEST_CASE("HTTP/1.0 closes the connection unless Connection: keep-alive", "[http]") {
  CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  const ParseResult r = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(r.request.minor_version == 0);
  CHECK(r.request.keep_alive);
}

TEST_CASE("field names are lower-cased and values trimmed of optional whitespace", "[http]") {
  const ParseResult r = parse("GET / HTTP/1.1\r\nHOST:a\r\nX-Thing: \t two words \t\r\n\r\n");
  REQUIRE(r.status == Status::complete);
  REQUIRE(r.request.header("x-thing") != nullptr);
  CHECK(*r.request.header("x-thing") == "two words");
  CHECK(*r.request.header("host") == "a");
  CHECK(r.request.header("missing") == nullptr);
}

TEST_CASE("malformed header fields are refused with 400", "[http]") {
  CHECK(error_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);            // space before ':'
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400);  // obs-fold
  CHECK(error_of("GET / HTTP/1.1\r\nHost a\r\n\r\n") == 400);              // no ':'
  CHECK(error_of("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n") == 400);      // empty name
  CHECK(error_of(std::string("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n")) == 400);
}

TEST_CASE("a head over 8 KiB is refused with 400, before or after it is complete", "[http]") {
  const std::string big(kMaxHeadBytes, 'x');
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: " + big) == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: " + big + "\r\n\r\n") == 400);
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::string fits =
      head + "X: " + std::string(kMaxHeadBytes - head.size() - 7, 'x') + "\r\n\r\n";
  REQUIRE(fits.size() == kMaxHeadBytes);
  CHECK(parse(fits).status == Status::complete);
}

TEST_CASE("Content-Length is read, repeated equal values are one, different ones are 400",
          "[http]") {
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n").request.content_length ==
        12);
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n")
            .request.content_length == 5);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") ==
        400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n") ==
        400);
}

TEST_CASE("a Transfer-Encoding is refused with 501", "[http]") {
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
}

TEST_CASE("the path is percent-decoded, without the query", "[http]") {
  const ParseResult r = parse("GET /a%20b/%41.html?x=%zz HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(r.status == Status::complete);
  CHECK(r.request.target == "/a%20b/%41.html?x=%zz");
  CHECK(r.request.path == "/a b/A.html");
}

TEST_CASE("an absolute-form target gives its path", "[http]") {
  CHECK(parse("GET http://10.0.0.2/x.txt HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n").request.path ==
        "/x.txt");
  CHECK(parse("GET http://10.0.0.2 HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n").request.path == "/");
}

TEST_CASE("a bad or NUL percent-escape in the path is refused with 400", "[http]") {
  CHECK(error_of("GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET /a%g0 HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(error_of("GET /a%00.html HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
}

TEST_CASE("percent_decode turns escapes into bytes", "[http]") {
  CHECK(percent_decode("%2e%2E%2f") == "../");
  CHECK(percent_decode("plain") == "plain");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%4").has_value());
}

// --- from a decoded path to a file --------------------------------------------------------

TEST_CASE("Content-Type follows the extension, in any case, else application/octet-stream",
          "[http]") {
  CHECK(content_type_for("a/index.HTML") == "text/html");
  CHECK(content_type_for("x.htm") == "text/html");
  CHECK(content_type_for("x.txt") == "text/plain");
  CHECK(content_type_for("x.css") == "text/css");
  CHECK(content_type_for("x.js") == "text/javascript");
  CHECK(content_type_for("x.json") == "application/json");
  CHECK(content_type_for("x.png") == "image/png");
  CHECK(content_type_for("x.jpg") == "image/jpeg");
  CHECK(content_type_for("x.jpeg") == "image/jpeg");
  CHECK(content_type_for("x.gif") == "image/gif");
  CHECK(content_type_for("x.svg") == "image/svg+xml");
  CHECK(content_type_for("x.pdf") == "application/pdf");
  CHECK(content_type_for("x.bin") == "application/octet-stream");
  CHECK(content_type_for("Makefile") == "application/octet-stream");
}

TEST_CASE("a path resolves under the root, . and empty segments ignored", "[http]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "docs");
  std::ofstream(dir.path() / "docs" / "a.txt") << "a";
  CHECK(resolve_path(dir.path(), "/docs/a.txt") == dir.path() / "docs" / "a.txt");
  CHECK(resolve_path(dir.path(), "//docs/./a.txt") == dir.path() / "docs" / "a.txt");
  CHECK(resolve_path(dir.path(), "/") == dir.path());
  CHECK(resolve_path(dir.path(), "/missing.html") == dir.path() / "missing.html");
}

TEST_CASE("a path with a .. segment is refused, even one that stays inside", "[http]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "docs");
  CHECK_FALSE(resolve_path(dir.path(), "/../etc/passwd").has_value());
  CHECK_FALSE(resolve_path(dir.path(), "/docs/../docs").has_value());
  CHECK_FALSE(resolve_path(dir.path(), *percent_decode("/..%2f..%2fetc%2fpasswd")).has_value());
  CHECK_FALSE(resolve_path(dir.path(), "relative").has_value());
}

TEST_CASE("a symbolic link that leads outside the root is refused", "[http]") {
  TempDir outside;
  TempDir dir;
  std::ofstream(outside.path() / "secret.txt") << "secret";
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "out");
  std::filesystem::create_symlink(outside.path() / "secret.txt", dir.path() / "s.txt");
  CHECK_FALSE(resolve_path(dir.path(), "/out/secret.txt").has_value());
  CHECK_FALSE(resolve_path(dir.path(), "/s.txt").has_value());
}

TEST_CASE("a sibling directory sharing the root's name as a prefix is outside", "[http]") {
  TempDir dir;
  const std::filesystem::path sibling = dir.path().string() + "-old";
  std::filesystem::create_directory(sibling);
  std::filesystem::create_directory_symlink(sibling, dir.path() / "old");
  CHECK_FALSE(resolve_path(dir.path(), "/old").has_value());
  std::filesystem::remove_all(sibling);
}
