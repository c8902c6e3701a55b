"""Training throughput of the trainable spiking baselines: our BPTT engine against
snntorch and the plain autograd loop.

Usage: python benchmarks/bptt.py [--repeats 5] [--threads 1] [--readouts ann,snn]
                                 [--shapes nmnist,ntidigits,bmi] [--isa avx2]

For three shapes (N-MNIST 256->200 T=50, N-TIDIGITS 64->200 T=129, BMI 192->512 T=201;
batch 100; Bernoulli inputs at density 0.09; W_in, W_rec drawn as the SRNN draws them,
``const * N(0, 6.6^2)``, with `const` chosen so that 8-12 % of the neurons fire) and
both readouts (SRNN-ANN: rate -> Linear; SRNN-SNN: a LIF readout layer), one training
step (forward, cross-entropy, backward, Adam step) is timed for

  (a) snntorch 1.0: ``snn.Leaky(reset_mechanism="zero")`` per step, driven by bias-free
      ``nn.Linear`` layers for W_in and W_rec (see below why not ``snn.RLeaky``), with
      the same rectangular surrogate as a custom ``spike_grad``;
  (b) loop: ``SRNN.reference_forward``, the step-by-step autograd loop (the old code);
  (c) engine: ``SRNN.forward``, the hand-written BPTT engine (``lsm.models.lif_bptt``).

Every timed step starts from the same weights and optimizer state (restored between
repeats, untimed): training moves the firing rate within a few steps, and the engine's
cost follows it. Each variant runs in its own process (peaks do not mix); the memory
column is the peak resident-set growth during the first full-size training step (after
a 2-sample warm-up that compiles and initialises; the kernel's peak-RSS counter is reset
just before it), i.e. the memory one step needs. A float64 check per shape runs all
three on the same data and weights: hidden spikes must be identical, and the engine's
gradients (both backends) equal to the loop's to relative 1e-5 (max |a - b| / max |b|
per parameter).

snntorch's ``RLeaky(reset_mechanism="zero")`` multiplies the whole new potential by
``(1 - s_{t-1})``, input included (V_t = (beta V_{t-1} + I_t)(1 - s_{t-1})); our layer
zeroes only the leak term (V_t = beta V_{t-1} (1 - s_{t-1}) + I_t), so the check reports
that RLeaky's spikes differ and the peer is snn.Leaky plus a Linear recurrence, which
reproduces our spikes exactly. snntorch detaches its reset, so its gradients omit the
reset path: they are not compared. The last line reads
``ratio_vs_snntorch=<min over rows> grad_equal=<true|false>``.
"""

from __future__ import annotations

import argparse
import copy
import functools
import multiprocessing as mp
import resource
import time
from pathlib import Path

from machine import AVX2_ENV, force_isa, machine_line, warm_up

REPO = Path(__file__).resolve().parents[1]
print = functools.partial(print, flush=True)  # progress reaches logs at once

# name: (n_in, n_res, T, decay, v_th, const, n_classes, input density)
SHAPES = {
    "nmnist": (256, 200, 50, 0.9, 0.3, 0.0065, 10, 0.09),
    "ntidigits": (64, 200, 129, 0.9, 0.3, 0.007, 11, 0.09),
    "bmi": (192, 512, 201, 0.95, 0.3, 0.004, 26, 0.09),
}
BATCH = 100
LENS = 0.25
READOUT_DECAY = 0.9
IMPLS = ("snntorch", "loop", "engine")


def make_data(name: str, dtype=None):
    """Inputs x [N, T, C] (0/1) and labels y [N], from a fixed seed."""
    import torch

    n_in, _, n_t, _, _, _, n_classes, density = SHAPES[name]
    gen = torch.Generator().manual_seed(1)
    x = (torch.rand(BATCH, n_t, n_in, generator=gen) < density).float()
    y = torch.randint(0, n_classes, (BATCH,), generator=gen)
    return (x.to(dtype) if dtype is not None else x), y


def make_srnn(name: str, readout: str, backend: str = "auto"):
    import torch

    from lsm.models.srnn import SRNN

    n_in, n_res, _, decay, v_th, const, n_classes, _ = SHAPES[name]
    torch.manual_seed(0)
    return SRNN(n_in, n_res, n_classes, decay, v_th, const, readout=readout,
                readout_decay=READOUT_DECAY, lens=LENS, backend=backend)


def rect_spike(lens: float):
    """snntorch spike_grad: Heaviside forward, our rectangular surrogate backward."""
    import torch

    class Rect(torch.autograd.Function):
        @staticmethod
        def forward(ctx, v_shift):
            ctx.save_for_backward(v_shift)
            return (v_shift > 0).to(v_shift.dtype)

        @staticmethod
        def backward(ctx, grad):
            (v_shift,) = ctx.saved_tensors
            return grad * (v_shift.abs() < lens).to(grad.dtype) / (2 * lens)

    return Rect.apply


