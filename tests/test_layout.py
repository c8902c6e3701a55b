"""The package's folders show its layers: few top-level modules, one documented subpackage
per layer, and no module left behind at the top that belongs to a layer."""

from __future__ import annotations

import ast
from pathlib import Path

LSM = Path(__file__).resolve().parents[1] / "lsm"
LAYERS = {"datasets", "reservoir", "models", "zeroshot", "energy", "results", "pipeline"}


def test_top_level_holds_only_the_entry_points_and_shared_utilities():
    top = sorted(p.name for p in LSM.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "atomic.py", "cli.py", "config.py",
                   "errors.py", "provenance.py"]


def test_every_layer_is_a_documented_subpackage():
    packages = {p.parent.name for p in LSM.glob("*/__init__.py")}
    assert packages == LAYERS
    for name in LAYERS:
        doc = ast.get_docstring(ast.parse((LSM / name / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"lsm/{name}/__init__.py needs a docstring"
