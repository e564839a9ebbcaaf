#!/usr/bin/env bash
# Two shards of a sweep, merged, equal the unsharded sweep byte for byte; merge reports missing
# and conflicting cells, and refuses shards of different sweeps.
source "$(dirname "$0")/common.sh"

grid=(--knob eta=0,0.4 --method pat,in-silico --seeds 1-2 --steps 40 -q)
"$PATLAB" sweep "${grid[@]}" -o full.csv
"$PATLAB" sweep "${grid[@]}" --shard 0/2
"$PATLAB" sweep "${grid[@]}" --shard 1/2
[ "$(wc -l <full.csv)" = 9 ] || fail "full sweep should hold 8 cells"
"$PATLAB" merge sweep-1of2.csv sweep-0of2.csv -o merged.csv
cmp full.csv merged.csv || fail "merged shards differ from the unsharded sweep"

# The same sweep from a file.
cat >sweep.json <<'JSON'
{"knobs": {"eta": [0, 0.4]}, "methods": ["pat", "in-silico"], "seeds": [1, 2], "steps": 40}
JSON
"$PATLAB" sweep -q --spec sweep.json -o fromfile.csv
cmp full.csv fromfile.csv || fail "sweep file and flags disagree"

expect_code 1 "2 of 4 cells missing|4 of 8 cells missing: 1,3,5,7" -- "$PATLAB" merge sweep-0of2.csv -o x.csv
[ ! -e x.csv ] || fail "merge wrote a file with cells missing"
sed 's/^\(2,8,[^,]*,in-silico,1,0,40\),[^,]*/\1,0.5/' sweep-0of2.csv >tampered.csv
grep -q '^2,8,[^,]*,in-silico,1,0,40,0.5,' tampered.csv || fail "tampering the test's file failed"
expect_code 1 "cell 2 differs" -- "$PATLAB" merge sweep-0of2.csv sweep-1of2.csv tampered.csv -o y.csv
"$PATLAB" sweep -q --knob eta=0,0.4 --steps 40 -o other.csv
expect_code 2 "different sweeps.* in full\.csv; .* in other\.csv" -- "$PATLAB" merge full.csv other.csv -o z.csv
# The same grid with other settings (here steps) is another sweep: its shards do not mix.
"$PATLAB" sweep --knob eta=0,0.4 --method pat,in-silico --seeds 1-2 --steps 41 -q --shard 1/2 -o steps41.csv
expect_code 2 "different sweeps.* in sweep-0of2\.csv; .* in steps41\.csv" -- \
  "$PATLAB" merge sweep-0of2.csv steps41.csv -o z.csv
[ ! -e z.csv ] || fail "merge wrote a mixture of sweeps"
echo PASS
