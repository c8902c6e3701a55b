"""Running the workflow's pieces: stage notebooks (`lsm notebook`) and recovery after a
killed run (`lsm workflow recover`).

A stage notebook that meets a malformed file or config raises an :class:`LSMBenchError`
inside the kernel; papermill would show it as a long cell traceback. The runner turns it
into the same one-line ``lsm: error: ...`` as every other command (and a non-zero exit),
and keeps papermill's traceback for real bugs, where it is what a developer needs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from lsm import errors
from lsm.errors import LSMBenchError

# Exception names the kernel reports for our own, deliberate errors.
_OURS = {name for name, obj in vars(errors).items()
         if isinstance(obj, type) and issubclass(obj, LSMBenchError)}


class StageError(LSMBenchError):
    """A stage notebook stopped on bad input (the kernel's message, unchanged)."""


def notebook_params(raw: list[tuple[str, str]], yaml_params: str | None) -> dict[str, Any]:
    """String parameters `raw` (papermill's ``-r``) and a mapping `yaml_params` (``-y``).

    The workflow writes `yaml_params` as JSON and it is read as JSON first: PyYAML follows
    YAML 1.1, which reads JSON's ``1e-05`` as the *string* "1e-05" (a learning rate that
    validated as a number would reach the optimiser as text)."""
    params: dict[str, Any] = dict(raw)
    if yaml_params:
        try:
            extra = json.loads(yaml_params)
        except json.JSONDecodeError:
            try:
                extra = yaml.safe_load(yaml_params)
            except yaml.YAMLError as exc:
                raise StageError(f"notebook parameters (-y) are neither JSON nor YAML: "
                                 f"{exc}") from None
        if not isinstance(extra, dict):
            raise StageError(f"notebook parameters must be a mapping, got: {yaml_params[:80]}")
        params.update(extra)
    return params


def run_notebook(src: str | Path, out: str | Path, raw: list[tuple[str, str]],
                 yaml_params: str | None, kernel: str = "python3") -> None:
    """Execute `src` into `out` with papermill (parameters as :func:`notebook_params`)."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    params = notebook_params(raw, yaml_params)
    try:
        declared = set(pm.inspect_notebook(str(src)))
    except (OSError, nbformat.reader.NotJSONError, ValueError) as exc:
        raise StageError(f"{src}: not a readable notebook ({type(exc).__name__}: {exc}).") \
            from None
    unknown = sorted(set(params) - declared)
    if unknown:  # papermill would only warn and run the notebook on its defaults
        raise StageError(f"{src}: no notebook parameter named {unknown}; it declares "
                         f"{sorted(declared)}.")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(str(src), str(out), parameters=params, kernel_name=kernel,
                            log_output=True, progress_bar=False)
    except PapermillExecutionError as exc:
        if exc.ename in _OURS:
            raise StageError(f"{exc.evalue} (stage notebook {Path(src).name}; "
                             f"executed copy: {out})") from None
        raise


def _snakemake_processes() -> list[tuple[int, str | None]]:
    """(pid, working directory or None where unknown) of every running snakemake."""
    found = []
    proc = Path("/proc")
    if proc.is_dir():
        for d in proc.iterdir():
            if not d.name.isdigit() or int(d.name) == os.getpid():
                continue
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")
                cwd = os.readlink(d / "cwd")
            except OSError:
                continue  # gone, or not ours to read
            names = [Path(a.decode(errors="replace")).name for a in argv if a]
            if "snakemake" in names:  # .../bin/snakemake, or python -m snakemake
                found.append((int(d.name), cwd))
        return found
    import subprocess  # no /proc (macOS): any snakemake counts, wherever it runs

    out = subprocess.run(["ps", "-ax", "-o", "pid=,command="], capture_output=True,
                         text=True, check=False).stdout
    for line in out.splitlines():
        pid, _, cmd = line.strip().partition(" ")
        if any(Path(a).name == "snakemake" for a in cmd.split()) and int(pid) != os.getpid():
            found.append((int(pid), None))
    return found


def recover(workdir: str | Path) -> str | None:
    """After a killed run, remove Snakemake's stale lock in `workdir` (what ``snakemake
    --unlock`` does), unless a snakemake still runs there. Returns what was done, or None
    when there was no lock. Snakemake changes into its ``--directory``, so a process whose
    working directory is `workdir` is a run of this workflow here."""
    locks = Path(workdir) / ".snakemake" / "locks"
    files = sorted(locks.glob("*")) if locks.is_dir() else []
    if not files:
        return None
    here = os.path.realpath(workdir)
    live = [pid for pid, cwd in _snakemake_processes() if cwd is None or cwd == here]
    if live:
        raise StageError(f"{here}: snakemake (pid {', '.join(map(str, live))}) is still "
                         "running here. Fix: wait for it to finish, or stop it, then rerun.")
    for f in files:
        f.unlink(missing_ok=True)
    return (f"{here}: the last run was interrupted; removed its lock. Jobs it cut off are "
            "redone (rerun-incomplete), finished ones are kept.")
