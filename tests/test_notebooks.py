"""The notebook-parameter contract (G3) and notebook hygiene.

papermill only *warns* on an unknown parameter, so a typo in a rule would silently run
the notebook on its default. Here every notebook command (`lsm notebook`, papermill's
arguments) that the workflow would run is parsed, and the parameters it passes must be
exactly the notebook's parameters; `lsm notebook` itself refuses an undeclared one.
"""

from __future__ import annotations

import json
import shlex
import shutil

import nbformat
import papermill
import pytest
from workflow_helpers import REPO, snakemake

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _papermill_commands(workdir):
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(workdir), "-n", "-p",
                  "--forceall", "--cores", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    cmds = []
    for line in (r.stdout + r.stderr).splitlines():
        line = line.strip().removeprefix("Shell command:").strip()
        if line.startswith("lsm notebook "):
            cmds.append(line)
    assert cmds, "the dry run printed no notebook command"
    return cmds


def _passed(cmd):
    tok = shlex.split(cmd.split("&>")[0])
    nb, passed, i = tok[2], set(), 4
    while i < len(tok):
        if tok[i] in ("-p", "-r"):
            passed.add(tok[i + 1])
            i += 3
        elif tok[i] == "-y":
            passed |= set(json.loads(tok[i + 1]))
            i += 2
        else:
            i += 1
    return nb, passed


def test_every_rule_passes_exactly_the_notebook_parameters(tmp_path):
    shutil.copytree(REPO / ".test" / "config", tmp_path / "config")
    cmds = _papermill_commands(tmp_path)
    seen = set()
    for cmd in cmds:
        nb, passed = _passed(cmd)
        declared = set(papermill.inspect_notebook(nb))
        assert passed == declared, (
            f"{nb}: passed but not declared {passed - declared}; "
            f"declared but not passed {declared - passed}")
        seen.add(nb)
    # every notebook with a parameters cell is used by some rule
    assert {str(p) for p in NOTEBOOKS if papermill.inspect_notebook(str(p))} <= seen


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_stripped_with_tagged_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    # every parameter has a type annotation and a trailing help comment
    for line in tagged[0].source.splitlines():
        assert ":" in line.split("=")[0] and "#" in line, line


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_standalone_on_its_defaults(path, tmp_path):
    """Without any parameter, each notebook builds its demo input and runs to the end."""
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), kernel_name="python3", cwd=str(tmp_path),
                               progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
