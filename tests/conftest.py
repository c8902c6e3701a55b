"""Shared fixtures. The genuine N-MNIST recording ships inside the package
(lsm/data/nmnist_real_sample.bin, byte-identical to ../shared/real-samples/): tests do not
depend on a folder outside the clone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_NMNIST = REPO / "lsm" / "data" / "nmnist_real_sample.bin"


def require_file(path: Path, what: str) -> Path:
    """Skip (loudly, with the reason) when a shared file is absent; on CI, fail instead."""
    if path.is_file():
        return path
    msg = f"{what} not found at {path}"
    if os.environ.get("CI"):
        pytest.fail(msg + " (CI must provide shared/)")
    pytest.skip(msg)


@pytest.fixture
def real_nmnist() -> Path:
    return require_file(REAL_NMNIST, "genuine N-MNIST sample")


@pytest.fixture(scope="session")
def test_run(tmp_path_factory):
    """The .test config run end to end in a temporary folder, once per session (the
    workflow tests check it; the Slurm test compares its own run against it)."""
    import shutil

    from workflow_helpers import snakemake

    work = tmp_path_factory.mktemp("e2e")
    shutil.copytree(REPO / ".test" / "config", work / "config")
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "2")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return work
