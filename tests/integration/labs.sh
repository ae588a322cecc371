#!/usr/bin/env bash
# The labs of scripts/labs/ (docs/labs/): each finished lab is brought up, checked before it
# is solved (the checker must FAIL and say what is missing: it cannot pass on an empty lab),
# solved as docs/labs/NN-*.md tells the student, checked again (every check must pass), and
# taken down; no namespace may be left behind.
#
# The labs run with a namespace prefix and a state directory of their own
# (TAPIR_LAB_PREFIX, TAPIR_LAB_RUN), so this never touches a lab a student has up.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_root
require_tapird
require_cmd ping tcpdump tracepath traceroute nc socat python3 comm

# The finished labs (a lab still in progress is not listed).
LABS=(01 02 03 05 06)

LAB_SCRIPTS=$IT_DIR/../../scripts/labs
export TAPIR_BIN=$IT_BIN
export TAPIR_LAB_PREFIX="${TAPIR_NS_PREFIX}-$$-"
ns_tmpdir_init
export TAPIR_LAB_RUN=$_ns_tmp/labs

lab_script() {
  local s
  s=$(compgen -G "$LAB_SCRIPTS/$1-*")
  [[ -n $s && -x $s ]] && echo "$s"
}

# Every lab that may be up is taken down, whatever happened; then netns.sh's cleanup.
_labs_cleanup() {
  local rc=$? nn s
  for nn in "${LABS[@]}"; do
    s=$(lab_script "$nn") && [[ -d $TAPIR_LAB_RUN/$nn ]] && "$s" down >/dev/null 2>&1
  done
  # Should a `down` have failed: the namespaces carry this script's PID in their prefix.
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -- "^$TAPIR_LAB_PREFIX"); do
    echo "labs: $ns was still there after down; deleting it" >&2
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  (exit "$rc")
  _ns_cleanup
}
trap _labs_cleanup EXIT

# lab_run NN CMD: run the lab's CMD (as a waited-for background job, so that this script's
# time limit reaches its trap at once); LAB_OUT = its output, LAB_RC = its exit status.
LAB_OUT=""
LAB_RC=0
lab_run() {
  local s pid
  s=$(lab_script "$1") || die "no executable scripts/labs/$1-*"
  "$s" "$2" >"$_ns_tmp/lab.out" 2>&1 </dev/null &
  pid=$!
  _ns_pids+=("$pid")
  wait "$pid"
  LAB_RC=$?
  _ns_forget_pid "$pid"
  LAB_OUT=$(<"$_ns_tmp/lab.out")
}

show_tail() { printf '%s\n' "$LAB_OUT" | tail -n "${1:-20}" | sed 's/^/       | /'; }

lab_namespaces() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep -c -- "^$TAPIR_LAB_PREFIX"; }

for nn in "${LABS[@]}"; do
  echo "# lab $nn"
  start=$SECONDS
  lab_run "$nn" up
  if ((LAB_RC != 0)); then
    assert_eq "lab $nn up: exit status" 0 "$LAB_RC"
    show_tail
    lab_run "$nn" down
    continue
  fi

  # Unsolved: the checker must fail, and each FAIL line must say what is missing.
  lab_run "$nn" check
  fails=$(grep -c '^FAIL  ' <<<"$LAB_OUT")
  unexplained=$(grep '^FAIL  ' <<<"$LAB_OUT" | grep -cv ' — .\{10,\}')
  if ((LAB_RC != 0)); then _it_ok "lab $nn: check fails before solve (exit $LAB_RC)"; else
    _it_bad "lab $nn: check fails before solve" "it exited 0 on a lab nobody solved:"
    show_tail
  fi
  assert_ge "lab $nn: FAIL lines before solve" 1 "$fails"
  assert_eq "lab $nn: FAIL lines that do not say what is missing" 0 "$unexplained"

  lab_run "$nn" solve
  assert_eq "lab $nn solve: exit status" 0 "$LAB_RC"
  ((LAB_RC == 0)) || show_tail

  lab_run "$nn" check
  assert_eq "lab $nn: check after solve: exit status" 0 "$LAB_RC"
  if ((LAB_RC != 0)); then show_tail 30; fi
  passed="" total=""
  if [[ $LAB_OUT =~ lab\ [0-9]+:\ ([0-9]+)\ of\ ([0-9]+)\ checks\ passed ]]; then
    passed=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
  fi
  assert_ge "lab $nn: checks that ran" 3 "$total"
  assert_eq "lab $nn: checks passed (of $total)" "$total" "$passed"
  assert_eq "lab $nn: FAIL lines after solve" 0 "$(grep -c '^FAIL  ' <<<"$LAB_OUT")"

  lab_run "$nn" down
  assert_eq "lab $nn down: exit status" 0 "$LAB_RC"
  assert_eq "lab $nn: namespaces left after down" 0 "$(lab_namespaces)"
  assert_eq "lab $nn: state directory left after down" no \
    "$([[ -e $TAPIR_LAB_RUN/$nn ]] && echo yes || echo no)"
  echo "# lab $nn took $((SECONDS - start)) s"
done
finish
