"""Data a stage reads is the data it claims to be, or a DataFormatError naming the file.

A simulated dataset folder is replaced whole (a smaller rerun leaves no older file
behind, an interrupted one leaves the old folder), its manifest lists its files, and the
frames step refuses a folder that disagrees. Frames reaching a model are binary uint8;
features are finite.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lsm import atomic
from lsm.cli import main
from lsm.datasets.simulators.bmi_dataset import simulate_bmi
from lsm.datasets.simulators.nmnist_dataset import simulate_nmnist
from lsm.errors import DataFormatError
from lsm.pipeline import stages
from lsm.pipeline.spec import RunLabels, SupervisedSpec


def _bins(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.bin")}


def _frames(root, out, capsys) -> tuple[int, str]:
    rc = main(["data", "frames", "nmnist", "--root", str(root), "--prep", "{}",
               "--val-fraction", "0.5", "--split-seed", "0", "--out", str(out)])
    return rc, capsys.readouterr().err


@pytest.fixture
def nmnist_sim(tmp_path):
    out = tmp_path / "simulated"
    simulate_nmnist(out, 2, 1, seed=0, workers=1, progress=False)
    return out


# --- the simulated folder ------------------------------------------------------------

def test_a_smaller_rerun_leaves_only_the_new_files(tmp_path):
    out = tmp_path / "simulated"
    simulate_nmnist(out, 3, 2, seed=0, workers=1, progress=False)
    assert len(_bins(out)) == 50
    m = simulate_nmnist(out, 2, 1, seed=0, workers=1, progress=False)
    fresh = tmp_path / "fresh"
    simulate_nmnist(fresh, 2, 1, seed=0, workers=1, progress=False)
    assert _bins(out) == _bins(fresh) and len(_bins(out)) == 30
    assert m["contents"] == atomic.folder_contents(out)
    assert m["contents"]["Train/3"]["files"] == 2 and m["contents"]["Test/3"]["files"] == 1
    assert json.loads((out / "MANIFEST.json").read_text())["contents"] == m["contents"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "simulated"]


def test_a_stray_bin_makes_the_frames_step_refuse(nmnist_sim, tmp_path, capsys):
    assert _frames(nmnist_sim, tmp_path / "ok.npz", capsys)[0] == 0
    one = next((nmnist_sim / "Train" / "3").glob("*.bin"))
    shutil.copy(one, one.with_name("99999.bin"))  # left over from a larger run
    rc, err = _frames(nmnist_sim, tmp_path / "f.npz", capsys)
    assert rc == 2 and not (tmp_path / "f.npz").exists()
    assert str(nmnist_sim) in err and "Train/3 holds 3 files" in err
    assert "the manifest lists 2" in err and "delete the folder and rerun" in err


def test_a_truncated_or_missing_file_makes_the_frames_step_refuse(nmnist_sim, tmp_path,
                                                                   capsys):
    one = next((nmnist_sim / "Test" / "5").glob("*.bin"))
    one.write_bytes(one.read_bytes()[:-5])
    rc, err = _frames(nmnist_sim, tmp_path / "f.npz", capsys)
    assert rc == 2 and "Test/5" in err and "delete the folder and rerun" in err
    one.unlink()
    rc, err = _frames(nmnist_sim, tmp_path / "f.npz", capsys)
    assert rc == 2 and "Test/5 holds 0 files" in err


def test_an_interrupted_simulation_keeps_the_old_folder(nmnist_sim, monkeypatch):
    before = _bins(nmnist_sim)

    def killed(root):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "folder_contents", killed)  # after the .bin, before the manifest
    with pytest.raises(KeyboardInterrupt):
        simulate_nmnist(nmnist_sim, 3, 2, seed=1, workers=1, progress=False)
    assert _bins(nmnist_sim) == before and (nmnist_sim / "MANIFEST.json").is_file()
    assert sorted(p.name for p in nmnist_sim.parent.iterdir()) == ["simulated"]


def test_leftovers_of_a_dead_run_are_cleared_or_put_back(tmp_path):
    dest = tmp_path / "d"
    (tmp_path / "d.tmp-99999999").mkdir()  # a half-built folder of a dead process
    (tmp_path / "d.old-99999999").mkdir()  # killed between the two renames
    (tmp_path / "d.old-99999999" / "x.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_dir(dest) as tmp:
        (tmp / "x.txt").write_text("new")
        raise RuntimeError("interrupted")
    assert (dest / "x.txt").read_text() == "old"  # put back, then left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    with atomic.atomic_dir(dest) as tmp:
        (tmp / "x.txt").write_text("new")
    assert (dest / "x.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_a_folder_with_other_files_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataFormatError, match=r"notes\.txt.*move those files away"):
        simulate_nmnist(tmp_path, 2, 1, seed=0, workers=1, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_real_data_without_a_contents_list_is_not_checked(tmp_path):
    assert atomic.checked_manifest(tmp_path) == {}
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"data_source": "real"}))
    (tmp_path / "anything.bin").write_bytes(b"x")
    assert atomic.checked_manifest(tmp_path) == {"data_source": "real"}
    (tmp_path / "MANIFEST.json").write_text("{not json")
    with pytest.raises(DataFormatError, match=r"MANIFEST\.json.*delete the folder and rerun"):
        atomic.checked_manifest(tmp_path)


def test_a_stray_file_makes_the_bmi_frames_step_refuse(tmp_path, capsys):
    out = tmp_path / "bmi"
    m = simulate_bmi(out, 2, 1, seed=0, workers=1, progress=False)
    assert set(m["contents"]) == {".", "emnist", "emnist_mixed_fonts"}
    (out / "emnist" / "emnist-letters-train-images-idx3-ubyte.old").write_bytes(b"x")
    rc = main(["data", "bmi-frames", "--mat", str(out / "singleLetters.mat"),
               "--emnist", str(out / "emnist"), "--prep", "{}", "--split", "{}",
               "--out-neural", str(tmp_path / "n.npz"), "--out-letters",
               str(tmp_path / "l.npz")])
    err = capsys.readouterr().err
    assert rc == 2 and "emnist holds 5 files" in err and "delete the folder and rerun" in err
    assert not (tmp_path / "n.npz").exists()


# --- what reaches the models ---------------------------------------------------------

@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(0)
    data = {}
    for split, n in (("train", 30), ("val", 9), ("test", 9)):
        data[f"x_{split}"] = (rng.random((n, 10, 8)) < 0.3).astype(np.uint8)
        data[f"y_{split}"] = np.arange(n) % 3
    return data


def _write(path, data):
    atomic.write_npz(path, **{"data_source": np.array("simulated"), **data})
    return path


ENCODER = {"dataset": "toy", "n_res": 12, "decay": 0.9, "v_th": 1.0, "batch_size": 8,
           "weights": {"source": "gaussian", "const": 0.05, "sigma_g": 6.6, "mean_g": 0.0,
                       "weight_bits": 16}}
TRAIN = {"lr": 0.05, "epochs": 1, "batch_size": 16}


def _supervised(path, kind, tmp_path, seeds=(0,), feature_scale="counts"):
    params = {"n_hidden": 4} if kind == "rnn" else {}
    return stages.supervised_run(
        path, SupervisedSpec(kind, params, TRAIN, list(seeds), RunLabels("toy", "m", "v"),
                             feature_scale=feature_scale),
        stages.supervised_outputs(tmp_path / "m.json", tmp_path / "c.csv",
                                  tmp_path / "cm.csv", tmp_path / "p.json"))


@pytest.mark.parametrize("spoil, problem", [
    (lambda x: x.astype(np.float32), "x_val is float32, not uint8"),
    (lambda x: np.where(x == 1, 2, x).astype(np.uint8), "x_val holds .* values other than 0 "
                                                        "and 1"),
])
def test_frames_must_be_binary_uint8(frames, tmp_path, spoil, problem):
    frames["x_val"] = spoil(frames["x_val"])
    path = _write(tmp_path / "frames.npz", frames)
    with pytest.raises(DataFormatError, match=rf"frames\.npz: {problem}"):
        stages.encode_features(path, ENCODER, [0], "cpu", tmp_path / "f.npz",
                               tmp_path / "fp.json")
    assert not (tmp_path / "f.npz").exists()
    for kind in ("raw_readout", "rnn"):
        with pytest.raises(DataFormatError, match=problem):
            _supervised(path, kind, tmp_path)


def test_nan_or_infinite_features_name_the_file_and_the_array(frames, tmp_path):
    feats = tmp_path / "features.npz"
    stages.encode_features(_write(tmp_path / "frames.npz", frames), ENCODER, [0], "cpu",
                           feats, tmp_path / "fp.json")
    _supervised(feats, "lsm_readout", tmp_path)  # clean features train
    with np.load(feats) as z:
        data = {k: z[k] for k in z.files}
    data["train_s0"][[0, 3, 5], 1] = np.nan
    _write(feats, data)
    with pytest.raises(DataFormatError, match=r"features\.npz: train_s0 holds 3 NaN values"):
        _supervised(feats, "lsm_readout", tmp_path)
    data["train_s0"][[0, 3, 5], 1] = 0.0
    data["test_s0"][2, 2] = np.inf
    _write(feats, data)
    with pytest.raises(DataFormatError, match=r"test_s0 holds 1 infinite values .*\(2, 2\)"):
        _supervised(feats, "lsm_readout", tmp_path, feature_scale="rates")
    data["test_s0"][2, 2] = 0.0
    data["time_steps"] = np.array(0)
    _write(feats, data)
    with pytest.raises(DataFormatError, match="time_steps"):
        _supervised(feats, "lsm_readout", tmp_path, feature_scale="rates")


def test_zeroshot_inputs_are_checked_too(frames, tmp_path):
    from lsm.zeroshot.stage import _inputs

    bad = dict(frames, x_train=frames["x_train"] * 3)
    with pytest.raises(DataFormatError, match=r"a\.npz: x_train holds"):
        _inputs("srnn", bad, 0, tmp_path / "a.npz", "counts")
    feats = {"train_s0": np.ones((3, 4), np.float32), "val_s0": np.ones((3, 4), np.float32),
             "test_s0": np.full((3, 4), np.nan, np.float32), "time_steps": np.array(10)}
    with pytest.raises(DataFormatError, match=r"b\.npz: test_s0 holds 12 NaN values"):
        _inputs("lsm", feats, 0, tmp_path / "b.npz", "standardized")


def test_labels_must_be_non_negative_integers(frames, tmp_path):
    frames["y_test"] = frames["y_test"] - 1
    path = _write(tmp_path / "frames.npz", frames)
    with pytest.raises(DataFormatError, match="y_test holds negative labels"):
        _supervised(path, "raw_readout", tmp_path)
