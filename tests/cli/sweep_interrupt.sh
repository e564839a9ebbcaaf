#!/usr/bin/env bash
# SIGTERM (or Ctrl-C) stops a sweep between training steps, not only between cells: exit 130,
# the cells already finished kept in the .partial file, the cell cut short not written.
source "$(dirname "$0")/common.sh"

# Cell 0 (pat) takes a moment; cell 1 (finite differences: a query per parameter each step)
# takes far longer, so the signal lands inside it.
"$PATLAB" sweep -q --method pat,fd --steps 3000 -o s.csv &
pid=$!
PIDS+=("$pid")
for _ in $(seq 600); do  # until cell 0's row is in (60 s at most)
  [ "$(wc -l <s.csv.partial 2>/dev/null || echo 0)" -ge 2 ] && break
  sleep 0.1
done
[ "$(wc -l <s.csv.partial)" = 2 ] || fail "cell 0 did not finish alone: $(cat s.csv.partial)"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || fail "SIGTERM: exit $rc, expected 130"
[ ! -e s.csv ] || fail "an interrupted sweep wrote its result file"
[ "$(wc -l <s.csv.partial)" = 2 ] || fail "the cell cut short was written: $(cat s.csv.partial)"
grep -qE '^0,2,([^,]*,)?pat,1,' s.csv.partial || fail "cell 0 lost: $(cat s.csv.partial)"
echo PASS
