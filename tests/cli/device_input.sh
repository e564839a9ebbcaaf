#!/usr/bin/env bash
# Nothing silently accepted, nothing lost: `device-sim --link` never replaces (or deletes at
# exit) anything but its own link to a pty; every numeric option of device-sim, fit-twin and
# the serial options of train/evaluate/fit-twin is checked, a bad value giving exit code 2 and
# a `patlab:` line naming the value and what is allowed.
source "$(dirname "$0")/common.sh"

# ---- --link ------------------------------------------------------------------------------

# A regular file, a folder, a link to something else: refused by name, left as they were.
echo precious >file
expect_code 2 "^patlab: --link file is a regular file: not replacing it" -- \
  "$PATLAB" device-sim oscillators -q --link file
[ "$(cat file)" = precious ] && [ ! -L file ] || fail "--link replaced a regular file"
mkdir folder
expect_code 2 "^patlab: --link folder is a folder" -- "$PATLAB" device-sim oscillators -q --link folder
[ -d folder ] && [ ! -L folder ] || fail "--link replaced a folder"
ln -s file other
expect_code 2 "^patlab: --link other is a link to file, not to a pseudo-terminal" -- \
  "$PATLAB" device-sim oscillators -q --link other
[ "$(readlink other)" = file ] || fail "--link replaced a link to a file"
[ "$(wc -l <err.txt)" = 1 ] || fail "the refusal is not one line"

# A link to a pty still in use (another simulator serving it) is refused too, and the other
# simulator's link is left alone.
"$PATLAB" device-sim oscillators -q --link live >live.log &
PIDS+=("$!")
wait_for live
target=$(readlink live)
expect_code 2 "^patlab: --link live is a link to /dev/pts/[0-9]+, a pseudo-terminal still in use" -- \
  "$PATLAB" device-sim oscillators -q --link live
[ "$(readlink live)" = "$target" ] || fail "--link replaced another simulator's live link"

# A link left behind by a simulator that was killed (its pty is gone) is replaced, and the
# simulator removes its link when it stops.
ln -s /dev/pts/987654321 stale
"$PATLAB" device-sim oscillators -q --link stale >stale.log &
sim=$!
PIDS+=("$sim")
for _ in $(seq 50); do [[ "$(readlink stale)" != /dev/pts/987654321 ]] && break; sleep 0.1; done
[[ "$(readlink stale)" =~ ^/dev/pts/[0-9]+$ ]] && [ "$(readlink stale)" != /dev/pts/987654321 ] ||
  fail "a stale link was not taken over"
kill -INT "$sim"
wait "$sim"
[ ! -e stale ] && [ ! -L stale ] || fail "the simulator did not remove its own link at exit"

# What replaced our link while the simulator ran is not ours: it stays at exit.
"$PATLAB" device-sim oscillators -q --link mine >mine.log &
sim=$!
PIDS+=("$sim")
wait_for mine
rm mine
echo "someone else's" >mine
kill -INT "$sim"
wait "$sim"
[ "$(cat mine)" = "someone else's" ] || fail "the simulator deleted a file it did not make"

expect_code 2 "^patlab: --link x: a link is kept only to a pseudo-terminal" -- \
  "$PATLAB" device-sim oscillators -q --link x --port /dev/null

# ---- device-sim's numbers ----------------------------------------------------------------

expect_code 2 "^patlab: --fault delay@3:nan: SECONDS nan is not a finite number of seconds from 0 to 86400" -- \
  "$PATLAB" device-sim oscillators -q --fault delay@3:nan
expect_code 2 "SECONDS inf is not a finite number of seconds from 0 to 86400" -- \
  "$PATLAB" device-sim oscillators -q --fault disconnect@3:inf
expect_code 2 "SECONDS -1 is not" -- "$PATLAB" device-sim oscillators -q --fault delay:-1
expect_code 2 "SECONDS 1e300 is not" -- "$PATLAB" device-sim oscillators -q --fault delay:1e300
expect_code 2 "AFTER '2.5' is not a whole number of requests from 0 to 2147483647" -- \
  "$PATLAB" device-sim oscillators -q --fault drop-reply@2.5
expect_code 2 "AFTER 99999999999 is not a whole number of requests from 0 to 2147483647" -- \
  "$PATLAB" device-sim oscillators -q --fault delay@99999999999:1
