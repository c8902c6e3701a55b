"""What the README promises a new user, run: the library quickstart, `lsm --version`, the
licence and the citation file."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml
from workflow_helpers import BIN, REPO

import lsm


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_readme_library_quickstart_runs(tmp_path):
    """The README's Python block (read an N-MNIST file, bin it, encode it, read the
    counts) runs as written, in a fresh interpreter outside the repository."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Using `lsm` as a library", 1)[1].split("\n## ", 1)[0]
    (block,) = _python_blocks(section)
    r = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split()[:4] == ["(50,", "256)", "(1,", "200)"]
    assert int(r.stdout.split()[-1]) > 0  # the reservoir spiked


def test_lsm_version():
    r = subprocess.run([str(BIN / "lsm"), "--version"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.startswith(f"lsm-bench {lsm.__version__} ")
    from importlib.metadata import version

    assert version("lsm-bench") == lsm.__version__  # pyproject reads lsm.__version__


def test_licence_and_citation():
    licence = (REPO / "LICENSE").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "GPL-3.0-or-later"
    assert cff["version"] == lsm.__version__
    paper = cff["preferred-citation"]
    assert paper["journal"] == "Nature Computational Science" and paper["volume"] == 5
    assert (paper["start"], paper["end"], paper["year"]) == (37, 47, 2025)
    import tomllib

    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert py["license"]["text"] == cff["license"]
