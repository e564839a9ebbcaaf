#!/usr/bin/python3
"""The benchmark suite's reference experiment in PyTorch, for a side-by-side speed ratio.

The same computation as bench/reference.cpp (patlab_bench_reference), written the way a
PyTorch user writes physics-aware training (as the reference notebooks do):

  64 pixels -> initial angles of 64 coupled oscillators            (physical layer 1)
  64 angles + 10 class oscillators at angle 0 -> 74 oscillators    (physical layer 2)
  the class oscillators' final angles x alpha (trainable) -> softmax cross-entropy

  q'' = -S + J S - (1 + d) * S + e,  S = sin(c q),  d_i = sum_j J_ij,  q(0) = x, q'(0) = 0,
  5 RK4 steps of dt = 0.1; trainable J (symmetric, zero diagonal) and e, clamped to [-1, 1].

Device ("true physics"): c = 1 + eta (eta = 0.2), an extra fixed random coupling (std 0.1, its
diagonal a self-term on each pendulum's own restoring force, as in patlab) and
readout noise (std 0.01 rad). Twin: c = 1, no extra coupling, no noise.

  pat        forward on the device; backward through the twin's autograd, re-run at the
             device's own inputs (a custom autograd Function), as in Wright et al. 2022
  in-silico  forward and backward on the twin (plain autograd)
  ideal      forward on the device; backward through the noiseless true physics

Batch 32, Adam (lr 0.02), 15 epochs of 44 full batches, float64 (as patlab's doubles), CPU.
Data: the split patlab_bench_reference --export-csv writes (the digits8 pack's).

  /usr/bin/python3 bench/reference_torch.py --data PREFIX [--threads 2] [--methods pat,...]

Prints one line per method in the same key=value form as the C++ binary; with --repeat N,
each method is trained N times (a "run" line each) and the line is the median run's. A benchmark
dependency only (Debian's python3-torch); nothing in patlab's build or tests needs it.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

STEPS, DT, ETA, COUPLING_NOISE, READOUT_NOISE = 5, 0.1, 0.2, 0.1, 0.01


def load(path):
    a = np.loadtxt(path, delimiter=",", ndmin=2)
    return torch.tensor(a[:, 1:], dtype=torch.float64), torch.tensor(a[:, 0], dtype=torch.long)


class Oscillators:
    """One layer's physics: the twin (c = 1, no extra coupling) or the device's truth."""

    def __init__(self, n, c, J_extra):
        self.n, self.c, self.J_extra = n, c, J_extra
        self.iu = torch.triu_indices(n, n, 1)

    def unpack(self, theta):
        n = self.n
        J = torch.zeros(n, n, dtype=theta.dtype)
        J = J.index_put((self.iu[0], self.iu[1]), theta[: -n])
        J = J + J.T
        if self.J_extra is not None:
            J = J + self.J_extra
        # The extra coupling's diagonal is its self-term: it shifts each pendulum's own
        # restoring force (1 + sum_j J_ij + X_ii), and J keeps a zero diagonal, as in patlab.
        one_d = 1.0 + J.sum(dim=1)
        return J - torch.diag(torch.diagonal(J)), one_d, theta[-n:]

    def integrate(self, x, theta):  # x: batch x n
        J, one_d, e = self.unpack(theta)
        c, h = self.c, DT

        def accel(q):
            S = torch.sin(c * q)
            return S @ J - S * one_d + e  # J symmetric: (J S)ᵀ = Sᵀ J

        q, p = x, torch.zeros_like(x)
        for _ in range(STEPS):
            a1 = accel(q)
            q2, p2 = q + 0.5 * h * p, p + 0.5 * h * a1
            a2 = accel(q2)
            q3, p3 = q + 0.5 * h * p2, p + 0.5 * h * a2
            a3 = accel(q3)
            q4, p4 = q + h * p3, p + h * a3
            a4 = accel(q4)
            q = q + (h / 6.0) * (p + 2.0 * p2 + 2.0 * p3 + p4)
            p = p + (h / 6.0) * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
        return q


class Device:
    def __init__(self, n, gen):
        extra = torch.randn(n, n, generator=gen, dtype=torch.float64) * COUPLING_NOISE
        extra = torch.triu(extra, 1)
        self_term = torch.randn(n, generator=gen, dtype=torch.float64) * COUPLING_NOISE
        self.truth = Oscillators(n, 1.0 + ETA, extra + extra.T + torch.diag(self_term))
        self.gen = gen

    def measure(self, x, theta):
        with torch.no_grad():
            y = self.truth.integrate(x, theta)
            return y + READOUT_NOISE * torch.randn(y.shape, generator=self.gen, dtype=y.dtype)


class PhysicsAware(torch.autograd.Function):
    """Forward: the device. Backward: the model `back` (twin for PAT, truth for ideal),
    re-run with autograd at the device's own input, its Jacobians only (not its output)."""

    @staticmethod
    def forward(ctx, x, theta, device, back):
        ctx.save_for_backward(x, theta)
        ctx.back = back
        return device.measure(x, theta)

    @staticmethod
    def backward(ctx, g_y):
        x, theta = ctx.saved_tensors
        with torch.enable_grad():
            xs = x.detach().requires_grad_(ctx.needs_input_grad[0])
            ts = theta.detach().requires_grad_(True)
            y = ctx.back.integrate(xs, ts)
            inputs = (xs, ts) if ctx.needs_input_grad[0] else (ts,)
            g = torch.autograd.grad(y, inputs, g_y)
        if ctx.needs_input_grad[0]:
            return g[0], g[1], None, None
        return None, g[0], None, None


