r"""Cross-modal retrieval accuracy (`docs/paper-notes.md` §1.8) and its chance level.

Every query of modality A is scored against the whole gallery of modality B of the same
split; the query is correct at top-k if any of its k best-scoring gallery items has the
query's class. Similarity is the unnormalised dot product (``dot``, the paper's ATV-LSM
evaluation) or the cosine (``cos``, the paper's other scripts). Ties rank the lower
gallery index first, so results do not depend on the sort implementation.

Where pairs reuse samples (the BMI "enlarge": each neural trial in 10 pairs), ranking
against every pair would put the same trial in the gallery 10 times: its copies score
alike, fill the top-k together (letter -> neural top-5 equals top-1) and break the chance
level, which counts distinct items. Given each pair's source-sample ids,
:func:`retrieval_records` ranks distinct samples only.
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


def first_of_each(ids: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of every distinct id, in their original order."""
    _, first = np.unique(np.asarray(ids), return_index=True)
    return np.sort(first)


def retrieval_records(za: np.ndarray, zb: np.ndarray, labels: np.ndarray,
                      names: tuple[str, str], ks: tuple[int, ...] = (1, 5),
                      sims: tuple[str, ...] = SIMILARITIES,
                      ids: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict]:
    """Records ``{metric, value, chance, unit, n_queries}`` for both directions, every k
    and similarity.

    `za`/`zb` are the paired embeddings of the two modalities (row i of each has class
    labels[i]); `names` = e.g. ("a", "i") gives the metrics ``a2i_top1_dot`` etc.

    `ids` = (ids_a, ids_b): the source sample of every pair on each side (the pairing's
    ``idx_a``/``idx_b``). Each direction then ranks its *distinct* samples: the gallery
    is the first pair of every distinct gallery id (a repeated sample has the same
    embedding and label, so its copies would only crowd the top-k), chance is that of
    the distinct gallery, and the queries are the distinct query samples too. A repeated
    query would only re-weight the mean (not at all when every sample repeats equally
    often, as with ``enlarge``), and the distinct count is the honest number of
    independent queries (``n_queries``, which the binomial test uses). With `ids` the
    records also hold ``<dir>_n_distinct_query`` and ``<dir>_n_distinct_gallery``
    (unit ""). Without `ids` every pair is its own item on both sides.
    """
    labels = np.asarray(labels)
    if ids is None:
        keep_a = keep_b = np.arange(labels.size)
    else:
        ida, idb = (np.asarray(x) for x in ids)
        if ida.shape != labels.shape or idb.shape != labels.shape:
            raise ValueError(f"ids of shapes {ida.shape} / {idb.shape} for {labels.size} "
                             "pairs")
        for side, x in (("a", ida), ("b", idb)):
            first = first_of_each(x)
            lab_of = dict(zip(x[first].tolist(), labels[first].tolist(), strict=True))
            if any(lab_of[i] != c for i, c in zip(x.tolist(), labels.tolist(), strict=True)):
                raise ValueError(f"a sample id on side {side} has pairs of two classes")
        keep_a, keep_b = first_of_each(ida), first_of_each(idb)
    out = []
    for (q, g, kq, kg, tag) in ((za, zb, keep_a, keep_b, f"{names[0]}2{names[1]}"),
                                (zb, za, keep_b, keep_a, f"{names[1]}2{names[0]}")):
        yq, yg = labels[kq], labels[kg]
        for kind in sims:
            acc = topk_accuracy(np.asarray(q)[kq], np.asarray(g)[kg], yq, yg, ks, kind)
            for k in ks:
                out.append({"metric": f"{tag}_top{k}_{kind}", "value": acc[k],
                            "chance": chance_topk(yq, yg, k), "unit": "%",
                            "n_queries": int(kq.size)})
        if ids is not None:
            out += [{"metric": f"{tag}_n_distinct_query", "value": int(kq.size), "unit": ""},
                    {"metric": f"{tag}_n_distinct_gallery", "value": int(kg.size),
                     "unit": ""}]
    return out