def make_snntorch(srnn, readout: str):
    """The snntorch peer with srnn's weights: snn.Leaky + bias-free Linear W_in, W_rec."""
    import snntorch as snn
    import torch
    from torch import nn

    enc = srnn.encoder
    n_in, n_res = enc.w_in.shape
    dtype = enc.w_in.dtype

    class Peer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc_in = nn.Linear(n_in, n_res, bias=False)
            self.fc_rec = nn.Linear(n_res, n_res, bias=False)
            self.fc = nn.Linear(n_res, srnn.fc.out_features)
            spike = rect_spike(LENS)
            self.lif = snn.Leaky(beta=torch.tensor(enc.decay, dtype=dtype),
                                 threshold=torch.tensor(enc.v_th, dtype=dtype),
                                 reset_mechanism="zero", spike_grad=spike)
            self.lif_out = snn.Leaky(beta=torch.tensor(READOUT_DECAY, dtype=dtype),
                                     threshold=torch.tensor(srnn.v_th, dtype=dtype),
                                     reset_mechanism="zero", spike_grad=spike)

        def hidden(self, x):
            mem = x.new_zeros(x.shape[0], n_res)
            spk = torch.zeros_like(mem)
            out = []
            for t in range(x.shape[1]):
                spk, mem = self.lif(self.fc_in(x[:, t]) + self.fc_rec(spk), mem)
                out.append(spk)
            return out

        def forward(self, x):
            spikes = self.hidden(x)
            if readout == "ann":
                return self.fc(sum(spikes) / x.shape[1])
            mem = x.new_zeros(x.shape[0], self.fc.out_features)
            count = torch.zeros_like(mem)
            for s in spikes:
                so, mem = self.lif_out(self.fc(s), mem)
                count = count + so
            return count / x.shape[1]

    peer = Peer().to(dtype)
    with torch.no_grad():
        peer.fc_in.weight.copy_(enc.w_in.T)
        peer.fc_rec.weight.copy_(enc.w_rec.T)
        peer.fc.weight.copy_(srnn.fc.weight)
        peer.fc.bias.copy_(srnn.fc.bias)
    return peer


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _step_peak_mb(step) -> tuple[float, float]:
    """(peak RSS growth during one call of `step`, process peak RSS) in MB. Resets the
    kernel's peak counter first (/proc/self/clear_refs); without it, the process peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status_kb("VmRSS")
        step()
        peak = _status_kb("VmHWM")
        return (peak - base) / 1024, peak / 1024
    except OSError:
        step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return float("nan"), peak


def _child(impl: str, name: str, readout: str, repeats: int, threads: int, conn) -> None:
    import torch
    from torch import nn

    torch.set_num_threads(threads)  # as the training loop does (TrainConfig.threads)
    x, y = make_data(name)
    model = make_srnn(name, readout)
    if impl == "snntorch":
        model = make_snntorch(model, readout)
    fwd = model.reference_forward if impl == "loop" else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(xb=x, yb=y) -> None:
        opt.zero_grad()
        loss_fn(fwd(xb), yb).backward()
        opt.step()

    init_model, init_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())

    def restore() -> None:
        model.load_state_dict(init_model)
        opt.load_state_dict(init_opt)

    step(x[:2], y[:2])  # warm-up on 2 samples: JIT compilation, lazy initialisation
    restore()
    step_mb, peak_mb = _step_peak_mb(step)  # the first full-size step: all its buffers

    def warm_step() -> None:
        restore()
        step()

    warm_up(warm_step)  # the machine's own ramp (machine.py), untimed
    best = float("inf")
    for _ in range(repeats):
        restore()
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    conn.send((x.shape[0] / best, best, step_mb, peak_mb))
    conn.close()


def _check(name: str, readout: str, conn) -> None:
    """float64: identical hidden spikes (snntorch peer, RLeaky, loop, engine) and the
    engine's gradients (numba and torch backends) against the loop's."""
    import snntorch as snn
    import torch
    from torch import nn

    torch.set_num_threads(1)
    x, y = make_data(name, torch.float64)
    loss_fn = nn.CrossEntropyLoss()
    res: dict = {}
    grads, spikes = {}, {}
    for label, backend, use_ref in (("loop", "auto", True), ("numba", "numba", False),
                                    ("torch", "torch", False)):
        model = make_srnn(name, readout, backend).double()
        loss = loss_fn(model.reference_forward(x) if use_ref else model(x), y)
        loss.backward()
        grads[label] = {k: p.grad for k, p in model.named_parameters()}
        res[f"loss_{label}"] = loss.item()
        with torch.no_grad():
            spikes[label] = model.encoder.spike_train(x) if not use_ref else None
    model = make_srnn(name, readout).double()
    with torch.no_grad():  # the loop's hidden spikes, step by step
        enc = model.encoder
        spikes["loop"] = enc.reference_spike_train(x)
        peer = make_snntorch(model, readout)
        spikes["snntorch"] = torch.stack(peer.hidden(x), 1)
        rl = snn.RLeaky(beta=torch.tensor(enc.decay, dtype=torch.float64), all_to_all=True,
                        linear_features=enc.w_rec.shape[0],
                        threshold=torch.tensor(enc.v_th, dtype=torch.float64),
                        reset_mechanism="zero", spike_grad=rect_spike(LENS)).double()
        rl.recurrent.weight.copy_(enc.w_rec.T)
        rl.recurrent.bias.zero_()
        spk = x.new_zeros(x.shape[0], enc.w_rec.shape[0])
        mem = torch.zeros_like(spk)
        out = []
        for t in range(x.shape[1]):
            spk, mem = rl(peer.fc_in(x[:, t]), spk, mem)
            out.append(spk)
        spikes["rleaky"] = torch.stack(out, 1)
    ref = spikes["loop"]
    res["spikes_equal"] = {k: bool(torch.equal(spikes[k], ref)) for k in spikes if k != "loop"}
    res["firing"] = float(ref.mean())
    res["grad_err"] = {
        b: max(float((grads[b][k] - grads["loop"][k]).abs().max()
                     / grads["loop"][k].abs().max().clamp_min(1e-300)) for k in grads["loop"])
        for b in ("numba", "torch")}
    conn.send(res)
    conn.close()


def _spawn(target, *args):
    # spawn, not fork: torch and numba start OpenMP thread pools, which fork breaks
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=target, args=(*args, child))
    p.start()
    while not parent.poll(1.0):
        if not p.is_alive():
            raise RuntimeError(f"{target.__name__}{args} died (exit code {p.exitcode})")
    result = parent.recv()
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per variant (best of)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch (and numba) threads; 1 = the training loop's default")
    ap.add_argument("--readouts", default="ann,snn")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--isa", choices=("native", "avx2"), default="native",
                    help="avx2: run every variant as on a machine without AVX-512 "
                         f"({', '.join(f'{k}={v}' for k, v in AVX2_ENV.items())})")
    args = ap.parse_args()
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")
    force_isa(args.isa)  # inherited by the spawned children
    import snntorch

    print(machine_line(args.threads))
    print(f"snntorch {snntorch.__version__}; batch {BATCH}; one training step = forward + "
          f"cross-entropy + backward + Adam; best of {args.repeats} steps, each from the same "
          f"initial state; memory: peak RSS growth of the first full-size step (process peak in "
          f"brackets)")
    ratios, grad_ok = [], True
    for name in args.shapes.split(","):
        n_in, n_res, n_t, decay, v_th, const, _, density = SHAPES[name]
        for readout in args.readouts.split(","):
            chk = _spawn(_check, name, readout)
            res = {impl: _spawn(_child, impl, name, readout, args.repeats, args.threads)
                   for impl in IMPLS}
            ok = max(chk["grad_err"].values()) <= 1e-5
            grad_ok &= ok
            ratio = res["engine"][0] / res["snntorch"][0]
            ratios.append(ratio)
            print(f"\n[{name} / {readout}] {n_in} -> {n_res}, T={n_t}, decay {decay}, "
                  f"V_th {v_th}, const {const}, inputs Bernoulli {density}; hidden firing "
                  f"{chk['firing']:.3f} spikes/neuron/step")
            for impl in IMPLS:
                rate, sec, step_mb, peak_mb = res[impl]
                print(f"  {impl:9s} {rate:9.1f} samples/s  {sec * 1e3:8.1f} ms/step  "
                      f"step memory {step_mb:7.1f} MB  ({peak_mb:6.0f} MB)")
            eq = chk["spikes_equal"]
            print(f"  hidden spikes equal to the loop's: snntorch Leaky+Linear "
                  f"{str(eq['snntorch']).lower()}, engine numba {str(eq['numba']).lower()}, "
                  f"engine torch {str(eq['torch']).lower()}; snntorch RLeaky "
                  f"{str(eq['rleaky']).lower()} (it also zeroes the input after a spike)")
            loss_eq = chk["loss_numba"] == chk["loss_loop"] == chk["loss_torch"]
            print(f"  gradients vs loop (float64, max rel): numba {chk['grad_err']['numba']:.1e}, "
                  f"torch {chk['grad_err']['torch']:.1e}; loss identical: {str(loss_eq).lower()}")
            print(f"  {name}/{readout}: engine/snntorch = {ratio:.2f}x, engine/loop = "
                  f"{res['engine'][0] / res['loop'][0]:.2f}x")
    print(f"ratio_vs_snntorch={min(ratios):.2f} grad_equal={str(grad_ok).lower()}")


if __name__ == "__main__":
    main()
