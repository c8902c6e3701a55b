"""Provenance: what produced an output (code version, packages, device, seeds, data)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

_PACKAGES = ("lsm-bench", "torch", "numpy", "scipy", "pandas", "tonic", "snakemake",
             "papermill", "matplotlib", "h5py")


def git_sha(repo: str | Path | None = None) -> str:
    """The HEAD commit of the repository holding this package, '-dirty' if modified."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, timeout=10).stdout
        return sha + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


_ISA_FLAGS = ("avx512f", "avx2", "avx", "sse4_2", "neon", "asimd", "sve")


def cpu_info() -> dict[str, Any]:
    """CPU model and vector ISA. Float training (BPTT, readouts) is bit-reproducible only
    on the same CPU type: its sums run in an order that depends on the vector width; the
    frozen reservoir is exact everywhere (integer-grid weights, float64)."""
    import torch

    model, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, val = line.partition(":")
            if key.strip() == "model name" and model in ("unknown", "", platform.machine()):
                model = val.strip()
            elif key.strip() in ("flags", "Features") and not flags:
                flags = set(val.split())
    except OSError:
        pass  # not Linux: the model from platform, no flags
    return {"cpu_model": model, "vector_isa": [f for f in _ISA_FLAGS if f in flags],
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cores": os.cpu_count()}


def device_info(device: str = "cpu") -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"requested": device, "platform": platform.platform(),
                            "machine": platform.machine(), "torch_threads": torch.get_num_threads(),
                            **cpu_info()}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name(0)
    return info


def provenance(
    *, params: dict[str, Any], seeds: list[int], device: str = "cpu",
    data_source: str, generator_version: str | None = None, **extra: Any,
) -> dict[str, Any]:
    """The provenance block written beside every metrics and feature output."""
    return {
        "params": params,
        "seeds": list(seeds),
        "git_sha": git_sha(),
        "packages": package_versions(),
        "device": device_info(device),
        "data_source": data_source,
        "generator_version": generator_version,
        **extra,
    }
