"""`lsm notebook`: run a stage notebook with papermill, reporting bad input as a message.

A stage notebook that meets a malformed file or config raises an :class:`LSMBenchError`
inside the kernel; papermill would show it as a long cell traceback. This runner turns it
into the same one-line ``lsm: error: ...`` as every other command (and a non-zero exit),
and keeps papermill's traceback for real bugs, where it is what a developer needs.
"""

from __future__ import annotations

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


def run_notebook(src: str | Path, out: str | Path, raw: list[tuple[str, str]],
                 yaml_params: str | None, kernel: str = "python3") -> None:
    """Execute `src` into `out` with papermill; string parameters `raw` (like papermill's
    ``-r``) and a YAML/JSON mapping `yaml_params` (``-y``)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    params: dict[str, Any] = dict(raw)
    if yaml_params:
        extra = yaml.safe_load(yaml_params)
        if not isinstance(extra, dict):
            raise StageError(f"notebook parameters must be a mapping, got: {yaml_params[:80]}")
        params.update(extra)
    declared = set(pm.inspect_notebook(str(src)))
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
