r"""A fast BPTT engine for the trainable spiking layers: forward and backward by hand.

The layer is the SRNN's (:mod:`lsm.models.srnn`; dimensionless units, one step per input
frame, ``V_0 = s_0 = 0``). Inputs x [N, T, C], weights W_in [C, R], bias b [R] (optional),
W_rec [R, R] (optional: ``None`` is a feed-forward LIF layer, e.g. the SRNN-SNN readout)::

    U_t = x_t W_in + b                                    input current      [N, R]
    V_t = ((decay * V_{t-1}) * (1 - s_{t-1}) + U_t) + s_{t-1} W_rec        potential
    s_t = H(V_t - V_th)            strict: a neuron exactly at V_th does not fire
    ds_t/dV_t := sg * [|V_t - V_th| < lens],   sg = 1 / (2 lens)     rectangular surrogate

(the expression order is the autograd loop's, so with exactly summable currents, e.g.
weights on a dyadic grid, V and the spikes are bit-identical to it; otherwise the sums
run in another order and agree to rounding). The output is the spike train s [N, T, R]
or the rate ``sum_t s_t / T`` [N, R] (:func:`lif_layer`); :func:`srnn_snn` chains the
layer and a LIF readout driven by ``s_t W_out + b_out``.

Backward. The gradients are those of that graph under autograd, *including* the reset
path: s_{t-1} enters ``(1 - s_{t-1})``, so it receives ``-decay V_{t-1} dV_t``. With
``g_t = dL/ds_t`` from above (``dL/drate / T`` for the rate) and ``dV_{T+1} = 0``::

    ds_t  = g_t + dV_{t+1} W_rec^T - (decay * V_t) * dV_{t+1}
    dV_t  = sg [|V_t - V_th| < lens] * ds_t + (dV_{t+1} * (1 - s_t)) * decay
    dU_t  = dV_t;   dW_in = sum_t x_t^T dU_t;   db = sum_t dU_t;   dx_t = dU_t W_in^T
    dW_rec = sum_t s_{t-1}^T dV_t

Only V [N, T, R] is kept for the backward pass, in the layer's dtype: the spikes and
the surrogate window are functions of it (plus the spike counts and, on the CPU, the
lists of active inputs). Two implementations, selected by the tensor's device
(``backend="auto"``; ``backend=`` forces one, e.g. the torch path on the CPU in tests):

* ``"numba"`` (CPU, float32/float64), event-driven: work proportional to events, not to
  (C + R) x R per step. Per sample, the forward sweep sums the rows of W_in of the active
  inputs (frames are ~10 % dense) and the rows of W_rec of the neurons that fired. The
  backward sweep does not compute ``dV_{t+1} W_rec^T`` by dot products: it keeps
  ``P = W_rec dV_{t+1}`` up to date, since ``dV_t - decay dV_{t+1}`` is non-zero only in
  the window or where the neuron fired (~30 %): ``W_rec dV_t = decay P + (those rows of
  W_rec^T, scaled)``, a gather that streams twice as fast as dot products. dW_in and
  dW_rec are then gathers too: per row of dW, the dV_t of the (sample, step) pairs where
  that input was active or that neuron fired at t-1, taken from a buffer of a few samples
  that stays in cache. Samples run in parallel over a fixed partition into ``_CHUNKS``
  chunks, each with its own gradient accumulator, summed in a fixed order: results are
  bit-identical for any thread count. The SRNN-SNN runs both layers in one sweep each way
  and never stores the hidden spikes.
* ``"torch"`` (any device): the input projection is one GEMM for all T steps (and its
  weight gradient one GEMM, by autograd), the time loops are torch ops on [N, R]
  (dense ``s @ W_rec`` and ``dV W_rec^T``), dW_rec is one GEMM after the backward sweep.

Both are deterministic: no atomics; the same inputs give the same bits on one machine.
Training cost accounting (:mod:`lsm.models.cost`) counts the dense equivalent operations and is
unchanged by the implementation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import numba
import numpy as np
import torch
from numba import njit, prange
from torch.autograd.function import once_differentiable

Backend = Literal["auto", "numba", "torch"]
Output = Literal["rate", "spikes"]

# The backward sweep's samples are split into this many fixed chunks, each with its own
# dW accumulator (bit-identical results for any thread count; at most this many threads).
_CHUNKS = 4
# The numba path gathers rows of W_in per active input when x is at most this dense;
# above it, one dense GEMM (BLAS) for all steps and its one-GEMM gradient are cheaper
# (training step of the N-MNIST shape, measured: sparse 12 / 17 / 23 ms at density
# 0.1 / 0.3 / 0.6, dense 20 ms at any density).
_SPARSE_INPUT_MAX_DENSITY = 0.4

# --------------------------------------------------------------------------- numba kernels


@njit(inline="always")
def _add_rows(acc, w, rows, n_rows):  # pragma: no cover - jitted
    """acc += sum of the rows ``w[rows[:n_rows]]``, eight at a time: one load and store
    of `acc` per eight rows (the loop streams rows from L2; 8 measured 1.8x faster than 4,
    16 slower than 8)."""
    n = acc.shape[0]
    q = 0
    while q + 7 < n_rows:
        r0, r1, r2, r3 = w[rows[q]], w[rows[q + 1]], w[rows[q + 2]], w[rows[q + 3]]
        r4, r5, r6, r7 = w[rows[q + 4]], w[rows[q + 5]], w[rows[q + 6]], w[rows[q + 7]]
        for j in range(n):
            acc[j] += ((r0[j] + r1[j]) + (r2[j] + r3[j])) + ((r4[j] + r5[j]) + (r6[j] + r7[j]))
        q += 8
    while q < n_rows:
        r0 = w[rows[q]]
        for j in range(n):
            acc[j] += r0[j]
        q += 1


@njit(inline="always")
def _add_scaled(acc, row, a):  # pragma: no cover - jitted
    for j in range(acc.shape[0]):
        acc[j] += a * row[j]


@njit(fastmath={"contract"}, cache=True)
def _add_scaled_rows(acc, w, rows, coef, n_rows):  # pragma: no cover - jitted
    """acc += sum_q coef[q] w[rows[q]] over the first n_rows rows, eight at a time (as
    :func:`_add_rows`). ``contract`` lets the multiply-adds fuse (FMA): a gradient path
    only; the forward potentials never go through it."""
    n = acc.shape[0]
    q = 0
    while q + 7 < n_rows:
        r0, r1, r2, r3 = w[rows[q]], w[rows[q + 1]], w[rows[q + 2]], w[rows[q + 3]]
        r4, r5, r6, r7 = w[rows[q + 4]], w[rows[q + 5]], w[rows[q + 6]], w[rows[q + 7]]
        c0, c1, c2, c3 = coef[q], coef[q + 1], coef[q + 2], coef[q + 3]
        c4, c5, c6, c7 = coef[q + 4], coef[q + 5], coef[q + 6], coef[q + 7]
        for j in range(n):
            acc[j] += (((c0 * r0[j] + c1 * r1[j]) + (c2 * r2[j] + c3 * r3[j]))
                       + ((c4 * r4[j] + c5 * r5[j]) + (c6 * r6[j] + c7 * r7[j])))
        q += 8
    while q < n_rows:
        r0 = w[rows[q]]
        c0 = coef[q]
        for j in range(n):
            acc[j] += c0 * r0[j]
        q += 1


# Index lists are built without branches (write, then advance by the condition): spikes
# and active inputs are random, so a branch would mispredict on most events (measured:
# the branchy scan cost more than the row sums it selects).


@njit(inline="always")
def _above(v, th, idx):  # pragma: no cover - jitted
    """Indices j with v[j] > th (the neurons that fire) into idx; returns how many."""
    n = 0
    for j in range(v.shape[0]):
        idx[n] = j
        n += v[j] > th
    return n


@njit(inline="always")
def _nonzero(v, idx, val):  # pragma: no cover - jitted
    """Indices j with v[j] != 0 into idx and v[j] into val; returns how many. idx and val
    need one slot more than the number of non-zeros (the last write may land there)."""
    n = 0
    for j in range(v.shape[0]):
        vj = v[j]
        idx[n] = j
        val[n] = vj
        n += vj != 0
    return n


@njit(parallel=True, cache=True)
def _step_offsets(x, ptr):  # pragma: no cover - jitted
    """ptr[b, t] = number of non-zero inputs of sample b before step t (x [N, T, C]), so
    step t's events are slots ptr[b, t] .. ptr[b, t+1]-1 of sample b's lists."""
    for b in prange(x.shape[0]):
        xb = x[b]
        m = 0
        for t in range(xb.shape[0]):
            ptr[b, t] = m
            xt = xb[t]
            for i in range(xt.shape[0]):
                m += xt[i] != 0
        ptr[b, xb.shape[0]] = m
    return ptr


@njit(parallel=True, cache=True)
def _forward_kernel(x, ptr, ev_idx, ev_val, ev_bin, w_in, bias, w_rec, decay, v_th, fused,
                    has_bias, has_rec, v_out, s_out, counts, has_out, w_out_t, b_out,
                    decay_out, vo_out, counts_out):  # pragma: no cover - jitted
    """Forward sweep, one sample per iteration (in parallel).

    When `fused`, x [N, T, C] are the inputs: step t's non-zero inputs are listed into
    ev_idx/ev_val [N, cap] at slots ptr[b, t].. (from :func:`_step_offsets`; kept for the
    backward pass, ev_bin[b]: sample b is binary) and the input current is ``bias`` (if
    `has_bias`) plus their rows of w_in [C, R] (weighted by the values unless they are all
    1). Otherwise x is the input current U [N, T, R] itself. w_rec [R, R] when `has_rec`.
    decay, v_th: scalars of the layer's dtype. Writes V into v_out [N, T, R] and the
    spikes (0/1) into s_out [N, T, R] when those are not empty, and the spike counts into
    counts int32 [N, R].

    With `has_out`, a LIF readout layer without recurrence runs in the same sweep: its
    input current is ``s_t W_out + b_out`` (the rows of w_out_t = W_out [R, K] of the
    neurons that fired at t, then the bias, as Linear's ``s @ W.T + b``), its decay
    `decay_out`, the same threshold; its potentials go to vo_out [N, T, K] and its spike
    counts to counts_out [N, K]. The hidden spikes are then never stored.
    """
    n, n_t, r = counts.shape[0], x.shape[1], counts.shape[1]
    store_v = v_out.shape[0] > 0
    store_s = s_out.shape[0] > 0
    for b in prange(n):
        v = np.zeros(r, v_out.dtype)
        keep = np.ones(r, v_out.dtype)  # 1 - s_{t-1}
        cur = np.empty(r, v_out.dtype)
        rec = np.zeros(r, v_out.dtype)
        fired = np.empty(r, np.int64)
        n_fired = 0
        cnt = counts[b]
        binary = True
        k_out = w_out_t.shape[1]
        vo = np.zeros(k_out, v_out.dtype)
        keep_o = np.ones(k_out, v_out.dtype)
        cur_o = np.empty(k_out, v_out.dtype)
        for t in range(n_t):
            xt = x[b, t]
            if fused:
                if has_bias:
                    cur[:] = bias
                else:
                    cur[:] = 0
                p0 = ptr[b, t]
                idx, val = ev_idx[b, p0:], ev_val[b, p0:]
                m = _nonzero(xt, idx, val)
                ones = True
                for q in range(m):
                    ones &= val[q] == 1
                binary &= ones
                if ones:  # binary frames: plain row sums
                    _add_rows(cur, w_in, idx, m)
                else:  # counts or analog values: weighted rows
                    for q in range(m):
                        _add_scaled(cur, w_in[idx[q]], val[q])
            else:
                cur[:] = xt
            if has_rec:  # s_{t-1} W_rec: only the rows of the neurons that fired
                rec[:] = 0
                _add_rows(rec, w_rec, fired, n_fired)
            # separate loops: the arithmetic ones vectorise
            for j in range(r):
                v[j] = (decay * v[j] * keep[j] + cur[j]) + rec[j]
            for j in range(r):
                spike = v[j] > v_th
                keep[j] = 0.0 if spike else 1.0
                cnt[j] += spike
            if has_rec or has_out:
                n_fired = _above(v, v_th, fired)
            if has_out:  # the readout: ((decay_o Vo) (1 - so) + (s_t W_out + b_out))
                cur_o[:] = 0
                _add_rows(cur_o, w_out_t, fired, n_fired)
                for k in range(k_out):
                    vk = decay_out * vo[k] * keep_o[k] + (cur_o[k] + b_out[k])
                    vo[k] = vk
                    spike = vk > v_th
                    keep_o[k] = 0.0 if spike else 1.0
                    counts_out[b, k] += spike
                vo_out[b, t] = vo
            if store_v:
                v_out[b, t] = v
            if store_s:
                for j in range(r):
                    s_out[b, t, j] = 1.0 - keep[j]
        if fused:
            ev_bin[b] = binary
    return counts


@njit(parallel=True, cache=True)
def _backward_kernel(v_all, counts, ptr, ev_idx, ev_val, ev_bin, w_rec_t, g, decay, v_th,
                     lens, sg, has_rec, need_w_in, need_w_rec, need_b, bounds, group, dw_in,
                     dw_rec, db, du, n_in, has_out, vo_all, w_out, g_out, decay_out,
                     dw_out_t, db_out):  # pragma: no cover - jitted
    """Backward pass, one chunk of samples per iteration (in parallel).

    v_all: V [N, T, R] from the forward sweep, counts int32 [N, R] its spike counts; the
    input events of the forward sweep (read when `need_w_in`; n_in inputs); w_rec_t =
    W_rec^T [R, R] (contiguous); g: dL/ds [N, T, R] or [N, 1, R] (the same for every
    step: the rate's gradient / T). decay, v_th, lens, sg: scalars of V's dtype.

    The sweep t = T-1 .. 0 keeps P = W_rec dV_{t+1} [R] up to date instead of computing
    the window's dot products: with delta_t = dV_t - decay dV_{t+1}, which is zero except
    in the window or where s_t = 1 (~30 % of the neurons),
    ``W_rec dV_t = decay P + sum_{k : delta_t[k] != 0} delta_t[k] W_rec[:, k]``:
    a gather of rows of W_rec^T, which streams twice as fast as dot products. Then dV_t
    (leak carry + window term) is one vectorised loop over all neurons.

    dV goes into a [group, T, R] buffer (du itself, dL/dU, when du is not empty). After
    each group of `group` samples: dW_rec[k] += the sum of dV_t over the (sample, step)
    pairs where k fired at t-1, and dW_in[i] += the sum of x_t[i] dV_t over those where
    input i was active: one pass per row of dW, the summands gathered eight at a time
    from the buffer (sized to stay in cache), instead of a read-modify-write of a dW row
    per event.

    With `has_out` (the fused readout of :func:`_forward_kernel`: vo_all [N, T, K] its
    potentials, w_out = W_out^T [K, R], g_out = dL/d(readout spikes) [N, 1, K]), the
    readout's sweep runs first; dL/ds_t of the hidden layer is then dUo_t W_out^T (K
    scaled rows of w_out), and dW_out^T [R, K] += dUo_t for the neurons that fired at t,
    db_out += dUo_t (into dw_out_t[c] [R, K], db_out[c] [1, K]); g is not read.

    Accumulates chunk c's gradients into dw_in[c] [C, R], dw_rec[c] [R, R], db[c] [1, R]
    (each zeroed here). bounds int64 [n_chunks + 1]: chunk c holds samples
    bounds[c] .. bounds[c+1]-1.
    """
    n_t, r = v_all.shape[1], v_all.shape[2]
    k_out = vo_all.shape[2]
    g_step = 1 if g.shape[1] > 1 else 0
    store_du = du.shape[0] > 0
    zero = decay - decay  # typed: a literal 0.0 would promote float32 arithmetic to float64
    cap_ev = ev_idx.shape[1] if need_w_in else 0
    for c in prange(bounds.shape[0] - 1):
        lo, hi = bounds[c], bounds[c + 1]
        if need_w_in:
            dw_in[c] = 0
        if need_w_rec:
            dw_rec[c] = 0
        if need_b:
            db[c] = 0
        if has_out:
            dw_out_t[c] = 0
            db_out[c] = 0
        duo = np.empty((group if has_out else 0, n_t, k_out), v_all.dtype)  # dL/dUo
        dvon = np.empty(k_out, v_all.dtype)
        kidx = np.arange(k_out)
        g_hid = np.empty(r, v_all.dtype)
        scratch = np.empty((0 if store_du else group, n_t, r), v_all.dtype)
        dvn = np.empty(r, v_all.dtype)  # dV_{t+1}
        prec = np.empty(r, v_all.dtype)  # P = W_rec dV_{t+1}
        coef = np.empty(r + 1, v_all.dtype)
        sel = np.empty(r + 1, np.int64)
        fired = np.empty(r, np.int64)
        start = np.empty(max(r, n_in) + 1, np.int64)
        pos = np.empty(max(r, n_in) + 1, np.int64)
        cap_rec = 0
        for b0 in range(lo, hi, group):  # list capacity: the largest group's spikes
            tot = 0
            for b in range(b0, min(b0 + group, hi)):
                for k in range(r):
                    tot += counts[b, k]
            cap_rec = max(cap_rec, tot)
        lst_rec = np.empty(cap_rec if need_w_rec else 0, np.int64)
        lst_in = np.empty(group * cap_ev, np.int64)
        val_in = np.empty(group * cap_ev, v_all.dtype)
        for b0 in range(lo, hi, group):
            b1 = min(b0 + group, hi)
            m_grp = b1 - b0
            gbuf = du[b0:b1] if store_du else scratch[:m_grp]
            for b in range(b0, b1):
                buf = gbuf[b - b0]
                vb, gb = v_all[b], g[b]
                if has_out:  # the readout's sweep: no recurrence, so no P
                    dvon[:] = 0
                    go = g_out[b, 0]
                    for t in range(n_t - 1, -1, -1):
                        vot, dvo = vo_all[b, t], duo[b - b0, t]
                        for k in range(k_out):
                            vj, dn = vot[k], dvon[k]
                            carry = zero if vj > v_th else dn * decay_out
                            ds = go[k] - decay_out * vj * dn
                            dvo[k] = carry + (ds * sg if abs(vj - v_th) < lens else zero)
                        dvon[:] = dvo
                dvn[:] = 0
                prec[:] = 0
                for t in range(n_t - 1, -1, -1):
                    vt, dv = vb[t], buf[t]
                    if has_out:  # dL/ds_t = dUo_t W_out^T
                        g_hid[:] = 0
                        _add_scaled_rows(g_hid, w_out, kidx, duo[b - b0, t], k_out)
                        gt = g_hid
                    else:
                        gt = gb[t * g_step]
                    # one store per loop: LLVM vectorises a loop only while its runtime
                    # aliasing checks (stores x loads) stay few (measured 8x slower here)
                    for j in range(r):
                        vj, dn = vt[j], dvn[j]
                        carry = zero if vj > v_th else dn * decay  # (dV_{t+1} (1-s_t)) decay
                        ds = (gt[j] + prec[j]) - decay * vj * dn  # g + W_rec dV_{t+1} - reset
                        dv[j] = carry + (ds * sg if abs(vj - v_th) < lens else zero)
                    if need_b:
                        acc = db[c, 0]
                        for j in range(r):
                            acc[j] += dv[j]
                    if has_rec and t > 0:  # P for step t-1: W_rec dV_t
                        m = 0  # the non-zeros of delta_t = dV_t - decay dV_{t+1}
                        for j in range(r):
                            d = dv[j] - decay * dvn[j]
                            sel[m] = j
                            coef[m] = d
                            m += d != 0
                        for j in range(r):
                            prec[j] *= decay
                        _add_scaled_rows(prec, w_rec_t, sel, coef, m)
                    dvn[:] = dv
            rows = gbuf.reshape((m_grp * n_t, r))  # row (b - b0) * T + t holds dV_t of b
            lists = need_w_rec and n_t > 1
            if lists:  # per neuron k, the rows of the steps t with s_{t-1}[k] = 1
                start[0] = 0  # (a counting sort; the sizes are the forward's spike counts)
                for k in range(r):
                    tot = 0
                    for b in range(b0, b1):
                        tot += counts[b, k]
                    start[k + 1] = start[k] + tot
                    pos[k] = start[k]
            if lists or has_out:  # one pass over the spikes of the group
                for b in range(b0, b1):
                    base = (b - b0) * n_t
                    for t in range(n_t):
                        n_f = _above(v_all[b, t], v_th, fired)
                        if has_out:  # dW_out^T[j] += dUo_t where j fired at t; db_out too
                            dvo = duo[b - b0, t]
                            acc_o = db_out[c, 0]
                            for k in range(k_out):
                                acc_o[k] += dvo[k]
                            for q in range(n_f):
                                dst = dw_out_t[c, fired[q]]
                                for k in range(k_out):
                                    dst[k] += dvo[k]
                        if lists and t < n_t - 1:
                            for q in range(n_f):
                                k = fired[q]
                                lst_rec[pos[k]] = base + t + 1
                                pos[k] += 1
            if lists:  # spikes at the last step pair with nothing: pos[k] < start[k + 1]
                for k in range(r):
                    _add_rows(dw_rec[c, k], rows, lst_rec[start[k]:], pos[k] - start[k])
            if need_w_in:
                start[: n_in + 1] = 0
                binary = True
                for b in range(b0, b1):
                    binary &= ev_bin[b]
                    for p in range(ptr[b, n_t]):
                        start[ev_idx[b, p] + 1] += 1
                for i in range(n_in):
                    start[i + 1] += start[i]
                    pos[i] = start[i]
                for b in range(b0, b1):
                    base = (b - b0) * n_t
                    for t in range(n_t):
                        for p in range(ptr[b, t], ptr[b, t + 1]):
                            i = ev_idx[b, p]
                            lst_in[pos[i]] = base + t
                            val_in[pos[i]] = ev_val[b, p]
                            pos[i] += 1
                for i in range(n_in):
                    if binary:
                        _add_rows(dw_in[c, i], rows, lst_in[start[i]:], start[i + 1] - start[i])
                    else:
                        for q in range(start[i], start[i + 1]):
                            _add_scaled(dw_in[c, i], rows[lst_in[q]], val_in[q])
    return du


@njit(parallel=True, cache=True)
def _sum_chunks(acc, out):  # pragma: no cover - jitted
    """out[i] = sum_c acc[c, i] in the order c = 0, 1, ...: a fixed order, any threads."""
    for i in prange(acc.shape[1]):
        o = out[i]
        o[:] = acc[0, i]
        for c in range(1, acc.shape[0]):
            a = acc[c, i]
            for j in range(o.shape[0]):
                o[j] += a[j]
    return out


@contextlib.contextmanager
def _numba_threads() -> Iterator[None]:
    """Run numba on as many threads as torch (the training loop fixes torch's), then
    restore numba's setting (other kernels, e.g. the encoder's, keep their own).

    Starting numba's thread pool (its first use in a process) with the OpenMP layer
    resets the process-wide OpenMP thread count, hence torch's, to numba's default: torch's
    count is put back, or a training loop's fixed ``torch.set_num_threads`` would silently
    change at the first engine call."""
    threads = torch.get_num_threads()
    before = numba.get_num_threads()  # starts the pool on first use
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _np(t: torch.Tensor | None, dtype: np.dtype, ndim: int) -> np.ndarray:
    """A contiguous numpy view of a CPU tensor, or an empty array of that rank."""
    if t is None:
        return np.empty((0,) * ndim, dtype=dtype)
    return t.detach().contiguous().numpy()


def _np_dtype(dtype: torch.dtype) -> np.dtype:
    return np.dtype(str(dtype).removeprefix("torch."))


def _chunk_bounds(n: int) -> np.ndarray:
    k = max(1, min(_CHUNKS, n))
    return np.array([c * n // k for c in range(k + 1)], dtype=np.int64)


class _Pool:
    """Reusable buffers for the potentials V [N, T, R] that the forward pass keeps for
    the backward pass.

    Why: V is the layer's one big array (41 MB at N=100, T=201, R=512), allocated every
    step; above glibc's mmap threshold (32 MB) every allocation is fresh pages from the
    kernel, and faulting them in cost 12 ms per step (measured), a tenth of the step. A
    buffer returns here when the backward pass is done with it. Each hand-out bumps the
    buffer's generation, so a second backward through a retained graph after the buffer
    went to a newer forward pass raises instead of reading overwritten values.
    """

    def __init__(self, max_free: int = 4, min_bytes: int = 1 << 20) -> None:
        self.free: list[torch.Tensor] = []
        self.generation: dict[int, int] = {}
        self.max_free, self.min_bytes = max_free, min_bytes

    def take(self, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[torch.Tensor, int]:
        for i, buf in enumerate(self.free):
            if buf.shape == shape and buf.dtype == dtype:
                del self.free[i]
                break
        else:
            buf = torch.empty(shape, dtype=dtype)
        key = buf.data_ptr()
        self.generation[key] = self.generation.get(key, 0) + 1
        return buf, self.generation[key]

    def give(self, buf: torch.Tensor) -> None:
        if buf.numel() * buf.element_size() < self.min_bytes or any(b is buf for b in self.free):
            return
        self.free.append(buf)
        if len(self.free) > self.max_free:
            self.free.pop(0)

    def valid(self, buf: torch.Tensor, generation: int) -> bool:
        return self.generation.get(buf.data_ptr(), generation) == generation

    def clear(self) -> None:
        self.free.clear()
        self.generation.clear()


_POOL = _Pool()


def clear_workspace() -> None:
    """Drop the engine's cached buffers (they are reused from step to step)."""
    _POOL.clear()


_Events = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _event_lists(x: torch.Tensor | None, dt: np.dtype) -> _Events:
    """Per-step offsets (:func:`_step_offsets`) and room for the input events of x
    [N, T, C] (filled by the forward sweep); empty lists in input-current mode."""
    if x is None:
        return (np.zeros((0, 1), np.int64), np.zeros((0, 1), np.int32),
                np.zeros((0, 1), dt), np.zeros(0, np.bool_))
    n, n_t, _ = x.shape
    ptr = np.empty((n, n_t + 1), np.int64)
    with _numba_threads():
        _step_offsets(_np(x, dt, 3), ptr)
    cap = int(ptr[:, -1].max(initial=0)) + 1  # + 1: the branch-free list writes
    return ptr, np.empty((n, cap), np.int32), np.empty((n, cap), dt), np.empty(n, np.bool_)


def _numba_forward(x: torch.Tensor, w_in: torch.Tensor | None, bias: torch.Tensor | None,
                   w_rec: torch.Tensor | None, decay: float, v_th: float, store_v: bool,
                   store_s: bool, events: _Events | None = None,
                   out: tuple[torch.Tensor, torch.Tensor, float] | None = None,
                   ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor,
                              _Events, int, torch.Tensor | None, torch.Tensor | None]:
    """(V [N, T, R] or None, spikes [N, T, R] or None, counts int32 [N, R], the input
    events, V's pool generation, readout potentials [N, T, K] and counts [N, K] or None).
    x: inputs [N, T, C] with w_in [C, R], or the input current [N, T, R]. `out`: a fused
    LIF readout (W_out [R, K], b_out [K], its decay). V comes from the pool (:class:`_Pool`).
    """
    dt = _np_dtype(x.dtype)
    n, n_t = x.shape[0], x.shape[1]
    fused = w_in is not None
    r = w_in.shape[1] if fused else x.shape[2]
    if events is None:
        events = _event_lists(x if fused else None, dt)
    v_out, gen = (_POOL.take((n, n_t, r), x.dtype) if store_v
                  else (torch.empty(0, 0, 0, dtype=x.dtype), 0))
    s_out = torch.empty((n, n_t, r) if store_s else (0, 0, 0), dtype=x.dtype)
    counts = torch.zeros(n, r, dtype=torch.int32)
    if out is not None:
        w_out_t, b_out, decay_out = out
        k = w_out_t.shape[1]
        vo = torch.empty(n, n_t, k, dtype=x.dtype)
        counts_o = torch.zeros(n, k, dtype=torch.int32)
    else:
        w_out_t = b_out = None
        decay_out = 0.0
        vo = torch.empty(0, 0, 0, dtype=x.dtype)
        counts_o = torch.zeros(0, 0, dtype=torch.int32)
    with _numba_threads():
        _forward_kernel(_np(x, dt, 3), *events, _np(w_in, dt, 2), _np(bias, dt, 1),
                        _np(w_rec, dt, 2), dt.type(decay), dt.type(v_th), fused,
                        bias is not None, w_rec is not None, v_out.numpy(), s_out.numpy(),
                        counts.numpy(), out is not None, _np(w_out_t, dt, 2),
                        _np(b_out, dt, 1), dt.type(decay_out), vo.numpy(), counts_o.numpy())
    return ((v_out if store_v else None), (s_out if store_s else None), counts, events, gen,
            (vo if out is not None else None), (counts_o if out is not None else None))


def _surrogate_height(dtype: torch.dtype, lens: float) -> torch.Tensor:
    """1 / (2 lens) in `dtype`, rounded as the autograd loop's ``mask / (2 * lens)``."""
    return torch.ones((), dtype=dtype) / (2 * lens)


# dW's summands are gathered per group of samples whose dV buffer stays about this size
# (in L2): longer lists per row of dW than one sample gives at small T.
_GROUP_BYTES = 512 * 1024


class _LIFNumba(torch.autograd.Function):
    """CPU engine; see the module docstring. Inputs: x [N, T, C] with w_in [C, R] and
    bias [R] | None (the sparse input path), or the input current x = U [N, T, R] with
    w_in = bias = None; w_rec [R, R] | None. `events`: precomputed input lists or None."""

    @staticmethod
    def forward(ctx, x, w_in, bias, w_rec, decay, v_th, lens, output, events):
        v, s, counts, ev, gen, _, _ = _numba_forward(x, w_in, bias, w_rec, decay, v_th, True,
                                                     output == "spikes", events)
        # kept for backward: V, the spike counts and the input events (not x, nor U)
        ctx.save_for_backward(v, counts, w_in, w_rec)
        ctx.events, ctx.n_in, ctx.generation = ev, x.shape[2], gen
        ctx.decay, ctx.v_th, ctx.lens, ctx.output = decay, v_th, lens, output
        if output == "spikes":
            return s
        return counts.to(x.dtype) / x.shape[1]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        v, counts, w_in, w_rec = ctx.saved_tensors
        g = (grad / v.shape[1]).unsqueeze(1) if ctx.output == "rate" else grad
        g_x, g_w_in, g_b, g_w_rec, _, _ = _numba_backward(ctx, v, counts, w_in, w_rec, g,
                                                           ctx.needs_input_grad[:4])
        return g_x, g_w_in, g_b, g_w_rec, None, None, None, None, None


def _numba_backward(ctx, v: torch.Tensor, counts: torch.Tensor, w_in: torch.Tensor | None,
                    w_rec: torch.Tensor | None, g: torch.Tensor | None, needs: tuple,
                    out: tuple | None = None) -> tuple:
    """Run :func:`_backward_kernel` for a forward pass recorded on ctx. needs: which of
    (x, w_in, bias, w_rec) need gradients; out: (readout potentials [N, T, K], W_out
    [R, K], dL/d(readout spikes) [N, 1, K], readout decay) for the fused readout.
    Returns the gradients (x, w_in, bias, w_rec, W_out, b_out)."""
    if not _POOL.valid(v, ctx.generation):
        raise RuntimeError("the LIF engine's saved potentials were reused by a later "
                           "forward pass: backward through a retained graph must come "
                           "before the next forward pass")
    n, n_t, r = v.shape
    dt = _np_dtype(v.dtype)
    need_x, need_w_in, need_b, need_w_rec = (bool(f) for f in needs)
    fused = w_in is not None
    store_du = need_x or not fused  # dU is x's gradient itself in the current mode
    bounds = _chunk_bounds(n)
    k = bounds.shape[0] - 1
    n_in = ctx.n_in if fused else 0
    group = max(1, _GROUP_BYTES // max(1, n_t * r * v.element_size()))
    dw_in = np.empty((k, n_in, r) if need_w_in else (0, 0, 0), dt)
    dw_rec = np.empty((k, r, r) if need_w_rec else (0, 0, 0), dt)
    db = np.empty((k, 1, r) if need_b else (0, 0, 0), dt)
    du = torch.empty((n, n_t, r) if store_du else (0, 0, 0), dtype=v.dtype)
    sg = dt.type(_surrogate_height(v.dtype, ctx.lens).item())
    if out is not None:
        vo, w_out_t, g_out, decay_out = out
        k_out = vo.shape[2]
        w_out = _np(w_out_t.T, dt, 2)
        vo_np, g_out_np = vo.numpy(), g_out.detach().contiguous().numpy()
        dw_out_t = np.empty((k, r, k_out), dt)
        db_out = np.empty((k, 1, k_out), dt)
        g_np = np.empty((n, 1, 0), dt)
    else:
        vo_np, w_out, g_out_np = (np.empty((0, 0, 0), dt), np.empty((0, 0), dt),
                                  np.empty((0, 1, 0), dt))
        dw_out_t, db_out, decay_out = np.empty((0, 0, 0), dt), np.empty((0, 0, 0), dt), 0.0
        g_np = g.detach().contiguous().numpy()
    with _numba_threads():
        w_rec_t = _np(w_rec.T if w_rec is not None else None, dt, 2)
        _backward_kernel(v.numpy(), counts.numpy(), *ctx.events, w_rec_t, g_np,
                         dt.type(ctx.decay), dt.type(ctx.v_th), dt.type(ctx.lens), sg,
                         w_rec is not None, need_w_in, need_w_rec, need_b, bounds, group,
                         dw_in, dw_rec, db, du.numpy(), n_in, out is not None, vo_np, w_out,
                         g_out_np, dt.type(decay_out), dw_out_t, db_out)

        def total(acc: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(_sum_chunks(acc, np.empty(acc.shape[1:], dt)))

        g_w_in = total(dw_in) if need_w_in else None
        g_w_rec = total(dw_rec) if need_w_rec else None
        g_b = total(db)[0] if need_b else None
        g_w_out = total(dw_out_t) if out is not None else None
        g_b_out = total(db_out)[0] if out is not None else None
    _POOL.give(v)  # done with V (a second backward is caught by the generation)
    g_x = None
    if need_x:
        g_x = du @ w_in.T if fused else du
    return g_x, g_w_in, g_b, g_w_rec, g_w_out, g_b_out


class _SNNNumba(torch.autograd.Function):
    """The SRNN-SNN on the CPU engine: the recurrent hidden layer and its LIF readout in
    one sweep each way (the hidden spikes [N, T, R] are never materialised). Inputs: x
    [N, T, C], w_in [C, R], w_rec [R, R], w_out [R, K] (= Linear.weight.T), b_out [K];
    returns the readout's spike rate [N, K]."""

    @staticmethod
    def forward(ctx, x, w_in, w_rec, w_out, b_out, decay, v_th, lens, decay_out, events):
        v, _, counts, ev, gen, vo, counts_o = _numba_forward(
            x, w_in, None, w_rec, decay, v_th, True, False, events,
            out=(w_out.detach(), b_out.detach(), decay_out))
        ctx.save_for_backward(v, counts, w_in, w_rec, w_out, vo)
        ctx.events, ctx.n_in, ctx.generation = ev, x.shape[2], gen
        ctx.decay, ctx.v_th, ctx.lens, ctx.decay_out = decay, v_th, lens, decay_out
        return counts_o.to(x.dtype) / x.shape[1]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        v, counts, w_in, w_rec, w_out, vo = ctx.saved_tensors
        g_out = (grad / v.shape[1]).unsqueeze(1)
        needs = (ctx.needs_input_grad[0], ctx.needs_input_grad[1], False,
                 ctx.needs_input_grad[2])
        g_x, g_w_in, _, g_w_rec, g_w_out, g_b_out = _numba_backward(
            ctx, v, counts, w_in, w_rec, None, needs, out=(vo, w_out, g_out, ctx.decay_out))
        return (g_x, g_w_in, g_w_rec, g_w_out, g_b_out, None, None, None, None, None)


# --------------------------------------------------------------------------- torch path


class _LIFTorch(torch.autograd.Function):
    """Device-agnostic engine on the input current U [N, T, R] (the caller's one GEMM)
    and w_rec [R, R] | None; see the module docstring."""

    @staticmethod
    def forward(ctx, u, w_rec, decay, v_th, lens, output):
        v_all, s_all, counts = _torch_forward(u, w_rec, decay, v_th, True, output == "spikes")
        ctx.save_for_backward(v_all, w_rec)
        ctx.decay, ctx.v_th, ctx.lens, ctx.output = decay, v_th, lens, output
        return s_all if output == "spikes" else counts / u.shape[1]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        v_all, w_rec = ctx.saved_tensors
        n, n_t, r = v_all.shape
        decay, v_th, lens = ctx.decay, ctx.v_th, ctx.lens
        sg = _surrogate_height(v_all.dtype, lens).to(v_all.device)
        g_rate = grad / n_t if ctx.output == "rate" else None
        du = torch.empty_like(v_all)
        dvn = v_all.new_zeros(n, r)
        w_rec_t = w_rec.T if w_rec is not None else None
        for t in range(n_t - 1, -1, -1):
            vt = v_all[:, t]
            ds = g_rate if g_rate is not None else grad[:, t]
            if t < n_t - 1:
                if w_rec_t is not None:
                    ds = ds + dvn @ w_rec_t
                ds = ds - (decay * vt) * dvn  # the reset path
            window = ((vt - v_th).abs() < lens).to(vt.dtype)
            dv = ds * (window * sg) + torch.where(vt > v_th, 0.0, dvn * decay)
            du[:, t] = dv
            dvn = dv
        g_rec = None
        if ctx.needs_input_grad[1] and w_rec is not None:
            # dW_rec = sum_{t >= 1} s_{t-1}^T dV_t: one GEMM over all (sample, step) rows
            s_prev = (v_all[:, :-1] > v_th).to(v_all.dtype).reshape(-1, r)
            g_rec = s_prev.T @ du[:, 1:].reshape(-1, r)
        return du, g_rec, None, None, None, None


def _torch_forward(u: torch.Tensor, w_rec: torch.Tensor | None, decay: float, v_th: float,
                   store_v: bool, store_s: bool
                   ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
    """(V [N, T, R] or None, spikes [N, T, R] or None, counts [N, R] in u's dtype)."""
    n, n_t, r = u.shape
    v_all = u.new_empty(n, n_t, r) if store_v else None
    s_all = u.new_empty(n, n_t, r) if store_s else None
    v = u.new_zeros(n, r)
    keep = u.new_ones(n, r)  # 1 - s_{t-1}
    s = None
    counts = u.new_zeros(n, r)
    for t in range(n_t):
        v = (decay * v).mul_(keep).add_(u[:, t])  # ((decay V) (1 - s)) + U_t
        if w_rec is not None and s is not None:
            v.add_(s @ w_rec)  # s_0 = 0 adds nothing at t = 0
        s = (v > v_th).to(u.dtype)
        keep = 1 - s
        counts.add_(s)
        if v_all is not None:
            v_all[:, t] = v
        if s_all is not None:
            s_all[:, t] = s
    return v_all, s_all, counts


# --------------------------------------------------------------------------- public API


def resolve_backend(backend: Backend, x: torch.Tensor) -> str:
    """``"auto"``: numba on CPU for float32/float64, torch elsewhere."""
    if backend == "auto":
        return "numba" if x.device.type == "cpu" and x.dtype in (torch.float32,
                                                                    torch.float64) else "torch"
    if backend not in ("numba", "torch"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'torch', got {backend!r}")
    if backend == "numba" and x.device.type != "cpu":
        raise ValueError(f"the numba backend runs on the CPU; x is on {x.device}")
    return backend


def lif_layer(x: torch.Tensor, w_in: torch.Tensor | None = None,
              w_rec: torch.Tensor | None = None, bias: torch.Tensor | None = None, *,
              decay: float, v_th: float, lens: float = 0.25, output: Output = "rate",
              backend: Backend = "auto") -> torch.Tensor:
    """Run a (recurrent) LIF layer over T steps, differentiably (see the module docstring).

    x: inputs [N, T, C] (binary frames, counts or any values) when `w_in` [C, R] is given,
    else the input current U [N, T, R] itself. `bias` [R] (only with `w_in`), `w_rec`
    [R, R] or None (no recurrence). `decay` (per step), `v_th`, `lens` dimensionless.
    Returns the spike rate [N, R] (``output="rate"``) or the spikes [N, T, R] (0/1 in x's
    dtype). Gradients flow to every input that requires them.
    """
    if output not in ("rate", "spikes"):
        raise ValueError(f"output must be 'rate' or 'spikes', got {output!r}")
    if x.ndim != 3:
        raise ValueError(f"x must be [N, T, C], got {list(x.shape)}")
    if w_in is None and bias is not None:
        raise ValueError("bias needs w_in (fold it into the input current otherwise)")
    backend = resolve_backend(backend, x)
    tensors = [t for t in (x, w_in, bias, w_rec) if t is not None]
    if any(t.dtype != x.dtype for t in tensors):
        raise ValueError("x and the weights must share one dtype")
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
    events = None
    dense_input = w_in is not None and backend == "torch"
    if w_in is not None and backend == "numba":
        events = _event_lists(x, _np_dtype(x.dtype))
        dense_input = events[0][:, -1].sum() > _SPARSE_INPUT_MAX_DENSITY * x.numel()
    if dense_input:  # one GEMM for all T steps; autograd gives dW_in as one GEMM too
        x = torch.matmul(x, w_in)
        if bias is not None:
            x = x + bias
        w_in = bias = events = None
    if backend == "numba":
        if needs_grad:
            return _LIFNumba.apply(x, w_in, bias, w_rec, decay, v_th, lens, output, events)
        with torch.no_grad():  # inference: no V to keep
            _, s, counts, *_ = _numba_forward(x, w_in, bias, w_rec, decay, v_th, False,
                                              output == "spikes", events)
        return s if output == "spikes" else counts.to(x.dtype) / x.shape[1]
    if needs_grad:
        return _LIFTorch.apply(x.contiguous(), w_rec, decay, v_th, lens, output)
    with torch.no_grad():
        _, s, counts = _torch_forward(x, w_rec, decay, v_th, False, output == "spikes")
    return s if output == "spikes" else counts / x.shape[1]


def srnn_snn(x: torch.Tensor, w_in: torch.Tensor, w_rec: torch.Tensor, w_out: torch.Tensor,
             b_out: torch.Tensor, *, decay: float, v_th: float, lens: float = 0.25,
             decay_out: float, backend: Backend = "auto") -> torch.Tensor:
    """The SRNN-SNN: the recurrent LIF layer (x [N, T, C], w_in [C, R], w_rec [R, R]) and
    a LIF readout without recurrence (decay `decay_out`, the same threshold and surrogate)
    driven by ``s_t w_out + b_out`` (w_out [R, K], i.e. ``Linear.weight.T``; b_out [K]).
    Returns the readout's spike rate [N, K] (the logits).

    On the numba backend both layers run in one sweep each way (the hidden spikes are
    never stored: they would be the largest array of the step); elsewhere, or when x is
    dense or needs a gradient, it is :func:`lif_layer` twice with a Linear between."""
    backend = resolve_backend(backend, x)
    tensors = (x, w_in, w_rec, w_out, b_out)
    if any(t.dtype != x.dtype for t in tensors):
        raise ValueError("x and the weights must share one dtype")
    if backend == "numba" and not x.requires_grad:
        events = _event_lists(x, _np_dtype(x.dtype))
        if events[0][:, -1].sum() <= _SPARSE_INPUT_MAX_DENSITY * x.numel():
            if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
                return _SNNNumba.apply(x, w_in, w_rec, w_out, b_out, decay, v_th, lens,
                                       decay_out, events)
            with torch.no_grad():
                *_, counts_o = _numba_forward(x, w_in, None, w_rec, decay, v_th, False, False,
                                              events, out=(w_out, b_out, decay_out))
            return counts_o.to(x.dtype) / x.shape[1]
    s = lif_layer(x, w_in, w_rec, decay=decay, v_th=v_th, lens=lens, output="spikes",
                  backend=backend)
    u = torch.matmul(s, w_out) + b_out  # every step's readout current: one GEMM
    return lif_layer(u, decay=decay_out, v_th=v_th, lens=lens, output="rate", backend=backend)
