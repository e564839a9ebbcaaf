#!/usr/bin/env bash
# Nothing silently accepted, nothing lost: `device-sim --link` never replaces (or deletes at
# exit) anything but its own link to a pty.
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

echo PASS
