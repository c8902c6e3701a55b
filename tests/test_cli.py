"""The `lsm` command line: JSON info, and a clear error with a non-zero exit on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from lsm.cli import main


def test_info_on_the_real_sample(real_nmnist, capsys):
    assert main(["data", "info", str(real_nmnist)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "nmnist-bin" and out["n_samples"] == 1
    assert out["n_events"] == 4325
    assert (out["t_min_us"], out["t_max_us"]) == (654, 311_175)
    assert out["sensor_size"][:2] == [34, 34]


def test_truncated_file_exits_nonzero_naming_the_file(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(7))
    r = subprocess.run([sys.executable, "-m", "lsm", "data", "info", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "bad.bin" in r.stderr and "multiple of 5" in r.stderr


def test_config_validate_names_the_bad_key(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: [0]\nseedz: [1]\n")
    assert main(["config", "validate", str(cfg)]) == 2
    assert "seedz" in capsys.readouterr().err


def test_simulate_then_info_then_frames(tmp_path, capsys):
    import numpy as np

    params = json.dumps({"n_train_per_class": 2, "n_test_per_class": 1, "seed": 0})
    assert main(["data", "simulate", "nmnist", "--out", str(tmp_path / "d"), "--params", params,
                 "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(tmp_path / "d")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_samples"] == 30 and info["labels"] == {str(d): 3 for d in range(10)}
    assert 1000 < info["n_events"] / info["n_samples"] < 8000
    assert main(["data", "frames", "nmnist", "--root", str(tmp_path / "d"), "--prep", "{}",
                 "--val-fraction", "0.5", "--split-seed", "0", "--out",
                 str(tmp_path / "f.npz")]) == 0
    with np.load(tmp_path / "f.npz") as z:
        assert z["x_train"].shape == (10, 50, 256) and z["x_val"].shape == (10, 50, 256)
        assert z["x_test"].shape == (10, 50, 256)
        assert str(z["data_source"]) == "simulated"
        assert set(z["y_test"].tolist()) == set(range(10))
        assert z["x_train"].max() == 1 and z["x_train"].mean() > 0.001
