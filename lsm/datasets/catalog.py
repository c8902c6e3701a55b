"""One descriptor per dataset, in tonic's style: what a dataset is, in one place.

Every place that used to branch on a dataset's name (the command line's simulate, frames
and choices, the config's class checks, paper sizes and data hints, the workflow's QC
inputs) reads the descriptor instead. A new dataset is one :class:`DatasetSpec` in
:data:`DATASETS` plus its reader, simulator and preprocessing (docs/architecture.md §3).

Code is named as ``"package.module:name"`` and imported only when asked
(:func:`resolve`): the config validation and Snakemake read this module at start-up and
import no torch, numpy or h5py through it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FramesSpec:
    """One frames file a dataset gives (``results/frames/<name>.npz``).

    ``letters``: its classes are the letters a..z (a config may name them so);
    ``same_items_as``: it holds the same samples, labels and split as those frames (an
    encoder of either may stand on that side of a zero-shot pair);
    ``simulated_only``: given only when the dataset is simulated.
    """

    name: str
    n_classes: int
    class_help: str
    letters: bool = False
    same_items_as: str | None = None
    simulated_only: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its sensor, its frames, how it is simulated, read and sized.

    ``sensor_size`` is tonic's ``(x, y, polarities)`` of the recording sensor.
    ``sim_sizes`` are the simulator's required sizes with their bounds (the config
    schema's), ``sim_block`` the key of its optional parameter block and
    ``sim_params`` that block's frozen dataclass; ``simulator`` is called as
    ``simulator(out_dir, *sizes, seed, params, workers=...)``.
    ``frames_fn``/``prep`` build the frames of a single-file dataset (None: the dataset
    has its own frames command, as BMI with its two modalities has); ``input_file`` is the
    file inside the dataset folder the frames step reads (None: the folder itself).
    ``paper_sizes`` are simulated sizes at the paper's scale (docs/paper-notes.md §2);
    ``data_help`` says, per config key of a real-data folder, how to get the data.
    """

    name: str
    title: str
    modality: str
    sensor_size: tuple[int, int, int]
    frames: tuple[FramesSpec, ...]
    simulator: str
    sim_sizes: Mapping[str, tuple[int, int]]
    sim_block: str
    sim_params: str
    paper_sizes: Mapping[str, int] = field(default_factory=dict)
    data_help: Mapping[str, str] = field(default_factory=dict)
    frames_fn: str | None = None
    prep: str | None = None
    input_file: str | None = None
    # the folder tonic's dataset class keeps the files in, inside its save_to: a data_dir
    # that is such a save_to is read there (tonic's NMNIST/, NTIDIGITS18/)
    tonic_folder: str | None = None

    def locate(self, root: str | Path) -> Path:
        """The folder of `root` that holds the data: `root`, or tonic's folder in it."""
        root = Path(root)
        marker = self.input_file or "Train"
        inner = root / self.tonic_folder if self.tonic_folder else None
        if inner is not None and not (root / marker).exists() and (inner / marker).exists():
            return inner
        return root

    def frame_names(self, source: str = "simulated") -> list[str]:
        """The frames files this dataset gives from `source` (simulated or real)."""
        return [f.name for f in self.frames if source == "simulated" or not f.simulated_only]


_LETTERS = "letters a..z (= 0..25)"

DATASETS: dict[str, DatasetSpec] = {
    "nmnist": DatasetSpec(
        name="nmnist", title="N-MNIST", modality="event-camera digits",
        sensor_size=(34, 34, 2),
        frames=(FramesSpec("nmnist", 10, "digits 0..9"),),
        simulator="lsm.datasets.simulators.nmnist_dataset:simulate_nmnist",
        sim_sizes={"n_train_per_class": (2, 500), "n_test_per_class": (1, 250)},
        sim_block="dvs", sim_params="lsm.datasets.simulators.dvs:DVSParams",
        paper_sizes={"n_train_per_class": 400, "n_test_per_class": 100},
        data_help={"data_dir": "remove data_dir to let the workflow download N-MNIST (needs "
                               "internet; datasets.nmnist.train_url/test_url), or download "
                               "Train.zip and Test.zip from "
                               "https://www.garrickorchard.com/datasets/n-mnist and extract "
                               "them so that data_dir holds Train/ and Test/ (a tonic cache, "
                               "the folder holding NMNIST/, works as it is)."},
        frames_fn="lsm.datasets.preprocess:nmnist_frames",
        prep="lsm.datasets.preprocess:VisualPrep", tonic_folder="NMNIST"),
    "ntidigits": DatasetSpec(
        name="ntidigits", title="N-TIDIGITS", modality="spoken digits (silicon cochlea)",
        sensor_size=(64, 1, 1),
        frames=(FramesSpec("ntidigits", 11, "0..10 (0 = 'zero', 10 = 'oh')"),),
        simulator="lsm.datasets.simulators.ntidigits_dataset:simulate_ntidigits",
        sim_sizes={"n_train_speakers": (2, 400), "n_test_speakers": (1, 400)},
        sim_block="cochlea", sim_params="lsm.datasets.simulators.cochlea:CochleaParams",
        paper_sizes={"n_train_speakers": 112, "n_test_speakers": 113},
        data_help={"data_dir": "remove data_dir to let the workflow download n-tidigits.hdf5 "
                               "(md5-checked; needs internet), or point it at the folder "
                               "holding that file."},
        frames_fn="lsm.datasets.preprocess:ntidigits_frames",
        prep="lsm.datasets.preprocess:AudioPrep",
        input_file="n-tidigits.hdf5", tonic_folder="NTIDIGITS18"),
    "bmi": DatasetSpec(
        name="bmi", title="BMI handwriting", modality="intracortical activity and letters",
        sensor_size=(192, 1, 1),
        frames=(FramesSpec("bmi_neural", 26, _LETTERS, letters=True),
                FramesSpec("bmi_letters", 26, _LETTERS, letters=True),
                FramesSpec("bmi_letters_mixed", 26, _LETTERS, letters=True,
                           same_items_as="bmi_letters", simulated_only=True)),
        simulator="lsm.datasets.simulators.bmi_dataset:simulate_bmi",
        sim_sizes={"n_images_train_per_letter": (1, 100_000),
                   "n_images_test_per_letter": (1, 100_000)},
        sim_block="population", sim_params="lsm.datasets.simulators.neural:PopulationParams",
        data_help={
            "willett_dir": "download handwritingBCIData.tar.gz from Dryad "
                           "(doi:10.5061/dryad.wh70rxwmv), extract it and point willett_dir "
                           "at the extracted folder (its Datasets/t5.2019.05.08/"
                           "singleLetters.mat is found) or at the folder holding "
                           "singleLetters.mat.",
            "emnist_dir": "remove emnist_dir to download EMNIST (md5-checked), or point it at "
                          "the folder holding "
                          "emnist-letters-{train,test}-{images-idx3,labels-idx1}-ubyte (a "
                          "torchvision cache's EMNIST/raw/ is found inside its root)."}),
}

FRAMES: dict[str, FramesSpec] = {f.name: f for d in DATASETS.values() for f in d.frames}


def resolve(ref: str) -> Any:
    """The object a descriptor names as ``"package.module:name"`` (imported now)."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)
