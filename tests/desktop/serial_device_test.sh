#!/usr/bin/env bash
# Desktop test: the native lab trains its lanes on a serial device, as the browser's lab does
# on a Web Serial port. `patlab device-sim` serves the oscillators on a pseudo-terminal; the
# app, under Xvfb, is started with --device serial:<that path> and trains for a few thousand
# frames. Fails unless the PAT lane ran on the device (its queries went over the line) and
# learnt something, and the in-silico lane was measured there too (it trains on its twin; its
# accuracy is the device's).
#
#   serial_device_test.sh <patlab_desktop> <patlab> <scratch folder>
set -euo pipefail

if [ "${1:-}" = "--inside-xvfb" ]; then
  shift
  exec "$@"
fi

app=$1 cli=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cli" device-sim oscillators --link "$work/dev" -q >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do [ -e "$work/dev" ] && break; sleep 0.1; done
[ -e "$work/dev" ] || fail "device-sim did not make $work/dev: $(cat "$work/sim.log")"

# A bad spec is refused before any window opens.
if "$app" --device "emulated:oscillators" --frames 1 >"$work/bad.out" 2>"$work/bad.err"; then
  fail "--device emulated:oscillators was accepted"
fi
grep -q "takes a serial port" "$work/bad.err" || fail "unclear refusal: $(cat "$work/bad.err")"
if "$app" --device "" --frames 1 >"$work/empty.out" 2>"$work/empty.err"; then
  fail "an empty --device was accepted (it would silently mean the emulator)"
fi
grep -q "needs a device" "$work/empty.err" || fail "unclear refusal: $(cat "$work/empty.err")"

xvfb-run -a -s "-screen 0 1280x800x24" "$0" --inside-xvfb \
  "$app" --device "serial:$work/dev" --train --frames 8000 --print-status >"$work/status.json"

python3 - "$work/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d, pat, ins = s["device"], s["lanes"][0], s["lanes"][1]
print(f"device {d['state']}: {d['requests']} requests, {d['retries']} retries; PAT on device "
      f"{pat['on_device']}, step {s['step']}, PAT accuracy {pat['test']['device']['accuracy']:.3f}; "
      f"in-silico on device {ins['on_device']}, {ins['device_queries']} queries (PAT {pat['device_queries']}), "
      f"accuracy {ins['test']['device']['accuracy']:.3f}")
assert d["connected"] and d["attached"], d
assert pat["method"] == "pat" and pat["on_device"], "the PAT lane must run on the serial device"
assert ins["method"] == "in-silico" and ins["on_device"], "the in-silico lane is measured on the device"
assert 0 < ins["device_queries"] < pat["device_queries"], "in-silico asks the device only to be measured"
assert d["requests"] > 100 and s["step"] >= 100, "training went over the line"
assert pat["test"]["device"]["accuracy"] > 0.7, "PAT learnt on the device"
PY
echo "PASS: the desktop lab trained its lanes on $work/dev"
