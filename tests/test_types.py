"""The public extension points type-check (mypy, configured in pyproject.toml): what a new
model or encoder implements (lsm.models.base), the registry that resolves it, and the
training, tuning and cost code it calls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_extension_points_type_check():
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
