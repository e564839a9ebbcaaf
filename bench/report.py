#!/usr/bin/python3
"""Turns one run of scripts/bench.sh into the benchmark table.

  report.py OUTDIR [--doc docs/PERFORMANCE.md]

OUTDIR holds what scripts/bench.sh wrote: machine.txt, native_ref.txt, wasm_ref.txt,
torch_*.txt, systems.json, cli_rss.txt. Any missing part is reported as
"not measured". Prints the table (Markdown); with --doc, replaces the part of the file between
<!-- bench:begin --> and <!-- bench:end --> with it.
"""
import json
import os
import re
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def kv_lines(text, prefix):
    out = []
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            out.append(dict(re.findall(r"(\w+)=(\S+)", line)))
    return out


def by_method(rows):
    """The row of each method; a method trained several times (the bench's rounds, or one
    --repeat run) gets its median run by steps/s, with runs, min_steps_per_s and
    max_steps_per_s over all of them."""
    groups = {}
    for r in rows:
        if "method" in r:
            groups.setdefault(r["method"], []).append(r)
    out = {}
    for meth, rs in groups.items():
        if len(rs) == 1:
            out[meth] = rs[0]
            continue
        rs = sorted(rs, key=lambda r: float(r["steps_per_s"]))
        med = dict(rs[(len(rs) - 1) // 2])  # the lower median, as the binaries' --repeat
        med["runs"] = str(len(rs))
        med["min_steps_per_s"] = rs[0]["steps_per_s"]
        med["max_steps_per_s"] = rs[-1]["steps_per_s"]
        out[meth] = med
    return out


def fmt(x, digits=1):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def main():
    out = sys.argv[1]
    doc = sys.argv[sys.argv.index("--doc") + 1] if "--doc" in sys.argv else None
    machine = read(os.path.join(out, "machine.txt")).strip()
    native = by_method(kv_lines(read(os.path.join(out, "native_ref.txt")), "reference"))
    runs = next((r.get("runs") for r in native.values() if r.get("runs")), "1")
    native1 = by_method(kv_lines(read(os.path.join(out, "native_1thread_ref.txt")), "reference"))
    portable = by_method(kv_lines(read(os.path.join(out, "portable_ref.txt")), "reference"))
    wasm_text = read(os.path.join(out, "wasm_ref.txt"))
    wasm = by_method(kv_lines(wasm_text, "reference"))
    wasm_heap = kv_lines(wasm_text, "wasm")
    # PyTorch runs: torch_*.txt, each with a "torch version=… threads=… blas=…" line.
    torch_runs = []
    for name in sorted(os.listdir(out)):
        if name.startswith("torch_") and name.endswith(".txt"):
            text = read(os.path.join(out, name))
            info = (kv_lines(text, "torch") or [{}])[0]
            blas = {"reference": "Debian default reference BLAS", "openblas": "OpenBLAS"}.get(
                info.get("blas", "?"), info.get("blas", "?"))
            label = f"PyTorch {info.get('version', '?')}, {blas}, {info.get('threads', '?')} thread(s)"
            torch_runs.append((label, info, by_method(kv_lines(text, "reference"))))
    torch2 = next((r[2] for r in torch_runs if r[1].get("threads") == "2" and r[1].get("blas") == "reference"),
                  torch_runs[0][2] if torch_runs else {})
    rss_text = read(os.path.join(out, "cli_rss.txt"))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", rss_text)
    rss_mb = int(m.group(1)) / 1024.0 if m else None
    m = re.search(r"Elapsed \(wall clock\) time.*?: (\S+)", rss_text)
    rss_wall = m.group(1) if m else "n/a"
    try:
        gb = json.loads(read(os.path.join(out, "systems.json")))["benchmarks"]
    except (ValueError, KeyError):
        gb = []
    bench = {b["name"]: b for b in gb if b.get("run_type", "iteration") == "iteration"}

    def sps(d, meth):
        return float(d[meth]["steps_per_s"]) if meth in d else None

    L = []
    L.append(f"Machine and run: {machine}")
    L.append("")

    # -- Targets --------------------------------------------------------------------------
    nat, tor, wa = sps(native, "pat"), sps(torch2, "pat"), sps(wasm, "pat")
    port = sps(portable, "pat")
    threads = native.get("pat", {}).get("threads", "?")
    isa = native.get("pat", {}).get("isa", "?")
    gemm_peak = max((b.get("flops", 0) for n, b in bench.items() if n.startswith("gemm/")), default=None)
    twin_rates = {n: b.get("flops") for n, b in bench.items() if n.startswith("osc64_")}
    big = [twin_rates.get("osc64_fwd/1024"), twin_rates.get("osc64_vjp/1024")]
    big = [x for x in big if x]
    frac = (min(big) / gemm_peak) if big and gemm_peak else None

    def verdict(ok):
        return "n/a" if ok is None else ("**met**" if ok else "**missed**")

    r_torch = nat / tor if nat and tor else None
    r_wasm_port = port / wa if port and wa else None
    r_wasm = nat / wa if nat and wa else None
    L.append("### Targets (ratios within this one run" + (f"; medians of {runs} trainings each)" if runs != "1" else ")"))
    L.append("")
    L.append("| target | goal | measured | |")
    L.append("|---|---|---|---|")
    L.append(f"| native PAT ({isa}, {threads} threads) ÷ PyTorch PAT (Debian's python3-torch as installed, 2 threads), reference experiment, steps/s | ≥ 20× | "
             f"{fmt(r_torch)}× ({fmt(nat)} vs {fmt(tor)} steps/s) | {verdict(None if r_torch is None else r_torch >= 20)} |")
    L.append(f"| wasm under node vs native, like for like: the portable native build (SSE2), 1 thread, reference experiment (PAT) | ≤ 2× slower | "
             f"{fmt(r_wasm_port, 2)}× slower ({fmt(wa)} vs {fmt(port)} steps/s) | {verdict(None if r_wasm_port is None else r_wasm_port <= 2)} |")
    L.append(f"| wasm under node vs the fastest native ({isa}, {threads} threads), reference experiment (PAT) | ≤ 2× slower | "
             f"{fmt(r_wasm, 2)}× slower ({fmt(wa)} vs {fmt(nat)} steps/s) | {verdict(None if r_wasm is None else r_wasm <= 2)} |")
    L.append(f"| large-batch twin products (64 oscillators, batch 1024; the lower of forward and VJP) ÷ best Eigen GEMM, 1 thread | > 30 % | "
             f"{fmt(None if frac is None else 100 * frac)} % | {verdict(None if frac is None else frac > 0.30)} |")
    L.append(f"| peak RSS, `patlab train` on 14×14 MNIST | < 200 MB | {fmt(rss_mb)} MB | "
             f"{verdict(None if rss_mb is None else rss_mb < 200)} |")
    L.append("")

    # -- Reference experiment -------------------------------------------------------------
    L.append("### Reference experiment: 2 coupled-oscillator layers on 8×8 digits, 15 epochs")
    L.append("")
    if runs != "1":
        L.append(f"Every configuration trained {runs} times, in rounds alternating patlab and "
                 "PyTorch; the row is the median run, the range in brackets.")
        L.append("")
    L.append("| implementation | method | steps | seconds | steps/s | CPU ms/step | test accuracy on the device | on the twin |")
    L.append("|---|---|---|---|---|---|---|---|")
    def native_label(d, what):
        r = next(iter(d.values()), {})
        return f"patlab native{what} (Eigen, {r.get('isa', '?')}, {r.get('threads', '?')} thread(s))"

    for label, d in [(native_label(native, ""), native), (native_label(native1, ""), native1),
                     (native_label(portable, ", portable build"), portable),
                     ("patlab wasm (node)", wasm)] + [(r[0], r[2]) for r in torch_runs]:
        for meth in ("pat", "in-silico", "ideal"):
            if meth in d:
                r = d[meth]
                cpu = (f"{1e3 * float(r['cpu_seconds']) / float(r['steps']):.1f}"
                       if "cpu_seconds" in r and "wasm" not in label and float(r["steps"]) > 0 else "n/a")
                spread = (f" ({fmt(float(r['min_steps_per_s']))}–{fmt(float(r['max_steps_per_s']))})"
                          if r.get("runs", "1") != "1" and "min_steps_per_s" in r else "")
                L.append(f"| {label} | {meth} | {r['steps']} | {float(r['seconds']):.2f} | "
                         f"{fmt(float(r['steps_per_s']))}{spread} | {cpu} | {100 * float(r['test_acc_device']):.1f} % | "
                         f"{100 * float(r['test_acc_twin']):.1f} % |")
    if not torch2:
        L.append("| PyTorch | — | not measured (python3-torch missing: `sudo apt-get install python3-torch`) | | | | | |")
    L.append("")
    ratios = [f"{meth}: native {fmt(sps(native, meth) / sps(torch2, meth))}× PyTorch (Debian default, 2 threads)"
              + (f", wasm {fmt(sps(portable, meth) / sps(wasm, meth), 2)}× slower than the portable native build (1 thread)"
                 if meth in wasm and meth in portable else "")
              for meth in ("pat", "in-silico", "ideal") if meth in native and meth in torch2]
    if nat:
        for label, _, d in torch_runs:
            if "pat" in d and d is not torch2:
                ratios.append(f"PAT: native {fmt(nat / sps(d, 'pat'))}× {label}")
        if "pat" in native1:
            ratios.append(f"PAT: {threads} threads {fmt(nat / sps(native1, 'pat'), 2)}× 1 thread")
        if port:
            ratios.append(f"PAT: {isa} build {fmt(sps(native1, 'pat') / port, 2)}× the portable build (1 thread each)"
                          if "pat" in native1 else f"PAT: portable build {fmt(port)} steps/s")
    if ratios:
        L.append("Ratios (steps/s): " + "; ".join(ratios) + ".")
        L.append("")

    # -- Per system -----------------------------------------------------------------------
    L.append("### Per system: CPU µs per sample (device forward, twin forward, twin VJP) and CPU ms per PAT step (1 thread)")
    L.append("")
    L.append("| system | device B=1 | B=32 | B=256 | twin fwd B=1 | B=32 | B=256 | twin VJP B=1 | B=32 | B=256 | PAT step (B=32), ms |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    systems = []
    for n in bench:
        if n.startswith("pat_step/"):
            systems.append(n.split("/", 1)[1])

    def us_per_sample(name):
        b = bench.get(name)
        if not b or not b.get("items_per_second"):
            return "n/a"
        return fmt(1e6 / b["items_per_second"], 2)

    for s in systems:
        cells = [us_per_sample(f"{kind}/{s}/{bs}") for kind in ("device", "twin_fwd", "twin_vjp")
                 for bs in (1, 32, 256)]
        ps = bench.get(f"pat_step/{s}")
        step_ms = fmt(ps["cpu_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[ps["time_unit"]], 3) if ps else "n/a"
        L.append(f"| {s} | " + " | ".join(cells) + f" | {step_ms} |")
    L.append("")

    # -- Machine limit --------------------------------------------------------------------
    L.append("### The machine's matrix-multiply rate, and what the twin reaches (doubles, 1 thread)")
    L.append("")
    L.append("| product | GFLOP/s | of the best GEMM |")
    L.append("|---|---|---|")
    for n, b in bench.items():
        if n.startswith("gemm/") or n.startswith("osc64_"):
            f = b.get("flops")
            what = n
            if n.startswith("osc64_fwd/"):
                what = f"64-oscillator twin forward, batch {n.split('/')[1]} (J·S products only)"
            elif n.startswith("osc64_vjp/"):
                what = f"64-oscillator twin VJP, batch {n.split('/')[1]} (J·S, J·g, g·Sᵀ products only)"
            else:
                what = "Eigen GEMM " + n.split("/")[1]
            L.append(f"| {what} | {fmt(f / 1e9, 2) if f else 'n/a'} | "
                     f"{fmt(100 * f / gemm_peak) + ' %' if f and gemm_peak else 'n/a'} |")
    L.append("")

    # -- Memory ---------------------------------------------------------------------------
    L.append("### Memory")
    L.append("")
    L.append("| what | peak |")
    L.append("|---|---|")
    L.append(f"| `patlab train bench/mnist14_experiment.json` (native, 400 PAT steps; wall {rss_wall}), max RSS | {fmt(rss_mb)} MB |")
    if wasm_heap:
        h = wasm_heap[-1]
        L.append(f"| wasm reference run: linear memory at the end (grows only, so its high-water mark) | "
                 f"{int(h['heap_bytes']) / 2**20:.1f} MiB |")
        L.append(f"| wasm reference run: malloc arena / in use at the end | "
                 f"{int(h['malloc_arena_bytes']) / 2**20:.1f} / {int(h['malloc_in_use_bytes']) / 2**20:.2f} MiB |")
    else:
        L.append("| wasm heap | not measured |")

    table = "\n".join(L)
    print(table)
    if doc:
        text = read(doc)
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        if begin in text and end in text:
            text = text[: text.index(begin) + len(begin)] + "\n" + table + "\n" + text[text.index(end):]
            with open(doc, "w") as f:
                f.write(text)
        else:
            print(f"report.py: {doc} has no {begin} ... {end} block; not written", file=sys.stderr)


if __name__ == "__main__":
    main()
