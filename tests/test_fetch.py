"""The download code path, offline: file:// URLs and a patched fetch."""

from __future__ import annotations

import hashlib
import urllib.error
from unittest import mock

import pytest

from lsm.datasets import fetch
from lsm.errors import DataFormatError


def _src(tmp_path, data=b"x" * 5000):
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    return src, hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def test_download_verifies_and_renames(tmp_path):
    src, md5, sha = _src(tmp_path)
    out = fetch.download(src.as_uri(), tmp_path / "d" / "file.bin", md5=md5, sha256=sha)
    assert out.read_bytes() == src.read_bytes()
    assert not (tmp_path / "d" / "file.bin.part").exists()


def test_checksum_mismatch_names_path_and_both_sums(tmp_path):
    src, md5, _ = _src(tmp_path)
    bad = "0" * 32
    with pytest.raises(DataFormatError) as exc:
        fetch.download(src.as_uri(), tmp_path / "f.bin", md5=bad)
    msg = str(exc.value)
    assert "f.bin" in msg and bad in msg and md5 in msg
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()


def test_retries_then_clear_error(tmp_path):
    calls = []

    def boom(url, part, timeout, label):
        calls.append(url)
        raise urllib.error.URLError("no route")

    with mock.patch.object(fetch, "_fetch_once", boom):
        with pytest.raises(DataFormatError, match=r"failed after 3 attempts.*resumed"):
            fetch.download("http://example.invalid/x", tmp_path / "x.bin", retries=2,
                           backoff_s=0)
    assert len(calls) == 3


def test_interrupted_download_resumes_from_part(tmp_path):
    data = bytes(range(256)) * 40
    _, md5, _ = _src(tmp_path, data)
    dest = tmp_path / "r.bin"
    seen_have = []

    def flaky(url, part, timeout, label):
        have = part.stat().st_size if part.exists() else 0
        seen_have.append(have)
        if have == 0:  # first attempt: half the file, then the connection drops
            part.write_bytes(data[:4000])
            raise OSError("connection reset")
        with open(part, "ab") as fh:  # resumed with Range: the rest
            fh.write(data[have:])

    with mock.patch.object(fetch, "_fetch_once", flaky):
        fetch.download("http://example.invalid/r", dest, md5=md5, backoff_s=0)
    assert seen_have == [0, 4000] and dest.read_bytes() == data


def test_willett_without_url_says_how_to_get_it(tmp_path):
    with pytest.raises(DataFormatError, match=r"Dryad.*willett_dir"):
        fetch.fetch_willett(tmp_path, url=None, sha256=None)


def test_emnist_extraction_from_a_local_archive(tmp_path):
    import gzip
    import zipfile

    import numpy as np

    from lsm.datasets.readers import emnist

    stage = tmp_path / "stage"
    emnist.write_letters(stage, "train", np.zeros((2, 28, 28), np.uint8), np.array([1, 2]))
    emnist.write_letters(stage, "test", np.zeros((1, 28, 28), np.uint8), np.array([3]))
    archive = tmp_path / "gzip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in stage.iterdir():
            zf.writestr(f"gzip/{f.name}.gz", gzip.compress(f.read_bytes()))
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    out = fetch.fetch_emnist(tmp_path / "out", url=archive.as_uri(), md5=md5)
    _, labels = emnist.read_letters(out, "train")
    assert labels.tolist() == [1, 2]


def test_download_shows_a_progress_bar_with_size_and_rate(tmp_path, capsys):
    src, md5, _ = _src(tmp_path, b"y" * 300_000)
    fetch.download(src.as_uri(), tmp_path / "p.bin", md5=md5)
    err = capsys.readouterr().err
    # tqdm's byte bar: the file name, the size reached of the total, a rate
    assert "p.bin" in err and "293k/293k" in err and "B/s" in err


def _nmnist_zip(tmp_path, split, digits):
    """A zip laid out like N-MNIST's own (``Train/<digit>/<id>.bin``, real .bin format)."""
    import zipfile

    import numpy as np

    from lsm.datasets.events import make_events
    from lsm.datasets.readers import nmnist

    zpath = tmp_path / f"{split}.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for d in digits:
            ev = make_events(np.array([1, 2]), np.array([3, 4]), np.array([10, 20]),
                             np.array([0, 1]))
            one = tmp_path / f"{split}_{d}.bin"
            nmnist.write_bin(one, ev)
            zf.write(one, f"{split}/{d}/0000{d}.bin")
    return zpath, hashlib.md5(zpath.read_bytes()).hexdigest()


def test_nmnist_fetch_takes_the_configured_urls_and_gives_tonics_layout(tmp_path):
    from lsm.datasets.readers import nmnist

    (tr, tr_md5), (te, te_md5) = (_nmnist_zip(tmp_path, "Train", [0, 1]),
                                  _nmnist_zip(tmp_path, "Test", [0, 1]))
    params = {"train_url": tr.as_uri(), "train_md5": tr_md5, "test_url": te.as_uri(),
              "test_md5": te_md5}
    root = fetch.fetch("nmnist", tmp_path / "real", params)
    assert root == tmp_path / "real" / "NMNIST"
    splits = nmnist.list_splits(tmp_path / "real")  # the folder holding NMNIST/ (tonic's)
    assert [lab for _, lab in splits["Train"]] == [0, 1] and len(splits["Test"]) == 2
    with pytest.raises(DataFormatError, match="md5 checksum mismatch"):
        fetch.fetch("nmnist", tmp_path / "again", {**params, "train_md5": "0" * 32})
    with pytest.raises(Exception, match=r"unknown key\(s\) \['url'\]"):
        fetch.fetch("nmnist", tmp_path / "x", {"url": "file:///nothing"})


