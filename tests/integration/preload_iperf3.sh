#!/usr/bin/env bash
# iperf3, unmodified, over tapir (tapir-run), both ways round: iperf3 -c over tapir against
# Linux's iperf3 -s, and iperf3 -s over tapir (-4: its IPv4 socket is tapir's) with Linux's
# iperf3 -c, each for 3 s, forward and reverse (-R). iperf3 checks its own stream; the test
# checks that every run completes, moves data, and reports the same bytes at both ends. The
# throughput is printed, not judged (bench/RESULTS.md records it beside tapir-bulk's).
#
#   namespace N:  tap0 10.0.0.1/24 (Linux: iperf3)  <-TAP->  tapir-run ... 10.0.0.2/24 -- iperf3
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
require_cmd iperf3
require_python

ns_tmpdir_init
TMP=$_ns_tmp
ns_new N host || die "cannot create a namespace"
ns_tap "$N" tap0 10.0.0.1/24 || die "cannot create tap0"
RUN="'$TAPIR_RUN' --tap tap0 --ip 10.0.0.2/24 --"

# sent and received bytes, and the receiver's Mbit/s, from iperf3 --json.
cat >"$TMP/summary.py" <<'PYEOF'
import json, sys
end = json.load(open(sys.argv[1]))["end"]
sent, received = end["sum_sent"], end["sum_received"]
print(sent["bytes"], received["bytes"], int(received["bits_per_second"] / 1e6),
      int(1000 * received["bytes"] / max(1, sent["bytes"])))
PYEOF

# one_test LABEL SERVER-PREFIX SERVER-ADDR CLIENT-PREFIX PORT [CLIENT-FLAGS...]: one 3 s run, each
# side run as it is or under tapir-run (a prefix of "$RUN").
one_test() {
  local label=$1 server_prefix=$2 server_addr=$3 client_prefix=$4 port=$5
  shift 5
  local S
  preload_server S "$N" 'Server listening on' \
    sh -c "exec $server_prefix iperf3 -s -1 -4 -B $server_addr -p $port --forceflush" ||
    die "$label: iperf3 -s did not start"
  run "$N" sh -c "timeout 30 $client_prefix iperf3 -4 -c $server_addr -p $port -t 3 --json $* \
    >'$TMP/$port.json'"
  assert_eq "$label: iperf3 -c exit status" 0 "$RC"
  wait_pid "$S" 10
  assert_eq "$label: iperf3 -s ended by itself after the test" 0 "$?"
  local sent received mbits permille
  read -r sent received mbits permille < <("$PY" "$TMP/summary.py" "$TMP/$port.json" 2>/dev/null)
  assert_ge "$label: bytes moved (at least 1 MB)" 1000000 "${sent:-0}"
  assert_ge "$label: the receiver counted at least 95% of what was sent (per mille)" 950 \
    "${permille:-0}"
  if ((${received:-0} <= ${sent:-0})); then
    _it_ok "$label: the receiver counted no more than was sent ($received <= $sent)"
  else
    _it_bad "$label: the receiver counted no more than was sent" "sent $sent, received $received"
  fi
  echo "$label: ${mbits:-?} Mbit/s"
}

one_test "iperf3 -c over tapir -> Linux iperf3 -s" "" 10.0.0.1 "$RUN" 5201
one_test "iperf3 -c -R over tapir <- Linux iperf3 -s" "" 10.0.0.1 "$RUN" 5202 -R
one_test "Linux iperf3 -c -> iperf3 -s over tapir" "$RUN" 10.0.0.2 "" 5203
one_test "Linux iperf3 -c -R <- iperf3 -s over tapir" "$RUN" 10.0.0.2 "" 5204 -R
finish
