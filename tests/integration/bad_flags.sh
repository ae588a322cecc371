#!/usr/bin/env bash
# tapird rejects a bad command line with exactly one line naming the flag, and exit status 2.
# Needs no root; as root each case runs inside a fresh namespace so that nothing tapird
# might do before rejecting a flag (such as creating a TAP) can reach the host.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
require_tapird

NS=""
if ((EUID == 0)) && ns_new NS sandbox 2>/dev/null; then :; else NS=""; fi

# check_bad FLAG ARGS...: tapird ARGS must exit 2 and print one line that mentions FLAG.
check_bad() {
  local flag=$1 msg rc lines
  shift
  if [[ -n $NS ]]; then
    msg=$(timeout 10 ip netns exec "$NS" "$TAPIRD" "$@" 2>&1 </dev/null)
  else
    msg=$(timeout 10 "$TAPIRD" "$@" 2>&1 </dev/null)
  fi
  rc=$?
  lines=$(printf '%s' "$msg" | grep -c '')
  echo "+ tapird $*"
  printf '%s\n' "$msg" | sed 's/^/  | /' | head -n 5
  assert_eq "exit status of: tapird $*" 2 "$rc"
  assert_eq "lines printed by: tapird $*" 1 "$lines"
  assert_match "the message names $flag" "(^|[^a-z-])$flag([^a-z-]|$)" "$msg"
}

check_bad --bogus --bogus
check_bad --tap --tap
check_bad --ip --tap t0 --ip 10.0.0.300/24
check_bad --ip --tap t0 --ip 10.0.0.2/33
check_bad --ip --tap t0 --ip not-an-address/24
check_bad --mtu --tap t0 --ip 10.0.0.2/24 --mtu abc
check_bad --mac --tap t0 --ip 10.0.0.2/24 --mac 02:00:zz:00:00:01
check_bad --gw --tap t0 --ip 10.0.0.2/24 --gw 10.0.0.999
check_bad --route --tap t0 --ip 10.0.0.2/24 --route 10.9.0.0/16
check_bad --syn-cookies --tap t0 --ip 10.0.0.2/24 --syn-cookies maybe
finish
