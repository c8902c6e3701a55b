import numpy as np
import pytest

from lsm.datasets.events import make_events
from lsm.datasets.preprocess import SelectPolarity, ToBinaryFrames, VisualPrep
from lsm.datasets.splits import stratified_val_split


def test_center_crop_keeps_pixels_9_to_24_and_one_polarity():
    ev = make_events([8, 9, 24, 25, 12], [12, 9, 24, 12, 12], [0, 10, 20, 30, 40], [0, 0, 0, 0, 1])
    frames = VisualPrep(crop=16, polarity=0, n_bins=5, window_us=50)(ev)
    assert frames.shape == (5, 256)
    # (9,9) -> (0,0) at t=10 (bin 1); (24,24) -> (15,15) at t=20 (bin 2)
    assert frames[1, 0] == 1 and frames[2, 15 * 16 + 15] == 1
    assert frames.sum() == 2  # x=8 and x=25 cropped away, p=1 dropped


def test_binary_frames_bins_and_window():
    ev = make_events([0, 0, 1, 1], [0, 0, 0, 0], [0, 5, 99, 100], [1, 1, 1, 1])
    f = ToBinaryFrames(width=2, height=1, n_bins=10, window_us=100)(ev)
    assert f[0, 0] == 1 and f[0].sum() == 1  # two events in one bin -> binary 1
    assert f[9, 1] == 1  # t=99 is in the last bin
    assert f.sum() == 2  # t=100 is outside the window


def test_select_polarity():
    ev = make_events([0, 1], [0, 0], [0, 1], [0, 1])
    assert SelectPolarity(1)(ev)["x"].tolist() == [1]


def test_stratified_split_is_disjoint_deterministic_and_stratified():
    y = np.repeat(np.arange(4), 20)
    tr, va = stratified_val_split(y, 0.25, seed=3)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == y.size
    assert np.bincount(y[va]).tolist() == [5, 5, 5, 5]
    _, va2 = stratified_val_split(y, 0.25, seed=3)
    np.testing.assert_array_equal(va, va2)
    _, va3 = stratified_val_split(y, 0.25, seed=4)
    assert not np.array_equal(va, va3)
    with pytest.raises(ValueError):
        stratified_val_split(y, 1.0, seed=0)
