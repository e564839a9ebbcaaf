#!/usr/bin/python3
"""Regenerates the tables of docs/results.md from sweeps: every figure a mean ± standard
deviation over seeds, measured on the emulated device, never typed by hand.

  results.py run CLAIM.json... [--patlab BIN] [--out DIR] [--jobs N]
      runs each claim's sweep (`patlab sweep`, cut into N shards run side by side, then
      `patlab merge`) into DIR/<claim>.csv; a CSV already there for the same sweep is reused
  results.py table CLAIM.json CSV
      prints the claim's table (Markdown)
  results.py doc DOC.md CLAIM.json... [--out DIR]
      replaces, in DOC.md, the block between <!-- results:<claim>:begin --> and
      <!-- results:<claim>:end --> with the claim's table (the command that regenerates it
      above it)

scripts/results.sh does all three for every claim in bench/results/. A claim file:

  {"title": "...", "note": "what the table shows (Markdown)",
   "paper": {"pat": "0.97"},            # the paper's figure per method, when it has one
   "sweep": {<a sweep file of `patlab sweep --spec`: experiment, knobs, methods, seeds, steps>}}
"""
import csv
import json
import statistics
import os
import subprocess
import sys
import tempfile

MIN_SEEDS = 5  # docs/ publishes no accuracy over fewer seeds


def fail(msg):
    sys.stderr.write("results.py: " + msg + "\n")
    sys.exit(2)


def load_claim(path):
    try:
        with open(path) as f:
            claim = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    for key in ("title", "sweep"):
        if key not in claim:
            fail(f"{path}: a claim needs '{key}'")
    unknown = set(claim) - {"title", "note", "paper", "sweep"}
    if unknown:
        fail(f"{path}: unknown key(s) {sorted(unknown)} (title, note, paper, sweep)")
    seeds = claim["sweep"].get("seeds", [])
    if len(seeds) < MIN_SEEDS:
        fail(f"{path}: sweep.seeds has {len(seeds)} seed(s); a published figure needs at least {MIN_SEEDS}")
    return claim


def claim_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def mean_sd(values):
    """Mean and sample standard deviation (n - 1), exactly as the statistics module rounds."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def read_rows(csv_path):
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def table(claim, rows):
    """The claim's Markdown table: one row per knob cell, one column per method."""
    fixed = {"cell", "cells", "sweep", "method", "seed", "steps", "test_loss_device",
             "device_accuracy", "twin_accuracy", "queries"}
    if not rows:
        fail("the sweep's CSV has no rows")
    knob_cols = [c for c in rows[0].keys() if c not in fixed]
    methods = []
    cells = {}  # knob values (tuple) -> method -> [accuracies]
    seeds = set()
    for r in rows:
        if r["method"] not in methods:
            methods.append(r["method"])
        key = tuple(r[k] for k in knob_cols)
        cells.setdefault(key, {}).setdefault(r["method"], []).append(float(r["device_accuracy"]))
        seeds.add(r["seed"])
    paper = claim.get("paper", {})
    head = ["knobs"] + [f"{m}" for m in methods] + (["paper"] if paper else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for key, by_method in cells.items():
        knobs = ", ".join(f"{k} {v}" for k, v in zip(knob_cols, key)) or "(the experiment's)"
        row = [knobs]
        for m in methods:
            acc = by_method.get(m, [])
            if len(acc) < MIN_SEEDS:
                fail(f"{knobs}, {m}: {len(acc)} seed(s), fewer than {MIN_SEEDS}")
            mu, sd = mean_sd(acc)
            row.append(f"{mu:.3f} ± {sd:.3f}")
        if paper:
            row.append(", ".join(f"{m} {v}" for m, v in paper.items()))
        lines.append("| " + " | ".join(row) + " |")
    steps = rows[0]["steps"]
    lines.append("")
    lines.append(f"Test accuracy on the device, mean ± standard deviation over {len(seeds)} seeds "
                 f"({', '.join(sorted(seeds, key=int))}: the training's and the data's; each device's "
                 f"own seed is the experiment's), {steps} training steps.")
    return "\n".join(lines)


def run(claims, patlab, out, jobs):
    os.makedirs(out, exist_ok=True)
    for path in claims:
        claim = load_claim(path)
        name = claim_name(path)
        final = os.path.join(out, name + ".csv")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
            json.dump(claim["sweep"], spec)
        try:
            shards = []
            procs = []
            for i in range(jobs):
                shard = os.path.join(out, f"{name}-{i}of{jobs}.csv")
                shards.append(shard)
                procs.append(subprocess.Popen([patlab, "sweep", "--spec", spec.name, "--shard",
                                               f"{i}/{jobs}", "-o", shard, "-q"]))
            codes = [p.wait() for p in procs]
            if any(codes):
                fail(f"{path}: patlab sweep failed (exit codes {codes})")
            if subprocess.call([patlab, "merge", *shards, "-o", final]) != 0:
                fail(f"{path}: patlab merge failed")
            for s in shards:
                os.remove(s)
        finally:
            os.remove(spec.name)
        print(f"{name}: {final}")


def doc(doc_path, claims, out):
    with open(doc_path) as f:
        text = f.read()
    for path in claims:
        claim = load_claim(path)
        name = claim_name(path)
        begin, end = f"<!-- results:{name}:begin -->", f"<!-- results:{name}:end -->"
        if begin not in text or end not in text:
            fail(f"{doc_path} has no block {begin} ... {end}")
        body = table(claim, read_rows(os.path.join(out, name + ".csv")))
        block = (f"{begin}\n**{claim['title']}**. Regenerate: `scripts/results.sh {path}`.\n\n"
                 + (claim.get("note", "") + "\n\n" if claim.get("note") else "") + body + f"\n{end}")
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    with open(doc_path, "w") as f:
        f.write(text)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    opts = {"--patlab": "build/native-release/native/cli/patlab", "--out": "build/results", "--jobs": "2"}
    args = []
    i = 2
    while i < len(argv):
        if argv[i] in opts:
            if i + 1 >= len(argv):
                fail(f"{argv[i]} needs a value")
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    cmd = argv[1]
    if cmd == "run":
        if not args:
            fail("run: name one or more claim files")
        jobs = int(opts["--jobs"]) if opts["--jobs"].isdigit() and int(opts["--jobs"]) > 0 else fail("--jobs: a positive whole number")
        run(args, opts["--patlab"], opts["--out"], jobs)
    elif cmd == "table":
        if len(args) != 2:
            fail("table: CLAIM.json CSV")
        print(table(load_claim(args[0]), read_rows(args[1])))
    elif cmd == "doc":
        if len(args) < 2:
            fail("doc: DOC.md CLAIM.json...")
        doc(args[0], args[1:], opts["--out"])
    else:
        fail(f"unknown command '{cmd}' (run, table, doc)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
