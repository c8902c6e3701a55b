"""The hand-written BPTT engine (lsm.models.lif_bptt) against the plain autograd loop.

The loop (``SRNN.reference_forward``) is the specification: on the same inputs and
weights the engine must give identical spikes and losses and equal gradients (float64,
relative 1e-5; in practice ~1e-15), for both backends (the compiled CPU kernel and the
device-agnostic torch path, forced with ``backend=``), both readouts, and the edge cases.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lsm.models import lif_bptt
from lsm.models.lif_bptt import lif_layer, srnn_snn
from lsm.models.srnn import SRNN, SRNNEncoder

BACKENDS = ("numba", "torch")


def _net(n_in=12, n_res=16, n_classes=3, readout="ann", backend="numba", const=0.05,
         v_th=0.3, seed=0) -> SRNN:
    torch.manual_seed(seed)
    return SRNN(n_in, n_res, n_classes, decay=0.9, v_th=v_th, const=const, readout=readout,
                readout_decay=0.8, backend=backend).double()


def _frames(n=6, t=15, c=12, density=0.2, seed=1) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, t, c, generator=gen) < density).double()


def _loop_spikes(enc: SRNNEncoder, x: torch.Tensor) -> torch.Tensor:
    return enc.reference_spike_train(x)


def _grads(net: nn.Module, fwd, x: torch.Tensor, y: torch.Tensor):
    net.zero_grad()
    logits = fwd(x)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    return logits.detach(), loss.item(), {k: p.grad.clone() for k, p in net.named_parameters()}


def _assert_same_training_signal(net: SRNN, x: torch.Tensor) -> None:
    """Identical spikes, logits and loss; gradients equal to relative 1e-5."""
    y = torch.arange(x.shape[0]) % net.fc.out_features
    with torch.no_grad():
        assert torch.equal(net.encoder.spike_train(x), _loop_spikes(net.encoder, x))
    out, loss, grads = _grads(net, net.forward, x, y)
    ref_out, ref_loss, ref = _grads(net, net.reference_forward, x, y)
    assert torch.equal(out, ref_out)
    assert loss == ref_loss
    for name, g in ref.items():
        scale = float(g.abs().max())
        torch.testing.assert_close(grads[name], g, rtol=1e-5, atol=1e-5 * scale + 1e-300,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("readout", ["ann", "snn"])
def test_engine_equals_the_autograd_loop(readout, backend):
    net = _net(readout=readout, backend=backend)
    x = _frames()
    with torch.no_grad():
        rate = net.encoder(x).mean().item()
    assert 0.05 < rate < 0.6  # a regime where every gradient path is exercised
    _assert_same_training_signal(net, x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bit_identical_potentials_on_the_weight_grid(backend):
    """With weights on a dyadic grid the currents are exact sums, so the engine's
    expression order reproduces the loop's potentials bit for bit, not just its spikes."""
    net = _net(backend=backend)
    with torch.no_grad():
        for w in (net.encoder.w_in, net.encoder.w_rec):
            w.copy_(torch.round(w * 2.0**12) / 2.0**12)
    x = _frames()
    enc = net.encoder
    v_loop = x.new_zeros(x.shape[0], enc.w_rec.shape[0])
    s = torch.zeros_like(v_loop)
    vs = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            v_loop, s = enc.step(v_loop, s, x[:, t])
            vs.append(v_loop)
        ref = torch.stack(vs, 1)
        if backend == "numba":
            v, *_ = lif_bptt._numba_forward(x, enc.w_in, None, enc.w_rec, enc.decay, enc.v_th,
                                            True, False)
        else:
            v, *_ = lif_bptt._torch_forward(x @ enc.w_in, enc.w_rec, enc.decay, enc.v_th,
                                            True, False)
    assert torch.equal(v, ref)
    _assert_same_training_signal(net, x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", ["silent", "all_fire", "t1", "batch1", "counts", "dense"])
def test_edge_cases(case, backend):
    kw, xkw = {}, {}
    if case == "silent":
        kw = {"const": 0.001}  # no neuron ever reaches the threshold
    elif case == "t1":
        xkw = {"t": 1}
    elif case == "batch1":
        xkw = {"n": 1}
    elif case == "dense":
        xkw = {"density": 0.6}  # above the sparse path's limit: the one-GEMM input path
    net = _net(backend=backend, **kw)
    x = _frames(**xkw)
    if case == "all_fire":  # every neuron fires at every step
        x = torch.ones_like(x)
        with torch.no_grad():
            net.encoder.w_in.abs_().add_(1.0)
            net.encoder.w_rec.abs_()
    if case == "counts":  # event counts, not only 0/1: the weighted-row path
        x = x * torch.randint(1, 4, x.shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        s = net.encoder.spike_train(x)
    if case == "silent":
        assert s.sum() == 0
    if case == "all_fire":
        assert bool(s.all())
    for readout in ("ann", "snn"):
        net.readout = readout
        _assert_same_training_signal(net, x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_neuron_exactly_on_the_threshold(backend):
    """V == V_th exactly: no spike (strict threshold), but the surrogate is open."""
    w_in = torch.zeros(2, 3, dtype=torch.float64)
    w_in[0, 0] = 0.5  # input 0 drives neuron 0 exactly to V_th = 0.5
    w_in[1] = torch.tensor([0.25, 0.75, -0.5])
    w_rec = torch.tensor([[0.0, 0.125, 0.25], [0.5, 0.0, -0.25], [0.25, 0.25, 0.0]],
                         dtype=torch.float64)
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    kw = {"decay": 0.5, "v_th": 0.5, "lens": 0.25}
    g = torch.tensor([[1.0, -2.0, 3.0]], dtype=torch.float64)
    grads = {}
    for impl in ("engine", "loop"):
        wi, wr = w_in.clone().requires_grad_(), w_rec.clone().requires_grad_()
        if impl == "engine":
            s = lif_layer(x, wi, wr, output="spikes", backend=backend, **kw)
        else:
            enc = SRNNEncoder(2, 3, kw["decay"], kw["v_th"], 1.0, kw["lens"]).double()
            enc.w_in, enc.w_rec = nn.Parameter(wi), nn.Parameter(wr)
            wi, wr = enc.w_in, enc.w_rec
            v = x.new_zeros(1, 3)
            st = torch.zeros_like(v)
            out = []
            for t in range(x.shape[1]):
                v, st = enc.step(v, st, x[:, t])
                out.append(st)
            s = torch.stack(out, 1)
        assert s[0, 0, 0] == 0  # V_0 = 0.5 = V_th: no spike
        (s.sum(1) * g).sum().backward()
        grads[impl] = (wi.grad, wr.grad)
    assert grads["loop"][0][0, 0] != 0  # the open surrogate passes gradient to W_in[0, 0]
    for a, b in zip(grads["engine"], grads["loop"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_srnn_snn_fused_equals_the_composition():
    """The fused two-layer CPU path equals lif_layer twice with a Linear between."""
    net = _net(readout="snn", backend="numba")
    x = _frames()
    enc = net.encoder
    args = (x, enc.w_in, enc.w_rec, net.fc.weight.T, net.fc.bias)
    kw = {"decay": enc.decay, "v_th": net.v_th, "lens": net.lens, "decay_out": 0.8}
    fused = srnn_snn(*args, backend="numba", **kw)
    composed = srnn_snn(*args, backend="torch", **kw)
    assert torch.equal(fused, composed)


def test_inference_path_equals_training_path():
    net = _net(readout="snn")
    x = _frames()
    with torch.no_grad():
        a = net(x)
    b = net(x)
    assert torch.equal(a, b.detach())
    enc = net.encoder
    with torch.no_grad():
        assert torch.equal(enc(x), enc.reference_forward(x))


def test_deterministic_and_independent_of_the_thread_count():
    """Same seed, same bits; the CPU kernel's chunking does not depend on the threads."""
    def train(threads: int) -> list[torch.Tensor]:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            net = _net(n_res=24, readout="snn")
            x = _frames(n=10, t=20)
            y = torch.arange(10) % 3
            opt = torch.optim.Adam(net.parameters(), lr=1e-2)
            for _ in range(3):
                opt.zero_grad()
                nn.functional.cross_entropy(net(x), y).backward()
                opt.step()
            return [p.detach().clone() for p in net.parameters()]
        finally:
            torch.set_num_threads(before)

    a, b = train(1), train(1)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    net = _net(n_res=24)
    x = _frames(n=10, t=20)
    grads = []
    for threads in (1, 2):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            net.zero_grad()
            net.encoder(x).square().sum().backward()
            grads.append([net.encoder.w_in.grad.clone(), net.encoder.w_rec.grad.clone()])
        finally:
            torch.set_num_threads(before)
    assert all(torch.equal(p, q) for p, q in zip(*grads, strict=True))


def test_torch_thread_count_survives_the_kernel():
    """Starting numba's OpenMP pool resets OpenMP's thread count; the engine restores
    torch's (the training loop fixes it for reproducibility)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _net()(_frames()).sum().backward()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_retained_graph_after_a_newer_forward_raises():
    net = _net()
    x = _frames()
    lif_bptt._POOL.min_bytes, saved = 0, lif_bptt._POOL.min_bytes  # pool even this small V
    try:
        out = net.encoder(x).sum()
        out.backward(retain_graph=True)
        out.backward(retain_graph=True)  # no newer forward yet: fine
        net.encoder(x).sum().backward()  # takes the buffer back from the pool
        with pytest.raises(RuntimeError, match="retained graph"):
            out.backward()
    finally:
        lif_bptt._POOL.min_bytes = saved
        lif_bptt.clear_workspace()


def test_api_errors():
    x = _frames()
    w = torch.zeros(12, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="output"):
        lif_layer(x, w, decay=0.9, v_th=1.0, output="counts")
    with pytest.raises(ValueError, match="backend"):
        lif_layer(x, w, decay=0.9, v_th=1.0, backend="cuda")
    with pytest.raises(ValueError, match="dtype"):
        lif_layer(x, w.float(), decay=0.9, v_th=1.0)
    with pytest.raises(ValueError, match="readout"):
        SRNN(4, 4, 2, 0.9, 1.0, 0.1, readout="lif")


def test_cuda_torch_path_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine: the torch path's GPU run is untested "
                    "here (it is the same code as the CPU torch path tested above)")
    net = _net(readout="snn", backend="torch")
    x = _frames()
    y = torch.arange(x.shape[0]) % 3
    _, loss, ref = _grads(net, net.reference_forward, x, y)
    gpu = net.to("cuda")
    _, loss_gpu, grads = _grads(gpu, gpu.forward, x.cuda(), y.cuda())
    assert abs(loss_gpu - loss) <= 1e-12 * abs(loss)
    for name, g in ref.items():
        torch.testing.assert_close(grads[name].cpu(), g, rtol=1e-5,
                                   atol=1e-5 * float(g.abs().max()) + 1e-300)


def test_float32_close_to_the_loop():
    """float32 (the training dtype): sums run in another order, so spikes may differ
    where V lies within rounding of V_th; on this data they do not."""
    net = _net().float()
    x = _frames().float()
    with torch.no_grad():
        assert torch.equal(net.encoder.spike_train(x), _loop_spikes(net.encoder, x))
        np.testing.assert_allclose(net(x).numpy(), net.reference_forward(x).numpy(),
                                   rtol=1e-6, atol=1e-6)
