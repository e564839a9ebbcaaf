#!/usr/bin/env bash
# train_test.sh: `patlab train --device` against the reference firmware on a simulated
# ATmega328P, compared with the same run on the in-process emulator of the same circuit.
#
#   train_test.sh PATLAB SIMULATOR FIRMWARE.elf EXPERIMENT.json WORK_DIR
#
# Starts the simulator (patlab_firmware_sim: the firmware's UART on a new pty), trains the
# experiment with PAT on it (`--device`, the rc_diode system's twin for the backward pass),
# then trains the very same experiment with the physical layer emulated in-process (no
# --device: the catalog's rc_diode system, with the board's 8-bit PWM and 10-bit ADC as knobs).
# Passes when the accuracy measured on the chip is clearly above chance (>= 0.75 on two classes)
# and within 0.1 of the emulator's. Prints both. About 1-2 minutes: the chip answers a sample
# in ~20 ms.
set -euo pipefail

if [ $# -ne 5 ]; then
  echo "usage: $0 PATLAB SIMULATOR FIRMWARE.elf EXPERIMENT.json WORK_DIR" >&2
  exit 2
fi
patlab=$1 sim=$2 elf=$3 experiment=$4 work=$5
mkdir -p "$work"
port="$work/train_uno"
rm -f "$port"

"$sim" "$elf" "$port" 600 > "$work/train_sim.log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [ -e "$port" ] && break
  sleep 0.1
done
if [ ! -e "$port" ]; then
  echo "FAIL: the simulator did not create $port" >&2
  cat "$work/train_sim.log" >&2
  exit 1
fi

accuracy() {  # the device accuracy from a run folder's summary.json
  sed -n 's/.*"device_accuracy": *\([0-9.eE+-]*\).*/\1/p' "$1/summary.json"
}

start=$(date +%s)
# --timeout: a reply may take longer on a busy host than on a real Uno.
"$patlab" train "$experiment" --device "$port" --timeout 2 --eval-every 50 -q --force \
  -o "$work/train_on_chip"
chip_s=$(( $(date +%s) - start ))
"$patlab" train "$experiment" --eval-every 50 -q --force -o "$work/train_emulated"

chip=$(accuracy "$work/train_on_chip")
emulated=$(accuracy "$work/train_emulated")
queries=$(sed -n 's/.*"queries": *\([0-9]*\).*/\1/p' "$work/train_on_chip/summary.json")
echo "test accuracy measured on the simulated chip: $chip ($queries queries, ${chip_s} s)"
echo "test accuracy on the in-process emulator:     $emulated"
echo "curves on the chip:"
cat "$work/train_on_chip/curves.csv"

if awk -v a="$chip" -v b="$emulated" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 0.75 && d <= 0.1) }'; then
  echo "firmware training test passed"
else
  echo "FAIL: the chip's accuracy should be >= 0.75 (chance: 0.5) and within 0.1 of the emulator's" >&2
  exit 1
fi
