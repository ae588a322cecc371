#!/usr/bin/env bash
# curl, unmodified, over tapir (tapir-run) downloads 50 MiB from Linux's python3 -m http.server
# byte-exact (SHA-256), and a page by a name from /etc/hosts (a private copy, bind-mounted in a
# mount namespace of the test's own). (preload_http_server is the other way round.)
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: http.server)  <-TAP->  tapir-run ... 10.0.0.2/24 -- curl
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
# shellcheck source=tests/integration/lib_preload.sh
source "$IT_DIR/lib_preload.sh"
require_root
require_preload
require_cmd curl sha256sum unshare mount
require_python
if preload_asan; then
  skip "curl hangs in setlocale() as soon as the AddressSanitizer runtime is preloaded into it, with or without tapir; this test runs in builds without ASan"
fi

ns_tmpdir_init
TMP=$_ns_tmp
WWW=$TMP/www
mkdir -p "$WWW" || die "cannot make $WWW"
BIG=$((50 * 1024 * 1024))
random_file "$WWW/big.bin" "$BIG"
printf '<!doctype html>\n<title>tapir</title>\n' >"$WWW/index.html"
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN="'$TAPIR_RUN' --tap tap0 --ip 10.0.0.2/24 --"

# --- curl over tapir <- Linux's http.server.
preload_server H "$N" '^Serving HTTP on 10\.0\.0\.1' \
  "$PY" -u -m http.server --bind 10.0.0.1 --directory "$WWW" 8000 ||
  die "python3 -m http.server did not start"
run "$N" sh -c "timeout 100 $RUN curl -sS --max-time 90 -o '$TMP/big.out' \
  -w '%{http_code} %{size_download} %{speed_download}\n' http://10.0.0.1:8000/big.bin"
assert_eq "curl over tapir: exit status" 0 "$RC"
read -r code size speed <<<"$OUT"
assert_eq "curl over tapir: status and bytes" "200 $BIG" "$code $size"
assert_eq "curl over tapir: SHA-256 of 50 MiB" "$(sha256_of "$WWW/big.bin")" "$(sha256_of "$TMP/big.out")"
echo "curl over tapir: $((${speed%.*} * 8 / 1000000)) Mbit/s"
rm -f -- "$TMP/big.out"
assert_match "http.server saw the request come from tapir (10.0.0.2)" \
  '10\.0\.0\.2 - - .*"GET /big.bin HTTP/1.1" 200' "$(listener_stderr "$H")"

# --- by name: /etc/hosts is the C library's own business, which the library leaves to it.
printf '127.0.0.1 localhost\n10.0.0.1 linux-peer.test\n' >"$TMP/hosts"
run "$N" unshare -m sh -c "mount --bind '$TMP/hosts' /etc/hosts && timeout 30 $RUN curl -sS \
  --max-time 20 -o '$TMP/named.out' -w '%{http_code}\n' http://linux-peer.test:8000/index.html"
assert_eq "curl over tapir by a name in /etc/hosts: status" 200 "$OUT"
assert_eq "curl over tapir by a name in /etc/hosts: body" "$(<"$WWW/index.html")" "$(<"$TMP/named.out")"
stop_listener "$H"
finish
