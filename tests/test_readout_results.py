import json

import numpy as np
import pandas as pd
import pytest

from lsm.errors import DataFormatError
from lsm.models.readout import predict, train_linear_readout
from lsm.models.training import TrainConfig
from lsm.results.contract import COLUMNS, aggregate, metrics_doc, read_metrics, write_table


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 1, (n, 5)) + 3 * np.eye(3, 5)[y]
    return x.astype(np.float32), y


def test_readout_learns_and_selects_on_validation():
    xtr, ytr = _blobs(300, 0)
    xva, yva = _blobs(100, 1)
    res = train_linear_readout(xtr, ytr, xva, yva, 3, TrainConfig(lr=0.05, epochs=15), seed=0)
    assert res.best_val_acc > 90
    assert res.best_epoch == int(np.argmax(res.val_curve)) + 1
    assert res.val_curve[res.best_epoch - 1] == max(res.val_curve)
    assert res.optimizer_steps == 15 * 3  # 300 samples, batch 100
    assert res.n_params == 5 * 3 + 3
    # the returned model is the selected epoch's: its val accuracy equals best_val_acc
    acc = (predict(res.model, xva) == yva).mean() * 100
    assert acc == pytest.approx(res.best_val_acc)


def test_readout_is_deterministic():
    xtr, ytr = _blobs(200, 0)
    xva, yva = _blobs(50, 1)
    cfg = TrainConfig(lr=0.01, epochs=5, batch_size=32)
    a = train_linear_readout(xtr, ytr, xva, yva, 3, cfg, seed=5)
    b = train_linear_readout(xtr, ytr, xva, yva, 3, cfg, seed=5)
    assert a.val_curve == b.val_curve and a.train_loss == b.train_loss


def _doc(values, model="LSM", source="simulated"):
    return metrics_doc(experiment="supervised", dataset="nmnist", model=model, variant="software",
                       data_source=source, selection="val",
                       records=[{"seed": i, "split": "test", "metric": "accuracy", "value": v,
                                 "unit": "%", "chance": 10.0} for i, v in enumerate(values)])


def test_aggregate_mean_std_and_paper_column():
    df = aggregate([_doc([80.0, 82.0, 84.0]), _doc([50.0], model="NewModel")])
    assert list(df.columns) == COLUMNS
    lsm = df[df.model == "LSM"].iloc[0]
    assert lsm["mean"] == pytest.approx(82.0) and lsm["std"] == pytest.approx(2.0)
    assert lsm["n_seeds"] == 3 and lsm["paper"] == 89.11 and lsm["chance"] == 10.0
    new = df[df.model == "NewModel"].iloc[0]
    assert np.isnan(new["paper"]) and new["std"] == 0.0


def test_aggregate_rejects_duplicate_seeds():
    with pytest.raises(ValueError, match="duplicate seeds"):
        aggregate([_doc([1.0]), _doc([2.0])])


def test_write_table_csv_and_markdown_say_simulated(tmp_path):
    df = aggregate([_doc([80.0, 82.0])])
    write_table(df, tmp_path / "t.csv", "Title", "Caption.")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["data_source"].tolist() == ["simulated"]
    md = (tmp_path / "t.md").read_text()
    assert "SIMULATED" in md and "81.00 ± 1.41 (n=2)" in md and "89.11" in md
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_read_metrics_errors(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("{not json")
    with pytest.raises(DataFormatError, match=r"m\.json.*cannot read"):
        read_metrics(p)
    p.write_text(json.dumps({"experiment": "x"}))
    with pytest.raises(DataFormatError, match="lacks the key"):
        read_metrics(p)


def test_wall_clock_records_go_to_the_timing_table_only():
    doc = _doc([80.0])
    doc["records"].append({"seed": 0, "split": "train", "metric": "train_seconds",
                           "value": 1.5, "unit": "s"})
    assert "train_seconds" not in set(aggregate([doc]).metric)
    assert aggregate([doc], timing=True).metric.tolist() == ["train_seconds"]


def test_report_ordering_paragraph_finds_reversals_and_ignores_ties():
    import pandas as pd

    from lsm.results.report import ordering_paragraph

    rows = pd.DataFrame({"dataset": ["d"] * 3, "split": ["test"] * 3, "metric": ["acc"] * 3,
                         "model": ["A", "B", "C"], "variant": ["v"] * 3,
                         "paper": [90.0, 80.0, 70.0], "mean": [50.0, 60.0, 40.0]})
    text = ordering_paragraph(rows, "reasons")
    assert "does not hold" in text and "B (v) above A (v)" in text and "reasons" in text
    rows["mean"] = [60.0, 60.0, 40.0]  # a tie is not a reversal
    assert "the ordering holds" in ordering_paragraph(rows, "reasons")
    rows["paper"] = [1.0, 1.0, 1.0]  # one paper value for all: no ordering to check
    assert ordering_paragraph(rows, "reasons") == ""
