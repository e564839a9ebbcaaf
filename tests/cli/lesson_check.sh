#!/usr/bin/env bash
# `patlab lesson check|run`: a good lesson passes, a broken one fails naming its line, every
# file is checked even after one fails, and the help teaches the command.
source "$(dirname "$0")/common.sh"
LESSONS="$(cd "$(dirname "$0")/../../lessons" && pwd)"

"$PATLAB" lesson --help >help.txt || fail "lesson --help exited $?"
grep -q "patlab lesson check" help.txt || fail "lesson --help shows no example"
grep -q "FILE:LINE" help.txt || fail "lesson --help does not say how problems print"
"$PATLAB" --help | grep -q "lesson" || fail "--help does not list lesson"
"$PATLAB" lesson run --help | grep -q "checkpoint" || fail "lesson run --help"

# A shipped lesson.
"$PATLAB" lesson check "$LESSONS/03-reality-gap.md" >out.txt || fail "a shipped lesson fails"
grep -q "03-reality-gap.md: ok" out.txt || fail "no ok line: $(cat out.txt)"

# A small lesson run headless: its checkpoint is met.
cat >good.md <<'LESSON'
# A quick one

## Train a little

```lesson
setup: data=moons&methods=pat
check: step >= 20 within 100 steps
```
LESSON
"$PATLAB" lesson run good.md >out.txt || fail "lesson run good.md"
grep -q "good.md: A quick one (1 steps)" out.txt || fail "no title line: $(cat out.txt)"
grep -qE 'good.md:7: step 1 "step >= 20 within 100 steps": met after [0-9]+ steps' out.txt ||
  fail "no met checkpoint: $(cat out.txt)"

# Broken text: an unknown view at line 7, named as file:line.
sed 's/^check: .*/view: nowhere/' good.md >broken.md
expect_code 1 "^broken.md:7: " -- "$PATLAB" lesson check broken.md
grep -q "nowhere" err.txt || fail "the message does not name the bad value: $(cat err.txt)"
# Broken against the lab: a setup the lab refuses, at its line.
sed 's/data=moons/data=nowhere/' good.md >nodata.md
expect_code 1 "^nodata.md:6: " -- "$PATLAB" lesson check nodata.md
# A checkpoint that cannot be met within its steps fails `run` at its line.
sed 's/step >= 20 within 100/step >= 100000 within 10/' good.md >unmet.md
expect_code 1 "^unmet.md:7: " -- "$PATLAB" lesson run unmet.md
grep -q "NOT MET" out.txt || fail "run does not report the unmet checkpoint: $(cat out.txt)"

# Every file is checked: the good one still reports ok after a broken and a missing one.
expect_code 1 "^missing.md:0: cannot read the file" -- \
  "$PATLAB" lesson check broken.md missing.md good.md
grep -q "^broken.md:7: " err.txt || fail "broken.md not reported among several"
grep -q "good.md: ok" out.txt || fail "good.md not checked after the broken ones"

# Usage mistakes: exit 2.
expect_code 2 "subcommand" -- "$PATLAB" lesson
expect_code 2 "files" -- "$PATLAB" lesson check
echo PASS
