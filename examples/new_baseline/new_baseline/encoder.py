"""A trainable zero-shot encoder defined outside `lsm/`: a GRU over the event frames, for
the audio-visual or BMI retrieval beside the frozen LSM and the trainable SRNN. A config
names it as ``kind: "new_baseline.encoder:GRUEncoder"`` with each side's settings in
``encoder_params``; the zero-shot stage builds one per side, puts the run's projection
heads on top and trains both by backpropagation, like SRNN-CLIP.

What a plug-in encoder provides (lsm.models.registry.zs_entry):

* ``input = "frames"``: it reads binned events [N, T, C];
* ``from_config(n_in, **side_params)`` (or the constructor with those arguments);
* ``forward(x) -> [N, n_out]`` and ``n_out``;
* ``forward_macs(T)``: multiply-accumulates of one sample's forward pass, so that its
  training cost is counted like every other model's (lsm.models.cost).
"""

from __future__ import annotations

import torch
from torch import nn


class GRUEncoder(nn.Module):
    """GRU(C -> n_hidden) over the T steps; the features are the mean hidden state."""

    input = "frames"

    def __init__(self, n_in: int, n_hidden: int = 32) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, n_hidden, batch_first=True)
        self.n_out = n_hidden

    @classmethod
    def from_config(cls, n_in: int, *, n_hidden: int = 32) -> GRUEncoder:
        return cls(n_in, n_hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return out.mean(1)

    def forward_macs(self, time_steps: int) -> int:
        c, h = self.gru.input_size, self.gru.hidden_size
        return 3 * (c * h + h * h) * time_steps  # three gates, input and recurrent weights
