"""Successive halving over a tuning grid (Jamieson & Talwalkar 2016; the synchronous form
of ASHA, Li et al. 2018), for any model whose ``fit`` trains through
:func:`lsm.models.training.train_classifier`.

Every grid point trains to the first rung (``min_epochs``); the best ``1/eta`` of them, by
best validation accuracy so far (ties: the earlier point), go on to ``min_epochs * eta``,
and so on until one point is left, which trains to its own end (epoch cap or early
stopping). A point pruned at a rung stops there; a point that stopped early before a rung
is ranked with what it reached.

Why pausing instead of restarting: a survivor resumes where it paused, so it costs what
one straight run costs, and its result is bit-identical to a straight run of the same
point (asserted in tests/test_tuning.py). Each trial runs ``fit`` in its own thread, but
only one thread runs at any moment (a strict hand-off), and each trial keeps its own copy
of the global RNG states across pauses: its numbers do not depend on the other trials.

The model interface is unchanged: a model needs no code for this. A model whose training
does not go through ``train_classifier`` never pauses: it trains to its end and is ranked
by the ``best_val_acc`` of what its ``fit`` returns.

Memory: the grid's points are alive together (paused), each with its model, optimiser
and float32 copies of the training inputs (about 0.2 GB per point for the N-MNIST
frames); a point's result is dropped once it is eliminated.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch

from lsm.models.training import TrialPruned, epoch_hook


@dataclass
class Outcome:
    """One grid point's fate: its result (None if pruned) and what it reached."""

    index: int
    point: dict[str, Any]
    result: Any = None
    best_val_acc: float = -1.0
    best_epoch: int = 0
    epochs_run: int = 0
    # the rung it lost at: paused there and stopped (``pruned``), or had already stopped
    # early with less than the survivors reached
    eliminated_at: int | None = None
    pruned: bool = False


# the legacy global numpy state on purpose: it is what a model drawing from np.random uses
def _rng_state() -> tuple[Any, ...]:
    return torch.get_rng_state(), np.random.get_state(), random.getstate()  # noqa: NPY002


def _set_rng_state(state: tuple[Any, ...]) -> None:
    torch.set_rng_state(state[0])
    np.random.set_state(state[1])  # noqa: NPY002
    random.setstate(state[2])


@dataclass
class _Trial:
    outcome: Outcome
    fit: Callable[[], Any]
    rng: tuple[Any, ...]
    rung: float = 0.0  # pause when the epoch reaches this (inf: run to the end)
    prune: bool = False
    done: bool = False
    error: BaseException | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    yielded: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def hook(self, epoch: int, best_val_acc: float) -> None:
        if self.prune:  # pruned, or the tuner is shutting down: stop at this epoch
            raise TrialPruned(epoch)
        o = self.outcome
        if best_val_acc > o.best_val_acc:  # the best only rises, at the epoch it is reached
            o.best_val_acc, o.best_epoch = best_val_acc, epoch
        o.epochs_run = epoch
        if epoch < self.rung:
            return
        self.rng = _rng_state()
        self.yielded.set()  # hand control back and wait for the verdict
        self.wake.wait()
        self.wake.clear()
        if self.prune:
            raise TrialPruned(epoch)
        _set_rng_state(self.rng)

    def main(self) -> None:
        self.wake.wait()
        self.wake.clear()
        _set_rng_state(self.rng)
        try:
            with epoch_hook(self.hook):
                self.outcome.result = self.fit()
            o = self.outcome
            if o.epochs_run == 0 and hasattr(o.result, "val_curve"):
                # the hook never fired (the model trains without train_classifier): rank
                # it by what it reports, as a point that ran to its end
                o.best_val_acc = float(o.result.best_val_acc)
                o.best_epoch = int(o.result.best_epoch)
                o.epochs_run = len(o.result.val_curve)
        except TrialPruned:
            self.outcome.pruned = True
        except BaseException as e:  # re-raised in the caller's thread
            self.error = e
        self.done = True
        self.yielded.set()

    def run_until_yield(self) -> None:
        """Let the trial run (start or resume it) until it pauses or ends."""
        if self.thread is None:
            self.thread = threading.Thread(target=self.main, daemon=True)
            self.thread.start()
        self.yielded.clear()
        self.wake.set()
        self.yielded.wait()
        if self.error is not None:
            raise self.error


def rungs(min_epochs: int, eta: int, n_points: int) -> list[int]:
    """The rung epochs for `n_points`: min_epochs * eta^k while more than one point is left."""
    out, n, r = [], n_points, min_epochs
    while n > 1:
        out.append(r)
        n, r = max(1, n // eta), r * eta
    return out


def successive_halving(points: list[dict[str, Any]], fit: Callable[[dict[str, Any]], Any],
                       *, min_epochs: int, eta: int = 2) -> list[Outcome]:
    """Run `fit(point)` for every point under successive halving; returns one
    :class:`Outcome` per point, in grid order; exactly one is not eliminated
    (:func:`chosen_index`), and its ``result`` is that of a straight run of its point."""
    if min_epochs < 1 or eta < 2:
        raise ValueError(f"successive halving needs min_epochs >= 1 and eta >= 2, got "
                         f"{min_epochs} and {eta}")
    start = _rng_state()
    trials = [_Trial(Outcome(i, p), partial(fit, p), start) for i, p in enumerate(points)]
    alive = list(trials)
    try:
        for rung in [*rungs(min_epochs, eta, len(points)), float("inf")]:
            for t in alive:
                if not t.done:
                    t.rung = rung
                    t.run_until_yield()
            if rung == float("inf"):
                break
            ranked = sorted(alive, key=lambda t: (-t.outcome.best_val_acc, t.outcome.index))
            keep = max(1, len(alive) // eta)
            for t in ranked[keep:]:
                t.outcome.eliminated_at = int(rung)
                if not t.done:
                    t.prune = True
                    t.run_until_yield()
                t.outcome.result = None  # a lost point's model is not needed: free it
            alive = sorted(ranked[:keep], key=lambda t: t.outcome.index)
    finally:
        # normally every trial is done here; after an error or an interrupt, stop the
        # paused ones (and the running one at its next epoch) instead of leaving them
        for t in trials:
            if t.thread is not None and not t.done:
                t.prune = True
                t.wake.set()
        for t in trials:
            if t.thread is not None:
                t.thread.join()
        _set_rng_state(start)  # the caller continues as if the trials had not touched it
    return [t.outcome for t in trials]


def chosen_index(outcomes: list[Outcome]) -> int:
    """The point successive halving kept: the one not eliminated at any rung."""
    (survivor,) = (o for o in outcomes if o.eliminated_at is None)
    return survivor.index
