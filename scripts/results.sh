#!/usr/bin/env bash
# scripts/results.sh: regenerates the tables of docs/results.md, each a claim of
# bench/results/*.json run as a sweep over at least 5 seeds (bench/results.py; mean ± standard
# deviation of the device's test accuracy). Runs on this machine with the native build.
#   scripts/results.sh                      every claim
#   scripts/results.sh bench/results/X.json  one claim
# The sweeps' CSVs stay in build/results/ (a claim's rows: one per knob cell, method and seed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
claims=("$@")
[ ${#claims[@]} -gt 0 ] || claims=(bench/results/*.json)
cmake --preset native-release >/dev/null
cmake --build --preset native-release --target patlab_cli
python3 bench/results.py run "${claims[@]}" --jobs "$(nproc)"
python3 bench/results.py doc docs/results.md "${claims[@]}"
echo "docs/results.md: ${#claims[@]} table(s) regenerated"
