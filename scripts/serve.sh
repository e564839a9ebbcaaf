#!/usr/bin/env bash
# scripts/serve.sh: build the browser lab and serve it on http://127.0.0.1:PORT.
#   scripts/serve.sh [--port N]     browser app (default port 8000)
#   scripts/serve.sh --native       build and start the desktop app instead
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=8000
native=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --native) native=1; shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "serve.sh: --port must be a number" >&2; exit 2 ;; esac

scripts/setup.sh
if [ "$native" = 1 ]; then
  cmake --preset native-release >/dev/null
  cmake --build --preset native-release --target patlab_desktop
  exec build/native-release/native/patlab_desktop
fi

export NODE_PATH=/usr/share/nodejs
cmake --preset wasm-release >/dev/null
cmake --build --preset wasm-release --target patlab_web
echo
echo "patlab is served at  http://127.0.0.1:$port/   (Ctrl-C stops it)"
exec python3 -m http.server --bind 127.0.0.1 --directory build/wasm-release/web "$port"
