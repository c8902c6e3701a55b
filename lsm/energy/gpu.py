"""Optional *measured* GPU energy of the reservoir: the NVML energy counter read around a
timed encoding loop, at batch 1 and at a large batch.

Spec-sheet energies per MAC assume a busy GPU; a small recurrent model at batch 1 is
launch-bound and spends far more per inference. Where no CUDA GPU (or no NVML) exists the
measurement is skipped and the reason recorded and printed, never silently.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np


def why_not() -> str | None:
    """Why a measurement cannot run here (None when it can)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA GPU on this machine"
    try:
        import pynvml  # noqa: F401  (nvidia-ml-py, the [gpu] extra)
    except ImportError:
        return "NVML bindings missing: pip install -e '.[gpu]' (nvidia-ml-py)"
    return None


def measure(x: np.ndarray, encoder: dict[str, Any], batches: tuple[int, ...] = (1, 1024),
            min_seconds: float = 2.0, seed: int = 0) -> dict[str, Any]:
    """Joules per inference of the dense reservoir on GPU 0 for each batch size (the
    counter difference over a loop of at least `min_seconds`, idle power not removed)."""
    reason = why_not()
    if reason:
        return {"skipped": reason}
    import pynvml
    import torch

    from lsm.reservoir.network import GaussianWeightSource, LIFParams, run_reservoir

    w = encoder["weights"]
    src = GaussianWeightSource(const=w["const"], sigma_g=w.get("sigma_g", 6.6))
    weights = src.sample(x.shape[2], encoder["n_res"], seed).to("cuda")
    lif = LIFParams(decay=encoder["decay"], v_th=encoder["v_th"])
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    out: dict[str, Any] = {"device": pynvml.nvmlDeviceGetName(handle), "batches": {}}
    xt = torch.from_numpy(np.asarray(x, dtype=np.float32)).to("cuda")
    for b in batches:
        xb = xt[: min(b, xt.shape[0])]
        if xb.shape[0] < b:  # tile to the batch size
            xb = xb.repeat((b + xb.shape[0] - 1) // xb.shape[0], 1, 1)[:b]
        run_reservoir(xb, weights, lif)  # warm-up
        torch.cuda.synchronize()
        e0, t0, n = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle), time.perf_counter(), 0
        while time.perf_counter() - t0 < min_seconds:
            run_reservoir(xb, weights, lif)
            n += b
        torch.cuda.synchronize()
        joules = (pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) - e0) / 1000.0
        out["batches"][str(b)] = {"joules_per_inference": joules / n, "inferences": n,
                                  "seconds": time.perf_counter() - t0}
    pynvml.nvmlShutdown()
    return out


def read_measured(path: str | Path) -> dict[str, Any]:
    """What :func:`measure` wrote (with the encoder, dataset and data source the command
    adds), or a :class:`DataFormatError` naming the file and the field: either
    ``{"skipped": reason}`` or ``{device, encoder, dataset, data_source, batches: {batch:
    {joules_per_inference, ...}}}`` with a finite, positive energy per batch."""
    from lsm.errors import DataFormatError
    from lsm.results.contract import is_number, read_json

    path = Path(path)
    fix = "delete it and rerun `lsm energy gpu` (the workflow's gpu_energy rule)."
    m = read_json(path, "the measured GPU energy", fix)
    if not isinstance(m, dict):
        raise DataFormatError(path, f"holds a JSON {type(m).__name__}, not an object.", fix)
    if "skipped" in m:
        if not isinstance(m["skipped"], str) or not m["skipped"]:
            raise DataFormatError(path, f"field 'skipped' is {m['skipped']!r}, not the "
                                  "reason (text).", fix)
        return m
    missing = [k for k in ("device", "encoder", "dataset", "data_source", "batches")
               if k not in m]
    if missing:
        raise DataFormatError(path, f"lacks the field(s) {missing} (and is not a "
                              "'skipped' record).", fix)
    for k in ("device", "encoder", "dataset", "data_source"):
        if not isinstance(m[k], str):
            raise DataFormatError(path, f"field '{k}' is {m[k]!r}, not text.", fix)
    if not isinstance(m["batches"], dict) or not m["batches"]:
        raise DataFormatError(path, f"field 'batches' is {m['batches']!r}, not an object "
                              "of batch sizes.", fix)
    for b, v in m["batches"].items():
        at = f"batches/{b}"
        if not b.isdigit() or int(b) < 1:
            raise DataFormatError(path, f"'{at}': '{b}' is not a batch size.", fix)
        if not isinstance(v, dict) or "joules_per_inference" not in v:
            raise DataFormatError(path, f"'{at}' lacks joules_per_inference.", fix)
        j = v["joules_per_inference"]
        if not is_number(j) or not j > 0:
            raise DataFormatError(path, f"'{at}/joules_per_inference' is {j!r}, not a "
                                  "positive, finite energy.", fix)
    return m
