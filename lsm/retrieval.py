r"""Cross-modal retrieval accuracy (`paper.md` §1.8) and its chance level.

Every query of modality A is scored against the whole gallery of modality B of the same
split; the query is correct at top-k if any of its k best-scoring gallery items has the
query's class. Similarity is the unnormalised dot product (``dot``, the paper's ATV-LSM
evaluation) or the cosine (``cos``, the paper's other scripts). Ties rank the lower
gallery index first, so results do not depend on the sort implementation.
"""

from __future__ import annotations

from math import comb

import numpy as np

SIMILARITIES = ("dot", "cos")


def similarity(q: np.ndarray, g: np.ndarray, kind: str) -> np.ndarray:
    """[Nq, Ng] similarity matrix (float64, so rankings are stable across BLAS builds)."""
    q = np.asarray(q, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if kind == "cos":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    elif kind != "dot":
        raise ValueError(f"similarity must be one of {SIMILARITIES}, not {kind!r}")
    return q @ g.T


def topk_accuracy(q: np.ndarray, g: np.ndarray, y_q: np.ndarray, y_g: np.ndarray,
                  ks: tuple[int, ...] = (1, 5), kind: str = "dot") -> dict[int, float]:
    """Percent of queries with a same-class item among their top-k gallery items."""
    sim = similarity(q, g, kind)
    kmax = min(max(ks), sim.shape[1])
    order = np.argsort(-sim, axis=1, kind="stable")[:, :kmax]
    hit = y_g[order] == np.asarray(y_q)[:, None]
    return {k: float(hit[:, :k].any(1).mean() * 100.0) for k in ks}


def chance_topk(y_q: np.ndarray, y_g: np.ndarray, k: int) -> float:
    """Expected top-k accuracy (percent) of a random ranking: for a query of class c with
    n_c of the N gallery items in its class, 1 - C(N - n_c, k) / C(N, k)."""
    y_g = np.asarray(y_g)
    n = y_g.size
    k = min(k, n)
    p = [1.0 - comb(n - int((y_g == c).sum()), k) / comb(n, k) for c in np.asarray(y_q)]
    return float(np.mean(p) * 100.0)


def retrieval_records(za: np.ndarray, zb: np.ndarray, labels: np.ndarray,
                      names: tuple[str, str], ks: tuple[int, ...] = (1, 5),
                      sims: tuple[str, ...] = SIMILARITIES) -> list[dict]:
    """Records ``{metric, value, chance}`` for both directions, every k and similarity.

    `za`/`zb` are the paired embeddings of the two modalities (row i of each has class
    labels[i]); `names` = e.g. ("a", "i") gives the metrics ``a2i_top1_dot`` etc.
    """
    out = []
    for (q, g, tag) in ((za, zb, f"{names[0]}2{names[1]}"), (zb, za, f"{names[1]}2{names[0]}")):
        for kind in sims:
            acc = topk_accuracy(q, g, labels, labels, ks, kind)
            for k in ks:
                out.append({"metric": f"{tag}_top{k}_{kind}", "value": acc[k],
                            "chance": chance_topk(labels, labels, k), "unit": "%"})
    return out
