r"""Training-cost accounting, shared by every supervised and zero-shot model.

Formula (stated in every cost table):

    training MACs = encoding MACs (one-time forward pass of a frozen encoder, if any)
                  + sum over epochs of N_train x (forward MACs + backward MACs) per sample

with backward = 2 x forward (one product for the weight gradients, one for the gradients
of the layer inputs; the standard estimate), and for recurrent models the forward pass
runs through all T steps (backpropagation through time covers them all). Epochs are the
epochs actually trained (early stopping may end before the cap); the one-time encoding
is billed for the training samples only (test encoding is inference, reported apart).

Two counts, and a ratio only ever divides like by like:

* ``total_macs_dense``: every MAC of the equivalent dense networks, on both sides (the
  LSM's encoding as a dense recurrent layer, the SRNN's BPTT as dense matmuls);
* ``total_macs_events``: event-driven on both sides. A spiking layer performs one
  accumulate per (input event or spike) x fan-out: the LSM's encoding from the measured
  workload, a trainable SRNN's forward pass from its measured input events and hidden
  spikes (``forward_events_per_sample``, the mean of the initial and the trained model),
  backward = 2 x that forward, as in the dense count. Non-spiking layers (linear heads,
  the tanh RNN) have no events: their event-driven count is their dense count.

Also reported: trainable parameters, optimizer steps and the measured wall-clock seconds.
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
    # event-driven accumulates of one training sample's forward pass (spiking models;
    # None: no events, the dense forward MACs)
    forward_events_per_sample: float | None = None

    @property
    def train_macs(self) -> float:
        """Forward + backward MACs of all epochs (the trainable part only)."""
        return (self.epochs * self.train_samples * self.forward_macs_per_sample
                * (1.0 + BACKWARD_FACTOR))

    @property
    def train_macs_events(self) -> float:
        """The event-driven count of the same passes (dense where there are no events)."""
        fwd = (self.forward_macs_per_sample if self.forward_events_per_sample is None
               else self.forward_events_per_sample)
        return self.epochs * self.train_samples * fwd * (1.0 + BACKWARD_FACTOR)

    @property
    def total_macs_dense(self) -> float:
        return self.train_macs + self.encode_macs_dense

    @property
    def total_macs_events(self) -> float:
        return self.train_macs_events + (self.encode_macs_events or self.encode_macs_dense)

    def records(self, seed: int) -> list[dict]:
        """Results-contract records (split "train"); wall-clock has unit "s"."""
        vals = {"trainable_params": (self.trainable_params, "params"),
                "train_macs": (self.train_macs, "MACs"),
                "train_macs_events": (self.train_macs_events, "MACs"),
                "cost_epochs": (self.epochs, "epochs"),
                "encode_macs_dense": (self.encode_macs_dense, "MACs"),
                "encode_macs_events": (self.encode_macs_events, "ACs"),
                "total_macs_dense": (self.total_macs_dense, "MACs"),
                "total_macs_events": (self.total_macs_events, "MACs"),
                "optimizer_steps": (self.optimizer_steps, "steps"),
                "train_seconds": (self.train_seconds, "s")}
        return [{"seed": seed, "split": "train", "metric": k, "value": float(v), "unit": u}
                for k, (v, u) in vals.items()]

    def to_dict(self) -> dict:
        return {**asdict(self), "train_macs": self.train_macs,
                "train_macs_events": self.train_macs_events}


def linear_macs(n_in: int, n_out: int) -> int:
    return n_in * n_out


def recurrent_macs(n_in: int, n_hidden: int, time_steps: int) -> int:
    """Forward MACs of a recurrent layer over T steps: T (C H + H H)."""
    return time_steps * (n_in * n_hidden + n_hidden * n_hidden)
