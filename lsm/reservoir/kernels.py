r"""Event-driven CPU kernel of the reservoir (numba), bit-identical to the dense path.

Per sample and step, the input current is accumulated only over the *active* inputs and
the neurons that spiked at the previous step::

    I_t[j] = sum_{i : x_t[i] != 0} x_t[i] * W_in[i, j] + sum_{k : s_{t-1}[k] = 1} W_rec[k, j]

so the work is proportional to events x R instead of (C + R) x R. With weights on the
dyadic grid (see :mod:`lsm.reservoir.network`) these sums are exact, hence equal to the dense
matmul's, and the membrane update uses the same expression order
``(decay * V) * (1 - s) + I``: spike counts are identical, bit for bit.

Samples run in parallel over the cores (``prange``); each sample is independent, so the
result does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(inline="always")
def _add_rows(cur, w, rows, n_rows):  # pragma: no cover - jitted
    """cur += sum of the rows ``w[rows[:n_rows]]``, eight (then four) at a time: one load
    and store of `cur` per eight rows instead of per row (the loop is load/store bound;
    eight measured 1.2-1.5x faster than four, as in the BPTT engine)."""
    n = cur.shape[0]
    q = 0
    while q + 7 < n_rows:  # widen to int32 first: int16 + int16 would type as int64
        r0, r1, r2, r3 = w[rows[q]], w[rows[q + 1]], w[rows[q + 2]], w[rows[q + 3]]
        r4, r5, r6, r7 = w[rows[q + 4]], w[rows[q + 5]], w[rows[q + 6]], w[rows[q + 7]]
        for j in range(n):
            cur[j] += (((np.int32(r0[j]) + np.int32(r1[j])) + (np.int32(r2[j]) + np.int32(r3[j])))
                       + ((np.int32(r4[j]) + np.int32(r5[j]))
                          + (np.int32(r6[j]) + np.int32(r7[j]))))
        q += 8
    while q + 3 < n_rows:
        r0, r1, r2, r3 = w[rows[q]], w[rows[q + 1]], w[rows[q + 2]], w[rows[q + 3]]
        for j in range(n):
            cur[j] += (np.int32(r0[j]) + np.int32(r1[j])) + (np.int32(r2[j]) + np.int32(r3[j]))
        q += 4
    while q < n_rows:
        r0 = w[rows[q]]
        for j in range(n):
            cur[j] += r0[j]
        q += 1


@njit(inline="always")
def _add_input(cur, row, xv):  # pragma: no cover - jitted
    if xv == 1:
        for j in range(cur.shape[0]):
            cur[j] += row[j]
    else:
        for j in range(cur.shape[0]):
            cur[j] += xv * row[j]


@njit(parallel=True, cache=True, fastmath=False)
def encode_events(x, w_in, w_rec, scale, decay, v_th, acc, counts
                  ):  # pragma: no cover - jitted
    """Event-driven encoding of N samples: x uint8 [N, T, C] (binary or counts);
    w_in [K, C, R] and
    w_rec [K, R, R] are *integers* on the weight grid (weight = integer * scale, scale =
    2**-grid_bits; see :func:`integer_weights`); K = 1 (shared) or N (per sample); acc
    [N, R] is scratch for the integer currents (int32, or int64 when they could overflow
    it); counts int32 [N, R] receives the spike counts.

    Currents are summed in integers (exact, and 2-4x the SIMD width of float64), eight
    rows at a time, then converted exactly (a power-of-two scale) for the float64
    membrane update. The small helpers are separate (inlined) functions on purpose:
    numba vectorises their loops better than the same loops written in place (measured).
    """
    n, n_t, n_in = x.shape
    n_res = w_rec.shape[2]
    k_step = 1 if w_in.shape[0] > 1 else 0  # per-sample weights or one shared set
    for b in prange(n):
        k = b * k_step
        v = np.zeros(n_res)
        keep = np.ones(n_res)  # 1 - s_{t-1}
        cnt = np.zeros(n_res, dtype=np.int32)
        cur = acc[b]
        fired = np.empty(n_res + 1, dtype=np.int64)
        active = np.empty(n_in + 1, dtype=np.int64)
        n_fired = 0
        for t in range(n_t):
            cur[:] = 0
            xt = x[b, t]
            # Index lists without branches (write, then advance by the condition): inputs
            # and spikes are random, so a branch on them mispredicts (measured 1.3-1.5x
            # slower on the N-MNIST and N-TIDIGITS shapes, most on AVX2).
            n_act = 0
            for i in range(n_in):
                active[n_act] = i
                n_act += xt[i] == 1
            for i in range(n_in):  # count inputs (rare: a predictable branch): weighted
                xv = xt[i]
                if xv > 1:
                    _add_input(cur, w_in[k, i], xv)
            _add_rows(cur, w_in[k], active, n_act)
            _add_rows(cur, w_rec[k], fired, n_fired)
            for j in range(n_res):
                v[j] = decay * v[j] * keep[j] + cur[j] * scale
            for j in range(n_res):
                spike = v[j] > v_th
                keep[j] = 0.0 if spike else 1.0
                cnt[j] += spike
            n_fired = 0
            for j in range(n_res):
                fired[n_fired] = j
                n_fired += v[j] > v_th
        counts[b] += cnt
    return counts


def integer_weights(w_in: np.ndarray, w_rec: np.ndarray, grid_bits: int, max_input: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Weights as integers on the grid: int16 when they fit (half the memory traffic of
    int32, the kernel's bottleneck), else int32, else int64; the accumulator is int32
    unless a column's current could overflow it."""
    f = 2.0**grid_bits
    wi = np.round(w_in * f)
    wr = np.round(w_rec * f)
    if not (np.array_equal(wi / f, w_in) and np.array_equal(wr / f, w_rec)):
        raise ValueError(f"weights are not on the 2**-{grid_bits} grid")
    top = max(np.abs(wi).max(initial=0), np.abs(wr).max(initial=0))
    bound = (np.abs(wi).sum(axis=-2) * max_input + np.abs(wr).sum(axis=-2)).max()
    if top >= 2**31 - 1:  # the kernel widens weights to int32 before summing eight rows
        raise ValueError("weights need more than 32 bits on their grid; lower weight_bits")
    if bound >= 2**31 - 1:
        dtype = np.int64
    elif top <= 2**15 - 1:
        dtype = np.int16
    else:
        dtype = np.int32
    return wi.astype(dtype), wr.astype(dtype)


