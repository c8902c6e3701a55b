"""The files and folders of each dataset step (rules/data.smk), from the config.

Simulated data lives under ``resources/datasets/<name>/simulated`` (written by a job,
whose ``MANIFEST.json`` is the file later jobs wait for); real data is either a user
folder (``data_dir``, ``willett_dir``, ``emnist_dir``) or downloaded under
``resources/datasets/<name>/real``. Paths are relative to the working directory; the
patterns are :mod:`lsm.pipeline.paths`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsm.datasets.catalog import DATASETS
from lsm.pipeline import paths
from lsm.pipeline.paths import fill

Config = dict[str, Any]

# the folder the N-MNIST download unpacks to (the other real datasets: .../real)
_REAL_ROOTS = {"nmnist": paths.NMNIST_REAL_ROOT}


def as_path(path: str | Path) -> str:
    """A user path as a command argument: a relative one starting with '-' gets './' so
    that no command reads it as an option."""
    return f"./{path}" if str(path).startswith("-") else str(path)


def _by_source(cfg: Config, name: str, simulated: str, fetched: str) -> str:
    """The simulated path, the user's data_dir, or the fetched path of a dataset."""
    ds = cfg["datasets"][name]
    if ds["source"] == "simulated":
        return simulated
    return as_path(ds["data_dir"]) if ds.get("data_dir") else fetched


def dataset_root(cfg: Config, name: str) -> str:
    """Folder the frames step reads (N-MNIST: Train/ and Test/; N-TIDIGITS: the .hdf5)."""
    return _by_source(cfg, name, fill(paths.SIMULATED_DIR, dataset=name),
                      _REAL_ROOTS.get(name, fill(paths.REAL_DIR, dataset=name)))


def dataset_input(cfg: Config, name: str) -> str:
    """Input of the frames step (a manifest written by a job, or the user folder)."""
    return _by_source(cfg, name, fill(paths.SIMULATED_MANIFEST, dataset=name),
                      fill(paths.REAL_MANIFEST, dataset=name))


def bmi_paths(cfg: Config) -> tuple[str, str, list[str]]:
    """(singleLetters.mat, EMNIST folder, files the jobs wait for) of the BMI dataset."""
    ds = cfg["datasets"]["bmi"]
    if ds["source"] == "simulated":
        return (paths.SIMULATED_BMI_MAT, paths.SIMULATED_BMI_EMNIST_DIR,
                [fill(paths.SIMULATED_MANIFEST, dataset="bmi")])
    wdir = as_path(ds.get("willett_dir") or paths.WILLETT_DIR)
    edir = as_path(ds.get("emnist_dir") or paths.EMNIST_DIR)
    # a torchvision cache (EMNIST/raw/) or an extracted Dryad archive is read where it lies
    if ds.get("emnist_dir"):
        from lsm.datasets.readers import emnist

        edir = as_path(emnist.dataset_folder(ds["emnist_dir"]))
    if ds.get("willett_dir"):
        from lsm.datasets.readers import willett

        wdir = as_path(willett.dataset_folder(ds["willett_dir"]))
    mat = f"{wdir}/{paths.WILLETT_MAT_NAME}"
    return mat, edir, [mat, f"{edir}/{paths.EMNIST_LABELS_NAME}"]


def bmi_emnist_dir(cfg: Config, image_fonts: str) -> str:
    """The folder of the BMI letter images whose fonts follow `image_fonts` (disjoint or
    mixed); the simulator writes both sets (lsm.datasets.simulators.bmi_dataset.IMAGE_SETS),
    real EMNIST is one."""
    mat, emnist_dir, _ = bmi_paths(cfg)
    if cfg["datasets"]["bmi"]["source"] != "simulated":
        return emnist_dir
    from lsm.datasets.simulators.bmi_dataset import IMAGE_SETS

    folder = next(f for f, rule in IMAGE_SETS.items() if rule == image_fonts)
    return f"{Path(mat).parent}/{folder}"


def bmi_generator_version() -> str:
    """The BMI simulator's version (a params value: a new version reruns the job)."""
    from lsm.datasets.simulators.bmi_dataset import GENERATOR_VERSION

    return GENERATOR_VERSION


def fetch_params(cfg: Config, kind: str) -> dict[str, Any]:
    """The config values `lsm data fetch <kind>` takes (its URLs and checksums;
    lsm.datasets.fetch.FETCHERS): N-MNIST's and N-TIDIGITS' from their dataset blocks,
    EMNIST's and Willett's from the BMI block."""
    from lsm.datasets.fetch import FETCHERS

    ds = cfg["datasets"]["bmi" if kind in ("emnist", "willett") else kind]
    return {k: ds.get(k) for k in FETCHERS[kind][1]}


def qc_inputs(cfg: Config) -> list[str]:
    """Every dataset's files, for the dataset QC notebook."""
    files = [dataset_input(cfg, n) for n in cfg["datasets"] if DATASETS[n].frames_fn]
    if "bmi" in cfg["datasets"]:
        files += bmi_paths(cfg)[2]
    return files


def qc_params(cfg: Config) -> dict[str, str]:
    """The dataset QC notebook's paths ("" for a dataset the config leaves out)."""
    p = {"nmnist_root": "", "ntidigits_path": "", "willett_path": "", "emnist_dir": ""}
    if "nmnist" in cfg["datasets"]:
        p["nmnist_root"] = dataset_root(cfg, "nmnist")
    if "ntidigits" in cfg["datasets"]:
        spec = DATASETS["ntidigits"]
        p["ntidigits_path"] = str(spec.locate(dataset_root(cfg, "ntidigits"))
                                  / (spec.input_file or ""))
    if "bmi" in cfg["datasets"]:
        p["willett_path"], p["emnist_dir"], _ = bmi_paths(cfg)
    return p
