#!/usr/bin/env bash
# Nothing lost, nothing silently accepted (docs/reliability.md): a diverging run stops at once
# and keeps its last good checkpoint; every flag out of range is refused with exit 2 naming
# the value and its range; a folder of someone's files is not written into; a checkpoint is
# bound to its experiment; a damaged run.json is an error, not a crash; SIGTERM stops a long
# step within seconds.
source "$(dirname "$0")/common.sh"

# --- a diverging run --------------------------------------------------------------------
# A step schedule multiplying the rate by 1e200 every 100 steps trains well for 100 steps,
# then blows up. It must stop with exit 1 naming the step (not wait for a "device" for the
# 600 s of --device-wait), and the checkpoint written before stays good.
cat >diverge.json <<'JSON'
{"train": {"schedule": {"kind": "step", "step_every": 100, "gamma": 1e200}},
 "layers": [{"kind": "affine", "size": 8}, {"kind": "physical", "system": "oscillators"},
            {"kind": "affine", "size": 2}],
 "steps": 400}
JSON
rc=0
timeout 60 "$PATLAB" train -q diverge.json -o div --eval-every 50 --checkpoint-every 50 \
  2>err.txt || rc=$?
[ "$rc" = 1 ] || { cat err.txt >&2; fail "diverging run: exit $rc, expected 1"; }
grep -qE "training diverged at step [0-9]+: .*learning rate" err.txt || { cat err.txt >&2; fail "no step or cause named"; }
grep -q "last checkpoint (step [0-9]*) is kept unchanged" err.txt || { cat err.txt >&2; fail "checkpoint not mentioned"; }
grep -q "device" err.txt && { cat err.txt >&2; fail "a training error reported as a device problem"; }
at=$(sed -n 's/.*training diverged at step \([0-9]*\).*/\1/p' err.txt)
kept=$(sed -n 's/.*last checkpoint (step \([0-9]*\)).*/\1/p' err.txt)
[ "$at" -gt 100 ] && [ "$kept" -ge 100 ] && [ "$kept" -lt "$at" ] || fail "diverged at $at, kept $kept"
# The kept checkpoint is whole and finite: evaluate reads it, and --resume gets as far as the
# same divergence (not a checkpoint error).
"$PATLAB" evaluate div --json >eval.json || fail "evaluate refused the kept checkpoint"
python3 -c "import json; d=json.load(open('eval.json')); assert d['steps'] == $kept, d" || fail "checkpoint step"
expect_code 1 "training diverged at step $at" -- timeout 60 "$PATLAB" train -q --resume div
# A sweep stops the same way, naming the cell, and writes no result file.
expect_code 1 "cell 0 \(pat, seed 1\) diverged at step [0-9]+: .*finished so far are in div.csv.partial" -- \
  timeout 60 "$PATLAB" sweep -q diverge.json --knob eta=0,0.1 --steps 300 -o div.csv
[ ! -e div.csv ] || fail "a diverged sweep wrote its result file"
# A learning rate of 1e300 diverges at once, the same way.
expect_code 1 "training diverged at step" -- timeout 60 "$PATLAB" train -q -o huge --lr 1e300 --steps 50

# --- flags out of range: exit 2, the value and its range named ----------------------------
expect_code 2 "--lr 0: .*> 0" -- "$PATLAB" train -q -o r --lr 0
expect_code 2 "--lr -1: .*> 0" -- "$PATLAB" train -q -o r --lr -1
expect_code 2 "--lr nan: .*> 0 and finite" -- "$PATLAB" train -q -o r --lr nan
expect_code 2 "--batch 0: .*from 1 to" -- "$PATLAB" train -q -o r --batch 0
expect_code 2 "--batch -4: .*from 1 to" -- "$PATLAB" train -q -o r --batch -4
expect_code 2 "--eval-every 0: .*at least 1" -- "$PATLAB" train -q -o r --eval-every 0
expect_code 2 "--eval-every -3: .*at least 1" -- "$PATLAB" train -q -o r --eval-every -3
expect_code 2 "--checkpoint-every -1: .*at least 1" -- "$PATLAB" train -q -o r --checkpoint-every -1
expect_code 2 "--stop-after -1: .*at least 1" -- "$PATLAB" train -q -o r --stop-after -1
expect_code 2 "--steps 0: .*at least 1" -- "$PATLAB" train -q -o r --steps 0
expect_code 2 "--steps -5: .*at least 1" -- "$PATLAB" train -q -o r --steps -5
expect_code 2 "--seed -1: expected an integer from 0 to 18446744073709551615" -- "$PATLAB" train -q -o r --seed -1
expect_code 2 "--seed 99999999999999999999999: expected an integer" -- "$PATLAB" train -q -o r --seed 99999999999999999999999
"$PATLAB" train -q -o seedmax --seed 18446744073709551615 --steps 2 || fail "the largest seed"
grep -q '"seed": 18446744073709551615' seedmax/experiment.json || fail "seed 2^64-1 not kept"
expect_code 2 "continues the run in its own folder: -o other" -- "$PATLAB" train -q --resume seedmax -o other
for flag in --out --data --method --system --resume; do
  expect_code 2 "^patlab: $flag was given an empty value" -- "$PATLAB" train -q "$flag" ""
