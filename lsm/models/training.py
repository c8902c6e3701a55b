"""One training loop (:func:`fit`) for every trainable model, classifiers and zero-shot pair
models alike: mini-batch Adam(W), a pluggable loss (classifiers: cross-entropy, or MSE
against one-hot targets) and validation score, the epoch selected on validation (ties:
the earliest), early stopping on validation, deterministic per seed.

Early stopping: with ``patience`` P > 0, training stops once P epochs in a row have not
improved the best validation accuracy; ``epochs`` is the cap (the paper's 100). The test
split never reaches this module: selection and stopping read validation only."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn


class TrialPruned(BaseException):
    """Raised by an epoch hook to end a training run a tuner has pruned (lsm.models.tuning).

    A BaseException, like KeyboardInterrupt, so that a model's ``except Exception`` (a
    retry, a fallback) cannot swallow it and train on."""


# called after every epoch with (epoch, best validation accuracy so far); it may block
# (a tuner pausing the run) or raise TrialPruned. Per thread: lsm.models.tuning runs each grid
# point in its own thread.
_EPOCH_HOOK: ContextVar[Callable[[int, float], None] | None] = ContextVar("epoch_hook",
                                                                          default=None)


@contextmanager
def epoch_hook(hook: Callable[[int, float], None]) -> Iterator[None]:
    """Call `hook(epoch, best_val_acc)` after every epoch of :func:`fit` (so of
    :func:`train_classifier` and the pair models' fits alike) within this block (this
    thread only)."""
    token = _EPOCH_HOOK.set(hook)
    try:
        yield
    finally:
        _EPOCH_HOOK.reset(token)


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-3
    epochs: int = 100
    batch_size: int = 100
    weight_decay: float = 0.0
    optimizer: str = "adam"  # "adam" or "adamw"
    threads: int = 1  # fixed, so float results do not depend on the machine's core count
    patience: int = 0  # stop after this many epochs without a validation gain (0: never)
    loss: str = "ce"  # "ce": cross-entropy on logits; "mse": MSE of outputs to one-hot
    clip_grad_norm: float = 0.0  # max global gradient norm per step (0: no clipping)
    # learning-rate decay on a validation plateau (torch's ReduceLROnPlateau): multiply lr
    # by `lr_factor` once more than `lr_patience` epochs passed without a validation gain
    # (0: constant lr)
    lr_patience: int = 0
    lr_factor: float = 0.5

    def __post_init__(self) -> None:
        if self.loss not in ("ce", "mse"):
            raise ValueError(f"loss must be 'ce' or 'mse', got {self.loss!r}")
        if self.patience < 0 or self.clip_grad_norm < 0 or self.lr_patience < 0:
            raise ValueError("patience, lr_patience and clip_grad_norm must be >= 0")
        if not 0.0 < self.lr_factor < 1.0:
            raise ValueError(f"lr_factor must be in (0, 1), got {self.lr_factor}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """The selected model and its training record (classifiers and pair models alike)."""

    model: nn.Module
    best_epoch: int  # 1-based
    best_val_acc: float  # percent: accuracy (classifiers) or top-1 retrieval (pair models)
    val_curve: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    optimizer_steps: int = 0
    train_seconds: float = 0.0
    n_params: int = 0
    epochs_run: int = 0  # < the cap when early stopping ended training
    # analysis only (lsm.zeroshot.stage.fit_pairs' `monitor`): per epoch, 0 = before training
    monitored: list[dict[str, float]] = field(default_factory=list)


def plain_batches(n: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) of the mini-batches of n samples, the last one possibly short."""
    return [(i, min(i + size, n)) for i in range(0, n, size)]


@dataclass(frozen=True)
class FitTask:
    """What one training run asks of its model family; :func:`fit` does the rest.

    `loss` maps a batch's training-sample indices to the batch loss (None: skip the
    batch, e.g. a prototypical batch without a repeated class); `validate` scores the
    current weights on validation, in percent, higher is better; `batches` cuts an epoch's
    permutation into [start, stop) slices; `start_epoch` runs after ``model.train()`` at
    every epoch's start (e.g. resetting normalisation statistics); `after_epoch(epoch,
    result, model)` runs once the epoch's choice is made (analysis that must not feed it),
    and its time is not billed as training time."""

    n_train: int
    loss: Callable[[torch.Tensor], torch.Tensor | None]
    validate: Callable[[], float]
    batches: Callable[[int, int], list[tuple[int, int]]] = plain_batches
    start_epoch: Callable[[], None] | None = None
    after_epoch: Callable[[int, TrainResult, nn.Module], None] | None = None


