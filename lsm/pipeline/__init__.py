"""The workflow's domain logic, as pure functions of the validated config.

``workflow/rules/common.smk`` validates the config (:func:`lsm.config.validate_config`)
and passes it to these functions through thin wrappers; nothing here reads a ``config``
global, the Snakemake ``workflow`` object or imports Snakemake, so every function can be
called (and is tested, tests/test_pipeline.py) on a config loaded with
:func:`lsm.config.load_config`.

- :mod:`lsm.pipeline.data`: the files and folders each dataset step reads.
- :mod:`lsm.pipeline.runs`: supervised and zero-shot run parameters, inputs, pairing,
  power-analysis runs, class names, threads and priorities.
- :mod:`lsm.pipeline.tables`: table titles, captions and metric names; the energy
  table's systems.
- :mod:`lsm.pipeline.targets`: the workflow's final targets, table, timing and report
  inputs.
- :mod:`lsm.pipeline.paths`: every results and resources path pattern, spelled once (the
  rules and the modules above name them, none writes a path).

Snakemake imports this package at start-up: it imports no torch, numpy, pandas or
matplotlib at import time (a function that needs one imports it when called).
"""

from lsm.pipeline import data, paths, runs, tables, targets

__all__ = ["data", "paths", "runs", "tables", "targets"]
