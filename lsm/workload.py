"""Workload metrics of a reservoir, in NeuroBench's vocabulary, measured on real inputs.

Per sample (means over the samples):

* ``effective_synops``: accumulate operations actually performed by an event-driven
  reservoir: every non-zero input drives one row of W_in (R accumulates) and every spike
  drives one row of W_rec at the next step (R accumulates). Spikes at the last step are
  counted too, so this is an upper bound by at most R per final-step spike.
* ``dense_synops``: multiply-accumulates of the dense equivalent, ``T (C + R) R``.
* ``activation_sparsity``: share of (neuron, step) pairs without a spike.
* ``mean_rate``: spikes per neuron per step; ``membrane_updates``: ``T R``.
* ``input_density``: share of non-zero inputs.

Static footprint: ``weights`` ``(C + R) R``, ``cells`` (two per weight, differential) and
``arrays`` of the configured size.
"""

from __future__ import annotations

import numpy as np

from lsm.crossbar import RRAMParams, footprint


def workload(x: np.ndarray, counts: np.ndarray, array: RRAMParams | None = None
             ) -> dict[str, float]:
    n, n_t, n_in = x.shape
    n_res = counts.shape[1]
    in_events = np.count_nonzero(x.reshape(n, -1), axis=1)
    spikes = counts.sum(axis=1)
    fp = footprint(n_in, n_res, array or RRAMParams())
    return {
        "effective_synops": float(((in_events + spikes) * n_res).mean()),
        "dense_synops": float(n_t * (n_in + n_res) * n_res),
        "activation_sparsity": float(1.0 - spikes.sum() / (n * n_t * n_res)),
        "mean_rate": float(spikes.sum() / (n * n_t * n_res)),
        "membrane_updates": float(n_t * n_res),
        "input_density": float(in_events.sum() / (n * n_t * n_in)),
        "weights": float(fp.weights),
        "cells": float(fp.cells),
        "arrays": float(fp.arrays),
    }


UNITS = {"effective_synops": "ACs/sample", "dense_synops": "MACs/sample",
         "activation_sparsity": "", "mean_rate": "spikes/neuron/step",
         "membrane_updates": "updates/sample", "input_density": "", "weights": "weights",
         "cells": "cells", "arrays": "arrays"}
