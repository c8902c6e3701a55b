"""Exceptions that tell a researcher what is wrong, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class LSMBenchError(Exception):
    """Base class of every error this package raises on purpose."""


class DataFormatError(LSMBenchError):
    """A data file is missing, truncated or malformed.

    The message always names the file, the problem and, where one exists, the fix.
    """

    def __init__(self, path: str | Path, problem: str, fix: str | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        msg = f"{self.path}: {problem}"
        if fix:
            msg += f" Fix: {fix}"
        super().__init__(msg)


class ConfigError(LSMBenchError):
    """A configuration value is invalid. The message names the key and the fix."""

    def __init__(self, key: str, problem: str, fix: str | None = None) -> None:
        self.key = key
        msg = f"config key '{key}': {problem}"
        if fix:
            msg += f" Fix: {fix}"
        super().__init__(msg)
