"""Trainable readouts on frozen reservoir features, with validation-only selection.

The supervised readout (`paper.md` §1.6) is one linear layer, features -> classes,
trained with cross-entropy. The epoch is chosen by validation accuracy (ties: the
earliest epoch); the test split is evaluated once, on that epoch's weights.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ReadoutConfig:
    lr: float = 1e-3
    epochs: int = 100
    batch_size: int = 100
    weight_decay: float = 0.0
    optimizer: str = "adam"  # "adam" or "adamw"
    threads: int = 1  # fixed, so float results do not depend on the machine's core count

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """What a training run returns: the selected model and its training record."""

    model: nn.Module
    best_epoch: int  # 1-based
    best_val_acc: float  # percent
    val_curve: list[float] = field(default_factory=list)  # percent, per epoch
    train_loss: list[float] = field(default_factory=list)  # mean per epoch
    optimizer_steps: int = 0
    train_seconds: float = 0.0
    n_params: int = 0
    train_samples_seen: int = 0


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy in percent."""
    return float((logits.argmax(1) == y).float().mean().item() * 100.0)


def _optimizer(cfg: ReadoutConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'adamw', got {cfg.optimizer!r}")


def train_linear_readout(
    f_train: np.ndarray,
    y_train: np.ndarray,
    f_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    cfg: ReadoutConfig,
    seed: int,
) -> TrainResult:
    """Train Linear(F -> n_classes) with mini-batch Adam; keep the best-validation epoch."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xtr = torch.from_numpy(np.asarray(f_train, dtype=np.float32))
    ytr = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    xva = torch.from_numpy(np.asarray(f_val, dtype=np.float32))
    yva = torch.from_numpy(np.asarray(y_val, dtype=np.int64))
    model = nn.Linear(xtr.shape[1], n_classes)
    opt = _optimizer(cfg, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    res = TrainResult(model=model, best_epoch=0, best_val_acc=-1.0,
                      n_params=sum(p.numel() for p in model.parameters()))
    best_state = copy.deepcopy(model.state_dict())
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total, n = 0.0, 0
        for i in range(0, xtr.shape[0], cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += float(loss.item()) * idx.numel()
            n += idx.numel()
            res.optimizer_steps += 1
        res.train_samples_seen += n
        res.train_loss.append(total / n)
        with torch.no_grad():
            va = accuracy(model(xva), yva)
        res.val_curve.append(va)
        if va > res.best_val_acc:  # strict: ties keep the earlier epoch
            res.best_val_acc, res.best_epoch = va, epoch
            best_state = copy.deepcopy(model.state_dict())
    res.train_seconds = time.perf_counter() - t0
    model.load_state_dict(best_state)
    return res


def predict(model: nn.Module, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(features, dtype=np.float32))).argmax(1).numpy()
