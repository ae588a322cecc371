#!/usr/bin/env bash
# python3 -m http.server, unmodified, over tapir (tapir-run: its threads, its poll loop,
# sendall over a tapir socket) serves Linux's curl: 20 MiB byte-exact (SHA-256), a directory
# listing and a 404. (preload_curl is the other way round.)
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: curl)  <-TAP->  tapir-run ... 10.0.0.2/24 -- http.server
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
require_cmd curl sha256sum
require_python

ns_tmpdir_init
TMP=$_ns_tmp
WWW=$TMP/www
mkdir -p "$WWW" || die "cannot make $WWW"
random_file "$WWW/mid.bin" $((20 * 1024 * 1024))
mkdir -p "$WWW/sub" && printf 'a file\n' >"$WWW/sub/file.txt"
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN="'$TAPIR_RUN' --tap tap0 --ip 10.0.0.2/24 --"

# --- Linux's curl <- http.server over tapir (-u: its "Serving" line is not held in a buffer).
preload_server P "$N" '^Serving HTTP on 10\.0\.0\.2' \
  sh -c "exec $RUN '$PY' -u -m http.server --bind 10.0.0.2 --directory '$WWW' 8001" ||
  die "python3 -m http.server over tapir did not start"
run "$N" curl -sS --max-time 90 -o "$TMP/mid.out" -w '%{http_code} %{size_download} %{speed_download}\n' \
  http://10.0.0.2:8001/mid.bin
assert_eq "Linux curl <- http.server over tapir: exit status" 0 "$RC"
read -r code size speed <<<"$OUT"
assert_eq "Linux curl <- http.server over tapir: status and bytes" "200 $((20 * 1024 * 1024))" \
  "$code $size"
assert_eq "Linux curl <- http.server over tapir: SHA-256 of 20 MiB" "$(sha256_of "$WWW/mid.bin")" \
  "$(sha256_of "$TMP/mid.out")"
echo "Linux curl <- http.server over tapir: $((${speed%.*} * 8 / 1000000)) Mbit/s"
run "$N" curl -sS --max-time 10 http://10.0.0.2:8001/sub/
assert_match "Linux curl <- http.server over tapir: a directory listing" 'href="file\.txt"' "$OUT"
run "$N" curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' http://10.0.0.2:8001/missing
assert_eq "Linux curl <- http.server over tapir: a missing file" 404 "$OUT"
stop_listener "$P"
finish
