#!/usr/bin/env bash
# bench/results.py, the tool behind docs/results.md: a claim's sweep is run in shards and merged
# by patlab, and the table gives each knob cell and method the mean ± standard deviation of the
# device accuracy over the seeds; fewer than 5 seeds are refused, and so is a document without
# the claim's block.
source "$(dirname "$0")/common.sh"
TOOL="$(dirname "$0")/../../bench/results.py"

mkdir -p claims
cat >claims/toy.json <<'JSON'
{"title": "A toy", "note": "moons, one oscillator layer.", "paper": {"pat": "0.9"},
 "sweep": {"knobs": {"eta": [0, 0.4]}, "methods": ["pat", "in-silico"], "seeds": [1, 2, 3, 4, 5], "steps": 20}}
JSON
python3 "$TOOL" run claims/toy.json --patlab "$PATLAB" --out out --jobs 2 >run.txt
[ -f out/toy.csv ] || fail "no merged CSV"
[ "$(wc -l <out/toy.csv)" = 21 ] || fail "20 runs expected: $(wc -l <out/toy.csv) lines"
# The shards merged equal one unsharded sweep.
python3 -c 'import json; print(json.dumps(json.load(open("claims/toy.json"))["sweep"]))' >spec.json
"$PATLAB" sweep -q --spec spec.json -o whole.csv
cmp whole.csv out/toy.csv || fail "sharded and merged differs from the whole sweep"

# The table's figures, computed here from the CSV independently.
python3 "$TOOL" table claims/toy.json out/toy.csv >table.md
python3 - out/toy.csv table.md <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
table = open(sys.argv[2]).read()
for eta in ("0", "0.4"):
    for m in ("pat", "in-silico"):
        acc = [float(r["device_accuracy"]) for r in rows if r["eta"] == eta and r["method"] == m]
        assert len(acc) == 5, acc
        cell = f"{statistics.mean(acc):.3f} ± {statistics.stdev(acc):.3f}"
        line = next(l for l in table.splitlines() if l.startswith(f"| eta {eta} |"))
        cols = [c.strip() for c in line.strip("|").split("|")]
        want = cols[1] if m == "pat" else cols[2]
        assert want == cell, (eta, m, want, cell)
assert "| knobs | pat | in-silico | paper |" in table, table
assert "over 5 seeds (1, 2, 3, 4, 5: the training's and the data's; each device's own seed is the experiment's), 20 training steps" in table, table
print("table checked")
PY

# Into a document, between the claim's markers; twice gives the same text.
printf 'before\n<!-- results:toy:begin -->\nold\n<!-- results:toy:end -->\nafter\n' >doc.md
python3 "$TOOL" doc doc.md claims/toy.json --out out
grep -q "^before$" doc.md && grep -q "^after$" doc.md || fail "text around the block changed"
grep -q "Regenerate: \`scripts/results.sh claims/toy.json\`" doc.md || fail "no command above the table"
! grep -q "^old$" doc.md || fail "the old block stayed"
cp doc.md once.md
python3 "$TOOL" doc doc.md claims/toy.json --out out
cmp once.md doc.md || fail "regenerating twice changed the document"

# Refusals.
sed 's/"seeds": \[1, 2, 3, 4, 5\]/"seeds": [1, 2, 3]/' claims/toy.json >claims/few.json
expect_code 2 "3 seed\(s\); a published figure needs at least 5" -- python3 "$TOOL" table claims/few.json out/toy.csv
echo "nothing here" >bare.md
expect_code 2 "has no block <!-- results:toy:begin -->" -- python3 "$TOOL" doc bare.md claims/toy.json --out out
echo '{"title": "x", "sweep": {"seeds": [1,2,3,4,5]}, "typo": 1}' >claims/bad.json
expect_code 2 "unknown key\(s\) \['typo'\]" -- python3 "$TOOL" table claims/bad.json out/toy.csv
echo "PASS"
