"""The stage functions the notebooks call, on a small synthetic frames file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lsm import atomic
from lsm.errors import DataFormatError
from lsm.pipeline import stages
from lsm.pipeline.spec import RunLabels, SupervisedSpec


@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(0)
    proto = rng.random((3, 20, 16)) < 0.3
    data = {}
    for split, n in (("train", 45), ("val", 15), ("test", 15)):
        y = np.arange(n) % 3
        data[f"x_{split}"] = (proto[y] ^ (rng.random((n, 20, 16)) < 0.05)).astype(np.uint8)
        data[f"y_{split}"] = y
    path = tmp_path / "frames.npz"
    atomic.write_npz(path, **data, data_source=np.array("simulated"),
                     generator_version=np.array("test-1"))
    return path


def _encoder(source):
    return {"dataset": "toy", "n_res": 30, "decay": 0.9, "v_th": 1.0, "batch_size": 8,
            "weights": {"source": source, "const": 0.05, "sigma_g": 6.6, "mean_g": 0.0,
                        "weight_bits": 16}}


@pytest.mark.parametrize("source,rram", [("gaussian", None), ("rram", {"read_sigma": 0.05})])
def test_encode_then_readout(frames, tmp_path, source, rram):
    out = tmp_path / "f.npz"
    stats = stages.encode_features(frames, _encoder(source), [0, 1], "cpu", out,
                                   tmp_path / "p.json", encoder_name="toy", rram=rram,
                                   workload_path=tmp_path / "w.json")
    assert set(stats["mean_spikes_per_neuron_step"]) == {0, 1}
    wl = json.loads((tmp_path / "w.json").read_text())
    # the encoder's name in the variant: two encoders of one dataset stay two table rows
    assert wl["experiment"] == "workload" and wl["variant"] == {"gaussian": "software (toy)",
                                                                  "rram": "rram (toy)"}[source]
    doc = stages.supervised_run(
        out, SupervisedSpec("lsm_readout", {}, {"lr": 0.05, "epochs": 10, "batch_size": 16},
                            [0, 1], RunLabels("toy", "LSM", "x")),
        stages.supervised_outputs(tmp_path / "m.json", tmp_path / "c.csv",
                                  tmp_path / "cm.csv", tmp_path / "mp.json"),
        workload_path=tmp_path / "w.json")
    test_acc = [r["value"] for r in doc["records"] if r["metric"] == "accuracy"
                and r["split"] == "test"]
    assert len(test_acc) == 2 and min(test_acc) > 50.0
    assert doc["data_source"] == "simulated"
    rec = {(r["seed"], r["metric"]): r["value"] for r in doc["records"]}
    # the one-time encoding is billed for the 45 training samples only (the readout's cost
    # counts training passes only); the 15 test samples are inference, in their own metric
    assert rec[(0, "encode_macs_dense")] == 45 * 20 * (16 + 30) * 30
    assert rec[(0, "inference_encode_macs_dense")] == 15 * 20 * (16 + 30) * 30
    assert 0 < rec[(0, "encode_macs_events")] < rec[(0, "encode_macs_dense")]
    assert rec[(0, "train_macs")] == 10 * 45 * 30 * 3 * 3  # epochs x N x (R K) x (1 + 2)


def test_frames_models_run_through_the_same_stage(frames, tmp_path):
    doc = stages.supervised_run(
        frames, SupervisedSpec("raw_readout", {}, {"lr": 0.05, "epochs": 5, "batch_size": 16},
                               [0], RunLabels("toy", "raw", "floor")),
        stages.supervised_outputs(tmp_path / "m.json", tmp_path / "c.csv",
                                  tmp_path / "cm.csv", tmp_path / "mp.json"))
    rec = {r["metric"]: r["value"] for r in doc["records"] if r["split"] != "val"}
    assert rec["trainable_params"] == 20 * 16 * 3 + 3 and rec["encode_macs_dense"] == 0


def test_missing_seed_is_a_clear_error(frames, tmp_path):
    out = tmp_path / "f.npz"
    stages.encode_features(frames, _encoder("gaussian"), [0], "cpu", out, tmp_path / "p.json")
    with pytest.raises(DataFormatError, match="no features for seed 5"):
        stages.supervised_run(
            out, SupervisedSpec("lsm_readout", {}, {"lr": 0.05, "epochs": 1, "batch_size": 16},
                                [5], RunLabels("toy", "LSM", "x")),
            stages.supervised_outputs(tmp_path / "m.json", tmp_path / "c.csv",
                                      tmp_path / "cm.csv", tmp_path / "mp.json"))


def test_truncated_npz_names_the_file(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match=r"broken\.npz"):
        stages.load_npz(bad)
