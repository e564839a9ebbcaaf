#!/usr/bin/env bash
# scripts/test.sh: run every test. Set-up first, then three builds, each with ctest:
#   native-release  unit tests + the desktop app under Xvfb (screenshot)
#   native-asan     unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   wasm-release    the same unit tests compiled to wasm, under node + the browser end-to-end
#                   test in headless Chromium (screenshot)
# Options: --no-asan skips the sanitizer build. --quick is the developer's own loop: set-up,
# then only the native-release build and its unit tests (label unit); about a minute or two
# once built. CI runs this script with no option. Screenshots: build/*/screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

presets=(native-release native-asan wasm-release)
only=()  # ctest's label filter: none runs every test of a build
for a in "$@"; do
  case "$a" in
    --no-asan) presets=(native-release wasm-release) ;;
    --quick) presets=(native-release); only=(-L unit) ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
export NODE_PATH=/usr/share/nodejs  # emscripten 3.1.6 needs it for every emcc call

start=$(date +%s)
summary=()
failed=0
for p in "${presets[@]}"; do
  echo "==> $p: configure and build"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p"
  echo "==> $p: test"
  log=$(mktemp)
  if ctest --preset "$p" "${only[@]}" 2>&1 | tee "$log"; then :; else failed=1; fi
  line=$(grep -E 'tests passed' "$log" | tail -n 1)
  labels=$(sed -n '/Label Time Summary/,/^$/p' "$log" | grep -E '^[a-z]' | awk '{printf "%s %s, ", $1, $(NF-1)}' | sed 's/(//g; s/, $//')
  summary+=("$p: ${line:-no result}  [${labels}]")
  rm -f "$log"
done

echo
echo "==> summary ($(( $(date +%s) - start )) s of build and test)"
printf '  %s\n' "${summary[@]}"
exit $failed
