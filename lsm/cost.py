r"""Training-cost accounting, shared by every supervised and zero-shot model.

Formula (stated in every cost table):

    training MACs = encoding MACs (one-time forward pass of a frozen encoder, if any)
                  + sum over epochs of N_train x (forward MACs + backward MACs) per sample

with backward = 2 x forward (one product for the weight gradients, one for the gradients
of the layer inputs; the standard estimate), and for recurrent models the forward pass
runs through all T steps (backpropagation through time covers them all). The frozen
LSM's encoding is counted twice over: dense (every MAC of the equivalent dense network)
and event-driven (accumulates actually performed, from the workload metrics). Also
reported: trainable parameters, optimizer steps and the measured wall-clock seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BACKWARD_FACTOR = 2.0


@dataclass
class TrainingCost:
    trainable_params: int
    forward_macs_per_sample: float
    epochs: int
    train_samples: int
    optimizer_steps: int
    train_seconds: float
    encode_macs_dense: float = 0.0
    encode_macs_events: float = 0.0

    @property
    def train_macs(self) -> float:
        """Forward + backward MACs of all epochs (the trainable part only)."""
        return (self.epochs * self.train_samples * self.forward_macs_per_sample
                * (1.0 + BACKWARD_FACTOR))

    @property
    def total_macs_dense(self) -> float:
        return self.train_macs + self.encode_macs_dense

    @property
    def total_macs_events(self) -> float:
        return self.train_macs + (self.encode_macs_events or self.encode_macs_dense)

    def records(self, seed: int) -> list[dict]:
        """Results-contract records (split "train"); wall-clock has unit "s"."""
        vals = {"trainable_params": (self.trainable_params, "params"),
                "train_macs": (self.train_macs, "MACs"),
                "encode_macs_dense": (self.encode_macs_dense, "MACs"),
                "encode_macs_events": (self.encode_macs_events, "ACs"),
                "total_macs_dense": (self.total_macs_dense, "MACs"),
                "total_macs_events": (self.total_macs_events, "MACs"),
                "optimizer_steps": (self.optimizer_steps, "steps"),
                "train_seconds": (self.train_seconds, "s")}
        return [{"seed": seed, "split": "train", "metric": k, "value": float(v), "unit": u}
                for k, (v, u) in vals.items()]

    def to_dict(self) -> dict:
        return {**asdict(self), "train_macs": self.train_macs}


def linear_macs(n_in: int, n_out: int) -> int:
    return n_in * n_out


def recurrent_macs(n_in: int, n_hidden: int, time_steps: int) -> int:
    """Forward MACs of a recurrent layer over T steps: T (C H + H H)."""
    return time_steps * (n_in * n_hidden + n_hidden * n_hidden)
