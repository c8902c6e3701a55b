"""Bad inputs of the table, energy and training stages: a clear error naming the file and
the field (or the config key), exit status 2 from the command line, and nothing written.

Covers the energy config checked at validation time, huge config integers, the metrics
and workload JSON contract, the results-table CSV reader, the .npz splits a stage trains
on, and the file mode of atomically written outputs.
"""

from __future__ import annotations

import copy
import json
import os
import stat

import numpy as np
import pytest
import yaml

from lsm import atomic
from lsm.cli import main
from lsm.config import REPO_ROOT, load_config, validate_config
from lsm.errors import ConfigError, DataFormatError
from lsm.pipeline import stages
from lsm.pipeline.spec import RunLabels, SupervisedSpec
from lsm.results.contract import COLUMNS, aggregate, read_metrics, read_table, write_table
from lsm.zeroshot import stage as zeroshot

DEFAULT = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
CONSTANTS = REPO_ROOT / "config" / "energy.yaml"


def _cfg() -> dict:
    return copy.deepcopy(DEFAULT)


def _cli_error(capsys, args: list[str], *words: str) -> str:
    """Run the CLI: exit 2, one 'lsm: error:' line holding `words`, no traceback."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsm: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    return err


# --- 1. energy overrides and constants, at validation time ---------------------------

@pytest.mark.parametrize("overrides, key", [
    ({"rram.e_adcc": 1.0}, "energy/overrides/rram.e_adcc"),
    ({"rram": 1.0}, "energy/overrides/rram"),
    ({"baselines.nope": 1.0}, "energy/overrides/baselines.nope"),
    ({"rram.cells_per_weight": 3.0}, "energy/overrides/rram.cells_per_weight"),  # max 2
])
def test_energy_overrides_are_checked_by_validate_config(overrides, key):
    cfg = _cfg()
    cfg.setdefault("energy", {})["overrides"] = overrides
    with pytest.raises(ConfigError, match=f"'{key}'"):
        validate_config(cfg)


def test_valid_energy_overrides_still_validate():
    cfg = _cfg()
    cfg.setdefault("energy", {})["overrides"] = {"rram.e_adc": 3.0,
                                                 "baselines.gpu_3090ti_int8_peak": 1.0}
    assert validate_config(cfg)["energy"]["overrides"]["rram.e_adc"] == 3.0


def test_config_validate_refuses_an_override_typo(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    cfg = _cfg()
    cfg.setdefault("energy", {})["overrides"] = {"rram.e_adcc": 1.0}
    f.write_text(yaml.safe_dump(cfg))
    _cli_error(capsys, ["config", "validate", str(f)], "energy/overrides/rram.e_adcc",
               "names no constant")


def test_energy_constants_must_exist_and_be_a_file(tmp_path):
    cfg = _cfg()
    cfg.setdefault("energy", {})["constants"] = "config/nope.yaml"
    with pytest.raises(ConfigError, match=r"'energy/constants'.*does not exist"):
        validate_config(cfg, base=tmp_path)
    cfg["energy"]["constants"] = str(tmp_path)
    with pytest.raises(ConfigError, match=r"'energy/constants'.*folder, not a file"):
        validate_config(cfg)
    bad = tmp_path / "empty.yaml"
    bad.write_text("")
    cfg["energy"]["constants"] = str(bad)
    with pytest.raises(ConfigError, match=r"'energy/constants'.*holds nothing"):
        validate_config(cfg)
    bad.write_text(CONSTANTS.read_text().replace("unit: pJ", "unit: mJ", 1))
    with pytest.raises(ConfigError, match=r"'energy/constants'.*rram/e_row/unit"):
        validate_config(cfg)


def test_energy_constants_resolve_against_the_base_then_the_repository(tmp_path):
    (tmp_path / "mine.yaml").write_text(CONSTANTS.read_text())
    cfg = _cfg()
    cfg.setdefault("energy", {})["constants"] = "mine.yaml"
    validate_config(cfg, base=tmp_path)  # found beside the base
    cfg["energy"]["constants"] = "config/energy.yaml"
    validate_config(cfg, base=tmp_path)  # not there: the repository's


# --- 2. huge integers -----------------------------------------------------------------

def test_a_huge_integer_is_refused_with_the_key():
    cfg = _cfg()
    cfg["encoders"]["lsm_nmnist"]["v_th"] = 10**400
    with pytest.raises(ConfigError, match=r"'encoders/lsm_nmnist/v_th'.*about 401 digits"):
        validate_config(cfg)
    cfg["encoders"]["lsm_nmnist"]["v_th"] = -(2**53 + 1)
    with pytest.raises(ConfigError, match=r"2\*\*53"):
        validate_config(cfg)


@pytest.mark.parametrize("digits", [400, 5000])  # 5000: beyond Python's int-parse limit
def test_a_huge_integer_in_yaml_is_a_config_error(tmp_path, digits):
    f = tmp_path / "c.yaml"
    f.write_text((REPO_ROOT / "config" / "config.yaml").read_text().replace(
        "v_th: 5.0", "v_th: 1" + "0" * digits, 1))
    with pytest.raises(ConfigError):
        load_config(f)


# --- 3. metrics JSON --------------------------------------------------------------------

def _doc(records=None, **kw):
    recs = records if records is not None else [
        {"seed": s, "split": "test", "metric": "accuracy", "value": 80.0 + s, "unit": "%"}
        for s in (0, 1)]
    return {"experiment": "supervised", "dataset": "nmnist", "model": "M", "variant": "v",
            "data_source": "simulated", "selection": "val", "records": recs, **kw}


def _rec(**kw):
    return {"seed": 0, "split": "test", "metric": "accuracy", "value": 80.0, **kw}


BAD_DOCS = [
    ([1, 2], "holds a list, not a metrics object"),
    (7, "holds an integer"),
    (_doc(records={"a": 1}), "field 'records' is an object, not a list"),
    (_doc(records=[]), "field 'records' is empty"),
    (_doc(records=[1]), "records[0] is an integer (1), not an object"),
    (_doc(records=[_rec(), {"seed": 1, "split": "test", "metric": "accuracy"}]),
     "records[1] lacks the field(s) ['value']"),
    (_doc(records=[_rec(value=float("nan"))]), "records[0].value is NaN"),
    (_doc(records=[_rec(value=float("inf"))]), "records[0].value is inf"),
    (_doc(records=[_rec(value=None)]), "records[0].value is null"),
    (_doc(records=[_rec(value="80")]), "records[0].value is '80' (text)"),
    (_doc(records=[_rec(value=True)]), "records[0].value is true (a boolean)"),
    (_doc(records=[_rec(value=10**400)]), "records[0].value is an integer of"),
    (_doc(records=[_rec(seed=[0])]), "records[0].seed is [0] (a list)"),
    (_doc(records=[_rec(seed=1.0)]), "records[0].seed is 1.0 (a float)"),
    (_doc(records=[_rec(seed=-1)]), "records[0].seed is -1"),
    (_doc(records=[_rec(seed=True)]), "records[0].seed is true"),
    (_doc(records=[_rec(metric=3)]), "records[0].metric is 3"),
    (_doc(records=[_rec(split=None)]), "records[0].split is null"),
    (_doc(records=[_rec(variant=["x"])]), "records[0].variant is ['x'] (a list), not text"),
    (_doc(records=[_rec(chance="ten")]), "records[0].chance is 'ten'"),
    (_doc(records=[_rec(), _rec(value=90.0)]), "records[1] repeats records[0] (seed 0"),
    (_doc(records=[_rec(pd="64")]), "records[0].pd is '64' (text), not a projection dimension"),
    (_doc(records=[_rec(pd=0)]), "records[0].pd is 0 (an integer), not a projection"),
    (_doc(records=[_rec(pd=8), _rec(pd=8, value=1.0)]), "records[1] repeats records[0]"),
    (_doc(records=[_rec(variant="software pd=64")]), "the format of an older LSM-Bench"),
    (_doc(records=[_rec(variant="software pd=64, unseen 4+9")]), "pd is now its own field"),
    (_doc(model=["M"]), "field 'model' is ['M'] (a list), not text"),
]


def test_current_pd_rows_and_ratio_variants_are_not_taken_for_the_old_format(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(_doc(records=[
        _rec(variant="software", pd=64),
        _rec(variant="software pd=64 / software pd=128", metric="ratio")])))
    assert len(read_metrics(p)["records"]) == 2


def test_rows_at_two_projection_dimensions_are_two_rows():
    """pd is a key of its own: the same seed at pd 8 and pd 16 is not a duplicate, and the
    table carries each as an integer in its pd column, empty for rows without one."""
    df = aggregate([_doc(records=[_rec(pd=8), _rec(pd=16, value=70.0), _rec(split="val")])])
    assert str(df["pd"].dtype) == "Int64"
    assert [None if p is __import__("pandas").NA else int(p) for p in df["pd"]] == [8, 16, None]
    assert df["mean"].tolist() == [80.0, 70.0, 80.0]


@pytest.mark.parametrize("doc, words", BAD_DOCS)
def test_bad_metrics_files_name_the_file_record_and_field(tmp_path, doc, words):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(doc))  # NaN and Infinity as Python's json writes them
    with pytest.raises(DataFormatError, match=r"m\.json") as exc:
        read_metrics(p)
    assert words in str(exc.value)


@pytest.mark.parametrize("doc, words", BAD_DOCS[:8])
def test_cli_aggregate_refuses_bad_metrics_and_writes_nothing(tmp_path, capsys, doc, words):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(doc))
    out = tmp_path / "t.csv"
    _cli_error(capsys, ["results", "aggregate", str(p), "--out", str(out), "--title", "T"],
               "m.json", words)
    assert not out.exists() and not out.with_suffix(".md").exists()


def test_non_utf8_metrics_file(tmp_path):
    p = tmp_path / "m.json"
    p.write_bytes(b"\xff\xfe{}")
    with pytest.raises(DataFormatError, match=r"m\.json: cannot read metrics JSON: not UTF-8"):
        read_metrics(p)


def test_the_same_row_and_seed_in_two_files_names_both(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_doc()))
    b.write_text(json.dumps(_doc()))
    _cli_error(capsys, ["results", "aggregate", str(a), str(b), "--out",
                        str(tmp_path / "t.csv"), "--title", "T"],
               "duplicate seeds", "a.json", "b.json")
    with pytest.raises(ValueError, match="duplicate seeds"):  # the library's contract
        aggregate([_doc(), _doc()])


def test_valid_metrics_give_the_same_table(tmp_path):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(_doc()))
    assert read_metrics(p) == _doc()
    assert main(["results", "aggregate", str(p), "--out", str(tmp_path / "t.csv"),
                 "--title", "T"]) == 0
    df = read_table(tmp_path / "t.csv")
    assert df["mean"].tolist() == [80.5] and df["n_seeds"].tolist() == [2]


def _zs_doc(run, model, vals):
    return {"experiment": "zeroshot", "dataset": "av", "model": model, "variant": "v",
            "data_source": "simulated", "selection": "val", "run": run,
            "records": [{"seed": s, "split": "train", "metric": m, "value": v,
                         "pd": 64} for s in (0, 1) for m, v in vals.items()]}


@pytest.mark.parametrize("ratios, words", [
    ("[1]", "'--ratios/0': is 1, not an object"),
    ('[{"numerator": "s", "denominator": "l"}]', "'--ratios/0/proj_dim': is None"),
    ('[{"numerator": "s", "denominator": "x", "proj_dim": 64}]',
     "'--ratios/0/denominator': no metrics file given holds run 'x'"),
    ('[{"numerator": "s", "denominator": "l", "proj_dim": 128}]', "pd=128"),
])
def test_bad_cost_ratios_are_clear_errors(tmp_path, capsys, ratios, words):
    from lsm.results.ratios import RATIO_METRICS

    paths = []
    for run, model in (("s", "SRNN"), ("l", "LSM")):
        p = tmp_path / f"{run}.json"
        p.write_text(json.dumps(_zs_doc(run, model, dict.fromkeys(RATIO_METRICS, 2.0))))
        paths.append(str(p))
    out = tmp_path / "t.csv"
    _cli_error(capsys, ["results", "aggregate", *paths, "--out", str(out), "--title", "T",
                        f"--ratios={ratios}"], words)
    assert not out.exists()
    ok = '[{"numerator": "s", "denominator": "l", "proj_dim": 64}]'
    assert main(["results", "aggregate", *paths, "--out", str(out), "--title", "T",
                 f"--ratios={ok}"]) == 0


# --- 3b. lsm energy table -----------------------------------------------------------------

WL = {"dense_synops": 50 * 456 * 200, "weights": 456 * 200, "membrane_updates": 50 * 200,
      "effective_synops": 50 * 35.6 * 200}
SYSTEMS = [{"dataset": "nmnist", "label": "LSM (software)", "encoders": ["e0"],
            "head_macs": 2000, "sensitivity": True}]


def _workload(tmp_path, metrics=None, doc=None, name="wl.json"):
    p = tmp_path / name
    if doc is None:
        doc = {"data_source": "simulated", "records": [
            {"seed": 0, "split": "test", "metric": k, "value": v}
            for k, v in (WL if metrics is None else metrics).items()]}
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def _energy(tmp_path, wl, systems=SYSTEMS, extra=()):
    return ["energy", "table", "--systems", json.dumps(systems), "--workloads",
            *([f"e0={wl}"] if wl else []), *extra, "--constants", str(CONSTANTS),
            "--out", str(tmp_path / "e.csv"), "--fig", str(tmp_path / "e.png")]


def _nothing_written(tmp_path):
    assert not any((tmp_path / f).exists() for f in ("e.csv", "e.md", "e.png"))


@pytest.mark.parametrize("metrics, doc, words", [
    ({**WL, "weights": 0}, None, "workload metric 'weights' of seed 0 is 0"),
    ({k: v for k, v in WL.items() if k != "weights"}, None,
     "lacks the workload metric(s) ['weights'] for seed 0"),
    ({**WL, "effective_synops": float("nan")}, None, "records[3].value is NaN"),
    ({**WL, "membrane_updates": 12345.0}, None, "fit no reservoir of whole sizes"),
    (None, {"records": []}, "lacks the key(s) ['data_source']"),
    (None, {"data_source": "simulated", "records": []}, "field 'records' is empty"),
    (None, [1], "holds a JSON list, not a workload metrics object"),
    (None, '{"data_source": ', "cannot read workload metrics"),
])
def test_bad_workload_files_are_named_and_nothing_is_written(tmp_path, capsys, metrics, doc,
                                                             words):
    wl = _workload(tmp_path, metrics, doc)
    _cli_error(capsys, _energy(tmp_path, wl), "wl.json", words)
    _nothing_written(tmp_path)


@pytest.mark.parametrize("edit, words", [
    (lambda a: a.__setitem__(a.index("--workloads") + 1, "wl.json"),
     "'--workloads/0': 'wl.json' is not encoder=path.json"),
    (lambda a: a.__setitem__(a.index("--workloads") + 1, "e1=wl.json"),
     "'--systems/0/encoders': encoder 'e0' has no workload file"),
    (lambda a: a.__setitem__(a.index("--systems") + 1, '[{"dataset": "x", "label": "y"}]'),
     "'--systems/0/encoders'"),
    (lambda a: a.__setitem__(a.index("--systems") + 1, "[1]"), "'--systems/0': is 1"),
])
def test_bad_energy_arguments_are_clear_errors(tmp_path, capsys, edit, words):
    wl = _workload(tmp_path)
    args = _energy(tmp_path, wl)
    edit(args)
    _cli_error(capsys, args, words)
    _nothing_written(tmp_path)


@pytest.mark.parametrize("measured, words", [
    ({"device": "cuda"}, "lacks the field(s) ['encoder', 'dataset', 'data_source', "
                         "'batches']"),
    ('{\n', "cannot read the measured GPU energy"),
    ({"device": "d", "encoder": "e", "dataset": "x", "data_source": "real",
      "batches": {"1": {"joules_per_inference": float("nan")}}},
     "'batches/1/joules_per_inference' is nan"),
    ({"skipped": 3}, "field 'skipped' is 3"),
])
def test_bad_measured_gpu_files_are_named(tmp_path, capsys, measured, words):
    wl = _workload(tmp_path)
    m = tmp_path / "measured.json"
    m.write_text(measured if isinstance(measured, str) else json.dumps(measured))
    _cli_error(capsys, _energy(tmp_path, wl, extra=["--measured", str(m)]), "measured.json",
               words)
    _nothing_written(tmp_path)


def test_zero_rram_energy_is_a_config_error_not_a_zero_division(tmp_path, capsys):
    wl = _workload(tmp_path)
    zero = {k: 0.0 for k in ("rram.e_adc", "rram.e_lif", "rram.e_row", "rram.v_read",
                             "heads.e_mac")}
    _cli_error(capsys, _energy(tmp_path, wl, extra=["--overrides", json.dumps(zero)]),
               "energy/overrides", "0 J")
    _nothing_written(tmp_path)


def test_valid_energy_table_and_a_skipped_measurement(tmp_path, capsys):
    wl = _workload(tmp_path)
    m = tmp_path / "measured.json"
    m.write_text(json.dumps({"skipped": "no GPU"}))
    assert main(_energy(tmp_path, wl, extra=["--measured", str(m)])) == 0
    assert (tmp_path / "e.png").stat().st_size > 10_000
    df = read_table(tmp_path / "e.csv")
    assert set(df.variant) >= {"rram", "gpu_3090ti_int8_peak"}
    assert "not measured (no GPU)" in (tmp_path / "e.md").read_text()


def test_energy_table_without_a_sensitivity_system_still_draws(tmp_path):
    wl = _workload(tmp_path)
    assert main(_energy(tmp_path, wl, systems=[{**SYSTEMS[0], "sensitivity": False}])) == 0
    assert (tmp_path / "e.png").stat().st_size > 1000


# --- 4. results-table CSV readers ----------------------------------------------------------

def _table(tmp_path, name="t.csv"):
    doc = _doc()
    df = aggregate([doc])
    write_table(df, tmp_path / name, "T", "")
    return tmp_path / name


BAD_TABLES = [
    (b"", "is empty (not even a header line)"),
    (b"a,b\n1,2\n", "lacks the results-table column(s) ['experiment'"),
    (b"\xff\xfe\x00\x01binary", "is not UTF-8 text"),
    (",".join(COLUMNS).encode() + b"\nx,nmnist,M,v,,test,accuracy,high,0,1,,simulated,val,,%\n",
     "column 'mean' holds 'high', not a number"),
]


@pytest.mark.parametrize("content, words", BAD_TABLES)
def test_read_table_refuses_bad_csv(tmp_path, content, words):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataFormatError, match=r"bad\.csv") as exc:
        read_table(p)
    assert words in str(exc.value)
    with pytest.raises(DataFormatError, match="file not found"):
        read_table(tmp_path / "none.csv")


@pytest.mark.parametrize("content, words", BAD_TABLES)
@pytest.mark.parametrize("command", ["report", "plot-cost", "plot-zeroshot"])
def test_table_commands_refuse_bad_csv(tmp_path, capsys, content, words, command):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    good = _table(tmp_path)
    out = tmp_path / "out.png"
    args = {"report": ["--tables", str(good), str(bad), "--out", str(tmp_path / "r.md")],
            "plot-cost": ["--accuracy", str(good), "--cost", str(bad), "--dataset", "nmnist",
                          "--out", str(out)],
            "plot-zeroshot": ["--table", str(bad), "--cost", str(good), "--metric", "a",
                              "--out-pd", str(out), "--out-cost", str(tmp_path / "c.png")]}
    _cli_error(capsys, ["results", command, *args[command]], "bad.csv", words)
    assert not out.exists() and not (tmp_path / "r.md").exists()


def test_plots_of_rows_the_table_lacks_are_errors(tmp_path, capsys):
    good = _table(tmp_path)
    _cli_error(capsys, ["results", "plot-cost", "--accuracy", str(good), "--cost", str(good),
                        "--dataset", "ntidigits", "--out", str(tmp_path / "p.png")],
               "has no rows of dataset 'ntidigits'")
    _cli_error(capsys, ["results", "plot-zeroshot", "--table", str(good), "--cost",
                        str(good), "--metric", "a2i_top1_dot", "--out-pd",
                        str(tmp_path / "a.png"), "--out-cost", str(tmp_path / "b.png")],
               "has no rows of metric 'a2i_top1_dot'")


def test_report_of_valid_tables_is_unchanged(tmp_path):
    import pandas as pd

    from lsm.results.report import build_report

    good = _table(tmp_path)
    assert read_table(good).equals(pd.read_csv(good))
    assert "LSM-Bench reproduction report" in build_report([good], [], tmp_path)


# --- 5. the splits a stage trains on ------------------------------------------------------

def _frames(**edit):
    rng = np.random.default_rng(0)
    data = {}
    for split, n in (("train", 24), ("val", 6), ("test", 6)):
        data[f"x_{split}"] = (rng.random((n, 5, 8)) < 0.3).astype(np.uint8)
        data[f"y_{split}"] = np.arange(n) % 3
    data.update(edit)
    return data


def _features(**edit):
    rng = np.random.default_rng(0)
    data = {"time_steps": np.array(5)}
    for split, n in (("train", 24), ("val", 6), ("test", 6)):
        data[f"{split}_s0"] = rng.random((n, 10)).astype(np.float32)
        data[f"y_{split}"] = np.arange(n) % 3
    data.update(edit)
    return data


FRAME_CASES = [
    (dict(y_train=np.arange(20) % 3), "x_train holds 24 samples but y_train 20 labels"),
    (dict(x_test=np.zeros((6, 5, 4), np.uint8)),
     "a sample of x_test has shape (5, 4), but one of x_train (5, 8)"),
    (dict(x_train=np.zeros((24, 40), np.uint8)), "x_train has shape (24, 40), not 3-D frames"),
    (dict(x_val=np.zeros((0, 5, 8), np.uint8), y_val=np.zeros(0, np.int64)),
     "the val split is empty"),
    (dict(x_test=np.zeros((0, 5, 8), np.uint8), y_test=np.zeros(0, np.int64)),
     "the test split is empty"),
    (dict(y_test=np.array([0, 1, 2, 0, 1, 1000])), "y_test holds the class(es) [1000], "
                                                  "which y_train lacks"),
    (dict(y_val=np.array([0, 1, 2, 0, 1, 5])), "y_val holds the class(es) [5]"),
    (dict(y_train=np.arange(24) % 3 + 10**6), "above the largest class id"),
    (dict(y_train=(np.arange(24) % 3).astype(float)), "not 1-D integer class labels"),
    (dict(x_val=np.full((6, 5, 8), "a")), "x_val is <U1 (text), not real numbers"),
]
FEATURE_CASES = [
    (dict(train_s0=np.zeros((20, 10), np.float32)), "train_s0 holds 20 samples but y_train 24"),
    (dict(train_s0=np.zeros((24, 10), np.complex64)), "train_s0 is complex64 (complex numbers)"),
    (dict(test_s0=np.zeros((6, 7), np.float32)), "a sample of test_s0 has shape (7,)"),
    (dict(val_s0=np.zeros((6, 10, 2), np.float32)), "val_s0 has shape (6, 10, 2), not 2-D"),
    (dict(train_s0=np.array(["x"] * 24)), "train_s0 is <U1 (text)"),
    (dict(val_s0=np.full((6, 10), np.nan, np.float32)), "val_s0 holds 60 NaN values"),
    (dict(y_test=np.array([0, 1, 2, 0, 1, 9])), "y_test holds the class(es) [9]"),
]


def _supervised(path, kind, out):
    return stages.supervised_run(
        path, SupervisedSpec(kind, {}, {"lr": 0.05, "epochs": 1, "batch_size": 8}, [0],
                             RunLabels("toy", "m", "v")),
        stages.supervised_outputs(out / "m.json", out / "c.csv", out / "cm.csv",
                                  out / "p.json"))


@pytest.mark.parametrize("edit, words", FRAME_CASES)
def test_frames_stages_check_the_splits(tmp_path, edit, words):
    p = tmp_path / "frames.npz"
    atomic.write_npz(p, **_frames(**edit))
    for run in (lambda: _supervised(p, "raw_readout", tmp_path),
                lambda: zeroshot._check_inputs("srnn", stages.load_npz(p), 0, p),
                lambda: stages.encode_features(
                    p, {"dataset": "toy", "n_res": 4, "decay": 0.9, "v_th": 1.0,
                        "batch_size": 8, "weights": {"source": "gaussian", "const": 0.05,
                                                     "sigma_g": 6.6, "mean_g": 0.0,
                                                     "weight_bits": 16}},
                    [0], "cpu", tmp_path / "f.npz", tmp_path / "fp.json")):
        with pytest.raises(DataFormatError, match=r"frames\.npz") as exc:
            run()
        assert words in str(exc.value)
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "f.npz").exists()


@pytest.mark.parametrize("edit, words", FEATURE_CASES)
def test_feature_stages_check_the_splits(tmp_path, edit, words):
    p = tmp_path / "features.npz"
    atomic.write_npz(p, **_features(**edit))
    for run in (lambda: _supervised(p, "lsm_readout", tmp_path),
                lambda: zeroshot._check_inputs("lsm", stages.load_npz(p), 0, p)):
        with pytest.raises(DataFormatError, match=r"features\.npz") as exc:
            run()
        assert words in str(exc.value)
    assert not (tmp_path / "m.json").exists()


def test_valid_splits_pass_and_train(tmp_path):
    p = tmp_path / "features.npz"
    atomic.write_npz(p, **_features())
    stages.check_splits(stages.load_npz(p), p, "{split}_s0", ndim=2)
    doc = _supervised(p, "lsm_readout", tmp_path)
    assert {r["split"] for r in doc["records"]} >= {"train", "val", "test"}
    f = tmp_path / "frames.npz"
    atomic.write_npz(f, **_frames())
    stages.check_splits(stages.load_npz(f), f)


# --- 6. file mode of atomic outputs ------------------------------------------------------

@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_outputs_get_the_usual_mode_not_0600(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        atomic.write_text(tmp_path / "t.txt", "x")
        atomic.write_json(tmp_path / "t.json", {"a": 1})
        atomic.write_npz(tmp_path / "t.npz", a=np.zeros(2))
        with atomic.atomic_path(tmp_path / "t.csv") as tmp:
            tmp.write_text("a\n")
    finally:
        os.umask(old)
    for name in ("t.txt", "t.json", "t.npz", "t.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


# --- the measured-GPU command, with the GPU faked ----------------------------------------

def test_gpu_energy_checks_its_frames_and_its_output_feeds_the_table(tmp_path, capsys,
                                                                     monkeypatch):
    from lsm.energy import gpu as gpu_energy

    monkeypatch.setattr(gpu_energy, "why_not", lambda: None)
    monkeypatch.setattr(gpu_energy, "measure", lambda x, enc: {
        "device": "Fake GPU", "batches": {"1": {"joules_per_inference": 1e-6 * x.shape[0],
                                                "inferences": 10, "seconds": 2.0}}})
    enc = json.dumps({"dataset": "nmnist", "n_res": 4, "decay": 0.9, "v_th": 1.0,
                      "weights": {"source": "gaussian", "const": 0.05}})
    frames = tmp_path / "frames.npz"
    out = tmp_path / "measured.json"
    args = ["energy", "gpu", "--frames", str(frames), "--encoder", enc, "--name", "e0",
            "--out", str(out)]
    atomic.write_npz(frames, x_test=np.zeros((6, 40), np.uint8))
    _cli_error(capsys, args, "frames.npz", "x_test has shape (6, 40), not non-empty 3-D")
    atomic.write_npz(frames, x_test=np.full((6, 5, 8), 2, np.uint8))
    _cli_error(capsys, args, "frames.npz", "x_test holds 240 values other than 0 and 1")
    assert not out.exists()
    atomic.write_npz(frames, x_test=np.ones((6, 5, 8), np.uint8),
                     data_source=np.array("simulated"))
    assert main(args) == 0
    wl = _workload(tmp_path)
    assert main(_energy(tmp_path, wl, extra=["--measured", str(out)])) == 0
    df = read_table(tmp_path / "e.csv")
    row = df[df.variant == "measured Fake GPU batch 1"].iloc[0]
    assert row["mean"] == pytest.approx(6e-6 / 1e-9) and row["model"] == "e0"
