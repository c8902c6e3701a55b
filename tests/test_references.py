"""Dimension-matched references (time sum, random projection) and the reservoir-size sweep."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO

from lsm import atomic
from lsm.config import load_config
from lsm.errors import ConfigError, DataFormatError
from lsm.models import MODELS
from lsm.models.linear import project, projection_matrix, time_sum
from lsm.pipeline.spec import RunLabels, SupervisedSpec
from lsm.pipeline.stages import supervised_outputs
from lsm.reservoir import sweep
from lsm.results.contract import COLUMNS, read_metrics

TRAIN = {"lr": 0.05, "epochs": 6, "batch_size": 16}
N_T, N_C, K = 9, 12, 3


def _toy(n: int, rng: np.random.Generator, proto: np.ndarray):
    y = np.arange(n) % K
    return (proto[y] ^ (rng.random((n, N_T, N_C)) < 0.05)).astype(np.uint8), y


@pytest.fixture
def toy():
    rng = np.random.default_rng(3)
    proto = rng.random((K, N_T, N_C)) < 0.35
    return [_toy(n, rng, proto) for n in (48, 24, 24)]


def _frames_file(path, n_classes=3, n_t=12, n_c=24, seed=0, data_source="simulated"):
    """Separable frames: class k fires its own block of channels most of the time."""
    rng = np.random.default_rng(seed)
    block = n_c // n_classes
    data = {}
    for split, n in (("train", 90), ("val", 30), ("test", 30)):
        y = np.arange(n) % n_classes
        p = np.full((n, n_t, n_c), 0.03)
        for k in range(n_classes):
            p[y == k, :, k * block:(k + 1) * block] = 0.6
        data[f"x_{split}"] = (rng.random(p.shape) < p).astype(np.uint8)
        data[f"y_{split}"] = y
    atomic.write_npz(path, **data, data_source=np.array(data_source),
                     generator_version=np.array("test-1"))
    return path, data


ENCODER = {"dataset": "toy", "n_res": 30, "decay": 0.9, "v_th": 1.0, "batch_size": 64,
           "weights": {"source": "gaussian", "const": 0.05, "sigma_g": 6.6, "mean_g": 0.0,
                       "weight_bits": 16}}


# ------------------------------------------------------------------ reference models


def test_time_sum_readout_sees_exactly_the_channels(toy):
    (xtr, ytr), (xva, yva), (xte, yte) = toy
    fitted = MODELS["time_sum_readout"](train=TRAIN).fit(xtr, ytr, xva, yva, K, seed=0)
    c = fitted.cost
    assert c.trainable_params == N_C * K + K  # C features, not T * C
    assert c.forward_macs_per_sample == N_C * K
    # the sum is billed like an encoding of the training samples
    assert c.encode_macs_dense == xtr.shape[0] * N_T * N_C
    assert c.encode_macs_events == np.count_nonzero(xtr)
    assert time_sum(xte).shape == (xte.shape[0], N_C)
    assert np.array_equal(time_sum(xte), xte.sum(axis=1))
    assert fitted.predict(xte).shape == yte.shape


def test_random_projection_readout_sees_n_res_features(toy):
    (xtr, ytr), (xva, yva), (xte, yte) = toy
    fitted = MODELS["random_projection_readout"](train=TRAIN, n_res=13).fit(
        xtr, ytr, xva, yva, K, seed=0)
    c = fitted.cost
    assert c.trainable_params == 13 * K + K and c.forward_macs_per_sample == 13 * K
    assert c.encode_macs_dense == xtr.shape[0] * N_T * N_C * 13  # every MAC, dense
    assert c.encode_macs_events == np.count_nonzero(xtr) * 13  # MACs of non-zero inputs
    assert 0 < c.encode_macs_events < c.encode_macs_dense
    assert (fitted.predict(xte) == yte).mean() > 0.5  # it keeps the class information


def test_random_projection_defaults_to_the_lsm_size(toy):
    (xtr, ytr), (xva, yva), _ = toy
    fitted = MODELS["random_projection_readout"](train={**TRAIN, "epochs": 1}).fit(
        xtr, ytr, xva, yva, K, seed=0)
    assert fitted.cost.trainable_params == 200 * K + K


def test_projection_is_frozen_per_seed_and_differs_across_seeds(toy):
    w0 = projection_matrix(N_T * N_C, 20, N_T, seed=0)
    assert np.array_equal(w0, projection_matrix(N_T * N_C, 20, N_T, seed=0))
    w1 = projection_matrix(N_T * N_C, 20, N_T, seed=1)
    assert w0.shape == w1.shape == (N_T * N_C, 20) and not np.array_equal(w0, w1)
    assert np.corrcoef(w0.ravel(), w1.ravel())[0, 1] < 0.2  # independent draws
    assert abs(w0.std() * np.sqrt(N_T) - 1.0) < 0.1  # N(0, 1 / T)
    # the same seed gives the same fitted model; another seed another one
    (xtr, ytr), (xva, yva), (xte, _) = toy
    fit = [MODELS["random_projection_readout"](train=TRAIN, n_res=20).fit(
        xtr, ytr, xva, yva, K, seed=s) for s in (0, 0, 1)]
    assert fit[0].val_curve == fit[1].val_curve
    assert np.array_equal(fit[0].predict(xte), fit[1].predict(xte))
    assert fit[0].train_loss != fit[2].train_loss


def test_projection_features_are_exact_whatever_the_order_of_the_sums(toy):
    xte = toy[2][0]
    w = projection_matrix(N_T * N_C, 7, N_T, seed=4)
    f = project(xte, w)
    flat = xte.reshape(xte.shape[0], -1).astype(np.float64)
    reverse = (flat[:, ::-1] @ w[::-1]).astype(np.float32)  # the other order
    assert np.array_equal(f, reverse)
    with pytest.raises(ValueError, match="values per sample"):
        project(xte[:, :-1], w)


# ------------------------------------------------------------- registry and config


def _schema():
    return yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_new_kinds_are_in_the_schema_enum_and_the_registry():
    enum = _schema()["$defs"]["supervised_run"]["properties"]["kind"]["anyOf"][0]["enum"]
    assert {"time_sum_readout", "random_projection_readout"} <= set(MODELS)
    assert set(enum) == set(MODELS)
    assert MODELS["time_sum_readout"].input == "frames"
    assert MODELS["random_projection_readout"].input == "frames"


def test_projection_params_are_checked(tmp_path):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    run = next(r for r in cfg["supervised"]["runs"].values()
               if r["kind"] == "random_projection_readout")
    run["params"] = {"n_rs": 300}  # a typo fails at validation, not in a job
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="n_rs"):
        load_config(path)


@pytest.mark.parametrize("dataset", ["nmnist", "ntidigits"])
def test_default_config_runs_the_references_like_the_raw_row(dataset):
    cfg = load_config(REPO / "config/config.yaml")
    runs = {r["kind"]: r for r in cfg["supervised"]["runs"].values()
            if r.get("dataset") == dataset}
    raw = runs["raw_readout"]
    for kind in ("time_sum_readout", "random_projection_readout"):
        assert runs[kind]["readout"] == raw["readout"]  # the same training settings
    lsm = next(r for r in cfg["supervised"]["runs"].values() if r["kind"] == "lsm_readout"
               and cfg["encoders"][r["encoder"]]["dataset"] == dataset)
    assert (runs["random_projection_readout"]["params"].get("n_res", 200)
            == cfg["encoders"][lsm["encoder"]]["n_res"])
    assert not any("floor" in r["model"] for r in cfg["supervised"]["runs"].values())


# --------------------------------------------------------------------- sweep config


def test_sweep_plan_of_the_default_config():
    cfg = load_config(REPO / "config/config.yaml")
    p = sweep.plan(cfg)
    assert set(p) == {"nmnist", "ntidigits"}
    assert p["nmnist"]["encoder"] == "lsm_nmnist" and p["ntidigits"]["encoder"] == "lsm_ntidigits"
    sec = cfg["reservoir_size"]
    assert p["nmnist"]["n_res"] == sec["n_res"] and min(sec["n_res"]) <= 50
    assert max(sec["n_res"]) >= 2000
    kinds = {cfg["supervised"]["runs"][r]["kind"] for r in p["nmnist"]["references"]}
    assert kinds == set(sweep.REFERENCE_KINDS)
    lsm_readout = cfg["supervised"]["runs"]["nmnist_lsm_software"]["readout"]
    want = sweep.capped(cfg["readouts"][lsm_readout], sec["max_epochs"])
    assert p["nmnist"]["train"] == want


def test_the_test_config_plans_a_sweep_so_the_notebook_contract_covers_it():
    """test_notebooks checks every notebook command of the .test dry run; the sweep's
    notebook is in it because `encoders: auto` finds the .test LSM rows."""
    p = sweep.plan(load_config(REPO / ".test/config/config.yaml"))
    assert p and all(v["references"] for v in p.values())
    assert (REPO / "notebooks/05_reservoir_size.ipynb").is_file()


def _cfg_with(section):
    cfg = load_config(REPO / ".test/config/config.yaml")
    cfg["reservoir_size"] = {**cfg["reservoir_size"], **section}
    return cfg


@pytest.mark.parametrize("section,match", [
    ({"encoders": ["nope"]}, "unknown encoder"),
    ({"encoders": ["lsm_nmnist", "lsm_nmnist_rram"]}, "one per dataset"),
    ({"encoders": ["lsm_bmi_neural"]}, "not a supervised dataset"),
    ({"readout": "nope"}, "unknown readout"),
])
def test_bad_sweep_sections_are_config_errors(section, match):
    with pytest.raises(ConfigError, match=match):
        sweep.plan(_cfg_with(section))


def test_an_empty_sweep_section_turns_it_off():
    assert sweep.plan(_cfg_with({"encoders": []})) == {}
    with pytest.raises(ConfigError, match="positive integers"):
        sweep.check_sizes([50, 0])
    with pytest.raises(ConfigError, match="repeats"):
        sweep.check_sizes([50, 50])


# ---------------------------------------------------------------------------- sweep


def test_sweep_gives_one_record_per_size_and_seed_above_chance(tmp_path):
    _, data = _frames_file(tmp_path / "f.npz")
    sizes, seeds = [8, 24], [0, 1]
    rows = sweep.sweep(data, ENCODER, sizes, seeds, {"lr": 0.02, "epochs": 25,
                                                    "batch_size": 16})
    assert [(r["n_res"], r["seed"]) for r in rows] == [(n, s) for n in sizes for s in seeds]
    assert all(isinstance(r["n_res"], int) for r in rows)
    assert all(r["test_accuracy"] > 100.0 / 3 + 20 for r in rows), rows  # chance 33 %
    assert [r["trainable_params"] for r in rows] == [n * 3 + 3 for n in sizes for _ in seeds]
    assert all(0 < r["mean_rate"] < 1 for r in rows)
    recs = sweep.as_records(rows, 3, "software")
    assert all(isinstance(r["n_res"], int) for r in recs)
    acc = [r for r in recs if r["split"] == "test" and r["metric"] == "accuracy"]
    assert len(acc) == len(sizes) * len(seeds) and {r["n_res"] for r in acc} == set(sizes)


def test_the_stage_writes_contract_outputs_and_the_figure(tmp_path):
    path, _ = _frames_file(tmp_path / "f.npz")
    from lsm.pipeline.stages import supervised_run

    refs = []
    for kind in ("time_sum_readout", "random_projection_readout"):
        out = tmp_path / f"{kind}.json"
        supervised_run(path, SupervisedSpec(
            kind, {"n_res": 10} if "projection" in kind else {}, TRAIN, [0, 1],
            RunLabels("toy", kind, "linear")), supervised_outputs(
                out, tmp_path / f"{kind}.c.csv", tmp_path / f"{kind}.cm.csv",
                tmp_path / f"{kind}.p.json"))
        refs.append(out)
    res = sweep.reservoir_size(
        path, ENCODER, [6, 12, 24], [0, 1], {"lr": 0.02, "epochs": 5, "batch_size": 16},
        dataset="toy", metrics_path=tmp_path / "m.json", table_path=tmp_path / "t.csv",
        provenance_path=tmp_path / "p.json", reference_paths=refs, encoder_name="toy")
    doc = read_metrics(tmp_path / "m.json")  # the results contract, no duplicate rows
    assert doc["experiment"] == "reservoir_size" and doc["n_res"] == [6, 12, 24]
    assert all(isinstance(r["n_res"], int) for r in doc["records"])
    table = pd.read_csv(tmp_path / "t.csv")
    assert set(COLUMNS) <= set(table.columns) and table["n_res"].dtype.kind == "i"
    test = table[(table.split == "test") & (table.metric == "accuracy")]
    assert test["n_res"].tolist() == [6, 12, 24] and (test["n_seeds"] == 2).all()
    assert (tmp_path / "t.md").is_file()
    prov = json.loads((tmp_path / "p.json").read_text())
    assert prov["params"]["n_res"] == [6, 12, 24] and prov["seeds"] == [0, 1]
    assert [r["kind"] for r in res["references"]] == ["time_sum_readout",
                                                      "random_projection_readout"]
    assert [r["features"] for r in res["references"]] == [24, 10]  # C, and the n_res given
    assert res["chance"] == pytest.approx(100.0 / 3)
    sweep.plot(res, "toy", tmp_path / "fig.png", "toy")
    assert (tmp_path / "fig.png").stat().st_size > 1000


def test_the_stage_refuses_a_reference_of_another_dataset_before_training(tmp_path):
    path, _ = _frames_file(tmp_path / "f.npz")
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps({"experiment": "supervised", "dataset": "other", "model": "m",
                               "variant": "v", "data_source": "simulated",
                               "selection": "val", "records": [
                                   {"seed": 0, "split": "test", "metric": "accuracy",
                                    "value": 50.0}]}))
    with pytest.raises(DataFormatError, match="the sweep is of 'toy'"):
        sweep.reservoir_size(path, ENCODER, [6], [0], TRAIN, dataset="toy",
                             metrics_path=tmp_path / "m.json", table_path=tmp_path / "t.csv",
                             provenance_path=tmp_path / "p.json", reference_paths=[ref])
    assert not (tmp_path / "m.json").exists()