def fit(model: nn.Module, task: FitTask, cfg: TrainConfig, seed: int) -> TrainResult:
    """The one training loop: per epoch a `seed`-driven permutation of the training
    samples in mini-batches (optimiser, gradient clipping and learning-rate decay from
    `cfg`), then validation; the best validation epoch is kept (strict: ties keep the
    earlier), early stopping after ``cfg.patience`` epochs without a gain. Returns the
    model loaded with the selected weights. The test split is nowhere in `task`."""
    torch.set_num_threads(cfg.threads)
    gen = torch.Generator().manual_seed(seed)
    opt = make_optimizer(cfg, model.parameters())
    # decays on validation accuracy, the selection signal; threshold 0: any gain counts
    sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", factor=cfg.lr_factor, patience=cfg.lr_patience, threshold=0.0)
        if cfg.lr_patience else None)
    params = [p for p in model.parameters() if p.requires_grad]
    res = TrainResult(model=model, best_epoch=0, best_val_acc=-1.0,
                      n_params=sum(p.numel() for p in params))
    best_state = copy.deepcopy(model.state_dict())
    hook = _EPOCH_HOOK.get()
    paused = 0.0
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        if task.start_epoch is not None:
            task.start_epoch()
        perm = torch.randperm(task.n_train, generator=gen)
        total = 0.0
        for i, j in task.batches(task.n_train, cfg.batch_size):
            idx = perm[i:j]
            opt.zero_grad()
            loss = task.loss(idx)
            if loss is None:
                continue
            loss.backward()
            if cfg.clip_grad_norm > 0:
                nn.utils.clip_grad_norm_(params, cfg.clip_grad_norm)
            opt.step()
            total += float(loss.item()) * idx.numel()
            res.optimizer_steps += 1
        res.train_loss.append(total / task.n_train)
        va = task.validate()
        res.val_curve.append(va)
        res.epochs_run = epoch
        if sched is not None:
            sched.step(va)
        if va > res.best_val_acc:  # strict: ties keep the earlier epoch
            res.best_val_acc, res.best_epoch = va, epoch
            best_state = copy.deepcopy(model.state_dict())
        h0 = time.perf_counter()
        if task.after_epoch is not None:  # after the choice: it cannot feed it
            task.after_epoch(epoch, res, model)
        if hook is not None:  # a tuner may pause here, or prune the run (TrialPruned)
            hook(epoch, res.best_val_acc)
        paused += time.perf_counter() - h0  # analysis and other runs' time, not this one's
        if cfg.patience and epoch - res.best_epoch >= cfg.patience:
            break  # early stopping: `patience` epochs without a validation gain
    res.train_seconds = time.perf_counter() - t0 - paused
    model.load_state_dict(best_state)
    return res


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy in percent."""
    return float((logits.argmax(1) == y).float().mean().item() * 100.0)


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    """The optimiser of `cfg` (Adam, or AdamW with decoupled weight decay) over `params`:
    the one factory of :func:`fit`."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'adamw', got {cfg.optimizer!r}")


def make_loss(cfg: TrainConfig):
    """The loss ``f(outputs [N, K], labels [N]) -> scalar`` of `cfg.loss`.

    ``mse`` is the paper's loss for the spiking readouts: their outputs are spike rates in
    [0, 1], on which cross-entropy cannot fall below ~1.46 (softmax of values in [0, 1]);
    MSE to one-hot targets can reach 0."""
    if cfg.loss == "ce":
        return nn.CrossEntropyLoss()
    mse = nn.MSELoss()

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return mse(out, nn.functional.one_hot(y, out.shape[1]).to(out.dtype))

    return loss


def predict_logits(model: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]) for i in range(0, x.shape[0], batch)])


def train_classifier(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray,
                     x_val: np.ndarray, y_val: np.ndarray, cfg: TrainConfig, seed: int
                     ) -> TrainResult:
    """Train a classifier `model` (already initialised under `seed`) with :func:`fit`:
    loss of `cfg` on its outputs, validation accuracy selects the epoch."""
    xtr = torch.from_numpy(np.asarray(x_train, dtype=np.float32))
    ytr = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    xva = torch.from_numpy(np.asarray(x_val, dtype=np.float32))
    yva = torch.from_numpy(np.asarray(y_val, dtype=np.int64))
    loss_fn = make_loss(cfg)
    task = FitTask(n_train=int(xtr.shape[0]),
                   loss=lambda idx: loss_fn(model(xtr[idx]), ytr[idx]),
                   validate=lambda: accuracy(predict_logits(model, xva), yva))
    return fit(model, task, cfg, seed)
