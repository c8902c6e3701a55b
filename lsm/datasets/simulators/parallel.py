"""One parallel map for the simulators, with a progress bar that moves per item.

``Executor.map`` (and ``Pool.map``) hand results back in input order, so a bar wrapped
around them stands still behind the slowest early item (or, for ``Pool.map``, until the
whole map is done). :func:`parallel_map` updates the bar as each item finishes, in any
order, and returns the results in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def parallel_map(fn: Callable[[Any], T], items: Iterable[Any], workers: int, desc: str,
                 progress: bool = True, executor: Callable[[int], Executor] | None = None,
                 bar: Any = None) -> list[T]:
    """``[fn(x) for x in items]`` on `workers` processes (`executor`: another pool
    factory, e.g. threads in a test), the progress bar (`bar`, or a tqdm bar labelled
    `desc`) advanced once per finished item."""
    items = list(items)
    out: list[Any] = [None] * len(items)
    own = bar is None
    bar = bar if bar is not None else tqdm(total=len(items), desc=desc, disable=not progress,
                                           mininterval=2)
    try:
        with (executor or ProcessPoolExecutor)(workers) as pool:
            futures = {pool.submit(fn, x): i for i, x in enumerate(items)}
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                bar.update(1)
    finally:
        if own:
            bar.close()
    return out
