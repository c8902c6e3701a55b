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

    def boom(url, part, timeout):
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

    def flaky(url, part, timeout):
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
