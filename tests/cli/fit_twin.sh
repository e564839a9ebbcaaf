#!/usr/bin/env bash
# fit-twin calibrates the twin of a mismatched device, over a serial line as well as
# in-process, and in-silico training with that twin (train --twin) works on the device where
# training with the nominal twin does not; the twin survives --resume.
source "$(dirname "$0")/common.sh"

"$PATLAB" fit-twin --system oscillators --knob eta=0.4 --iterations 60 -o twin.json
python3 -c "import json; t=json.load(open('twin.json')); assert t['error_after'] < 0.2*t['error_before'], t" \
  || fail "fitting did not reduce the twin's error"

args=(-q --method in-silico --knob eta=0.4 --steps 300)
"$PATLAB" train "${args[@]}" -o nominal
"$PATLAB" train "${args[@]}" -o fitted --twin twin.json --stop-after 100
"$PATLAB" train -q --resume fitted
a_nom=$(json nominal/summary.json device_accuracy)
a_fit=$(json fitted/summary.json device_accuracy)
python3 -c "import sys; sys.exit(0 if $a_fit > 0.95 and $a_fit > $a_nom + 0.1 else 1)" \
  || fail "in-silico on the device: fitted twin $a_fit vs nominal $a_nom"
"$PATLAB" train "${args[@]}" -o fitted_whole --twin twin.json
cmp fitted/parameters.json fitted_whole/parameters.json || fail "--resume lost the fitted twin"
expect_code 2 "not a file written by .patlab fit-twin." -- "$PATLAB" train -q -o bad --twin nominal/summary.json

# The same over a pty.
"$PATLAB" device-sim oscillators --knob eta=0.4 --link "$WORK/dev" -q >sim.log &
PIDS+=("$!")
wait_for "$WORK/dev"
"$PATLAB" fit-twin --device "$WORK/dev" --iterations 60 -o twin_serial.json
python3 -c "import json; t=json.load(open('twin_serial.json')); assert t['error_after'] < 0.2*t['error_before'], t" \
  || fail "fitting over the serial line did not reduce the twin's error"
echo PASS
