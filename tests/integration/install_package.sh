#!/usr/bin/env bash
# tapir as a library: cmake --install into a temporary prefix gives the headers, libtapir (static
# and shared), the programs, the preload library and tapir-run, a CMake package and tapir.pc;
# examples/ (a UDP and a TCP client, a project of its own) builds against that prefix with CMake
# (find_package(tapir CONFIG), tapir::tapir) and with pkg-config (examples/Makefile), and each
# build runs against Linux peers (socat's UDP and TCP echo) in a namespace; the installed
# tapir-run finds the installed preload library. Then cpack -G DEB builds a .deb whose control
# data and contents are checked, and dpkg says it would install here (--dry-run: the test leaves
# the system's packages alone).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: socat echo)  <-TAP->  the examples at 10.0.0.2/24
IT_TIMEOUT=280 # building the examples twice and a package takes a while on a busy machine
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
require_root
require_cmd cmake cpack make pkg-config g++ socat nc dpkg dpkg-deb

BUILD=$(cd "$IT_BIN/.." && pwd)
SRC=$(cd "$IT_DIR/../.." && pwd)
[[ -f $BUILD/CMakeCache.txt ]] || die "$BUILD is not a CMake build directory"
ns_tmpdir_init
TMP=$_ns_tmp
PREFIX=$TMP/prefix

# run_here CMD...: as run, outside any namespace.
run_here() {
  echo "+ $*"
  "$@" >"$TMP/run_here.out" 2>&1
  RC=$?
  OUT=$(<"$TMP/run_here.out")
  printf '%s\n' "$OUT" | sed 's/^/  | /' | tail -n 12
}

