"""`make setup`'s install logic, without a network: `make -n` prints what it would run.

The stamp names the torch flavour and a hash of pyproject.toml, so a new TORCH choice or
an edited pyproject.toml reinstalls, and the same choice again does nothing."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from workflow_helpers import REPO


def _dry(venv, *args):
    r = subprocess.run(["make", "-n", "setup", f"VENV={venv}", *args], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    return r


def _stamp(venv, flavour):
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()[:12]
    venv.mkdir(exist_ok=True)
    path = venv / f".installed-torch-{flavour}-{digest}"
    path.touch()
    return path


def test_same_choice_twice_installs_nothing(tmp_path):
    _stamp(tmp_path / "v", "cpu")
    r = _dry(tmp_path / "v")
    assert r.returncode == 0 and "pip install" not in r.stdout, r.stdout


def test_torch_cuda_after_a_cpu_install_reinstalls_torch(tmp_path):
    _stamp(tmp_path / "v", "cpu")
    r = _dry(tmp_path / "v", "TORCH=cuda")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # the flavour check (uninstall when the old stamp names another flavour), then the
    # package index's torch, not the CPU wheel index
    assert "pip uninstall --quiet --yes torch" in out and '-torch-cuda-' in out
    assert 'pip install --quiet "torch==2.13.0"' in out
    assert "download.pytorch.org/whl/cpu" not in out
    assert f"touch {tmp_path / 'v'}/.installed-torch-cuda-" in out


def test_cpu_prefers_the_cpu_wheel_index_and_falls_back(tmp_path):
    r = _dry(tmp_path / "fresh")
    out = r.stdout
    assert "--index-url https://download.pytorch.org/whl/cpu" in out
    assert '|| ' in out and 'pip install --quiet "torch==2.13.0"' in out


def test_a_changed_pyproject_reinstalls(tmp_path):
    old = tmp_path / "v" / ".installed-torch-cpu-000000000000"  # another pyproject hash
    old.parent.mkdir()
    old.touch()
    r = _dry(tmp_path / "v")
    assert 'pip install --quiet -e ".[dev]"' in r.stdout


def test_the_stamp_logic_really_switches_flavours(tmp_path):
    """The recipe's flavour check, run as a shell: an old stamp of another flavour
    triggers the uninstall, one of the same flavour does not."""
    r = _dry(tmp_path / "v", "TORCH=cuda")
    check = next(line for line in r.stdout.split("\nif ") if "grep -qv" in line)
    script = "if " + check.split("; fi")[0].replace("\\\n", " ") + "; fi"
    script = script.replace(f"{tmp_path / 'v'}/bin/pip uninstall --quiet --yes torch",
                            "echo UNINSTALL")
    for flavour, expect in (("cpu", True), ("cuda", False)):
        for old in (tmp_path / "v").glob(".installed-*"):
            old.unlink()
        _stamp(tmp_path / "v", flavour)
        out = subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout
        assert ("UNINSTALL" in out) is expect, (flavour, out)


@pytest.mark.parametrize("bad", ["gpu", "CPU", ""])
def test_an_unknown_flavour_is_a_clear_error(tmp_path, bad):
    r = _dry(tmp_path / "v", f"TORCH={bad}")
    assert r.returncode != 0 and "TORCH must be cpu or cuda" in r.stderr


def test_unset_torch_keeps_the_installed_flavour(tmp_path):
    """After `make setup TORCH=cuda`, a plain `make run`/`test` must not swap CUDA torch
    back for the CPU build: the default flavour is the one the stamp names."""
    _stamp(tmp_path / "v", "cuda")
    r = _dry(tmp_path / "v")
    assert r.returncode == 0 and "pip install" not in r.stdout, r.stdout
    r = _dry(tmp_path / "v", "TORCH=cpu")  # an explicit choice still switches
    assert "pip uninstall --quiet --yes torch" in r.stdout


def test_the_cpu_index_fallback_says_so(tmp_path):
    out = _dry(tmp_path / "fresh").stdout
    cpu_index = out[out.index("--index-url"):]
    # pip's error goes to a log beside the venv, not to /dev/null, and the fallback says so
    assert "2>/dev/null" not in cpu_index.split("||")[0]
    assert "torch-cpu-index.log" in cpu_index and "did not answer" in cpu_index
