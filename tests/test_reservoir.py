import numpy as np
import pytest
import torch

from lsm.reservoir.network import (
    GaussianWeightSource,
    LIFParams,
    ReservoirWeights,
    encode,
    lif_step,
    run_reservoir,
)


def _w(w_in, w_rec):
    return ReservoirWeights(torch.tensor(w_in, dtype=torch.float64),
                            torch.tensor(w_rec, dtype=torch.float64))


def reference_counts(x, w_in, w_rec, decay, v_th):
    """The equations, literally, one sample and one neuron at a time (plain Python)."""
    n_t, _ = x.shape
    r = w_rec.shape[0]
    v, s, counts = [0.0] * r, [0.0] * r, [0] * r
    for t in range(n_t):
        new_s = []
        for j in range(r):
            cur = sum(x[t, i] * w_in[i, j] for i in range(x.shape[1]))
            cur += sum(s[k] * w_rec[k, j] for k in range(r))
            v[j] = decay * v[j] * (1 - s[j]) + cur
            new_s.append(1.0 if v[j] > v_th else 0.0)
        s = new_s
        counts = [c + int(si) for c, si in zip(counts, s, strict=True)]
    return np.array(counts)


def test_no_input_no_spikes():
    w = _w(np.ones((3, 2)), np.zeros((2, 2)))
    counts, spikes = run_reservoir(torch.zeros(1, 10, 3), w, LIFParams(0.9, 1.0), record=True)
    assert counts.sum() == 0 and spikes.sum() == 0


def test_decay_without_reset():
    v, s = torch.tensor([[2.0]]), torch.tensor([[0.0]])
    v, s = lif_step(v, s, torch.tensor([[0.0]]), LIFParams(decay=0.5, v_th=10.0))
    assert v.item() == 1.0 and s.item() == 0.0


def test_single_crossing_and_hard_reset():
    # input 3 per step, Vth 5, decay 1: V = 3, 6 (spike), reset -> 3, 6 (spike) ...
    w = _w([[3.0]], [[0.0]])
    _, spikes = run_reservoir(torch.ones(1, 4, 1), w, LIFParams(decay=1.0, v_th=5.0), record=True)
    assert spikes[0, :, 0].tolist() == [0, 1, 0, 1]


def test_threshold_is_strict():
    w = _w([[5.0]], [[0.0]])
    counts, _ = run_reservoir(torch.ones(1, 3, 1), w, LIFParams(decay=0.0, v_th=5.0))
    assert counts.item() == 0  # V == Vth never spikes


def test_recurrent_spike_arrives_next_step():
    # neuron 0 is driven over threshold at t=0; neuron 1 only gets the recurrent 10 at t=1
    w = _w([[10.0, 0.0]], [[0.0, 10.0], [0.0, 0.0]])
    x = torch.tensor([[[1.0], [0.0], [0.0]]])
    _, spikes = run_reservoir(x, w, LIFParams(decay=0.0, v_th=5.0), record=True)
    assert spikes[0, :, 0].tolist() == [1, 0, 0]
    assert spikes[0, :, 1].tolist() == [0, 1, 0]


@pytest.mark.parametrize("kind", ["random", "zeros", "saturating"])
def test_batch_encoder_equals_reference_loop(kind):
    rng = np.random.default_rng(1)
    src = GaussianWeightSource(const=0.3)
    w = src.sample(6, 5, seed=3)
    x = {"random": (rng.random((3, 12, 6)) < 0.3),
         "zeros": np.zeros((3, 12, 6)),
         "saturating": np.ones((3, 12, 6))}[kind].astype(np.uint8)
    ours = encode(x, w, LIFParams(0.9, 1.0), batch_size=2)
    ref = np.stack([reference_counts(xi.astype(float), w.w_in.numpy(), w.w_rec.numpy(), 0.9, 1.0)
                    for xi in x])
    np.testing.assert_array_equal(ours, ref)


def test_encode_is_deterministic_and_batch_independent():
    rng = np.random.default_rng(0)
    x = (rng.random((20, 30, 16)) < 0.2).astype(np.uint8)
    w = GaussianWeightSource(const=0.2).sample(16, 40, seed=7)
    a = encode(x, w, LIFParams(0.9, 2.0), batch_size=20)
    b = encode(x, GaussianWeightSource(const=0.2).sample(16, 40, seed=7), LIFParams(0.9, 2.0),
               batch_size=3)
    np.testing.assert_array_equal(a, b)
    assert a.sum() > 0


def test_gaussian_source_statistics_and_seeds():
    src = GaussianWeightSource(const=0.07, sigma_g=6.6)
    w = src.sample(256, 200, seed=0)
    allw = torch.cat([w.w_in.flatten(), w.w_rec.flatten()]).numpy()
    assert w.w_in.shape == (256, 200) and w.w_rec.shape == (200, 200)
    assert abs(allw.std() - 0.07 * 6.6) < 0.01
    assert abs(allw.mean()) < 0.01
    # on the dyadic grid, and the largest weight fills a signed 16-bit integer
    k = allw * 2.0**w.grid_bits
    np.testing.assert_array_equal(k, np.round(k))
    assert 2**14 <= np.abs(k).max() <= 2**15 - 1
    other = src.sample(256, 200, seed=1)
    assert not torch.equal(w.w_in, other.w_in)


def test_rates_output():
    x = np.ones((1, 4, 1), dtype=np.uint8)
    w = _w([[3.0]], [[0.0]])
    assert encode(x, w, LIFParams(1.0, 5.0), output="rates")[0, 0] == 0.5
    with pytest.raises(ValueError, match="output must be"):
        encode(x, w, LIFParams(1.0, 5.0), output="spikes")


@pytest.mark.parametrize("kind", ["random", "zeros", "saturating", "counts"])
def test_event_kernel_equals_dense_and_reference(kind):
    rng = np.random.default_rng(2)
    w = GaussianWeightSource(const=0.25).sample(12, 30, seed=5)
    x = {"random": (rng.random((9, 20, 12)) < 0.15),
         "zeros": np.zeros((9, 20, 12)),
         "saturating": np.ones((9, 20, 12)),
         "counts": rng.integers(0, 4, (9, 20, 12))}[kind].astype(np.uint8)
    p = LIFParams(0.9, 1.5)
    ev = encode(x, w, p, batch_size=4, backend="events")
    dense = encode(x, w, p, batch_size=5, backend="dense")
    np.testing.assert_array_equal(ev, dense)
    ref = np.stack([reference_counts(xi.astype(float), w.w_in.numpy(), w.w_rec.numpy(), 0.9, 1.5)
                    for xi in x[:3]])
    np.testing.assert_array_equal(ev[:3], ref)
    if kind == "zeros":
        assert ev.sum() == 0
    if kind == "saturating":
        assert ev.sum() > 0


def test_event_kernel_matches_dense_on_realistic_scale():
    rng = np.random.default_rng(3)
    x = (rng.random((64, 50, 256)) < 0.09).astype(np.uint8)
    w = GaussianWeightSource(const=0.07).sample(256, 200, seed=1)
    p = LIFParams(0.9, 5.0)
    ev = encode(x, w, p, backend="events")
    assert 0.01 < ev.mean() / 50 < 0.3  # neither silent nor saturated
    np.testing.assert_array_equal(ev, encode(x, w, p, backend="dense"))


def test_unknown_backend():
    w = GaussianWeightSource().sample(2, 2, seed=0)
    with pytest.raises(ValueError, match="backend"):
        encode(np.zeros((1, 2, 2), np.uint8), w, LIFParams(), backend="gpu-magic")
