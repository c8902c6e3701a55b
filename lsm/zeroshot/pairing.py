"""Cross-modal pairs for zero-shot retrieval (`docs/paper-notes.md` §2.3).

Two labelled datasets that share class ids (N-TIDIGITS digits 1-9 and N-MNIST digits 1-9
use the same integers) are zipped class by class: the k-th sample of class c in modality
A is paired with the k-th sample of class c in modality B, in file order, as the original
code did. Seen classes give the training and validation pairs; unseen classes appear
only in the test pairs. Validation pairs come from the validation parts of both datasets'
*training* sets (speaker-disjoint for audio), so selection never touches test data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lsm.errors import ConfigError


@dataclass(frozen=True)
class PairSpec:
    """Which classes are seen/unseen and how many pairs per class each split gets."""

    seen: tuple[int, ...]
    unseen: tuple[int, ...]
    n_train: int
    n_val: int
    n_test: int
    enlarge: int = 1

    def __post_init__(self) -> None:
        both = set(self.seen) & set(self.unseen)
        if both:
            raise ConfigError("zeroshot_av", f"classes {sorted(both)} are both seen and "
                              "unseen.", "make the seen and unseen lists disjoint.")
        if len(self.seen) < 2 or len(self.unseen) < 1:
            raise ConfigError("zeroshot_av", "needs at least 2 seen and 1 unseen class.",
                              "lengthen the seen/unseen lists.")


def class_pairs(y_a: np.ndarray, y_b: np.ndarray, classes: tuple[int, ...], n_per_class: int,
                what: str, enlarge: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (ia, ib) and labels: per class, the first `n_per_class` gallery samples,
    each paired with a query sample in order; with `enlarge` k, every query sample is used
    k times with k different gallery samples (the paper's BMI "enlarge", one neural trial
    with 10 letter images). Raises a :class:`ConfigError` naming the shortfall (`what`
    names the split and config field) when a class has too few samples."""
    ia, ib, lab = [], [], []
    n_query = -(-n_per_class // enlarge)  # ceil
    for c in classes:
        a = np.flatnonzero(y_a == c)[:n_query]
        b = np.flatnonzero(y_b == c)[:n_per_class]
        if a.size < n_query or b.size < n_per_class:
            fit = min(a.size * enlarge, b.size)
            raise ConfigError(
                what, f"class {c} has only {a.size} query / {b.size} gallery samples, fewer "
                f"than the {n_per_class} pairs asked for need ({n_query} / {n_per_class} "
                f"with enlarge {enlarge}).", f"set it to at most {fit}, or simulate more data.")
        ia.append(np.repeat(a, enlarge)[:n_per_class])
        ib.append(b)
        lab.append(np.full(n_per_class, c, dtype=np.int64))
    return np.concatenate(ia), np.concatenate(ib), np.concatenate(lab)


@dataclass(frozen=True)
class Pairs:
    """Indices into each modality's split arrays, and the pair labels."""

    split: str  # the split of the source arrays: train, val or test
    idx_a: np.ndarray
    idx_b: np.ndarray
    labels: np.ndarray


def make_pairs(labels_a: dict[str, np.ndarray], labels_b: dict[str, np.ndarray],
               spec: PairSpec, field: str = "zeroshot_av") -> dict[str, Pairs]:
    """Pairs for ``train`` and ``val`` (seen classes) and ``test_seen``/``test_unseen``.

    `labels_a`/`labels_b` map the split names train, val, test to label arrays.
    """
    out = {}
    for name, split, classes, n in (
        ("train", "train", spec.seen, spec.n_train),
        ("val", "val", spec.seen, spec.n_val),
        ("test_seen", "test", spec.seen, spec.n_test),
        ("test_unseen", "test", spec.unseen, spec.n_test),
    ):
        count = {"train": "n_train_pairs_per_class", "val": "n_val_pairs_per_class"}.get(
            split, "n_test_pairs_per_class")
        ia, ib, lab = class_pairs(labels_a[split], labels_b[split], classes, n,
                                  f"{field}/{count}", spec.enlarge)
        out[name] = Pairs(split, ia, ib, lab)
    unseen = set(spec.unseen)
    for name in ("train", "val"):  # the zero-shot guarantee, checked where it is made
        assert not unseen & set(out[name].labels.tolist()), f"unseen class in {name}"
    return out
