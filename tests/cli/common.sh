# tests/cli/common.sh: sourced by the command-line tests. Usage of every test:
#   TEST.sh PATH/TO/patlab SCRATCH_FOLDER
set -euo pipefail
PATLAB="$1"
WORK="$2"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# json FILE KEY: one top-level value of a JSON file.
json() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# expect_code CODE PATTERN -- COMMAND...: the command exits with CODE and its stderr matches PATTERN.
expect_code() {
  local want="$1" pattern="$2"
  shift 3
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  [ "$rc" = "$want" ] || { cat err.txt >&2; fail "'$*' exited $rc, expected $want"; }
  grep -qE -- "$pattern" err.txt || { cat err.txt >&2; fail "'$*': stderr does not match '$pattern'"; }
}

# Background processes this test started, stopped by id when it ends.
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# wait_for FILE: until it exists (5 s at most).
wait_for() {
  for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done
  fail "$1 did not appear"
}
