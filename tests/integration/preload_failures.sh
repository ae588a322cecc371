#!/usr/bin/env bash
# How tapir-run and the preload library fail, and how they answer what they do not support:
# bad flags, no interface, no PROGRAM, a TAP another process holds, a program that is not there
# (each one line and a non-zero exit before PROGRAM runs, the same line as tapird's for the same
# flag); the TAPIR_* variables with LD_PRELOAD directly (a good set works, a bad one stops the
# program at load); calls tapir does not support (Linux's errno: ENOPROTOOPT, ENOTTY, EINVAL;
# fstat says it is a socket); --stats on stderr at exit; and names resolved with AI_ADDRCONFIG
# where the kernel has IPv6 but no IPv4 of its own.
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: socat echo)  <-TAP->  tapir-run ... 10.0.0.2/24
#   namespace V:  tap0 with IPv6 only (no IPv4 on the kernel's side but loopback)
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=tests/integration/lib_apps.sh
source "$IT_DIR/lib_apps.sh"
# shellcheck source=tests/integration/lib_tcp.sh
source "$IT_DIR/lib_tcp.sh"
# shellcheck source=tests/integration/lib_preload.sh
source "$IT_DIR/lib_preload.sh"
require_root
require_tapird
require_preload
require_cmd socat unshare mount
require_python

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
MARK=$TMP/program-ran

# refused LABEL STATUS ERE ARGS...: tapir-run ARGS exits STATUS with one line matching ERE on
# stderr, and the program (touch MARK) never ran.
refused() {
  local label=$1 status=$2 ere=$3
  shift 3
  rm -f -- "$MARK"
  run "$N" "$TAPIR_RUN" "$@"
  assert_eq "$label: exit status" "$status" "$RC"
  assert_eq "$label: lines on stderr" 1 "$(grep -c . <<<"$OUT")"
  assert_match "$label: the line" "$ere" "$OUT"
  assert_eq "$label: the program did not run" no "$([[ -e $MARK ]] && echo yes || echo no)"
}

refused "unknown flag" 2 '^tapir-run: unknown flag "--bogus" \(try --help\)$' \
  --tap tap0 --ip 10.0.0.2/24 --bogus -- touch "$MARK"
refused "no interface" 2 '^tapir-run: expected at least one --tap NAME or --packet IFNAME' \
  -- touch "$MARK"
refused "no -- PROGRAM" 2 '^tapir-run: unexpected argument "touch"; expected -- before PROGRAM' \
  --tap tap0 --ip 10.0.0.2/24 touch "$MARK"
refused "nothing after --" 2 '^tapir-run: expected PROGRAM after --' --tap tap0 --ip 10.0.0.2/24 --
run "$N" "$TAPIRD" --tap tap0 --ip 10.0.0.300/24
tapird_line=${OUT#tapird: }
refused "a bad --ip, as tapird says it" 2 "^tapir-run: ${tapird_line//./\\.}\$" \
  --tap tap0 --ip 10.0.0.300/24 -- touch "$MARK"
refused "a program that is not there" 127 '^tapir-run: no-such-program-here: No such file or directory$' \
  --tap tap0 --ip 10.0.0.2/24 -- no-such-program-here

# A TAP another process holds (tapird) cannot be attached: one line, status 1.
start_tapird T "$N" --tap tap0 --ip 10.0.0.3/24 || die "tapird did not start"
refused "a TAP held by another process" 1 '^tapir-run: .*tap0' --tap tap0 --ip 10.0.0.2/24 -- touch "$MARK"
stop_tapird "$T"

# --- LD_PRELOAD directly, with the TAPIR_* variables.
read -r -a PRELOAD <<<"$(preload_env)"
start_listener E "$N" 'listening on' socat -d -d TCP4-LISTEN:5006,bind=10.0.0.1,reuseaddr,fork EXEC:cat ||
  die "socat echo did not start"
run "$N" env "${PRELOAD[@]}" TAPIR_TAP=tap0 TAPIR_IP=10.0.0.2/24 TAPIR_STATS=1 "$PY" -c '
import socket
s = socket.create_connection(("10.0.0.1", 5006), timeout=10)
s.sendall(b"over tapir\n"); s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode().strip(), s.getsockname()[0])'
assert_eq "LD_PRELOAD with TAPIR_TAP/TAPIR_IP: exit status" 0 "$RC"
assert_match "LD_PRELOAD with TAPIR_TAP/TAPIR_IP: the echo, from 10.0.0.2" '^over tapir 10\.0\.0\.2' "$OUT"
assert_match "TAPIR_STATS=1: the counters on stderr at exit" $'(^|\n)tcpActiveOpens 1' "$OUT"
rm -f -- "$MARK"
run "$N" env "${PRELOAD[@]}" TAPIR_TAP=tap0 TAPIR_IP=10.0.0.2 touch "$MARK"
assert_eq "a bad TAPIR_IP: exit status" 2 "$RC"
assert_match "a bad TAPIR_IP: one line, as the flag's" '^tapir: --ip: expected ADDR/PREFIX like 10\.0\.0\.2/24, got "10\.0\.0\.2"' "$OUT"
assert_eq "a bad TAPIR_IP: the program did not run" no "$([[ -e $MARK ]] && echo yes || echo no)"

