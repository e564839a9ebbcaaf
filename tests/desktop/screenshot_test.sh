#!/usr/bin/env bash
# Desktop test: the native app starts under Xvfb, trains, and a screenshot of it is not blank.
#
#   screenshot_test.sh <patlab_desktop> <output folder>
# Writes <out>/desktop.png (what a user would see) and <out>/desktop_status.json (the lab's
# state at exit). Fails if the window never appears, the picture is blank, or training did not
# move the device's test accuracy above chance.
set -euo pipefail

# Inside Xvfb (this script calls itself): start the app, wait for its window, let it train,
# screenshot, ask it to quit.
if [ "${1:-}" = "--inside-xvfb" ]; then
  app=$2 shot=$3 status=$4
  "$app" --train --print-status --width 1280 --height 800 >"$status" &
  pid=$!
  for _ in $(seq 1 300); do  # up to a minute: a loaded machine starts windows slowly
    xwininfo -root -tree 2>/dev/null | grep -q '"patlab: physics-aware training lab"' && break
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: the app exited before showing a window" >&2; exit 1; }
    sleep 0.2
  done
  sleep 6  # training runs; the plots fill in
  import -window root "$shot"
  kill -TERM "$pid"  # SDL turns SIGTERM into a quit event: the app exits cleanly
  wait "$pid"
  exit 0
fi

app=$1
out=$2
mkdir -p "$out"
shot="$out/desktop.png"
status="$out/desktop_status.json"
rm -f "$shot" "$status"
xvfb-run -a -s "-screen 0 1280x800x24" "$0" --inside-xvfb "$app" "$shot" "$status"

[ -s "$shot" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
colors=$(convert "$shot" -format '%k' info:)
spread=$(convert "$shot" -colorspace Gray -format '%[fx:standard_deviation]' info:)
echo "screenshot $shot: $colors colours, grey-level std $spread"
[ "$colors" -gt 200 ] || { echo "FAIL: the screenshot is blank or nearly so ($colors colours)" >&2; exit 1; }
awk -v s="$spread" 'BEGIN { exit !(s > 0.05) }' || { echo "FAIL: the screenshot is flat" >&2; exit 1; }

echo "status at exit: $(cat "$status")"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!(s.step > 0)) { console.error("FAIL: no training steps were taken"); process.exit(1); }
  if (!(s.test.device.accuracy > 0.6)) {
    console.error("FAIL: device test accuracy " + s.test.device.accuracy + " is not above chance");
    process.exit(1);
  }
  console.log("trained " + s.step + " steps; device test accuracy " + s.test.device.accuracy);
' "$status"