done
[ ! -e r ] || fail "a refused run left a folder behind"
[ ! -e runs ] || fail "an empty -o trained into the default folder"

# --- experiment files ----------------------------------------------------------------------
echo '{"train": {"optimizer": {"beta1": 2}}}' >beta.json
expect_code 2 "train.optimizer.beta1: 2 is out of range: must be in \[0, 1\)" -- "$PATLAB" train -q beta.json -o r
echo '{"train": {"spsa_samples": 2000000000}}' >spsa.json
expect_code 2 "train.spsa_samples: 2000000000 is out of range" -- "$PATLAB" train -q spsa.json -o r
echo '{"steps": 1e999}' >big.json
expect_code 2 "big.json: experiment: a number is out of range" -- "$PATLAB" train -q big.json -o r
grep -q "json.exception" err.txt && fail "the JSON library's own text reached the user"
echo '{"steps": 5, "steps": 6}' >dup.json
expect_code 2 "the key 'steps' is given twice" -- "$PATLAB" train -q dup.json -o r
expect_code 2 "/dev/zero: larger than 1 MiB" -- timeout 20 "$PATLAB" train -q /dev/zero -o r
expect_code 2 "it is a folder" -- "$PATLAB" train -q seedmax -o r
expect_code 1 "/dev/zero: checkpoint: this is not a patlab checkpoint" -- timeout 20 "$PATLAB" evaluate /dev/zero

# --- a folder of someone's files ------------------------------------------------------------
mkdir mine
echo '{"mine": true}' >mine/summary.json
expect_code 2 "not empty and is not a patlab run.*summary.json.*--force" -- "$PATLAB" train -q -o mine --steps 2
grep -q mine mine/summary.json || fail "the user's summary.json was overwritten"
"$PATLAB" train -q -o mine --steps 2 --force || fail "--force"
echo x >afile
expect_code 2 "is a file, not a folder" -- "$PATLAB" train -q -o afile --steps 2

# --- a checkpoint belongs to its experiment -------------------------------------------------
"$PATLAB" train -q -o moons --steps 20
"$PATLAB" train -q -o circles --steps 20 --data circles --seed 7
cp circles/checkpoint.bin moons/checkpoint.bin
expect_code 2 'moons/checkpoint.bin is a checkpoint of experiment .*data.name: "circles" vs "moons"' -- \
  "$PATLAB" train -q --resume moons --steps 40
expect_code 2 "is a checkpoint of experiment" -- "$PATLAB" evaluate moons
# The same experiment's checkpoint from a run.json written for another one.
"$PATLAB" train -q -o twin1 --steps 20
python3 - <<'PY'
import json
j = json.load(open("twin1/run.json")); j["experiment"] = "0123456789abcdef"
json.dump(j, open("twin1/run.json", "w"))
PY
expect_code 2 "run.json, which was written for experiment 0123456789abcdef" -- "$PATLAB" train -q --resume twin1 --steps 30

# --- run.json edited by hand: an error naming it, not SIGFPE ----------------------------------
for edit in '"eval_every": 0' '"checkpoint_every": 0' '"eval_every": "x"' '"extra": 1'; do
  "$PATLAB" train -q -o edited --steps 20 --force
  python3 - "$edit" <<'PY'
import json, sys
j = json.load(open("edited/run.json")); j.update(json.loads("{" + sys.argv[1] + "}"))
json.dump(j, open("edited/run.json", "w"))
PY
  expect_code 2 "edited/run.json: (eval_every|checkpoint_every|extra): " -- "$PATLAB" train -q --resume edited --steps 30
done

# --- SIGTERM inside one long step -------------------------------------------------------------
# Every step refits the twin for 10000 iterations (about 15 s a step on a 2-core machine). Slurm
# sends SIGTERM at a time limit; the run must stop within seconds with a checkpoint.
cat >longstep.json <<'JSON'
{"train": {"batch_size": 512,
           "twin_refresh": {"every": 1, "iterations": 10000, "samples": 4096}},
 "data": {"train_size": 1024},
 "layers": [{"kind": "affine", "size": 8}, {"kind": "physical", "system": "oscillators"},
            {"kind": "affine", "size": 2}],
 "steps": 3}
JSON
"$PATLAB" train longstep.json -o long 2>long.err &
pid=$!
PIDS+=("$pid")
wait_for long/run.json
sleep 2
kill -TERM "$pid"
start=$(date +%s.%N)
rc=0
wait "$pid" || rc=$?
took=$(python3 -c "print($(date +%s.%N) - $start)")
[ "$rc" = 130 ] || { cat long.err >&2; fail "SIGTERM in a long step: exit $rc, expected 130"; }
python3 -c "import sys; sys.exit(0 if $took < 5 else 1)" || fail "SIGTERM took $took s to be honoured"
grep -q "stopped at step 0 (interrupted); checkpoint saved" long.err || { cat long.err >&2; fail "no checkpoint message"; }
"$PATLAB" evaluate long --pass twin --json >/dev/null || fail "the interrupted run's checkpoint"
echo PASS
