r"""Projection heads and the losses that align two modalities (`docs/paper-notes.md` §1.7, §1.9).

Heads map encoder features [N, F] to embeddings [N, pd]:

* ``linear``: Linear(F, pd), the prototypical networks' backbone;
* ``OneFC``: Linear(F, pd) -> GELU (the paper's best head);
* ``TwoFC`` / ``ThreeFC``: two or three such Linear -> GELU blocks, width pd.

With ``norm=True`` (what :mod:`lsm.zeroshot.stage` builds by default, ``feature_scale:
standardized``) every head starts with :func:`feature_norm`: a per-feature
standardisation without learned gain or bias (``BatchNorm1d(affine=False)``),
``(x - mu) / sqrt(var + eps)`` per feature. In training, mu and var are those of the
training batch (seen-class training pairs only); in evaluation (the validation pairs
that select the epoch, and the test pairs) they are the cumulative average over that
epoch's training batches (reset every epoch by :func:`lsm.zeroshot.stage.fit_pairs`), kept
as buffers beside the weights, so the selected epoch keeps its own. Why this one:

* it is the same function for frozen encoders (the LSM's fixed spike counts) and
  trainable ones (an SRNN's spike counts, which move while it trains: statistics fixed
  before training cannot follow them, batch statistics do). Raw counts leave the
  soft-target CLIP loss at chance, z-scored LSM counts do not: normalising one family
  only compared a normalised model with an unnormalised one;
* it is per feature (per neuron), as z-scoring is: it removes the component every sample
  shares. A per-sample standardisation (LayerNorm over a sample's neurons) keeps it, and
  the OneFC head with the soft-target CLIP loss stayed at chance (14.3 % seen top-1 on
  the default data, LSM features, seed 0) where this gives 75 % (the old LSM-only
  z-scores: 71 %);
* its statistics come from training batches only, so no unseen-class, validation or
  test sample can shape them;
* ``eps`` is :data:`FEATURE_NORM_EPS` = 1 (the heads take spike counts, so one spike
  squared): a floor on the std of about one spike, so a neuron silent in training that
  spikes once at test time is not blown up;
* no affine (gain, bias): before a Linear layer a per-feature gain and bias fold into
  the Linear's weights and bias exactly, so they would add 2F trainable parameters (and
  training cost) without adding a function the head cannot already represent.

In evaluation the normalisation is a fixed per-feature affine map, which folds into the
first Linear layer: :func:`head_macs` counts the Linear layers only (in training it
costs O(F) operations per sample, under 1/pd of the first Linear's F pd MACs). Batch
statistics need two samples: the zero-shot training loop never forms a one-pair batch.

Losses take the paired embeddings ``a`` (modality A, e.g. audio) and ``b`` (modality B,
e.g. image), both [N, pd] with row i of each a pair, and the pair labels:

* ``clip_soft``, the paper's (the OpenAI-CLIP tutorial's) soft-target symmetric loss on
  unnormalised embeddings, temperature tau::

      L = A B^T / tau,  Y = softmax((B B^T + A A^T) / 2 * tau)
      loss = mean_i [ CE(L_i, Y_i) + CE(L^T_i, Y^T_i) ] / 2

* ``infonce``: standard symmetric InfoNCE on cosine similarities, targets = identity;
* ``clip_sup``: the label-supervised CLIP loss (`docs/paper-notes.md` §1.7, BTV): targets are all
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


FEATURE_NORM_EPS = 1.0  # spike counts squared: a std floor of about one spike


def feature_norm(n_in: int) -> nn.BatchNorm1d:
    """The heads' input normalisation: per-feature standardisation of `n_in` features
    with training-batch statistics (running estimates in evaluation), no learned gain or
    bias (the module docstring says why)."""
    # momentum None: the running estimates are the cumulative average over the batches
    # since the last reset; fit_pairs resets them every epoch, so evaluation normalises
    # with the statistics of that epoch's training batches (an exponential average
    # would trail them: after 5 batches it holds 41 % of the mean)
    return nn.BatchNorm1d(n_in, eps=FEATURE_NORM_EPS, momentum=None,
                          affine=False, track_running_stats=True)


def projection_head(kind: str, n_in: int, pd: int, norm: bool = False) -> nn.Sequential:
    """A head of `kind` (:data:`HEADS`) from `n_in` features to `pd`; with `norm`, it
    starts with :func:`feature_norm`."""
    if kind not in HEADS:
        raise ValueError(f"head must be one of {sorted(HEADS)}, not {kind!r}")
    layers: list[nn.Module] = [feature_norm(n_in)] if norm else []
    if kind == "linear":
        return nn.Sequential(*layers, nn.Linear(n_in, pd))
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
