#!/usr/bin/env bash
# curl downloads from tapird --http: a 50 MiB file of random bytes arrives whole (SHA-256),
# HEAD gives its Content-Length and no body, a missing file is 404, and two URLs in one curl
# run share one keep-alive connection (RFC 9112 §9.3).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux, curl)  <-TAP->  tapird --tap tap0 --ip 10.0.0.2/24
#                                                          --http DIR --http-port 8080
# The files live in the test's private temporary directory, which the EXIT trap removes.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
require_root
require_tapird
require_cmd curl sha256sum

ns_tmpdir_init
WWW=$_ns_tmp/www
mkdir -p "$WWW" || die "cannot make $WWW"
BIG=$((50 * 1024 * 1024))
random_file "$WWW/big.bin" "$BIG"
printf '<!doctype html>\n<title>tapir</title>\n<p>served by tapird over tapir TCP\n' >"$WWW/index.html"
URL=http://10.0.0.2:8080

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_tapird T "$N" --tap tap0 --ip 10.0.0.2/24 --http "$WWW" --http-port 8080 --stats ||
  die "tapird --http did not start"

# --- GET of 50 MiB: status, size and hash (--max-time bounds a stalled transfer).
run "$N" curl -sS --max-time 90 -o "$_ns_tmp/big.out" -w '%{http_code} %{size_download}\n' \
  "$URL/big.bin"
assert_eq "GET /big.bin: curl exit status" 0 "$RC"
assert_eq "GET /big.bin: status and bytes" "200 $BIG" "$OUT"
assert_eq "GET /big.bin: SHA-256" "$(sha256_of "$WWW/big.bin")" "$(sha256_of "$_ns_tmp/big.out")"
rm -f -- "$_ns_tmp/big.out"

# --- HEAD: the headers a GET would have, no body.
run "$N" curl -sS --max-time 10 -I "$URL/big.bin"
assert_match "HEAD /big.bin: status line" $'^HTTP/1\\.1 200 [^\r\n]*\r' "$OUT"
assert_match "HEAD /big.bin: Content-Length" $'(^|\n)[Cc]ontent-[Ll]ength: '"$BIG"$'\r' "$OUT"

# --- a missing file.
run "$N" curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' "$URL/no-such-file.txt"
assert_eq "GET /no-such-file.txt: status" 404 "$OUT"

# --- keep-alive: two URLs, one connection. curl -v says "Re-using existing connection" when it
# sends the second request on the first one's connection.
run "$N" sh -c "curl -v -sS --max-time 10 -o /dev/null -o /dev/null -w '%{http_code}\n' \
  '$URL/index.html' '$URL/index.html' 2>'$_ns_tmp/keepalive.err'"
assert_eq "two URLs in one curl: statuses" $'200\n200' "$OUT"
keepalive=$(<"$_ns_tmp/keepalive.err")
assert_match "two URLs in one curl: the second reuses the connection" \
  "Re-using existing connection" "$keepalive"
assert_eq "two URLs in one curl: connections opened" 1 \
  "$(grep -c '^\* Connected to ' "$_ns_tmp/keepalive.err")"

# --- the body of a small file, byte-exact.
run "$N" curl -sS --max-time 10 "$URL/index.html"
assert_eq "GET /index.html: body" "$(<"$WWW/index.html")" "$OUT"

stop_tapird_checked "$T"
assert_eq "tapird tcpEstabResets" 0 "$(tapird_counter "$T" tcpEstabResets)"
finish
