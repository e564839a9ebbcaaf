#!/usr/bin/env bash
# scripts/bench.sh: the benchmark suite in one command (issue 9; see docs/PERFORMANCE.md).
#
# Builds what it needs (native Release and WebAssembly), runs
#   - the reference experiment (bench/reference.cpp) natively (built for this machine's
#     processor, with its default threads and with one; and built for any x86-64, one thread),
#     to wasm under node, and its PyTorch twin (bench/reference_torch.py, Debian's python3-torch, 2 threads and 1 thread);
#   - the Google Benchmark suite (bench/systems_bench.cpp): every system's device forward,
#     twin forward and VJP per sample across batch sizes, a PAT step per system, Eigen's GEMM
#     rate and the fraction of it the oscillator twin reaches;
#   - the peak memory of a command-line training run on 14x14 MNIST (/usr/bin/time -v);
# then prints one table and writes it into docs/PERFORMANCE.md.
#
#   scripts/bench.sh [--no-torch] [--no-openblas] [--torch-epochs=N] [--no-wasm] [--no-doc]
#                    [--repeat=N] [--quick]
#
# PyTorch runs with the BLAS the system selects (Debian's default: the reference BLAS), and
# also with OpenBLAS for these runs only (the package is downloaded with `apt-get download`
# and unpacked into the results folder; nothing is installed); --no-openblas skips that.
# --torch-epochs=N shortens the PyTorch runs (steps/s is a rate; accuracies then differ).
# --repeat=N (default 3) trains every reference configuration N times, in N rounds that
# alternate patlab and PyTorch, and reports each one's median run (a native run lasts about a
# second: one hiccup of a shared machine moves it by 10 %). --quick runs a shorter Google Benchmark pass and one training
# per configuration (for checking the script, not for numbers).
# Build folders: $PATLAB_BENCH_BUILD (default build/bench-native: -march=native),
# $PATLAB_BENCH_PORTABLE_BUILD (default build/bench-portable: any x86-64) and
# $PATLAB_BENCH_WASM_BUILD (default build/bench-wasm). Results of the run: $PATLAB_BENCH_OUT
# (default build/bench-out).
# PyTorch is a benchmark-only dependency: it is installed here (apt-get install python3-torch)
# if missing, never by scripts/setup.sh; --no-torch skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

with_torch=1 with_openblas=1 with_wasm=1 with_doc=1 quick=0 torch_epochs=15 repeat=
for a in "$@"; do
  case "$a" in
    --no-torch) with_torch=0 ;;
    --no-openblas) with_openblas=0 ;;
    --torch-epochs=*) torch_epochs=${a#*=} ;;
    --no-wasm) with_wasm=0 ;;
    --no-doc) with_doc=0 ;;
    --quick) quick=1 ;;
    --repeat=*) repeat=${a#*=} ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$a' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$repeat" ]; then repeat=3; [ $quick = 1 ] && repeat=1; fi
case "$repeat" in ''|*[!0-9]*|0) echo "bench.sh: --repeat needs a whole number >= 1" >&2; exit 2 ;; esac

