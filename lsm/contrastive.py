r"""Projection heads and the losses that align two modalities (`paper.md` §1.7, §1.9).

Heads map encoder features [N, F] to embeddings [N, pd]:

* ``linear``: Linear(F, pd), the prototypical networks' backbone;
* ``OneFC``: Linear(F, pd) -> GELU (the paper's best head);
* ``TwoFC`` / ``ThreeFC``: two or three such Linear -> GELU blocks, width pd.

Losses take the paired embeddings ``a`` (modality A, e.g. audio) and ``b`` (modality B,
e.g. image), both [N, pd] with row i of each a pair, and the pair labels:

* ``clip_soft``, the paper's (the OpenAI-CLIP tutorial's) soft-target symmetric loss on
  unnormalised embeddings, temperature tau::

      L = A B^T / tau,  Y = softmax((B B^T + A A^T) / 2 * tau)
      loss = mean_i [ CE(L_i, Y_i) + CE(L^T_i, Y^T_i) ] / 2

* ``infonce``: standard symmetric InfoNCE on cosine similarities, targets = identity;
* ``clip_sup``: the label-supervised CLIP loss (`paper.md` §1.7, BTV): targets are all
  same-class pairs, row-normalised; logits = exp(s) * cos(A, B) with a learnable
  logit scale s initialised to log(1 / tau);
* ``proto``: the prototypical-network loss. The batch is split per class into a support
  half and a query half (random, seeded); prototype_c = mean of the support embeddings of
  class c over *both* modalities; scores = -||q - prototype_c||; cross-entropy over the
  queries of both modalities. A batch in which no class occurs twice has no query and
  gives None (the training loop skips it; a batch larger than the class count always has
  one).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HEADS = {"linear": 0, "OneFC": 1, "TwoFC": 2, "ThreeFC": 3}
LOSSES = ("clip_soft", "infonce", "clip_sup", "proto")


def projection_head(kind: str, n_in: int, pd: int) -> nn.Sequential:
    if kind not in HEADS:
        raise ValueError(f"head must be one of {sorted(HEADS)}, not {kind!r}")
    if kind == "linear":
        return nn.Sequential(nn.Linear(n_in, pd))
    layers: list[nn.Module] = []
    for i in range(HEADS[kind]):
        layers += [nn.Linear(n_in if i == 0 else pd, pd), nn.GELU()]
    return nn.Sequential(*layers)


def head_macs(head: nn.Module) -> int:
    """Forward MACs of one sample through a head (its Linear layers)."""
    return sum(m.in_features * m.out_features for m in head.modules()
               if isinstance(m, nn.Linear))


def _soft_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (-targets * F.log_softmax(logits, dim=-1)).sum(1).mean()


def clip_soft_loss(a: torch.Tensor, b: torch.Tensor, tau: float) -> torch.Tensor:
    logits = a @ b.T / tau
    targets = F.softmax((b @ b.T + a @ a.T) / 2 * tau, dim=-1)
    return (_soft_ce(logits, targets) + _soft_ce(logits.T, targets.T)) / 2


def infonce_loss(a: torch.Tensor, b: torch.Tensor, tau: float) -> torch.Tensor:
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    target = torch.arange(a.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def clip_sup_loss(a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor,
                  logit_scale: torch.Tensor) -> torch.Tensor:
    logits = logit_scale.exp() * F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    same = (labels[:, None] == labels[None, :]).to(a.dtype)
    targets = same / same.sum(1, keepdim=True)
    return (_soft_ce(logits, targets) + _soft_ce(logits.T, targets)) / 2


def proto_loss(a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor,
               gen: torch.Generator) -> torch.Tensor | None:
    classes = torch.unique(labels)
    protos, queries, q_lab = [], [], []
    for k, c in enumerate(classes):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        n_sup = max(1, idx.numel() // 2)
        sup, que = idx[:n_sup], idx[n_sup:]
        protos.append(torch.cat([a[sup], b[sup]]).mean(0))
        queries += [a[que], b[que]]
        q_lab.append(torch.full((2 * que.numel(),), k, dtype=torch.int64))
    q = torch.cat(queries)
    if q.shape[0] == 0:
        return None  # no class twice in this batch: no prototypical signal
    scores = -torch.cdist(q, torch.stack(protos))
    return F.cross_entropy(scores, torch.cat(q_lab))


class PairLoss(nn.Module):
    """One of :data:`LOSSES` as a module (``clip_sup`` owns a learnable logit scale)."""

    def __init__(self, kind: str, temperature: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        if kind not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {kind!r}")
        self.kind, self.tau = kind, temperature
        if kind == "clip_sup":
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))
        self.gen = torch.Generator().manual_seed(seed)

    def forward(self, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor
                ) -> torch.Tensor | None:
        if self.kind == "clip_soft":
            return clip_soft_loss(a, b, self.tau)
        if self.kind == "infonce":
            return infonce_loss(a, b, self.tau)
        if self.kind == "clip_sup":
            return clip_sup_loss(a, b, labels, self.logit_scale)
        return proto_loss(a, b, labels, self.gen)