# --- install into a prefix of our own.
echo "+ cmake --install $BUILD --prefix $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1
assert_eq "cmake --install: exit status" 0 "$?"
libdir=$(cd "$PREFIX" && dirname "$(find . -name libtapir.so -print -quit)")
libdir=${libdir#./}
for f in include/tapir/socket.hpp include/tapir/host.hpp include/tapir/app.hpp \
  "$libdir/libtapir.a" "$libdir/libtapir.so" "$libdir/libtapir-preload.so" \
  "$libdir/cmake/tapir/tapirConfig.cmake" "$libdir/pkgconfig/tapir.pc" \
  bin/tapir-run bin/tapird bin/tapir-bulk; do
  assert_eq "installed: $f" yes "$([[ -e $PREFIX/$f ]] && echo yes || echo no)"
done
assert_eq "installed: no header of the stack's own" "" "$(cd "$PREFIX/include" && find . -path '*stack*')"

# --- the examples, out of tree, both ways. A sanitizer build's libtapir.so needs programs built
# with the same sanitizers (the ASan runtime must come first), so they get the build's flags.
SANITIZE=$(sed -nE 's/^CMAKE_CXX_FLAGS:STRING=.*(-fsanitize=[^ ]+).*/\1/p' "$BUILD/CMakeCache.txt")
EXTRA=()
[[ -n $SANITIZE ]] && EXTRA=("-DCMAKE_CXX_FLAGS=$SANITIZE" "-DCMAKE_EXE_LINKER_FLAGS=$SANITIZE")
echo "+ cmake -S $SRC/examples -B $TMP/ex-cmake -DCMAKE_PREFIX_PATH=$PREFIX ${EXTRA[*]} && cmake --build"
cmake -S "$SRC/examples" -B "$TMP/ex-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" "${EXTRA[@]}" \
  >"$TMP/ex-cmake.log" 2>&1 && cmake --build "$TMP/ex-cmake" >>"$TMP/ex-cmake.log" 2>&1
rc=$?
assert_eq "examples with CMake (find_package(tapir CONFIG)): build status" 0 "$rc"
((rc == 0)) || tail -n 20 "$TMP/ex-cmake.log"
mkdir -p "$TMP/ex-pc"
echo "+ PKG_CONFIG_PATH=$PREFIX/$libdir/pkgconfig make -C $SRC/examples OUT=$TMP/ex-pc"
PKG_CONFIG_PATH=$PREFIX/$libdir/pkgconfig make -C "$SRC/examples" OUT="$TMP/ex-pc" \
  ${SANITIZE:+CXXFLAGS="-O1 $SANITIZE"} >"$TMP/ex-pc.log" 2>&1
rc=$?
assert_eq "examples with pkg-config (examples/Makefile): build status" 0 "$rc"
((rc == 0)) || tail -n 20 "$TMP/ex-pc.log"
assert_match "the pkg-config build links libtapir.so from the prefix" "$PREFIX/.*libtapir\\.so\\.0" \
  "$(ldd "$TMP/ex-pc/tcp-client" 2>&1)"

ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
start_listener U "$N" 'receiving on' socat -d -d UDP4-RECVFROM:7007,bind=10.0.0.1,fork EXEC:cat ||
  die "Linux's UDP echo did not start"
start_listener T "$N" 'listening on' socat -d -d TCP4-LISTEN:7008,bind=10.0.0.1,reuseaddr,fork EXEC:cat ||
  die "Linux's TCP echo did not start"
for kind in cmake pc; do
  run "$N" timeout 20 "$TMP/ex-$kind/udp-client" --tap tap0 --ip 10.0.0.2/24 \
    --server 10.0.0.1:7007 --message "udp via $kind"
  assert_eq "udp-client ($kind build) against Linux's UDP echo" "udp via $kind (from 10.0.0.1:7007)" "$OUT"
  run "$N" timeout 20 "$TMP/ex-$kind/tcp-client" --tap tap0 --ip 10.0.0.2/24 \
    --server 10.0.0.1:7008 --message "tcp via $kind"
  assert_eq "tcp-client ($kind build) against Linux's TCP echo" "tcp via $kind" "$OUT"
done

# --- the installed tapir-run finds the installed library beside it.
run "$N" sh -c "printf 'installed preload\n' | timeout 20 '$PREFIX/bin/tapir-run' --tap tap0 \
  --ip 10.0.0.2/24 -- nc -N -w 5 10.0.0.1 7008"
assert_eq "the installed tapir-run with nc against Linux's TCP echo" "installed preload" "$OUT"
assert_match "...over tapir (the echo's peer was 10.0.0.2)" 'accepting connection from AF=2 10\.0\.0\.2:' \
  "$(listener_stderr "$T")"
stop_listener U
stop_listener T

# --- the .deb.
echo "+ cpack -G DEB --config $BUILD/CPackConfig.cmake -B $TMP/deb"
(cd "$BUILD" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/deb") >"$TMP/cpack.log" 2>&1
rc=$?
assert_eq "cpack -G DEB: exit status" 0 "$rc"
((rc == 0)) || tail -n 20 "$TMP/cpack.log"
deb=$(find "$TMP/deb" -maxdepth 1 -name 'tapir_*.deb' -print -quit)
assert_match "cpack made tapir_VERSION_ARCH.deb" 'tapir_[0-9.]+_[a-z0-9]+\.deb$' "$deb"
info=$(dpkg-deb --info "$deb" 2>&1)
assert_match "the .deb's Package" $'\n Package: tapir\n' "$info"$'\n'
assert_match "the .deb depends on the C and C++ libraries (dpkg-shlibdeps)" 'Depends: .*libc6.*libstdc\+\+6' "$info"
contents=$(dpkg-deb --contents "$deb" 2>&1)
for f in usr/bin/tapir-run usr/bin/tapird usr/include/tapir/socket.hpp libtapir-preload.so \
  'libtapir\.so\.0' 'libtapir\.a' cmake/tapir/tapirConfig.cmake pkgconfig/tapir.pc; do
  assert_match "the .deb holds $f" "\\./$f|/$f" "$contents"
done
run_here dpkg --dry-run -i "$deb"
assert_eq "dpkg --dry-run -i: it would install on this system" 0 "$RC"
finish
