#!/usr/bin/env bash
# merge joins only the shards of one sweep: every row names its sweep, rows of different sweeps
# (another step count, another experiment) are refused with the files named, and a row whose
# method, seed or knob value contradicts its cell number is refused with its file and line.
# Malformed files (truncated, edited, header only, extra fields) are refused, not skipped;
# CRLF line ends are accepted.
source "$(dirname "$0")/common.sh"

grid=(--knob eta=0,0.4 --method pat,in-silico --seeds 1-2 -q)
"$PATLAB" sweep "${grid[@]}" --steps 20 -o full.csv
"$PATLAB" sweep "${grid[@]}" --steps 20 --shard 0/2 -o a.csv
"$PATLAB" sweep "${grid[@]}" --steps 20 --shard 1/2 -o b.csv
head -1 full.csv | grep -q '^cell,cells,sweep,method,seed,eta,steps,' || fail "no sweep column"
[ "$(cut -d, -f3 full.csv | tail -n +2 | sort -u | wc -l)" = 1 ] || fail "rows name different sweeps"
cut -d, -f3 a.csv | tail -n +2 | grep -qE '^2x2x2:[0-9a-f]{16}:[0-9a-f]{16}$' ||
  fail "sweep column is not SHAPE:HASH:HASH"

# Same grid, other settings: refused (exit 2), naming which file is of which sweep.
"$PATLAB" sweep "${grid[@]}" --steps 21 --shard 1/2 -o b21.csv
expect_code 2 "different sweeps.* in a\.csv; .* in b21\.csv" -- "$PATLAB" merge a.csv b21.csv -o x.csv
[ ! -e x.csv ] || fail "merge wrote a mixture"
"$PATLAB" train -q -o circles --data circles --steps 1  # its experiment.json: another base
"$PATLAB" sweep circles/experiment.json "${grid[@]}" --steps 20 --shard 1/2 -o bc.csv
expect_code 2 "different sweeps.* in a\.csv; .* in bc\.csv" -- "$PATLAB" merge a.csv bc.csv -o x.csv
# Methods in another order number the cells differently: another sweep.
"$PATLAB" sweep --knob eta=0,0.4 --method in-silico,pat --seeds 1-2 -q --steps 20 --shard 1/2 -o bm.csv
expect_code 2 "different sweeps" -- "$PATLAB" merge a.csv bm.csv -o x.csv
# Rows of two sweeps in one file: the lines are named.
(cat a.csv; tail -n +2 b21.csv) >mixed.csv
expect_code 2 "different sweeps.* in mixed\.csv lines 2-5, b\.csv; .* in mixed\.csv lines 6-9" -- \
  "$PATLAB" merge mixed.csv b.csv -o x.csv

# A row whose method or knob value contradicts its cell number.
sed '3s/,in-silico,1,0,20,/,pat,1,0,20,/' a.csv >method.csv  # cell 2 is in-silico
expect_code 2 "method\.csv:3: cell 2 has method pat, but its number puts it at method position 2 of 2" -- \
  "$PATLAB" merge method.csv b.csv -o x.csv
sed '2s/,pat,1,0,20,/,pat,1,0.4,20,/' a.csv >knob.csv  # cell 0 is eta=0
expect_code 2 "knob\.csv:2: cell 0 has eta 0\.4, but its number puts it at eta position 1 of 2" -- \
  "$PATLAB" merge knob.csv b.csv -o x.csv
sed '3s/^2,/1,/' a.csv >renumbered.csv  # cell 2's row relabelled as cell 1
expect_code 2 "renumbered\.csv:3: cell 1 has method in-silico" -- \
  "$PATLAB" merge renumbered.csv b.csv -o x.csv
# A value seen at one position only: checked against the sweep's identity, which hashes the axes.
"$PATLAB" sweep -q --knob eta=0,0.2,0.4 --steps 5 -o line.csv
sed '3s/,pat,1,0.2,5,/,pat,1,0.3,5,/' line.csv >line2.csv
expect_code 2 "not those of the sweep .*edited" -- "$PATLAB" merge line2.csv -o x.csv
sed '3s/,pat,1,0.2,5,/,pat,1,0.4,5,/' line.csv >line3.csv
expect_code 2 "cells 1 and 2 both have eta 0\.4" -- "$PATLAB" merge line3.csv -o x.csv

# CRLF line ends are accepted; the merged file is the sweep's own.
sed 's/$/\r/' a.csv >crlf.csv
"$PATLAB" merge crlf.csv b.csv -o crlf_merged.csv
cmp full.csv crlf_merged.csv || fail "merging a CRLF shard changed the result"

# Malformed files: refused, naming file and line, nothing written.
head -1 a.csv >header_only.csv
expect_code 2 "header_only\.csv: no rows" -- "$PATLAB" merge header_only.csv b.csv -o x.csv
(head -3 a.csv; echo; tail -n +4 a.csv) >blank.csv
expect_code 2 "blank\.csv:4: a blank line" -- "$PATLAB" merge blank.csv b.csv -o x.csv
# damaged NAME SED-SCRIPT PATTERN: a.csv edited by sed into NAME.csv; merging it with b.csv
# is refused (exit 2) with a message matching PATTERN.
damaged() {
  sed "$2" a.csv >"$1.csv"
  expect_code 2 "$3" -- "$PATLAB" merge "$1.csv" b.csv -o x.csv
}
damaged extra '2s/$/,7/' \
  "extra\.csv:2: 12 fields, but the header has 11"
damaged short '2s/,[^,]*$//' \
  "short\.csv:2: 10 fields"
damaged word '2s/^0,/zero,/' \
  "word\.csv:2: cell 'zero' is not a cell number"
damaged cells '2s/^0,8,/0,9,/' \
  "cells\.csv:2: cells is 9, but the sweep's shape 2x2x2 has 8"
damaged beyond '3s/^2,/12,/' \
  "beyond\.csv:3: cell 12 is beyond the sweep's 8 cells"
damaged accuracy '2s/,20,\([^,]*\),[^,]*,/,20,\1,1.5,/' \
  "accuracy\.csv:2: device_accuracy '1\.5' is not an accuracy"
damaged steps '2s/,20,/,21,/' \
  "steps\.csv:2: steps is 21, but 7 rows \(e\.g\. steps\.csv:3\) have 20"
head -c -1 a.csv >cut.csv
expect_code 2 "cut\.csv:5: the last line has no line end" -- "$PATLAB" merge cut.csv b.csv -o x.csv
damaged old 's/^cell,cells,sweep,/cell,cells,/; s/^\([0-9]*,[0-9]*\),[^,]*,/\1,/' \
  "old\.csv: written by an older patlab"
[ ! -e x.csv ] || fail "merge wrote a file from bad input"

# Inputs and output: -o must not be an input; an input given twice is a mistake.
cp a.csv keep.csv
expect_code 2 "-o \./a\.csv is also an input" -- "$PATLAB" merge a.csv b.csv -o ./a.csv
cmp a.csv keep.csv || fail "merge overwrote an input"
expect_code 2 "\./a\.csv is given twice" -- "$PATLAB" merge a.csv b.csv ./a.csv -o x.csv
echo PASS