@njit(inline="always")
def _splitmix64(z):  # pragma: no cover - jitted
    z = (z + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(
        0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(
        0xFFFFFFFFFFFFFFFF)
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _normal(key):  # pragma: no cover - jitted
    """A standard normal from a 64-bit key (counter-based: no state, thread-safe)."""
    a = _splitmix64(key)
    b = _splitmix64(a)
    u1 = (np.float64(a >> np.uint64(11)) + 0.5) / 9007199254740992.0
    u2 = np.float64(b >> np.uint64(11)) / 9007199254740992.0
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(parallel=True, cache=True, fastmath=False)
def encode_events_read_noise(x, w_in, w_rec, q_in, q_rec, decay, v_th, read_sigma, grid,
                             seed, sample_offset, counts):  # pragma: no cover - jitted
    """As :func:`encode_events`, plus read noise on every read (every step, every cell).

    A column's current is a sum of cell currents; with independent relative noise
    ``read_sigma`` on each read cell, the column's current noise is Gaussian with variance
    ``read_sigma^2 * sum_{read cells} (g_scale * G)^2``. ``q_in``/``q_rec`` hold
    ``g_scale^2 (G+^2 + G-^2)`` per weight, so one normal per column and step gives the
    exact distribution. The normal comes from a counter-based generator keyed by
    (seed, sample, step, column), so results do not depend on threads or batching; the
    noise is rounded to the weight grid (`grid` = 2**grid_bits) to keep sums exact.
    """
    n, n_t, n_in = x.shape
    n_res = w_rec.shape[1]
    for b in prange(n):
        v = np.zeros(n_res)
        s = np.zeros(n_res)
        cur = np.empty(n_res)
        var = np.empty(n_res)
        fired = np.empty(n_res, dtype=np.int64)
        n_fired = 0
        base = (np.uint64(seed) * np.uint64(1000003)
                + np.uint64(sample_offset + b)) * np.uint64(n_t * n_res)
        for t in range(n_t):
            cur[:] = 0.0
            var[:] = 0.0
            for i in range(n_in):
                xi = x[b, t, i]
                if xi != 0:
                    for j in range(n_res):
                        cur[j] += xi * w_in[i, j]
                        var[j] += xi * q_in[i, j]
            for q in range(n_fired):
                row = fired[q]
                for j in range(n_res):
                    cur[j] += w_rec[row, j]
                    var[j] += q_rec[row, j]
            n_fired = 0
            for j in range(n_res):
                if var[j] > 0.0:
                    key = base + np.uint64(t * n_res + j)
                    noise = read_sigma * np.sqrt(var[j]) * _normal(key)
                    cur[j] += np.round(noise * grid) / grid
                vj = decay * v[j] * (1.0 - s[j]) + cur[j]
                v[j] = vj
                if vj > v_th:
                    s[j] = 1.0
                    fired[n_fired] = j
                    n_fired += 1
                    counts[b, j] += 1
                else:
                    s[j] = 0.0
    return counts
