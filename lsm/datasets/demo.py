"""Small demo inputs, so that every notebook also runs standalone on its defaults.

The demo uses the real pipeline (simulator, reader, preprocessing, encoder) at a tiny
size; it is made once under `folder` (by default :func:`demo_root`) and reused.

A notebook opened in Jupyter runs in ``notebooks/``; its default output paths
(``results/demo/...``) are anchored by :func:`anchor_paths` to the repository's
``results/demo/``, whatever the working directory, so that nothing lands in
``notebooks/``. The workflow passes its own paths, which are left as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lsm import atomic

DEMO_ENCODER = {"dataset": "nmnist", "n_res": 200, "decay": 0.9, "v_th": 5.0,
                "batch_size": 500,
                "weights": {"source": "gaussian", "const": 0.07, "sigma_g": 6.6,
                            "mean_g": 0.0, "weight_bits": 16}}


DEMO_PREFIX = ("results", "demo")


def demo_root() -> Path:
    """``results/demo`` of the repository holding this package (the editable install of
    ``make setup``), else of the working directory."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "notebooks").is_dir():
        return repo.joinpath(*DEMO_PREFIX)
    return Path.cwd().joinpath(*DEMO_PREFIX)


def anchor(path: str) -> str:
    """A relative ``results/demo/...`` path under :func:`demo_root`; any other as given."""
    p = Path(path)
    if path and not p.is_absolute() and p.parts[:2] == DEMO_PREFIX:
        return str(demo_root().joinpath(*p.parts[2:]))
    return path


def anchor_paths(namespace: dict[str, Any]) -> None:
    """:func:`anchor` every text value of a notebook's namespace (its parameters) in place."""
    for key, value in list(namespace.items()):
        if isinstance(value, str) and not key.startswith("_"):
            namespace[key] = anchor(value)


def demo_frames(folder: str | Path | None = None) -> str:
    from lsm.datasets.preprocess import VisualPrep, nmnist_frames
    from lsm.datasets.simulators.nmnist_dataset import simulate_nmnist

    folder = Path(folder) if folder else demo_root()
    out = folder / "frames.npz"
    if not out.is_file():
        root = folder / "nmnist"
        man = simulate_nmnist(root, 20, 5, seed=0, workers=1, progress=False)
        data = nmnist_frames(root, VisualPrep(), 0.2, 0, progress=False)
        atomic.write_npz(out, **data, data_source=np.array(man["data_source"]),
                         generator_version=np.array(man["generator_version"]))
    return str(out)


def demo_features(folder: str | Path | None = None) -> str:
    from lsm.pipeline.stages import encode_features

    folder = Path(folder) if folder else demo_root()
    out = folder / "features.npz"
    if not out.is_file():
        encode_features(demo_frames(folder), DEMO_ENCODER, [0, 1], "cpu", out,
                        folder / "features.provenance.json", encoder_name="demo",
                        workload_path=folder / "workload.json")
    return str(out)


def demo_datasets(folder: str | Path | None = None) -> tuple[str, str, str, str]:
    """Small simulated copies of all three modalities: (nmnist root, n-tidigits.hdf5,
    singleLetters.mat, EMNIST folder)."""
    from lsm.datasets.simulators.bmi_dataset import simulate_bmi
    from lsm.datasets.simulators.ntidigits_dataset import simulate_ntidigits

    folder = Path(folder) if folder else demo_root()
    demo_frames(folder)
    if not (folder / "ntidigits" / "MANIFEST.json").is_file():
        simulate_ntidigits(folder / "ntidigits", 3, 2, seed=0, workers=1, progress=False)
    if not (folder / "bmi" / "MANIFEST.json").is_file():
        simulate_bmi(folder / "bmi", 4, 2, seed=0, workers=1, progress=False)
    return (str(folder / "nmnist"), str(folder / "ntidigits" / "n-tidigits.hdf5"),
            str(folder / "bmi" / "singleLetters.mat"), str(folder / "bmi" / "emnist"))


DEMO_AUDIO_ENCODER = {**DEMO_ENCODER, "dataset": "ntidigits", "decay": 0.97, "v_th": 5.3,
                      "weights": {**DEMO_ENCODER["weights"], "const": 0.08}}


def demo_pairs(folder: str | Path | None = None) -> dict[str, str]:
    """Tiny audio (N-TIDIGITS) and image (N-MNIST) frames and LSM features for the
    zero-shot notebook: keys frames_a, frames_b, features_a, features_b, workload_a,
    workload_b (a = audio, b = image). Pairs per class: train 4, val 2, test 4."""
    from lsm.datasets.preprocess import AudioPrep, ntidigits_frames
    from lsm.pipeline.stages import encode_features

    folder = Path(folder) if folder else demo_root()
    _, hdf5, _, _ = demo_datasets(folder)
    out = {"frames_a": str(folder / "frames_ntidigits.npz"), "frames_b": demo_frames(folder),
           "features_a": str(folder / "features_ntidigits.npz"),
           "features_b": demo_features(folder),
           "workload_a": str(folder / "workload_ntidigits.json"),
           "workload_b": str(folder / "workload.json")}
    if not Path(out["frames_a"]).is_file():
        data = ntidigits_frames(hdf5, AudioPrep(), 0.34, 0, progress=False)
        atomic.write_npz(out["frames_a"], **data, data_source=np.array("simulated"))
    if not Path(out["features_a"]).is_file():
        encode_features(out["frames_a"], DEMO_AUDIO_ENCODER, [0, 1], "cpu", out["features_a"],
                        folder / "features_ntidigits.provenance.json", encoder_name="demo",
                        workload_path=out["workload_a"])
    return out
