#!/usr/bin/env bash
# A device whose reply comes later than the host's whole retry window: the host gives up, the
# step (or evaluation) is rolled back and repeated, and the late reply must do no harm. On a
# noisy device, lossless (f64), the run must end exactly as the same training in-process:
# same parameters, same curves, same query count. A batch run twice would show everywhere.
source "$(dirname "$0")/common.sh"

"$PATLAB" train -q -o local --steps 60 --eval-every 30
exp=local/experiment.json
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][1]["knobs"]["readout_noise_rad"] > 0)' "$exp")" = True ] ||
  fail "the test needs a noisy device"

# Requests: 1 HELLO, 2-31 steps 1-30, 32-34 the evaluation at step 30 (three requests in f64),
# 35... steps 31 on. `delay@N:2` holds back the reply to request N+1 for 2 s, where the host
# gives up after 2 tries of about 0.2 s: first a training step (request 11), then, on a fresh
# simulator, the evaluation's second request (33), whose first one was answered in time.
for n in 10 32; do
  "$PATLAB" device-sim --experiment "$exp" --link "$WORK/dev$n" --fault delay@$n:2 >sim$n.log &
  PIDS+=("$!")
  wait_for "$WORK/dev$n"
  "$PATLAB" train "$exp" -o wire$n --steps 60 --eval-every 30 --device "$WORK/dev$n" \
    --format f64 --timeout 0.2 --retries 1 --baud 1000000 2>wire$n.err
  grep -q "no reply after 2 tries" wire$n.err ||
    { cat wire$n.err >&2; fail "delay@$n: the delay did not outlast the retry window"; }
  grep -q "device is back" wire$n.err || fail "delay@$n: no resume reported"
  for key in queries device_accuracy test_loss_device twin_accuracy steps; do
    a=$(json local/summary.json $key)
    b=$(json wire$n/summary.json $key)
    [ "$a" = "$b" ] || fail "delay@$n: $key $b over the wire after a late reply, $a in-process"
  done
  cmp local/curves.csv wire$n/curves.csv || fail "delay@$n: curves differ from in-process training"
  cmp local/parameters.json wire$n/parameters.json ||
    fail "delay@$n: parameters differ from in-process training"
done

# fit-twin: a collection of 80 requests interrupted by a late reply starts again from the same
# draws; the twin fitted over the wire equals the one fitted in-process, from as many queries.
"$PATLAB" fit-twin --system oscillators --knob eta=0.3 --iterations 30 -o twin_local.json >fit_local.out
"$PATLAB" device-sim oscillators --knob eta=0.3 --link "$WORK/devf" --fault delay@20:2 >simf.log &
PIDS+=("$!")
wait_for "$WORK/devf"
"$PATLAB" fit-twin --device "$WORK/devf" --iterations 30 -o twin_wire.json --format f64 \
  --timeout 0.2 --retries 1 --baud 1000000 >fit_wire.out 2>fit_wire.err
grep -q "no reply after 2 tries" fit_wire.err || { cat fit_wire.err >&2; fail "fit-twin: no late reply"; }
cmp twin_local.json twin_wire.json || fail "fit-twin over the wire fitted another twin"
q() { grep -oE '[0-9]+ device queries' "$1"; }
[ "$(q fit_local.out)" = "$(q fit_wire.out)" ] || fail "fit-twin: $(q fit_wire.out) over the wire, $(q fit_local.out) in-process"
echo PASS