expect_code 2 "AFTER 'nan' is not" -- "$PATLAB" device-sim oscillators -q --fault garbage@nan
expect_code 2 "AFTER '-1' is not" -- "$PATLAB" device-sim oscillators -q --fault garbage@-1
expect_code 2 "garbage takes no :SECONDS" -- "$PATLAB" device-sim oscillators -q --fault garbage@2:3
expect_code 2 "^patlab: --baud -1: give 0 \(no pacing\) or a serial port rate: 300, .*115200, .*4000000" -- \
  "$PATLAB" device-sim oscillators -q --baud -1
expect_code 2 "^patlab: --baud 1234: give 0" -- "$PATLAB" device-sim oscillators -q --baud 1234
expect_code 2 "^patlab: --inputs -1: give 0 \(the system's default\)" -- \
  "$PATLAB" device-sim oscillators -q --inputs -1
expect_code 2 "^patlab: --outputs -2: give 0" -- "$PATLAB" device-sim oscillators -q --outputs -2
expect_code 2 "^patlab: --layer 1: only with --experiment" -- "$PATLAB" device-sim oscillators -q --layer 1
"$PATLAB" train -q -o run --steps 2
expect_code 2 "^patlab: --layer 3: .* has 1 physical layer: give 0 to 0" -- \
  "$PATLAB" device-sim -q --experiment run/experiment.json --layer 3
expect_code 2 "^patlab: --layer -1: .* give 0 to 0" -- \
  "$PATLAB" device-sim -q --experiment run/experiment.json --layer -1
expect_code 2 "^patlab: --seed: '-1' is not a whole number from 0" -- "$PATLAB" device-sim oscillators -q --seed -1

# ---- the serial options of train, evaluate and fit-twin ----------------------------------

for cmd in "train -q -o bad --steps 2" "evaluate run" "fit-twin --system oscillators -o twin.json"; do
  # shellcheck disable=SC2086
  set -- $cmd
  expect_code 2 "^patlab: --device-wait nan: give seconds from 0 to 1000000" -- "$PATLAB" "$@" --device-wait nan
  expect_code 2 "^patlab: --device-wait -1: give seconds from 0" -- "$PATLAB" "$@" --device-wait -1
  expect_code 2 "^patlab: --timeout nan: give seconds above 0, at most 3600" -- "$PATLAB" "$@" --timeout nan
  expect_code 2 "^patlab: --timeout 0: give seconds above 0" -- "$PATLAB" "$@" --timeout 0
  expect_code 2 "^patlab: --retries -1: give 0 to 100" -- "$PATLAB" "$@" --retries -1
  expect_code 2 "^patlab: --baud -1: not a serial port rate; choose one of 300, .*4000000" -- "$PATLAB" "$@" --baud -1
  expect_code 2 "^patlab: --baud 0: not a serial port rate" -- "$PATLAB" "$@" --baud 0
  expect_code 2 "^patlab: --format: unknown sample format 'f16'" -- "$PATLAB" "$@" --format f16
done
[ ! -e bad ] && [ ! -e twin.json ] || fail "a command with a bad option wrote its output"

# fit-twin's own numbers.
ft=(fit-twin --system oscillators -o twin.json)
expect_code 2 "^patlab: --lr nan: give a finite rate above 0" -- "$PATLAB" "${ft[@]}" --lr nan
expect_code 2 "^patlab: --iterations -1: give 0 to 100000" -- "$PATLAB" "${ft[@]}" --iterations -1
expect_code 2 "^patlab: --iterations 2000000000: give 0 to 100000" -- "$PATLAB" "${ft[@]}" --iterations 2000000000
expect_code 2 "^patlab: --groups 100000 --per-group 100000: .*at most 1000000 samples" -- "$PATLAB" "${ft[@]}" --groups 100000 --per-group 100000
expect_code 2 "^patlab: --groups 0 --per-group 16: give 1 or more" -- "$PATLAB" "${ft[@]}" --groups 0
expect_code 2 "^patlab: --x-range: give two finite numbers" -- "$PATLAB" "${ft[@]}" --x-range nan 1
expect_code 2 "^patlab: --inputs -2: give 0" -- "$PATLAB" "${ft[@]}" --inputs -2
expect_code 2 "^patlab: --seed: '-1' is not a whole number" -- "$PATLAB" "${ft[@]}" --seed -1
[ ! -e twin.json ] || fail "fit-twin with a bad option wrote its twin"
echo PASS
