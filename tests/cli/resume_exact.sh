#!/usr/bin/env bash
# A run stopped midway (--stop-after, or SIGTERM) and resumed ends exactly where an
# uninterrupted run does: same parameters, same curves.
source "$(dirname "$0")/common.sh"

"$PATLAB" train -q -o whole --steps 300 --knob readout_noise_rad=0.05

"$PATLAB" train -q -o split --steps 300 --knob readout_noise_rad=0.05 --stop-after 137
[ "$(json split/summary.json steps 2>/dev/null || echo none)" = none ] || fail "stopped run wrote a summary"
"$PATLAB" train -q --resume split
cmp whole/parameters.json split/parameters.json || fail "--stop-after + --resume: parameters differ"
cmp whole/curves.csv split/curves.csv || fail "--stop-after + --resume: curves differ"

# SIGTERM: checkpoint at the next step, exit 130, then resume.
# (3000 steps, so that the signal lands mid-run: 300 take a fraction of a second.)
"$PATLAB" train -q -o killed --steps 3000 --knob readout_noise_rad=0.05 --eval-every 15 \
  --checkpoint-every 15 &
pid=$!
PIDS+=("$pid")
wait_for killed/checkpoint.bin
kill -TERM "$pid" 2>/dev/null || true  # (already finished: checked below)
rc=0
wait "$pid" || rc=$?
if [ "$rc" = 130 ]; then
  "$PATLAB" train -q --resume killed
else
  [ "$rc" = 0 ] || fail "SIGTERM: exit $rc"  # it may have finished before the signal
fi
"$PATLAB" train -q -o whole15 --steps 3000 --knob readout_noise_rad=0.05 --eval-every 15
cmp whole15/parameters.json killed/parameters.json || fail "SIGTERM + --resume: parameters differ"
cmp whole15/curves.csv killed/curves.csv || fail "SIGTERM + --resume: curves differ"

# A damaged checkpoint is refused with a message, not used.
cp -r split broken
printf 'x' | dd of=broken/checkpoint.bin bs=1 seek=200 conv=notrunc 2>/dev/null
expect_code 1 "checkpoint" -- "$PATLAB" train -q --resume broken --steps 400
echo PASS
