"""Dataset quality control: summaries, simulated-versus-real calibration and figures.

Called by notebook 00 (rule `datasets_qc`). Every figure caption states the data source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lsm import atomic
from lsm.datasets import calibration
from lsm.datasets.readers import emnist, nmnist, ntidigits, willett


def _source(folder: Path) -> tuple[str, str]:
    man = folder / "MANIFEST.json"
    if man.is_file():
        m = json.loads(man.read_text())
        return m.get("data_source", "real"), m.get("generator_version", "")
    return "real", ""


def summarize(nmnist_root: str = "", ntidigits_path: str = "", willett_path: str = "",
              emnist_dir: str = "") -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per dataset and split; also returns the loaded material for plots."""
    rows, loaded = [], {}
    if nmnist_root:
        root = Path(nmnist_root)
        src, gen = _source(root)
        for split in ("Train", "Test"):
            items = nmnist.list_split(root, split)
            sizes = np.array([f.stat().st_size // 5 for f, _ in items])
            labels = np.array([lab for _, lab in items])
            rows.append({"dataset": "nmnist", "source": src, "generator": gen,
                         "split": split.lower(), "n_samples": len(items),
                         "n_classes": len(set(labels)), "events_mean": sizes.mean(),
                         "events_std": sizes.std()})
            loaded[f"nmnist_{split}_labels"] = labels
        loaded["nmnist_source"] = src
    if ntidigits_path:
        path = Path(ntidigits_path)
        src, gen = _source(path.parent)
        for split in ("train", "test"):
            utts = ntidigits.read_split(path, split)
            n = np.array([e.size for _, e in utts])
            rows.append({"dataset": "ntidigits", "source": src, "generator": gen,
                         "split": split, "n_samples": len(utts),
                         "n_classes": len({u.label for u, _ in utts}),
                         "events_mean": n.mean(), "events_std": n.std(),
                         "speakers": len({u.speaker for u, _ in utts})})
            loaded[f"ntidigits_{split}"] = utts
        loaded["ntidigits_source"] = src
    if willett_path:
        path = Path(willett_path)
        src, gen = _source(path.parent)
        cubes = willett.read_single_letters(path)
        per_trial = np.concatenate([c.reshape(c.shape[0], -1).sum(1) for c in cubes.values()])
        rows.append({"dataset": "willett", "source": src, "generator": gen, "split": "all",
                     "n_samples": int(per_trial.size), "n_classes": len(cubes),
                     "events_mean": per_trial.mean(), "events_std": per_trial.std()})
        loaded["willett"] = cubes
        loaded["willett_source"] = src
    if emnist_dir:
        src, gen = _source(Path(emnist_dir).parent)
        for split in ("train", "test"):
            imgs, labs = emnist.read_letters(emnist_dir, split)
            rows.append({"dataset": "emnist", "source": src, "generator": gen, "split": split,
                         "n_samples": int(labs.size), "n_classes": len(set(labs.tolist())),
                         "events_mean": np.nan, "events_std": np.nan})
            loaded[f"emnist_{split}"] = (imgs, labs)
    return pd.DataFrame(rows), loaded


def run_qc(nmnist_root: str, ntidigits_path: str, willett_path: str, emnist_dir: str,
           calibration_path: str, summary_path: str, fig_overview_path: str,
           fig_calibration_path: str) -> dict[str, Any]:
    from lsm.results import plots

    summary, loaded = summarize(nmnist_root, ntidigits_path, willett_path, emnist_dir)
    real = nmnist.read_bin(calibration.real_nmnist_sample())
    cal: dict[str, Any] = {"real_sample": "lsm/data/nmnist_real_sample.bin (a '4')"}
    sims: list[np.ndarray] = []
    sims4: list[np.ndarray] = []
    if nmnist_root:
        sims = calibration.sample_simulated_nmnist(nmnist_root, 100)
        items = [f for f, lab in nmnist.list_split(nmnist_root, "Train") if lab == 4][:50]
        sims4 = [nmnist.read_bin(f) for f in items]
        cal["nmnist_all_digits"] = calibration.nmnist_calibration(real, sims)
        if sims4:
            cal["nmnist_digit_4"] = calibration.nmnist_calibration(real, sims4)
        cal["nmnist_source"] = loaded["nmnist_source"]
    if "willett" in loaded:
        cal["bmi_decoding_accuracy_pct"] = calibration.bmi_decodability(loaded["willett"])
        cal["bmi_decoding_note"] = ("PCA-50 + logistic regression, trials 19-27 of each letter "
                                    "held out; real T5: ~94 % (Willett's kNN)")
    if "ntidigits_train" in loaded:
        tr = {u.speaker for u, _ in loaded["ntidigits_train"]}
        te = {u.speaker for u, _ in loaded["ntidigits_test"]}
        cal["ntidigits_speakers_disjoint"] = not (tr & te)
    atomic.write_json(calibration_path, cal)
    with atomic.atomic_path(summary_path) as tmp:
        summary.to_csv(tmp, index=False)
    sources = sorted(set(summary["source"])) if len(summary) else ["real"]
    plots.datasets_overview(real, sims4[:1] or sims[:1], loaded, sources, fig_overview_path)
    plots.nmnist_calibration(real, sims4 or sims, cal.get("nmnist_digit_4", {}), sources,
                             fig_calibration_path)
    return {"summary": summary, "calibration": cal}
