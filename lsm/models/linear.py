"""Linear readouts: on frozen LSM spike counts, and three references without a reservoir.

The references answer "what does the reservoir add?" at three feature budgets, each a
linear readout trained exactly like the LSM's (:func:`_fit_linear`: the same
:class:`~lsm.models.training.TrainConfig`, the same cost accounting):

* :class:`RawReadout` (``raw_readout``): the raw binned input flattened, T x C features
  (12,800 on N-MNIST, 8,256 on N-TIDIGITS against the LSM's 200): it has the input's
  timing *and* 40-64x the LSM's features, so beating it or not mixes the two;
* :class:`TimeSumReadout` (``time_sum_readout``): the input summed over time, C features
  (256 / 64): no timing at all, fewer features than the LSM;
* :class:`RandomProjectionReadout` (``random_projection_readout``): a fixed random linear
  projection of the flattened input to ``n_res`` features (200, the LSM's): the LSM's
  feature budget and the input's timing, without recurrence, spiking or any non-linearity.

The raw readout is also the worked example of the extension point (see the README): a
class with a ``kind``, an ``input`` and a ``fit`` returning a
:class:`~lsm.models.base.Fitted`.
"""

from __future__ import annotations

import numpy as np

from lsm.models.base import Fitted, SupervisedModel
from lsm.models.cost import TrainingCost, linear_macs
from lsm.models.readout import predict, train_linear_readout
from lsm.models.training import TrainConfig
from lsm.reservoir.network import fit_grid


def _fit_linear(x_train, y_train, x_val, y_val, n_classes, seed, train: dict,
                encode_dense: float = 0.0, encode_events: float = 0.0) -> Fitted:
    cfg = TrainConfig(**train)
    res = train_linear_readout(x_train, y_train, x_val, y_val, n_classes, cfg, seed)
    # the epochs actually trained (early stopping may end before the cap)
    cost = TrainingCost(res.n_params, linear_macs(x_train.shape[1], n_classes),
                        res.epochs_run or cfg.epochs, x_train.shape[0], res.optimizer_steps,
                        res.train_seconds, encode_dense, encode_events)
    return Fitted(lambda x: predict(res.model, x), res.best_val_acc, res.best_epoch,
                  res.val_curve, res.train_loss, cost)


def _frames(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected frames [samples, time steps, channels], got shape "
                         f"{x.shape}")
    return x


class LSMReadout(SupervisedModel):
    """Linear readout on frozen reservoir spike counts (paper §1.6). The encoding cost is
    passed in by the stage (it knows the encoder and the measured workload)."""

    kind = "lsm_readout"
    input = "features"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        return _fit_linear(x_train, y_train, x_val, y_val, n_classes, seed,
                           self.params["train"], self.params.get("encode_macs_dense", 0.0),
                           self.params.get("encode_macs_events", 0.0))


class RawReadout(SupervisedModel):
    """A linear readout on the raw binned input, flattened to T * C features (no
    reservoir). It sees the input's timing, but with far more features than the LSM's
    readout (T * C against n_res): compare it with the dimension-matched references
    below before reading it as "what the reservoir adds"."""

    kind = "raw_readout"
    input = "frames"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        def flat(x: np.ndarray) -> np.ndarray:
            x = _frames(x)
            return x.reshape(x.shape[0], -1).astype(np.float32)

        fitted = _fit_linear(flat(x_train), y_train, flat(x_val), y_val, n_classes, seed,
                             self.params["train"])
        inner = fitted.predict
        fitted.predict = lambda x: inner(flat(x))
        return fitted


def time_sum(x: np.ndarray) -> np.ndarray:
    """Frames [N, T, C] -> event counts per channel [N, C] (float32, exact: integers)."""
    return _frames(x).sum(axis=1, dtype=np.float32)


class TimeSumReadout(SupervisedModel):
    """A linear readout on the time-summed input: C features (events per channel over the
    whole sample), no timing. The sum is counted as a one-time encoding of the training
    samples, as the LSM's is: one accumulate per input event (``encode_macs_events``) and
    one per input element and step when counted dense (``encode_macs_dense`` = T * C per
    sample); it is tiny next to the readout's training."""

    kind = "time_sum_readout"
    input = "frames"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        x_train = _frames(x_train)
        n, n_t, n_c = x_train.shape
        dense = float(n) * n_t * n_c
        events = float(np.count_nonzero(x_train))
        fitted = _fit_linear(time_sum(x_train), y_train, time_sum(x_val), y_val, n_classes,
                             seed, self.params["train"], dense, events)
        inner = fitted.predict
        fitted.predict = lambda x: inner(time_sum(x))
        return fitted


