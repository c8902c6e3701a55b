"""The energy model: the worked example of the research notes, constants and overrides,
and the CLI the workflow calls."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lsm.cli import main
from lsm.config import REPO_ROOT
from lsm.energy.model import (
    Workload,
    digital_energy,
    fc_head_macs,
    load_constants,
    rram_energy,
    system_records,
)
from lsm.errors import ConfigError

CONSTANTS = REPO_ROOT / "config" / "energy.yaml"

# 256 -> 200, T = 50, input density 10 %, firing rate 5 % (the notes' worked example)
METRICS = {"dense_synops": 50 * 456 * 200, "weights": 456 * 200, "membrane_updates": 50 * 200,
           "effective_synops": 50 * (25.6 + 10) * 200}


def test_workload_is_recovered_from_the_metrics():
    w = Workload.from_metrics(METRICS)
    assert (w.n_in, w.n_res, w.time_steps) == (256, 200, 50)
    assert w.rows == pytest.approx(1780)


def test_worked_example_rram_energy_and_ratio():
    c = load_constants(CONSTANTS)
    w = Workload.from_metrics(METRICS)
    parts = rram_energy(w, c)
    assert parts["rows"] == pytest.approx(0.89e-9)
    assert parts["cells"] == pytest.approx(14.24e-9)  # 712,000 reads x 20 fJ
    assert parts["adc"] == pytest.approx(15e-9) and parts["lif"] == pytest.approx(20e-9)
    e_rram = sum(parts.values())
    assert e_rram == pytest.approx(50.13e-9)
    ratio = digital_energy(w, c, "gpu_3090ti_int8_peak") / e_rram
    assert ratio == pytest.approx(256, rel=0.01)


def test_changing_one_constant_moves_the_ratio_as_the_formula_says():
    w = Workload.from_metrics(METRICS)
    base = load_constants(CONSTANTS)
    more_adc = load_constants(CONSTANTS, {"rram.e_adc": 3.0})
    e0, e1 = sum(rram_energy(w, base).values()), sum(rram_energy(w, more_adc).values())
    assert e1 - e0 == pytest.approx(10_000 * 1.5e-12)  # T R conversions x 1.5 pJ more
    r0 = digital_energy(w, base, "gpu_3090ti_int8_peak") / e0
    r1 = digital_energy(w, more_adc, "gpu_3090ti_int8_peak") / e1
    assert r1 == pytest.approx(r0 * e0 / e1) and r1 == pytest.approx(197, rel=0.01)
    cheaper_gpu = load_constants(CONSTANTS, {"baselines.gpu_3090ti_int8_peak": 1.0})
    r2 = digital_energy(w, cheaper_gpu, "gpu_3090ti_int8_peak") / e0
    assert r2 < r0


def test_event_driven_baseline_counts_synaptic_ops():
    c = load_constants(CONSTANTS)
    w = Workload.from_metrics(METRICS)
    e = digital_energy(w, c, "snn_ubrain40")
    assert e == pytest.approx(356_000 * 26e-12 + 10_000 * 2e-12)


def test_bad_overrides_and_units_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"rram\.nope"):
        load_constants(CONSTANTS, {"rram.nope": 1.0})
    bad = tmp_path / "energy.yaml"
    bad.write_text(CONSTANTS.read_text().replace("e_adc: {value: 1.5, unit: pJ",
                                                 "e_adc: {value: 1.5, unit: mJ"))
    with pytest.raises(ConfigError, match="rram/e_adc"):
        load_constants(bad)


def test_head_macs_match_the_torch_heads():
    from lsm.zeroshot.contrastive import head_macs, projection_head

    for kind in ("linear", "OneFC", "TwoFC", "ThreeFC"):
        assert fc_head_macs(kind, 200, 64) == head_macs(projection_head(kind, 200, 64))


def test_system_records_sum_two_encoders_and_heads():
    c = load_constants(CONSTANTS)
    recs = system_records([METRICS, METRICS], c, head_macs=1000, seed=0)
    get = {(r["variant"], r["metric"]): r["value"] for r in recs}
    assert get[("rram", "rram_heads_energy")] == pytest.approx(1000 * 1.28e-3)  # nJ
    assert get[("rram", "energy_per_inference")] == pytest.approx(2 * 50.13 + 1.28, rel=1e-4)
    assert get[("snn_loihi", "energy_ratio")] > 1


def test_cli_writes_the_table_and_the_figure(tmp_path):
    paths = []
    for name in ("img", "aud"):
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps({"data_source": "simulated", "records": [
            {"seed": s, "metric": k, "value": v} for s in (0, 1) for k, v in METRICS.items()]}))
        paths.append(f"{name}={p}")
    systems = [{"dataset": "audio_visual", "label": "LSM-CLIP (software)",
                "encoders": ["aud", "img"], "head_macs": 25600, "sensitivity": True}]
    out = tmp_path / "energy.csv"
    args = ["energy", "table", "--systems", json.dumps(systems), "--workloads", *paths,
            "--constants", str(CONSTANTS), "--out", str(out), "--fig", str(tmp_path / "s.png")]
    assert main(args) == 0
    df = pd.read_csv(out)
    ratio = df[(df.metric == "energy_ratio") & (df.variant == "gpu_3090ti_int8_peak")].iloc[0]
    assert ratio.paper == 23.34 and ratio.n_seeds == 2
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert main([*args, "--overrides", '{"rram.e_lif": 4.0}']) == 0
    higher = pd.read_csv(out)
    r2 = higher[(higher.metric == "energy_ratio")
                & (higher.variant == "gpu_3090ti_int8_peak")].iloc[0]["mean"]
    assert r2 < ratio["mean"]  # costlier neuron updates: a smaller RRAM advantage
