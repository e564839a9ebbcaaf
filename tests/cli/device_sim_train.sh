#!/usr/bin/env bash
# Training over a serial line to `patlab device-sim`: lossless (f64) it matches in-process
# training bit for bit; with faults injected, and with the device killed and restarted midway,
# training pauses, resumes and completes as well.
source "$(dirname "$0")/common.sh"

"$PATLAB" train -q -o local --steps 150 --eval-every 30
exp=local/experiment.json

# 1. Over a pty, lossless: the very same run.
"$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev0" -q >sim0.log &
PIDS+=("$!")
wait_for "$WORK/dev0"
"$PATLAB" train -q "$exp" -o wire --steps 150 --eval-every 30 --device "$WORK/dev0" --format f64
cmp local/parameters.json wire/parameters.json || fail "over the wire (f64) differs from in-process"

# 1b. A device serving another system (or shape) than the layer's: refused before training,
# with exit code 2, saying what each side is.
"$PATLAB" device-sim crossbar --link "$WORK/devx" -q >simx.log &
PIDS+=("$!")
wait_for "$WORK/devx"
expect_code 2 "is 'crossbar'.*but the layer wants 'oscillators'" -- "$PATLAB" train -q "$exp" \
  -o wrong --steps 10 --device "$WORK/devx"

# 2. Faults: garbage, a lost reply, and the device vanishing for 1.5 s and coming back.
"$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev1" -q --fault garbage@5 \
  --fault drop-reply@20 --fault disconnect@40:1.5 >sim1.log &
PIDS+=("$!")
wait_for "$WORK/dev1"
"$PATLAB" train "$exp" -o faults --steps 150 --eval-every 30 --device "$WORK/dev1" 2>faults.err
grep -q "device problem" faults.err || fail "no pause reported for the disconnect"
grep -q "device is back" faults.err || fail "no resume reported"
acc=$(json faults/summary.json device_accuracy)
python3 -c "import sys; sys.exit(0 if $acc > 0.85 else 1)" || fail "accuracy after faults: $acc"

# 3. The device process killed mid-training and started again.
"$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev2" -q >sim2.log &
sim=$!
PIDS+=("$sim")
wait_for "$WORK/dev2"
"$PATLAB" train "$exp" -o restart --steps 1500 --eval-every 100 --device "$WORK/dev2" 2>restart.err &
train=$!
PIDS+=("$train")
for _ in $(seq 100); do [ "$(wc -l <restart/curves.csv 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.05; done
kill -INT "$sim"
wait "$sim" || true
sleep 1
"$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev2" -q >sim3.log &
PIDS+=("$!")
rc=0
wait "$train" || rc=$?
[ "$rc" = 0 ] || { cat restart.err >&2; fail "training over a restarted device exited $rc"; }
grep -q "device is back" restart.err || fail "the restart was not noticed"
[ "$(json restart/summary.json steps)" = 1500 ] || fail "restart run did not complete"
acc=$(json restart/summary.json device_accuracy)
python3 -c "import sys; sys.exit(0 if $acc > 0.85 else 1)" || fail "accuracy after restart: $acc"

# 4. A device that stays away: give up after --device-wait with exit code 1 and a checkpoint,
# then --resume once it is back.
"$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev3" -q --fault disconnect@30:4 >sim4.log &
PIDS+=("$!")
wait_for "$WORK/dev3"
expect_code 1 "gave up.*--resume" -- "$PATLAB" train "$exp" -o gaveup --steps 150 --eval-every 30 \
  --device "$WORK/dev3" --device-wait 1
grep -q "gave up" gaveup/log.txt || fail "log.txt does not say it gave up"
wait_for "$WORK/dev3"
"$PATLAB" train -q --resume gaveup --device "$WORK/dev3" --device-wait 10
[ "$(json gaveup/summary.json steps)" = 150 ] || fail "resumed run did not complete"
echo PASS