PROJECTION_STREAM = 0x52A9  # separates the projection's draws from the reservoir's (0x15A)
PROJECTION_BATCH = 512  # samples per matrix product (bounds the float64 copy of the input)


def projection_matrix(n_in: int, n_out: int, n_t: int, seed: int,
                      weight_bits: int = 16) -> np.ndarray:
    """The frozen projection [n_in, n_out] of seed `seed`: i.i.d. N(0, 1 / n_t) on the
    finest dyadic grid that holds them as `weight_bits`-bit integers (as the reservoir's
    weights), float64.

    The variance 1 / T makes a feature's spread the square root of the number of active
    inputs per time step (about 4 on the default N-MNIST), the order of the LSM's spike
    counts, so the shared readout settings suit both; only the optimiser notices the
    scale (a linear readout's hypothesis class does not depend on it)."""
    if min(n_in, n_out, n_t) < 1:
        raise ValueError(f"projection sizes must be positive, got n_in={n_in}, "
                         f"n_out={n_out}, T={n_t}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, PROJECTION_STREAM]))
    w = rng.normal(0.0, 1.0 / np.sqrt(n_t), size=(n_in, n_out))
    return fit_grid(w, weight_bits)[0]


def project(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Flattened frames [N, T * C] times `w` [T * C, R] -> [N, R] float32.

    The products are summed in float64 on the weights' dyadic grid, where every partial
    sum of 0/1 inputs times 16-bit weights is exact: the features are the same on every
    machine and BLAS, whatever the order of the sums (as the reservoir's counts)."""
    x = _frames(x)
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] != w.shape[0]:
        raise ValueError(f"frames have {flat.shape[1]} values per sample (T x C), the "
                         f"projection expects {w.shape[0]}")
    out = np.empty((flat.shape[0], w.shape[1]), dtype=np.float32)
    for i in range(0, flat.shape[0], PROJECTION_BATCH):
        out[i : i + PROJECTION_BATCH] = flat[i : i + PROJECTION_BATCH].astype(np.float64) @ w
    return out


class RandomProjectionReadout(SupervisedModel):
    """A linear readout on a fixed random projection of the flattened input to ``n_res``
    features (default 200, the LSM's): the dimension-matched control of "no recurrence,
    no spiking".

    Why the flattened input (T * C -> n_res) and not a per-step projection summed over
    time: summing ``x_t W`` over t gives ``(sum_t x_t) W``, a linear map of the time-summed
    input, and a linear readout on it can do no more than one on the time sum itself
    (:class:`TimeSumReadout`; on N-TIDIGITS, C = 64 < 200, exactly the same class of
    classifiers). The flattened projection keeps the input's timing, gives the readout
    the LSM's feature count, and costs per sample what the LSM's input layer costs
    (T * C * n_res MACs), without the recurrent part, the threshold or the reset.

    The projection is drawn from the run's seed (a stream of its own,
    :func:`projection_matrix`), frozen, and its one-time cost billed like the LSM's
    encoding, for the training samples (as the stage bills the LSM's):
    ``encode_macs_dense`` = N_train * T * C * n_res, ``encode_macs_events`` = the MACs
    over non-zero inputs only, (input events) * n_res."""

    kind = "random_projection_readout"
    input = "frames"

    def fit(self, x_train, y_train, x_val, y_val, n_classes, seed) -> Fitted:
        x_train = _frames(x_train)
        n, n_t, n_c = x_train.shape
        n_res = int(self.params.get("n_res", 200))
        w = projection_matrix(n_t * n_c, n_res, n_t, seed)
        dense = float(n) * n_t * n_c * n_res
        events = float(np.count_nonzero(x_train)) * n_res
        fitted = _fit_linear(project(x_train, w), y_train, project(x_val, w), y_val,
                             n_classes, seed, self.params["train"], dense, events)
        inner = fitted.predict
        fitted.predict = lambda x: inner(project(x, w))
        return fitted