native_build=${PATLAB_BENCH_BUILD:-build/bench-native}
portable_build=${PATLAB_BENCH_PORTABLE_BUILD:-build/bench-portable}
wasm_build=${PATLAB_BENCH_WASM_BUILD:-build/bench-wasm}
out=${PATLAB_BENCH_OUT:-build/bench-out}
jobs=${PATLAB_JOBS:-2}
mkdir -p "$out"
rm -f "$out"/*.txt "$out"/*.json "$out"/*.csv

say() { echo "== $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- dependencies ------------------------------------------------------------------------
need_pkgs=()
dpkg -s libbenchmark-dev >/dev/null 2>&1 || need_pkgs+=(libbenchmark-dev)
[ -x /usr/bin/time ] || need_pkgs+=(time)
if [ $with_torch = 1 ] && ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  need_pkgs+=(python3-torch)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]} (benchmark dependencies only)"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"
fi

# ---- builds ------------------------------------------------------------------------------
say "native Release build ($native_build)"
cmake -S . -B "$native_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPATLAB_BUILD_APP=OFF \
  -DPATLAB_BUILD_TESTS=OFF -DPATLAB_NATIVE_ARCH=ON >/dev/null
ninja -C "$native_build" -j"$jobs" patlab_bench_reference patlab_bench_systems patlab_cli patlab_data_packs >&2
data_dir="$root/$native_build/data"
# The same code for any x86-64 (SSE2, no -march): what the WebAssembly build is measured
# against, like for like (one thread, 128-bit vectors at most).
say "native portable Release build ($portable_build)"
cmake -S . -B "$portable_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPATLAB_BUILD_APP=OFF \
  -DPATLAB_BUILD_TESTS=OFF -DPATLAB_NATIVE_ARCH=OFF >/dev/null
ninja -C "$portable_build" -j"$jobs" patlab_bench_reference >&2

if [ $with_wasm = 1 ]; then
  say "WebAssembly Release build ($wasm_build)"
  export NODE_PATH=/usr/share/nodejs
  cmake -S bench/wasm -B "$wasm_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE=/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake \
    -DCMAKE_CROSSCOMPILING_EMULATOR="node;--no-experimental-fetch" >/dev/null
  ninja -C "$wasm_build" -j"$jobs" patlab_bench_reference >&2
fi

# ---- machine -----------------------------------------------------------------------------
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo -n "$cpu; $(nproc) cores; $(free -g | awk '/^Mem:/{print $2}') GB RAM; Linux $(uname -r); "
  echo -n "$(c++ --version | head -1); emscripten $(NODE_PATH=/usr/share/nodejs em++ --version 2>/dev/null | head -1 | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1); "
  echo -n "node $(node --version); $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

ref="$native_build/bench/patlab_bench_reference"

# ---- reference experiment ----------------------------------------------------------------
# In rounds: each round trains every configuration once, patlab's and PyTorch's one after the
# other, so a slow spell of this shared machine falls on both sides of a ratio rather than on
# one; report.py takes each configuration's median over the rounds.
wasm_ref=""
if [ $with_wasm = 1 ]; then
  # bench/ sits in the wrapper's tree or, now that the top level adds it everywhere, in the project's.
  wasm_ref=$(find "$wasm_build" -name patlab_bench_reference.js | head -n 1)
fi
oblib=""
if [ $with_torch = 1 ]; then
  "$ref" --data-dir "$data_dir" --export-csv "$out/digits8" >/dev/null
  if [ $with_openblas = 1 ]; then
    # Debian's python3-torch uses whatever libblas.so.3 the system selects (by default the
    # slow reference BLAS). A tuned BLAS, without changing the system: OpenBLAS unpacked into
    # the results folder and put first on LD_LIBRARY_PATH for these runs only.
    ob="$out/openblas"
    if [ ! -e "$ob/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" ]; then
      rm -rf "$ob" && mkdir -p "$ob"
      (cd "$ob" && apt-get download libopenblas0-pthread >/dev/null 2>&1 && dpkg-deb -x libopenblas0-pthread_*.deb .) \
        || say "could not fetch libopenblas0-pthread; skipping the OpenBLAS rows"
    fi
    oblib="$ob/usr/lib/x86_64-linux-gnu/openblas-pthread"
    [ -e "$oblib/libblas.so.3" ] || oblib=""
  fi
fi
torch_ref() {  # FILE LD_LIBRARY_PATH -- reference_torch.py options
  local file=$1 lib=$2
  shift 3
  LD_LIBRARY_PATH="$lib" /usr/bin/python3 bench/reference_torch.py --data "$out/digits8" \
    --epochs "$torch_epochs" "$@" | tee -a "$out/$file" >&2
}
for round in $(seq "$repeat"); do
  say "reference experiment, round $round of $repeat: native (this machine's instruction set, default threads)"
  "$ref" --data-dir "$data_dir" | tee -a "$out/native_ref.txt" >&2
  if [ $with_torch = 1 ]; then
    say "reference experiment, round $round: PyTorch (Debian's python3-torch as installed), 2 threads"
    torch_ref torch_a_2threads.txt "" -- --threads 2
  fi
  say "reference experiment, round $round: native, 1 thread (PAT)"
  PATLAB_THREADS=1 "$ref" --data-dir "$data_dir" --methods pat | tee -a "$out/native_1thread_ref.txt" >&2
  if [ $with_torch = 1 ]; then
    say "reference experiment, round $round: PyTorch, 1 thread (PAT)"
    torch_ref torch_b_1thread.txt "" -- --threads 1 --methods pat
  fi
  say "reference experiment, round $round: native portable build, 1 thread"
  PATLAB_THREADS=1 "$portable_build/bench/patlab_bench_reference" --data-dir "$data_dir" \
    | tee -a "$out/portable_ref.txt" >&2
  if [ -n "$wasm_ref" ]; then
    say "reference experiment, round $round: wasm under node"
    node --no-experimental-fetch "$wasm_ref" --data-dir "$data_dir" | tee -a "$out/wasm_ref.txt" >&2
  fi
  if [ -n "$oblib" ]; then
    say "reference experiment, round $round: PyTorch + OpenBLAS, 2 threads and 1 thread (PAT)"
    torch_ref torch_c_openblas_2threads.txt "$oblib" -- --threads 2 --methods pat
    torch_ref torch_d_openblas_1thread.txt "$oblib" -- --threads 1 --methods pat
  fi
done

# ---- Google Benchmark --------------------------------------------------------------------
say "Google Benchmark: systems, PAT steps, GEMM"
min_time=0.3
[ $quick = 1 ] && min_time=0.02
# One thread: per-sample costs and the GEMM fraction compare single cores.
PATLAB_THREADS=1 "$native_build/bench/patlab_bench_systems" --benchmark_min_time="$min_time" \
  --benchmark_format=json --benchmark_out="$out/systems.json" --benchmark_out_format=json \
  >/dev/null

# ---- peak memory of a command-line MNIST run ---------------------------------------------
say "peak memory: patlab train on mnist14"
rm -rf "$out/mnist_run"
/usr/bin/time -v "$native_build/native/cli/patlab" train bench/mnist14_experiment.json \
  -o "$out/mnist_run" --data-dir "$data_dir" -q 2> "$out/cli_rss.txt" >/dev/null

echo -n "; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

# ---- table -------------------------------------------------------------------------------
doc_args=()
[ $with_doc = 1 ] && doc_args=(--doc docs/PERFORMANCE.md)
/usr/bin/python3 bench/report.py "$out" "${doc_args[@]}"
