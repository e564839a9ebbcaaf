#!/usr/bin/env bash
# Bad input: exit code 2 and a message naming the problem.
source "$(dirname "$0")/common.sh"

expect_code 2 "unknown command 'trian'" -- "$PATLAB" trian
expect_code 2 "unknown knob 'nope'" -- "$PATLAB" train -q -o r --knob nope=1
expect_code 2 "'eta'.*outside" -- "$PATLAB" train -q -o r --knob eta=9
expect_code 2 "KEY=VALUE" -- "$PATLAB" train -q -o r --knob eta
expect_code 2 "unknown training method 'foo'" -- "$PATLAB" train -q -o r --method foo
expect_code 2 "cannot read missing.json" -- "$PATLAB" train -q missing.json
echo '{"steps": "many"}' >bad.json
expect_code 2 "steps: expected an integer" -- "$PATLAB" train -q bad.json
echo '{"data": {"name": "moons", "sise": 3}}' >typo.json
expect_code 2 "data.sise: unknown key" -- "$PATLAB" train -q typo.json
expect_code 2 "does not exist.*run folder" -- "$PATLAB" train --resume nowhere
expect_code 2 "only --steps" -- "$PATLAB" train --resume nowhere --method pat
expect_code 2 "--shard 2/2" -- "$PATLAB" sweep --shard 2/2
expect_code 2 "--seeds" -- "$PATLAB" sweep --seeds x
expect_code 2 "--device given 2 times.*1 physical layers" -- "$PATLAB" train -q -o r --device a --device b
expect_code 2 "unknown system|nosuch" -- "$PATLAB" device-sim nosuch
expect_code 2 "unknown fault 'melt'" -- "$PATLAB" device-sim oscillators --fault melt
expect_code 2 "either --device" -- "$PATLAB" fit-twin -o t.json
expect_code 2 "not a sweep result" -- "$PATLAB" merge bad.json -o m.csv
"$PATLAB" --help | grep -q "Exit codes" || fail "--help"
"$PATLAB" train --help | grep -q -- "--resume" || fail "train --help"
echo PASS