def test_config_defaults_are_tonics_sources_and_overrides_reach_the_fetch(tmp_path):
    from tonic.datasets import NMNIST, NTIDIGITS18
    from workflow_helpers import REPO

    from lsm.config import load_config
    from lsm.pipeline.data import fetch_params

    assert fetch.NMNIST_SOURCES == {"train": (NMNIST.train_url, NMNIST.train_md5),
                                    "test": (NMNIST.test_url, NMNIST.test_md5)}
    assert (fetch.NTIDIGITS_URL, fetch.NTIDIGITS_MD5) == (NTIDIGITS18.base_url,
                                                           NTIDIGITS18.file_md5)
    cfg = load_config(REPO / "config" / "config.yaml")
    assert fetch_params(cfg, "nmnist") == {
        "train_url": NMNIST.train_url, "train_md5": NMNIST.train_md5,
        "test_url": NMNIST.test_url, "test_md5": NMNIST.test_md5}
    assert fetch_params(cfg, "ntidigits") == {"url": NTIDIGITS18.base_url,
                                              "md5": NTIDIGITS18.file_md5}
    cfg["datasets"]["ntidigits"]["url"] = "https://mirror.example/n-tidigits.hdf5"
    assert fetch_params(cfg, "ntidigits")["url"] == "https://mirror.example/n-tidigits.hdf5"


def test_tonic_torchvision_and_dryad_layouts_are_read_where_they_lie(tmp_path):
    import numpy as np

    from lsm.datasets.readers import emnist, willett

    raw = tmp_path / "tv" / "EMNIST" / "raw"  # torchvision's EMNIST(root) cache
    emnist.write_letters(raw, "train", np.zeros((2, 28, 28), np.uint8), np.array([1, 2]))
    emnist.write_letters(raw, "test", np.zeros((1, 28, 28), np.uint8), np.array([3]))
    assert emnist.read_letters(tmp_path / "tv", "train")[1].tolist() == [1, 2]
    assert emnist.dataset_folder(tmp_path / "tv") == raw
    session = tmp_path / "dryad" / "handwritingBCIData" / "Datasets" / "t5.2019.05.08"
    session.mkdir(parents=True)
    (session / "singleLetters.mat").write_bytes(b"")
    assert willett.dataset_folder(tmp_path / "dryad") == session
    assert willett.dataset_folder(session) == session


def test_nmnist_extraction_refuses_foreign_members_and_skips_resource_forks(tmp_path):
    import zipfile

    zpath, _ = _nmnist_zip(tmp_path, "Train", [3])
    with zipfile.ZipFile(zpath, "a") as zf:  # what macOS's Archive Utility adds
        zf.writestr("__MACOSX/Train/3/._00003.bin", b"\x00")
        zf.writestr("Train/3/._00004.bin", b"\x00")
    out = tmp_path / "ok"
    fetch._extract_bins(zpath, out, "Train")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.bin")) == [
        "3/00003.bin"]
    test_zip, _ = _nmnist_zip(tmp_path, "Test", [1])  # the other split's zip by mistake
    with pytest.raises(DataFormatError, match=r"Test/1/00001.bin.*Train/<digit>"):
        fetch._extract_bins(test_zip, tmp_path / "wrong", "Train")
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("extra/Train/3/00003.bin", b"\x00")
    with pytest.raises(DataFormatError, match=r"holds 3/00003\.bin twice"):
        fetch._extract_bins(zpath, tmp_path / "dup", "Train")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zpath.read_bytes()[:40])  # a truncated download
    with pytest.raises(DataFormatError, match="not a readable zip"):
        fetch._extract_bins(broken, tmp_path / "b", "Train")


@pytest.mark.parametrize(("key", "value", "match"), [
    ("train_url", "data.example/Train.zip", "not an http"),
    ("train_url", "ftp://data.example/Train.zip", "not an http"),
    ("test_md5", "abc", "not a md5 checksum"),
    ("test_md5", "z" * 32, "not a md5 checksum"),
])
def test_fetch_checks_urls_and_checksums_before_any_download(tmp_path, key, value, match):
    from lsm.errors import ConfigError

    with mock.patch.object(fetch, "download", side_effect=AssertionError("downloaded")), \
            pytest.raises(ConfigError, match=rf"datasets\.nmnist\.{key}'.*{match}"):
        fetch.fetch("nmnist", tmp_path, {key: value})


def test_the_schema_refuses_a_url_without_a_scheme(tmp_path):
    import yaml
    from workflow_helpers import REPO

    from lsm.config import load_config
    from lsm.errors import ConfigError

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg.setdefault("datasets", {}).setdefault("ntidigits", {})["url"] = "mirror/n.hdf5"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="url"):
        load_config(path)