class Net:
    def __init__(self, seed):
        gen = torch.Generator().manual_seed(seed)
        self.n1, self.n2 = 64, 74
        self.dev1, self.dev2 = Device(self.n1, gen), Device(self.n2, gen)
        self.twin1, self.twin2 = Oscillators(self.n1, 1.0, None), Oscillators(self.n2, 1.0, None)

        def theta0(n):  # couplings ~ N(0, 0.1²), drives 0 (as OscillatorModel::initial_theta)
            t = torch.zeros(n * (n - 1) // 2 + n, dtype=torch.float64)
            t[: -n] = 0.1 * torch.randn(n * (n - 1) // 2, generator=gen, dtype=torch.float64)
            return t.requires_grad_(True)

        self.theta1, self.theta2 = theta0(self.n1), theta0(self.n2)
        self.alpha = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
        self.params = [self.theta1, self.theta2, self.alpha]

    def layer(self, x, theta, device, twin, mode):
        if mode == "in-silico":
            return twin.integrate(x, theta)
        back = twin if mode == "pat" else device.truth
        return PhysicsAware.apply(x, theta, device, back)

    def forward(self, x, mode):
        h = self.layer(x, self.theta1, self.dev1, self.twin1, mode)
        h = torch.cat([h, torch.zeros(h.shape[0], 10, dtype=h.dtype)], dim=1)
        h = self.layer(h, self.theta2, self.dev2, self.twin2, mode)
        return self.alpha * h[:, -10:]

    def clamp(self):
        with torch.no_grad():
            self.theta1.clamp_(-1.0, 1.0)
            self.theta2.clamp_(-1.0, 1.0)


def accuracy(net, x, y, mode):
    with torch.no_grad():
        return (net.forward(x, mode).argmax(dim=1) == y).double().mean().item()


def blas_in_use():
    """Which BLAS this process really loaded (Debian switches it with alternatives or
    LD_LIBRARY_PATH): 'openblas', 'reference' (netlib, Debian's default) or the file."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return "unknown"
    if any("openblas" in p for p in libs):
        return "openblas"
    if any("/blas/" in p for p in libs):
        return "reference"
    return ",".join(sorted(libs)) or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="PREFIX of PREFIX_train.csv / PREFIX_test.csv")
    ap.add_argument("--methods", default="pat,in-silico,ideal")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    xtr, ytr = load(a.data + "_train.csv")
    xte, yte = load(a.data + "_test.csv")
    print(f"torch version={torch.__version__} threads={torch.get_num_threads()} "
          f"blas={blas_in_use()} train={len(ytr)} test={len(yte)}", flush=True)
    for mode in a.methods.split(","):
        runs = []
        for r in range(a.repeat):
            torch.manual_seed(a.seed)
            net = Net(a.seed)
            opt = torch.optim.Adam(net.params, lr=0.02, betas=(0.9, 0.999), eps=1e-8)
            per_epoch = len(ytr) // a.batch
            steps = 0
            loss = torch.tensor(0.0)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(a.epochs):
                order = torch.randperm(len(ytr))
                for b in range(per_epoch):
                    idx = order[b * a.batch:(b + 1) * a.batch]
                    opt.zero_grad()
                    loss = F.cross_entropy(net.forward(xtr[idx], mode), ytr[idx])
                    loss.backward()
                    opt.step()
                    net.clamp()
                    steps += 1
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            runs.append((secs, cpu, loss.item(), accuracy(net, xte, yte, 'pat'),
                         accuracy(net, xte, yte, 'in-silico')))
            if a.repeat > 1:
                print(f"run method={mode} run={r + 1} seconds={secs:.3f} steps_per_s={steps / secs:.2f}",
                      flush=True)
        by_speed = sorted(runs)
        secs, cpu, last, acc_dev, acc_twin = by_speed[len(by_speed) // 2]
        print(f"reference method={mode} steps={steps} seconds={secs:.3f} steps_per_s={steps / secs:.2f} cpu_seconds={cpu:.3f} "
              f"last_loss={last:.4f} test_acc_device={acc_dev:.4f} test_acc_twin={acc_twin:.4f} "
              f"runs={a.repeat} min_steps_per_s={steps / by_speed[-1][0]:.2f} "
              f"max_steps_per_s={steps / by_speed[0][0]:.2f}", flush=True)

if __name__ == "__main__":
    main()
