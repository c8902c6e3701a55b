"""Reservoir encoding throughput: our event-driven kernel against snntorch and a naive loop.

Usage: python benchmarks/encode.py [--repeats 5] [--samples 512] [--full] [--isa avx2]

For three shapes (N-MNIST 256->200 T=50, N-TIDIGITS 64->200 T=129, BMI 192->2048 T=201)
it encodes the same inputs with the same weights using

  (a) a naive per-sample loop of the equations (numpy, one sample and step at a time),
  (b) snntorch (snn.Leaky, reset to zero, float64, bias-free nn.Linear for W_in, W_rec),
  (c) ours, the event-driven numba kernel (lsm.reservoir.network.encode, backend "events"),
  (d) ours, the dense torch path (for reference),

checks that all spike counts are identical, and prints samples/s and peak RSS per
variant (each runs in its own process, so peaks do not mix). Inputs come from the
default workflow's simulated datasets when they exist (run `make run` first), so the
firing rates are those the default config reaches; otherwise Bernoulli inputs at the
densities stated in the output. The last line reads
``ratio_vs_snntorch=<min over shapes> equal=<true|false>``. With --full it also reports
the peak RSS of encoding a full 60,000-sample N-MNIST-sized train split, streamed in
batches.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import resource
import time
from pathlib import Path

import numpy as np
from machine import AVX2_ENV, force_isa, machine_line, warm_up

from lsm.errors import LSMBenchError

REPO = Path(__file__).resolve().parents[1]
print = functools.partial(print, flush=True)  # progress reaches logs at once

# name: (n_in, n_res, T, decay, v_th, const, fallback input density)
SHAPES = {
    "nmnist": (256, 200, 50, 0.9, 5.0, 0.07, 0.088),
    "ntidigits": (64, 200, 129, 0.97, 5.3, 0.08, 0.05),
    "bmi": (192, 2048, 201, 0.95, 0.1, 0.0005, 0.10),
}


def load_inputs(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    n_in, _, n_t, *_, density = SHAPES[name]
    try:
        if name == "nmnist":
            with np.load(REPO / "results/frames/nmnist.npz") as z:
                x = z["x_test"]
        elif name == "ntidigits":
            from lsm.datasets.preprocess import AudioPrep
            from lsm.datasets.readers import ntidigits

            path = REPO / "resources/datasets/ntidigits/simulated/n-tidigits.hdf5"
            x = np.stack([AudioPrep()(ev) for _, ev in ntidigits.read_split(path, "test")])
        else:
            from lsm.datasets.readers import willett

            cubes = willett.read_single_letters(
                REPO / "resources/datasets/bmi/simulated/singleLetters.mat")
            x = np.minimum(np.concatenate(list(cubes.values())), 1).astype(np.uint8)
        idx = rng.choice(x.shape[0], size=n, replace=x.shape[0] < n)
        return np.ascontiguousarray(x[idx]), "default simulated dataset"
    except (OSError, KeyError, LSMBenchError):  # no default run yet: synthetic inputs
        x = (rng.random((n, n_t, n_in)) < density).astype(np.uint8)
        return x, f"Bernoulli inputs, density {density}"


def weights(name: str):
    from lsm.reservoir.network import GaussianWeightSource

    n_in, n_res, _, _, _, const, _ = SHAPES[name]
    return GaussianWeightSource(const=const).sample(n_in, n_res, seed=0)


def run_naive(x, w, decay, v_th):
    w_in, w_rec = w.w_in.numpy(), w.w_rec.numpy()
    out = np.zeros((x.shape[0], w_rec.shape[0]), dtype=np.int32)
    for b in range(x.shape[0]):
        v = np.zeros(w_rec.shape[0])
        s = np.zeros(w_rec.shape[0])
        for t in range(x.shape[1]):
            cur = x[b, t].astype(np.float64) @ w_in + s @ w_rec
            v = decay * v * (1.0 - s) + cur
            s = (v > v_th).astype(np.float64)
            out[b] += s.astype(np.int32)
    return out


def run_snntorch(x, w, decay, v_th, batch=256):
    import snntorch as snn
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    fc_in = torch.nn.Linear(w.n_in, w.n_res, bias=False).double()
    fc_rec = torch.nn.Linear(w.n_res, w.n_res, bias=False).double()
    with torch.no_grad():
        fc_in.weight.copy_(w.w_in.T)
        fc_rec.weight.copy_(w.w_rec.T)
    lif = snn.Leaky(beta=torch.tensor(decay, dtype=torch.float64),
                    threshold=torch.tensor(v_th, dtype=torch.float64), reset_mechanism="zero")
    out = np.empty((x.shape[0], w.n_res), dtype=np.int32)
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            xb = torch.from_numpy(x[i : i + batch]).double()
            mem = torch.zeros(xb.shape[0], w.n_res, dtype=torch.float64)
            spk = torch.zeros_like(mem)
            count = torch.zeros_like(mem)
            for t in range(xb.shape[1]):
                # snntorch returns float32 spikes; the weights and state are float64
                spk, mem = lif(fc_in(xb[:, t]) + fc_rec(spk.double()), mem)
                count += spk
            out[i : i + batch] = count.numpy()
    return out


def run_ours(x, w, decay, v_th, backend="events"):
    from lsm.reservoir.network import LIFParams, encode

    return encode(x, w, LIFParams(decay, v_th), batch_size=512, backend=backend).astype(np.int32)


VARIANTS = {"naive": run_naive, "snntorch": run_snntorch, "ours_events": run_ours,
            "ours_dense": lambda x, w, d, v: run_ours(x, w, d, v, "dense")}


def _child(variant, name, x, repeats, conn):
    w = weights(name)
    _, _, _, decay, v_th, _, _ = SHAPES[name]
    fn = VARIANTS[variant]
    fn(x[:4], w, decay, v_th)  # warm-up: JIT compilation and first-touch allocations
    warm_up(lambda: fn(x, w, decay, v_th))  # then the machine's own ramp (machine.py)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts = fn(x, w, decay, v_th)
        best = min(best, time.perf_counter() - t0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((x.shape[0] / best, rss_mb, counts))
    conn.close()


def measure(variant, name, x, repeats):
    # spawn, not fork: torch and numba start OpenMP thread pools, which fork breaks
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(variant, name, x, repeats, child))
    p.start()
    while not parent.poll(1.0):
        if not p.is_alive():
            raise RuntimeError(f"{variant} on {name} died (exit code {p.exitcode})")
    result = parent.recv()
    p.join()
    return result


def _full_size_job(conn) -> None:
    from lsm.reservoir.network import LIFParams, encode

    rng = np.random.default_rng(0)
    x = np.empty((60_000, 50, 256), dtype=np.uint8)  # 768 MB, as the frames file holds it
    for i in range(0, x.shape[0], 2000):
        x[i : i + 2000] = rng.random((2000, 50, 256)) < 0.088
    encode(x, weights("nmnist"), LIFParams(0.9, 5.0), batch_size=512)
    conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def full_size_rss() -> float:
    """Peak RSS (MB) of encoding 60,000 N-MNIST-shaped samples in one process."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_full_size_job, args=(child,))
    p.start()
    rss = parent.recv()
    p.join()
    return rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=512)
    ap.add_argument("--naive-samples", type=int, default=16)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--isa", choices=("native", "avx2"), default="native",
                    help="avx2: run every variant as on a machine without AVX-512 "
                         f"({', '.join(f'{k}={v}' for k, v in AVX2_ENV.items())})")
    args = ap.parse_args()
    force_isa(args.isa)  # inherited by the spawned children
    n_cpu = os.cpu_count()
    print(machine_line(f"numba {os.environ.get('NUMBA_NUM_THREADS', n_cpu)}, snntorch {n_cpu}"))
    print(f"repeats={args.repeats} (best of), samples={args.samples} "
          f"(naive: {args.naive_samples})")
    rng = np.random.default_rng(0)
    ratios, all_equal = [], True
    for name in SHAPES:
        x, origin = load_inputs(name, args.samples, rng)
        n_in, n_res, n_t = SHAPES[name][:3]
        print(f"\n[{name}] {n_in} -> {n_res}, T={n_t}; inputs: {origin}, "
              f"density {x.mean():.3f}")
        res = {}
        for variant in VARIANTS:
            xs = x[: args.naive_samples] if variant == "naive" else x
            res[variant] = measure(variant, name, xs, args.repeats)
            rate, rss, _ = res[variant]
            print(f"  {variant:12s} {rate:10.1f} samples/s   peak RSS {rss:7.0f} MB")
        ref = res["snntorch"][2]
        eq = all(np.array_equal(res[v][2], ref) for v in ("ours_events", "ours_dense"))
        eq &= np.array_equal(res["naive"][2], ref[: args.naive_samples])
        all_equal &= eq
        ratio = res["ours_events"][0] / res["snntorch"][0]
        ratios.append(ratio)
        print(f"  firing rate {ref.mean() / n_t:.4f} spikes/neuron/step; identical counts: "
              f"{eq}; ours/snntorch = {ratio:.1f}x")
    if args.full:
        print(f"\nfull-size N-MNIST train encoding (60,000 samples, streamed in batches of "
              f"512): peak RSS {full_size_rss():.0f} MB")
    print(f"ratio_vs_snntorch={min(ratios):.2f} equal={str(all_equal).lower()}")


if __name__ == "__main__":
    main()
