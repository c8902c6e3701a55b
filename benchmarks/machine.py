"""The machine line every benchmark prints first, and the switch that runs a benchmark as
on a CPU without AVX-512 (shared by ``encode.py`` and ``bptt.py``)."""

from __future__ import annotations

import os

# Environment that makes torch, MKL, oneDNN and numba generate AVX2 code only: what a
# machine without AVX-512 runs. Set before the benchmark's child processes start.
AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "NUMBA_CPU_NAME": "haswell",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def force_isa(isa: str) -> None:
    """``"avx2"``: export :data:`AVX2_ENV` (inherited by spawned children); ``"native"``:
    nothing."""
    if isa == "avx2":
        os.environ.update(AVX2_ENV)


def machine_line(threads: int | str) -> str:
    """CPU model, cores, the vector ISA from /proc/cpuinfo, torch's and numba's code
    targets (what actually runs) and any forced ISA."""
    import llvmlite.binding as llvm
    import numba
    import torch

    from lsm.provenance import cpu_info

    info = cpu_info()
    flags = info["vector_isa"]
    isa = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    numba_cpu = numba.config.CPU_NAME or llvm.get_host_cpu_name()
    forced = {k: os.environ[k] for k in AVX2_ENV if k in os.environ}
    return (f"machine: {info['cpu_model']}, {info['cores']} cores, vector ISA {isa} "
            f"(/proc/cpuinfo), torch {torch.__version__} cpu capability "
            f"{info['torch_cpu_capability']}, numba {numba.__version__} target {numba_cpu}, "
            f"threads {threads}" + (f", forced: {forced}" if forced else ""))


# Timed repeats start only after this much untimed work at full size: on this class of
# (virtual) machine a kernel's first calls after idling run up to 1.5x slower than the
# steady state (measured: 12.0 ms falling to 8.0 ms over the first ten calls of the same
# encoding), so a short warm-up would time the ramp, not the code. Every variant gets it.
WARMUP_S = 1.0


def warm_up(fn, seconds: float = WARMUP_S) -> int:
    """Call `fn()` until `seconds` have passed (at least once); returns the call count."""
    import time

    t_end, calls = time.perf_counter() + seconds, 0
    while calls == 0 or time.perf_counter() < t_end:
        fn()
        calls += 1
    return calls
