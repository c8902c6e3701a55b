"""The paper's reported numbers (`reference/paper.md` §4), keyed like our result rows.

These are single-seed values selected on the *test* set by the original code; they are
shown beside ours, labelled as the paper's, never mixed into our statistics.
"""

from __future__ import annotations

# (experiment, dataset, model, variant, split, metric) -> value in percent
PAPER_VALUES: dict[tuple[str, str, str, str, str, str], float] = {
    ("supervised", "nmnist", "LSM", "software", "test", "accuracy"): 89.11,
    ("supervised", "nmnist", "LSM", "rram", "test", "accuracy"): 89.66,
    ("supervised", "nmnist", "SRNN-ANN", "trainable", "test", "accuracy"): 96.96,
    ("supervised", "nmnist", "SRNN-SNN", "trainable", "test", "accuracy"): 93.93,
    ("supervised", "nmnist", "RNN", "trainable", "test", "accuracy"): 96.23,
    ("supervised", "ntidigits", "LSM", "software", "test", "accuracy"): 70.79,
    ("supervised", "ntidigits", "LSM", "rram", "test", "accuracy"): 70.11,
    ("supervised", "ntidigits", "SRNN-ANN", "trainable", "test", "accuracy"): 82.62,
    ("supervised", "ntidigits", "SRNN-SNN", "trainable", "test", "accuracy"): 63.75,
    ("supervised", "ntidigits", "RNN", "trainable", "test", "accuracy"): 75.54,
}


def paper_value(
    experiment: str, dataset: str, model: str, variant: str, split: str, metric: str
) -> float | None:
    return PAPER_VALUES.get((experiment, dataset, model, variant, split, metric))
