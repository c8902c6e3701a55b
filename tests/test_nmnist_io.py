import numpy as np
import pytest

from lsm.datasets.events import make_events
from lsm.datasets.readers import nmnist
from lsm.errors import DataFormatError


def _events(n=50, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 300_000, n))
    return make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), t, rng.integers(0, 2, n))


def test_roundtrip_is_byte_exact(tmp_path):
    ev = _events()
    nmnist.write_bin(tmp_path / "a.bin", ev)
    assert (tmp_path / "a.bin").stat().st_size == 5 * ev.size
    back = nmnist.read_bin(tmp_path / "a.bin")
    np.testing.assert_array_equal(back, ev)


def test_known_bytes_decode(tmp_path):
    # x=3, y=4, p=1, t=0x012345 -> bytes 03 04 81 23 45
    (tmp_path / "b.bin").write_bytes(bytes([3, 4, 0x81, 0x23, 0x45]))
    ev = nmnist.read_bin(tmp_path / "b.bin")
    assert (ev["x"][0], ev["y"][0], ev["p"][0], ev["t"][0]) == (3, 4, 1, 0x012345)


def test_tonic_reads_our_files(tmp_path):
    from tonic.io import read_mnist_file

    ev = _events()
    nmnist.write_bin(tmp_path / "c.bin", ev)
    theirs = read_mnist_file(str(tmp_path / "c.bin"), dtype=ev.dtype)
    np.testing.assert_array_equal(theirs["t"], ev["t"])
    np.testing.assert_array_equal(theirs["x"], ev["x"])


def test_real_sample(real_nmnist):
    ev = nmnist.read_bin(real_nmnist)
    assert ev.size == 4325
    assert ev["t"].min() == 654 and ev["t"].max() == 311_175
    assert ev["x"].max() == 33 and ev["y"].max() == 33


def test_overflow_marker_shifts_later_events(tmp_path):
    raw = bytes([1, 1, 0, 0, 10]) + bytes([0, 240, 0, 0, 0]) + bytes([2, 2, 0, 0, 5])
    (tmp_path / "o.bin").write_bytes(raw)
    ev = nmnist.read_bin(tmp_path / "o.bin")
    assert ev.size == 2
    assert list(ev["t"]) == [10, 5 + 8192]


def test_truncated_file_names_file_and_problem(tmp_path):
    p = tmp_path / "t.bin"
    p.write_bytes(bytes(12))
    with pytest.raises(DataFormatError, match=r"t\.bin.*not a multiple of 5"):
        nmnist.read_bin(p)


def test_out_of_range_address(tmp_path):
    p = tmp_path / "r.bin"
    p.write_bytes(bytes([40, 1, 0, 0, 1]))
    with pytest.raises(DataFormatError, match=r"x=40, outside 0..33"):
        nmnist.read_bin(p)


def test_decreasing_timestamps(tmp_path):
    p = tmp_path / "d.bin"
    p.write_bytes(bytes([1, 1, 0, 0, 9]) + bytes([1, 1, 0, 0, 3]))
    with pytest.raises(DataFormatError, match="timestamps decrease at event 1"):
        nmnist.read_bin(p)


def test_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        nmnist.read_bin(tmp_path / "nope.bin")


def test_list_split_labels_from_folders(tmp_path):
    for d in (3, 7):
        nmnist.write_bin(tmp_path / "Train" / str(d) / "00001.bin", _events(5, d))
    items = nmnist.list_split(tmp_path, "Train")
    assert [lab for _, lab in items] == [3, 7]
    with pytest.raises(DataFormatError, match="split folder not found"):
        nmnist.list_split(tmp_path, "Test")