# --- calls tapir does not support answer as Linux does for an unsupported option or request.
run "$N" timeout 20 "$TAPIR_RUN" --tap tap0 --ip 10.0.0.2/24 -- "$PY" -c '
import errno, fcntl, os, socket, stat, struct
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
def attempt(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
print("TCP_INFO", len(info), "state", info[0])
attempt("SO_BINDTODEVICE", lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"tap0"))
attempt("SIOCGIFADDR", lambda: fcntl.ioctl(s, 0x8915, struct.pack("256s", b"tap0")))
attempt("F_SETOWN", lambda: fcntl.fcntl(s, fcntl.F_SETOWN, os.getpid()))
attempt("FIONBIO", lambda: fcntl.ioctl(s, 0x5421, struct.pack("i", 1)))
print("nonblocking", not s.getblocking() or bool(fcntl.fcntl(s, fcntl.F_GETFL) & os.O_NONBLOCK))
print("S_ISSOCK", stat.S_ISSOCK(os.fstat(s.fileno()).st_mode))
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
print("AF_INET6 family", u.family == socket.AF_INET6)'
assert_eq "unsupported calls: exit status (no crash)" 0 "$RC"
assert_match "getsockopt(TCP_INFO): Linux's 232 bytes, CLOSED (7) before connect" $'(^|\n)TCP_INFO 232 state 7' "$OUT"
assert_match "setsockopt(SO_BINDTODEVICE): ENOPROTOOPT" $'(^|\n)SO_BINDTODEVICE ENOPROTOOPT' "$OUT"
assert_match "ioctl(SIOCGIFADDR): ENOTTY" $'(^|\n)SIOCGIFADDR ENOTTY' "$OUT"
assert_match "fcntl(F_SETOWN): EINVAL" $'(^|\n)F_SETOWN EINVAL' "$OUT"
assert_match "ioctl(FIONBIO) works, and F_GETFL shows it" $'(^|\n)FIONBIO ok\nnonblocking True' "$OUT"
assert_match "fstat: a socket" $'(^|\n)S_ISSOCK True' "$OUT"
assert_match "AF_INET6 sockets stay the kernel's" 'AF_INET6 family True' "$OUT"
stop_listener "$E"

# --- names: where the kernel has IPv6 and no IPv4, AI_ADDRCONFIG would drop every IPv4 answer;
# over tapir (whose IPv4 the kernel cannot see) the library does not pass it on.
ns_new V v6 || die "cannot create a namespace"
ns_tap "$V" tap0 || die "cannot create tap0 in the IPv6 namespace"
ip -n "$V" addr add fd00::1/64 dev tap0 nodad || die "cannot give tap0 an IPv6 address"
printf '127.0.0.1 localhost\n10.0.0.1 peer.test\n' >"$TMP/hosts"
cat >"$TMP/resolve.py" <<'PYEOF'
import socket
try:
    print(socket.getaddrinfo("peer.test", 80, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                             socket.AI_ADDRCONFIG)[0][4][0])
except socket.gaierror as e:
    print("gaierror", e.errno)
PYEOF
run "$V" unshare -m sh -c "mount --bind '$TMP/hosts' /etc/hosts && '$PY' '$TMP/resolve.py'"
assert_match "without tapir, AI_ADDRCONFIG finds no IPv4 here" '^gaierror' "$OUT"
run "$V" unshare -m sh -c "mount --bind '$TMP/hosts' /etc/hosts && \
  '$TAPIR_RUN' --tap tap1 --ip 10.0.0.2/24 -- '$PY' '$TMP/resolve.py'"
assert_eq "over tapir, AI_ADDRCONFIG: peer.test from /etc/hosts" 10.0.0.1 "$OUT"
finish
