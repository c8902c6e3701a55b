"""The RRAM device model: statistics, faults, quantisation, drift, read noise, tiling."""

from __future__ import annotations

import numpy as np
import pytest

from lsm.models.training import TrainConfig
from lsm.reservoir.crossbar import RRAMParams, RRAMWeightSource, deploy, footprint, program_nominal
from lsm.reservoir.network import LIFParams, encode
from lsm.reservoir.variability import axis_change, sweep
from lsm.reservoir.workload import workload


def test_stochastic_set_statistics_and_differential_spread():
    p = RRAMParams()
    g = program_nominal((400, 400), p, np.random.default_rng(0))
    assert abs(g.mean() - 50.0) < 0.1 and abs(g.std() - 4.67) < 0.05
    assert g.min() >= 20.0 and g.max() <= 80.0
    w = RRAMWeightSource(p).sample(256, 200, seed=0)
    allw = np.concatenate([w.w_in.numpy().ravel(), w.w_rec.numpy().ravel()])
    # w = g_scale * (G+ - G-): zero mean, std g_scale * sqrt(2) * set_std = 0.07 * 6.6
    assert abs(allw.mean()) < 0.005 and abs(allw.std() - 0.07 * np.sqrt(2) * 4.67) < 0.005


def test_stuck_at_fault_rates():
    p = RRAMParams(p_stuck_on=0.02, p_stuck_off=0.03)
    g = deploy(np.full((500, 400), 50.0), p, np.random.default_rng(1))
    assert abs((g == 80.0).mean() - 0.02) < 0.002
    assert abs((g == 20.0).mean() - 0.03) < 0.002


def test_quantisation_levels():
    p = RRAMParams(levels=8)
    g = deploy(program_nominal((300, 300), p, np.random.default_rng(2)), p,
               np.random.default_rng(3))
    levels = np.unique(np.round(g, 9))
    allowed = np.linspace(20.0, 80.0, 8)
    assert set(levels) <= set(np.round(allowed, 9)) and len(levels) >= 3


def test_drift_shrinks_conductance_by_the_power_law():
    p = RRAMParams(drift_t_s=1000.0, drift_nu_mean=0.02, drift_nu_std=0.0)
    g = deploy(np.full((10, 10), 50.0), p, np.random.default_rng(0))
    np.testing.assert_allclose(g, 50.0 * 1000.0 ** -0.02)


def test_programming_error_spread():
    p = RRAMParams(prog_sigma_us=2.0)
    g = deploy(np.full((400, 400), 50.0), p, np.random.default_rng(0))
    assert abs((g - 50.0).std() - 2.0) < 0.05


def test_nominal_chip_is_shared_by_every_setting():
    """Each axis point perturbs the same nominal chip (common random numbers)."""
    a = RRAMWeightSource(RRAMParams(levels=16)).program(8, 6, seed=3, ideal=True)
    b = RRAMWeightSource(RRAMParams(p_stuck_on=0.1)).program(8, 6, seed=3, ideal=True)
    np.testing.assert_array_equal(a.g_pos, b.g_pos)


def test_footprint_tiling():
    fp = footprint(256, 200, RRAMParams())
    assert (fp.weights, fp.cells, fp.arrays) == (91_200, 182_400, 1)
    big = footprint(192, 2048, RRAMParams())
    assert big.arrays == 5 * 8 and big.cells == 2240 * 4096


def test_read_noise_is_deterministic_batch_independent_and_zero_means_ideal():
    rng = np.random.default_rng(0)
    x = (rng.random((12, 30, 16)) < 0.2).astype(np.uint8)
    lif = LIFParams(0.9, 1.0)
    base = RRAMWeightSource(RRAMParams(g_scale=0.03)).program(16, 24, seed=1)
    ideal = encode(x, base.weights(), lif)
    np.testing.assert_array_equal(base.encode(x, lif, seed=0), ideal)
    noisy = RRAMWeightSource(RRAMParams(g_scale=0.03, read_sigma=0.2)).program(16, 24, seed=1)
    a = noisy.encode(x, lif, seed=7, batch_size=5)
    b = noisy.encode(x, lif, seed=7, batch_size=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ideal)
    assert not np.array_equal(a, noisy.encode(x, lif, seed=8))


def test_workload_counts_events_and_spikes_exactly():
    x = np.zeros((2, 3, 4), np.uint8)
    x[0, 0, 1] = 1
    x[1, 2, 3] = 1
    x[1, 1, 0] = 1
    counts = np.array([[1, 0, 2], [0, 0, 0]], np.float32)  # R = 3
    wl = workload(x, counts)
    assert wl["effective_synops"] == ((1 + 3) * 3 + (2 + 0) * 3) / 2
    assert wl["dense_synops"] == 3 * (4 + 3) * 3
    assert wl["mean_rate"] == pytest.approx(3 / (2 * 3 * 3))
    assert wl["input_density"] == pytest.approx(3 / 24)


def test_axis_changes():
    assert axis_change("bits", 3) == {"levels": 8}
    assert axis_change("bits", 0) == {"levels": 0}
    assert axis_change("p_stuck", 0.1) == {"p_stuck_on": 0.05, "p_stuck_off": 0.05}
    with pytest.raises(ValueError):
        axis_change("temperature", 1.0)


def test_variability_sweep_zero_point_equals_nominal_and_faults_hurt():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    proto = (rng.random((3, 20, 24)) < 0.3)
    x = (proto[y] ^ (rng.random((120, 20, 24)) < 0.05)).astype(np.uint8)
    idx = rng.permutation(120)
    data = {}
    for name, sl in (("train", idx[:60]), ("val", idx[60:90]), ("test", idx[90:])):
        data[f"x_{name}"], data[f"y_{name}"] = x[sl], y[sl]
    rows = sweep(data, LIFParams(0.9, 1.0), RRAMParams(g_scale=0.05), 40,
                 TrainConfig(lr=0.05, epochs=15, batch_size=20),
                 {"p_stuck": [0.0, 0.5]}, seeds=[0], progress=False)
    acc = {(r["axis"], r["value"], r["training"]): r["accuracy"] for r in rows}
    nominal = acc[("none", 0.0, "nominal chip")]
    assert acc[("p_stuck", 0.0, "trained on ideal")] == nominal
    assert nominal > 60
    assert acc[("p_stuck", 0.5, "trained on ideal")] < nominal
