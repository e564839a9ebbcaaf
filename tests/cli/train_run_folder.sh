#!/usr/bin/env bash
# patlab train writes a complete run folder, and the network learns (far above chance).
source "$(dirname "$0")/common.sh"

"$PATLAB" train -q -o run --steps 200
for f in experiment.json run.json curves.csv parameters.json summary.json checkpoint.bin log.txt; do
  [ -s "run/$f" ] || fail "run/$f missing or empty"
done
head -1 run/curves.csv | grep -q '^step,loss,batch_accuracy,learning_rate,test_loss_device,device_accuracy,twin_accuracy,queries$' \
  || fail "curves.csv header"
[ "$(wc -l <run/curves.csv)" = 21 ] || fail "curves.csv should hold 20 evaluations"
acc=$(json run/summary.json device_accuracy)
python3 -c "import sys; sys.exit(0 if $acc > 0.8 else 1)" || fail "device accuracy $acc is not above 0.8 (chance: 0.5)"
[ "$(json run/summary.json steps)" = 200 ] || fail "steps"

# evaluate reads the checkpoint back and agrees with the summary.
"$PATLAB" evaluate run --pass device --json >eval.json
python3 -c "import json; a=json.load(open('eval.json'))['device']['accuracy']; assert abs(a-$acc) < 0.05, a" \
  || fail "evaluate disagrees with summary.json"

# An experiment file is taken as written, and the folder is not overwritten by accident.
"$PATLAB" train -q -o run2 run/experiment.json --steps 20 --method in-silico
grep -q '"method": "in-silico"' run2/experiment.json || fail "--method not applied"
expect_code 2 "already holds a run.*--resume" -- "$PATLAB" train -q -o run2
echo PASS
