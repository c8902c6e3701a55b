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


@pytest.fixture(scope="module")
def fresh_demo():
    """results/demo/ of this repository, emptied once: it is scratch space (demo inputs and
    outputs), and a stale demo input from an older version must not be reused here."""
    from lsm.datasets.demo import demo_root

    root = demo_root()
    assert root == REPO / "results" / "demo"  # the editable install of make setup
    shutil.rmtree(root, ignore_errors=True)
    return root


def _files(folder):
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_from_jupyter_on_its_defaults(path, tmp_path, fresh_demo):
    """Run as Jupyter runs it (its own folder as the working directory, no parameters):
    it builds its demo input, runs to the end, and every output it declares lands under
    the repository's results/demo/, none in notebooks/."""
    before = _files(REPO / "notebooks")
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), kernel_name="python3",
                               cwd=str(REPO / "notebooks"), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    assert _files(REPO / "notebooks") == before, "the notebook wrote into notebooks/"
    params = papermill.inspect_notebook(str(path))
    outputs = {k: json.loads(v["default"]) for k, v in params.items()
               if v["help"].startswith("output")}
    assert outputs, f"{path.name} declares no output"
    for name, default in outputs.items():
        assert default.startswith("results/demo/"), (name, default)
        assert (REPO / default).is_file(), f"{path.name}: {name} not at {REPO / default}"


def test_make_lab_starts_jupyterlab(tmp_path):
    """`make lab` serves JupyterLab on the notebooks (stopped once it answers)."""
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # (the folder is make lab's own --notebook-dir: the test checks it serves notebooks/)
    args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --ServerApp.token= "
            f"--ServerApp.runtime_dir={tmp_path}")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline, body = time.time() + 90, ""
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read()[-2000:]
        assert "JupyterLab" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5) as r:
            names = {c["name"] for c in json.loads(r.read())["content"]}
        assert {p.name for p in NOTEBOOKS} <= names  # it serves the notebooks folder
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
