#!/usr/bin/env bash
# Every number a sweep is given, on the command line or in its sweep file, is checked: a value
# out of range, overflowing, repeated or not finite is refused with exit code 2 and a one-line
# message naming the value (and, in a file, the key) and what is allowed. Nothing runs.
source "$(dirname "$0")/common.sh"

sweep() {
  expect_code 2 "$1" -- "$PATLAB" sweep -q -o never.csv "${@:2}"
  [ "$(wc -l <err.txt)" = 1 ] || { cat err.txt >&2; fail "sweep ${*:2}: more than one line on stderr"; }
}

# --steps: 0 and negative values no longer mean "the experiment's own".
sweep "^patlab: --steps 0: .*from 1 to 9223372036854775807" --steps 0
sweep "^patlab: --steps -5: .*from 1 to" --steps -5
sweep "^patlab: --steps 99999999999999999999: .*from 1 to" --steps 99999999999999999999
sweep "^patlab: --steps 2\.5: " --steps 2.5
# --shard: numbers that overflow, and more shards than cells.
sweep "^patlab: --shard 5/99999999999999999999: write I/N" --shard 5/99999999999999999999
sweep "^patlab: --shard 99999999999999999999/5: write I/N" --shard 99999999999999999999/5
sweep "^patlab: --shard 0/3: 3 shards of a sweep of 2 cells .*use N from 1 to 2" --knob eta=0,0.4 --shard 0/3
# --seeds, --knob, --method: overflow, repeats, non-finite and empty values.
sweep "^patlab: --seeds 99999999999999999999: .*from 0 to 18446744073709551615" --seeds 99999999999999999999
sweep "^patlab: --seeds 1-3,2: seed 2 is listed twice" --seeds 1-3,2
sweep "^patlab: --seeds 1,: '' is neither" --seeds 1,
sweep "^patlab: --knob eta=0,0: the value 0 is listed twice" --knob eta=0,0
sweep "^patlab: --knob eta=0,nan: 'nan' is not a finite number" --knob eta=0,nan
sweep "^patlab: --knob eta=0,inf: 'inf' is not a finite number" --knob eta=0,inf
sweep "^patlab: --knob eta=0,: '' is not a finite number" --knob eta=0,
sweep "^patlab: --knob eta=0,1e999: '1e999' is not a finite number" --knob eta=0,1e999
sweep "^patlab: --method pat,pat: method pat is listed twice" --method pat,pat
sweep "^patlab: --method pat,: unknown training method ''" --method pat,

# The sweep file: every key, with its path in the message.
spec() { echo "$1" >spec.json; sweep "^patlab: spec\.json: $2" --spec spec.json; }
spec '{"knobs": {"eta": [0, 1e999]}}' "knobs\.eta\[1\]: number overflow parsing '1e999'"
spec '{"knobs": {"eta": [0, "x"]}}' "knobs\.eta\[1\]: expected a finite number, got \"x\""
spec '{"knobs": {"eta": []}}' "knobs\.eta: expected a list of one or more numbers"
spec '{"knobs": {"eta": [0.1, 0.1]}}' "knobs\.eta: the value 0\.1 is listed twice"
spec '{"knobs": {"eta": [0], "eta": [0.4]}}' "knobs\.eta: the key is given twice"
spec '{"steps": 60, "steps": 70}' "steps: the key is given twice"
spec '{"steps": 0}' "steps: expected a whole number from 1 to 9223372036854775807, got 0"
spec '{"steps": -5}' "steps: expected a whole number from 1 .*, got -5"
spec '{"steps": 60.5}' "steps: expected a whole number .*, got 60\.5"
spec '{"seeds": [1, 1]}' "seeds: seed 1 is listed twice"
spec '{"seeds": [-1]}' "seeds\[0\]: expected a whole number from 0 to 18446744073709551615, got -1"
spec '{"seeds": [1.5]}' "seeds\[0\]: expected a whole number .*, got 1\.5"
spec '{"seeds": [99999999999999999999]}' "seeds\[0\]: expected a whole number"
spec '{"seeds": []}' "seeds: expected a list of 1 to"
spec '{"methods": []}' "methods: expected a list of one or more methods"
spec '{"methods": ["pat", "pat"]}' "methods: method pat is listed twice"
spec '{"methods": ["pat", 3]}' "methods\[1\]: expected a method's name"
spec '{"experiment": 3}' "experiment: expected an experiment file's name or an experiment object"
spec '[1, 2]' "expected a JSON object"
spec '{"knobs": {"eta": [0, 0.4]}' "not valid JSON"
[ ! -e never.csv ] && [ ! -e never.csv.partial ] || fail "a refused sweep wrote its result file"

# A sweep file keeps its knobs in the file's order (the first is outermost).
echo '{"knobs": {"readout_noise_rad": [0, 0.05], "eta": [0, 0.4]}, "steps": 3}' >order.json
"$PATLAB" sweep -q --spec order.json -o order.csv
head -1 order.csv | grep -q ",seed,readout_noise_rad,eta,steps," ||
  fail "the sweep file's knob order was not kept: $(head -1 order.csv)"
sed -n 3p order.csv | grep -q "^1,4,.*,1,0,0\.4,3," || fail "cell 1 should be readout_noise_rad=0, eta=0.4"
echo PASS
