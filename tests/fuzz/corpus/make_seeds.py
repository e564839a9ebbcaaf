#!/usr/bin/env python3
"""Writes the fuzzers' seed experiments and checkpoints (tests/fuzz/corpus/experiment and
checkpoint). Usage: make_seeds.py PATLAB  (the command line, e.g. build/native-release/native/cli/patlab)

Each experiment is small (48 training samples), so the checkpoint fuzzer also builds a run
from it, restores the checkpoint and trains a step. `patlab train` writes each checkpoint;
it is stored with a mode byte in front ('1': re-seal the checksum after mutation, '0': as is;
see fuzz_checkpoint.cpp). Run again after a change of the checkpoint or experiment format.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def physical(system, size=0, knobs=None, seed=1):
    return {"kind": "physical", "system": system, "size": size, "seed": seed,
            "knobs": knobs or {}, "encoding": {"scale": 1.0, "offset": 0.0, "clamp": True}}


def experiment(name, data, layers, **train):
    return {"format_version": 1, "name": name,
            "data": {"name": data, "train_size": 48, "test_size": 16, "noise": 0.1, "seed": 1},
            "layers": layers, "train": dict({"batch_size": 8}, **train), "steps": 12}


def affine(size, init=1.0):
    return {"kind": "affine", "size": size, "init": init}


VALID = {
    "moons_oscillators_pat": experiment(
        "moons on oscillators", "moons",
        [affine(8), physical("oscillators", knobs={"eta": 0.2, "readout_noise_rad": 0.01}), affine(2)],
        method="pat"),
    "circles_plate_insilico_sgd": experiment(
        "circles on a plate", "circles",
        [affine(8), physical("plate", knobs={"modes": 3, "substeps": 4}), {"kind": "tanh"}, affine(2)],
        method="in-silico", optimizer={"kind": "sgd", "learning_rate": 0.05, "momentum": 0.5},
        schedule={"kind": "step", "step_every": 5, "gamma": 0.5}),
    "spiral_circuit_ideal_cosine": experiment(
        "spiral on a circuit", "spiral",
        [affine(8), physical("circuit", knobs={"substeps": 16}), {"kind": "readout_scale", "init": 2.0},
         affine(2)],
        method="ideal", loss="mse", schedule={"kind": "cosine", "total_steps": 12, "min_factor": 0.1}),
    "xor_shg_spsa": experiment(
        "xor on optics", "xor",
        [affine(4), {"kind": "relu"}, physical("shg", size=4), affine(2)],
        method="spsa", spsa_samples=2, spsa_perturbation=0.1, range_penalty=0.1),
    "clusters_crossbar_fd": experiment(
        "clusters on a crossbar", "clusters",
        [affine(2), physical("crossbar", size=3), affine(3)],
        method="fd", fd_step=0.01, clamp_params=False),
    "vowels_control_alignment": experiment(
        "vowels on a controller stack", "vowels",
        [affine(4), {"kind": "scale_offset", "init": 0.5}, physical("control"), {"kind": "sigmoid"},
         affine(7)],
        method="pat", measure_alignment=True),
    "moons_rc_diode_twin_refresh": experiment(
        "moons on the RC diode board", "moons",
        [affine(2), physical("rc_diode"), affine(2)],
        method="pat", twin_refresh={"every": 4, "iterations": 5, "learning_rate": 0.01, "samples": 32}),
    "moons_two_oscillator_layers": experiment(
        "two physical layers", "moons",
        [affine(8), physical("oscillators", seed=2), physical("oscillators", seed=3), affine(2)],
        method="pat"),
    "moons_append_select": experiment(
        "moons on oscillators with 2 class oscillators appended at rest and read out", "moons",
        [affine(8), {"kind": "append", "count": 2, "value": 0.0}, physical("oscillators"),
         {"kind": "select", "last": 2}, {"kind": "readout_scale", "init": 5.0}],
        method="pat"),
}

# Near misses: each breaks one rule the loader checks.
base = VALID["moons_oscillators_pat"]


def changed(path, value):
    e = copy.deepcopy(base)
    node = e
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return e


NEAR = {
    "bad_unknown_key": changed(["train", "learning_rte"], 0.1),
    "bad_type": changed(["data", "train_size"], "48"),
    "bad_range": changed(["train", "batch_size"], 0),
    "bad_knob": changed(["layers", 1, "knobs", "eta"], 5.0),
    "bad_system": changed(["layers", 1, "system"], "abacus"),
    "bad_version": changed(["format_version"], 2),
    "pack_digits8": changed(["data", "name"], "digits8"),
    "no_layers": changed(["layers"], []),
    "bad_select_rows": changed(["layers", 2], {"kind": "select", "first": 6, "count": 4}),
}


def main():
    patlab = sys.argv[1]
    exp_dir = os.path.join(HERE, "experiment")
    ckpt_dir = os.path.join(HERE, "checkpoint")
    os.makedirs(exp_dir, exist_ok=True)
    os.makedirs(ckpt_dir, exist_ok=True)
    for name, e in list(VALID.items()) + list(NEAR.items()):
        with open(os.path.join(exp_dir, name + ".json"), "w") as f:
            json.dump(e, f, indent=1, sort_keys=True)
            f.write("\n")
    with open(os.path.join(exp_dir, "minimal.json"), "w") as f:
        f.write("{}\n")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, e) in enumerate(VALID.items()):
            src = os.path.join(tmp, name + ".json")
            with open(src, "w") as f:
                json.dump(e, f)
            run = os.path.join(tmp, name)
            subprocess.run([patlab, "train", src, "-q", "-o", run], check=True,
                           env=dict(os.environ, PATLAB_THREADS="1"))
            with open(os.path.join(run, "checkpoint.bin"), "rb") as f:
                ckpt = f.read()
            with open(os.path.join(ckpt_dir, name), "wb") as f:
                f.write((b"0" if i == 0 else b"1") + ckpt)


if __name__ == "__main__":
    main()
