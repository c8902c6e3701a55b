"""Zero-shot evidence with statistical power: many reservoirs, rotated unseen splits, the
paper's selection rule measured, and a diagnostic that predicts transfer.

The per-run zero-shot jobs (:func:`lsm.zeroshot.stage.zeroshot_run`) train one head per seed on
the encode stage's three reservoirs. Three runs cannot tell 66 % from 37 % unseen
accuracy, so this stage repeats the frozen-encoder (LSM) runs where they are cheap: for
each of ``n_reservoirs`` reservoirs (seed r: the encode stage's reservoir r, bit for bit,
for r < 3) it encodes both modalities once and trains ``n_heads`` heads per run (head
seed h: initialisation and batch order ``r + 100 h``; h = 0 is the per-run job's seed r).

Per run it records, for the selection direction and similarity:

* ``selection = val``: the epoch chosen on seen-class validation pairs (the honest rows);
* ``selection = paper_rule (test-selected)``: the authors' rule (`docs/zeroshot.md`):
  among epochs with test-seen >= 65 and test-unseen >= 85, the one with the best
  test-seen, reporting its test-unseen; a run where no epoch qualifies has no value
  (the row's n counts the runs that qualified, ``paper_rule_runs_qualifying`` all);
* ``selection = best unseen epoch (test-selected)``: the best test-unseen over epochs,
  the ceiling of any test-set selection;
* ``selection = untrained head``: the epoch-0 heads, before any training.

The test accuracies per epoch exist for this analysis only: they are computed by the
:func:`~lsm.zeroshot.stage.fit_pairs` monitor after each epoch's choice is made and never reach
training or selection (``tests/test_zs_power.py`` swaps the test data and asserts the
same weights and choices).

Rotated unseen splits: the experiment's classes are rotated so that each of several
unseen pairs drawn from them (all of them, or a seeded sample) is unseen in turn, with
the remaining classes seen, on fewer reservoirs and heads per split.

Representational similarity (RSA, before any head is trained): per modality, the
class-by-class correlation matrix of the class-mean test features (z-scored per feature
over the experiment's classes); the Spearman correlation of the two modalities' matrices
over the class pairs among seen classes (``rsa_seen_classes``) and over those with an
unseen class (``rsa_unseen_classes``). Near 0: the modalities' class geometries share
nothing a head trained on seen classes could carry to unseen ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lsm.models.training import TrainConfig
from lsm.pipeline.spec import StageOutputs, StageResult, write_stage
from lsm.pipeline.stages import (
    SPLITS,
    check_binary,
    check_splits,
    load_npz,
    npz_meta,
    reservoir_encoder,
)
from lsm.results.contract import metrics_doc
from lsm.zeroshot.pairing import PairSpec, make_pairs
from lsm.zeroshot.retrieval import chance_topk, topk_accuracy
from lsm.zeroshot.stage import build_model, fit_pairs, gather_pairs

SELECT_VAL = "val"
SELECT_PAPER = "paper_rule (test-selected)"
SELECT_ORACLE = "best unseen epoch (test-selected)"
SELECT_UNTRAINED = "untrained head"
HEAD_SEED_STRIDE = 100  # head h of reservoir r trains with seed r + 100 h


@dataclass(frozen=True)
class PaperRule:
    """The authors' epoch filter for ATV LSM-CLIP (`docs/zeroshot.md`): keep epochs with
    test-seen >= `seen_min` and test-unseen >= `unseen_min`, report the best test-seen's
    unseen accuracy."""

    seen_min: float = 65.0
    unseen_min: float = 85.0

    def pick(self, seen: list[float], unseen: list[float]) -> int | None:
        """The chosen epoch's index, or None when no epoch qualifies (ties: earliest)."""
        ok = [i for i, (s, u) in enumerate(zip(seen, unseen, strict=True))
              if s >= self.seen_min and u >= self.unseen_min]
        return max(ok, key=lambda i: (seen[i], -i)) if ok else None


def rotated_splits(classes: list[int], n_unseen: int, n_splits: int | None, seed: int,
                   first: tuple[int, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(seen, unseen) class tuples: every `n_unseen`-subset of `classes` is unseen once
    (``n_splits`` None or at least their number), or a seeded sample of `n_splits` of
    them; the configured split `first` leads when it is one of them."""
    combos = [tuple(c) for c in itertools.combinations(sorted(classes), n_unseen)]
    first = tuple(sorted(first))
    rest = [c for c in combos if c != first]
    if n_splits is not None and n_splits < len(combos):
        rng = np.random.default_rng(seed)
        k = n_splits - (first in combos)
        rest = [rest[i] for i in sorted(rng.choice(len(rest), size=k, replace=False))]
    chosen = ([first] if first in combos else []) + rest
    return [(tuple(c for c in classes if c not in u), u) for u in chosen]


def rsa(fa: np.ndarray, ya: np.ndarray, fb: np.ndarray, yb: np.ndarray,
        classes: list[int], unseen: tuple[int, ...]) -> dict[str, float]:
    """Spearman correlation of the two modalities' class-similarity matrices, over the
    class pairs among seen classes and over those with at least one unseen class."""
    from scipy.stats import spearmanr

    def class_corr(f: np.ndarray, y: np.ndarray) -> np.ndarray:
        keep = np.isin(y, classes)
        f, y = f[keep].astype(np.float64), y[keep]
        f = (f - f.mean(0)) / np.where(f.std(0) > 0, f.std(0), 1.0)
        means = np.stack([f[y == c].mean(0) for c in classes])
        return np.corrcoef(means)

    ca, cb = class_corr(fa, ya), class_corr(fb, yb)
    iu = np.triu_indices(len(classes), k=1)
    has_unseen = np.array([classes[i] in unseen or classes[j] in unseen for i, j in zip(*iu,
                                                                                       strict=True)])
    out = {}
    for name, mask in (("rsa_seen_classes", ~has_unseen), ("rsa_unseen_classes", has_unseen)):
        x, y = ca[iu][mask], cb[iu][mask]
        r = spearmanr(x, y).statistic if x.size >= 3 and x.std() > 0 and y.std() > 0 else np.nan
        if np.isfinite(r):  # undefined (a degenerate matrix): no value, never a 0
            out[name] = float(r)
    return out


def rsa_records(fa: np.ndarray, fb: np.ndarray, ya: dict[str, np.ndarray],
                 yb: dict[str, np.ndarray], classes: list[int], unseen: tuple[int, ...],
                 seed: int, model: str, variant: str) -> list[dict[str, Any]]:
    """RSA rows (chance 0: unrelated class geometries) on the test split's samples; a
    diagnostic, it feeds no training or choice."""
    return [{"seed": seed, "model": f"RSA: {model}", "variant": variant, "split": "test",
             "metric": m, "value": v, "unit": "", "chance": 0.0,
             "selection": "none (diagnostic)"}
            for m, v in rsa(fa, ya["test"], fb, yb["test"], classes, unseen).items()]


def _spec(pairing: dict[str, Any], seen: tuple[int, ...], unseen: tuple[int, ...]) -> PairSpec:
    return PairSpec(tuple(seen), tuple(unseen), pairing["n_train_pairs_per_class"],
                    pairing["n_val_pairs_per_class"], pairing["n_test_pairs_per_class"],
                    pairing.get("enlarge", 1))


def one_head(fa: dict[str, np.ndarray], fb: dict[str, np.ndarray], ya: dict[str, np.ndarray],
             yb: dict[str, np.ndarray], spec: PairSpec, params: dict[str, Any],
             train: dict[str, Any], pd: int, seed: int, select: tuple[str, str],
             experiment: str) -> dict[str, Any]:
    """Train one head pair on the seen training pairs of `spec`; the per-epoch test
    accuracies (monitor, analysis only) and the validation-selected result."""
    pairs = make_pairs(ya, yb, spec, field=experiment)
    x = {"a": gather_pairs(fa, pairs, "a"), "b": gather_pairs(fb, pairs, "b")}
    y = {name: p.labels for name, p in pairs.items()}
    direction, sim = select
    net, _ = build_model("lsm", params, x["a"]["train"].shape[-1], x["b"]["train"].shape[-1],
                         0, 0, pd, seed)

    def score(model, split: str) -> float:
        za, zb = model.embed(x["a"][split], x["b"][split])
        q, g = (za, zb) if direction == "a2b" else (zb, za)
        return topk_accuracy(q, g, y[split], y[split], (1,), sim)[1]

    def monitor(model) -> dict[str, float]:  # analysis only: never feeds a choice
        return {"test_seen": score(model, "test_seen"), "test_unseen": score(model, "test_unseen")}

    fit = fit_pairs(net, x["a"], x["b"], y, TrainConfig(**train), seed, select, monitor)
    return {"fit": fit, "val_seen": fit.best_val_acc,
            "test_seen": score(net, "test_seen"), "test_unseen": score(net, "test_unseen"),
            "chance_seen": chance_topk(y["test_seen"], y["test_seen"], 1),
            "chance_unseen": chance_topk(y["test_unseen"], y["test_unseen"], 1),
            "n_seen": int(y["test_seen"].size), "n_unseen": int(y["test_unseen"].size)}


def _records(res: dict[str, Any], seed: int, variant: str, metric: str, rule: PaperRule,
             apply_rule: bool = True) -> list[dict[str, Any]]:
    """The result's rows: every selection, and whether the paper's rule found an epoch."""
    mon = res["fit"].monitored
    seen = [m["test_seen"] for m in mon[1:]]
    unseen = [m["test_unseen"] for m in mon[1:]]
    picks: dict[str, tuple[float, float] | None] = {
        SELECT_VAL: (res["test_seen"], res["test_unseen"]),
        SELECT_UNTRAINED: (mon[0]["test_seen"], mon[0]["test_unseen"]),
        SELECT_ORACLE: (seen[int(np.argmax(unseen))], max(unseen)),
    }
    k = rule.pick(seen, unseen) if apply_rule else None
    picks[SELECT_PAPER] = None if k is None else (seen[k], unseen[k])
    out = [{"seed": seed, "variant": variant, "split": "val_seen", "metric": metric,
            "value": res["val_seen"], "unit": "%", "selection": SELECT_VAL},
           {"seed": seed, "variant": variant, "split": "train", "metric": "best_epoch",
            "value": res["fit"].best_epoch, "unit": "epoch", "selection": SELECT_VAL},
           *([{"seed": seed, "variant": variant, "split": "train",
               "metric": "paper_rule_runs_qualifying", "value": float(k is not None),
               "unit": "fraction", "selection": SELECT_PAPER}] if apply_rule else [])]
    for sel, v in picks.items():
        if v is None:
            continue
        for split, val, ch, n in (("test_seen", v[0], res["chance_seen"], res["n_seen"]),
                                  ("test_unseen", v[1], res["chance_unseen"], res["n_unseen"])):
            out.append({"seed": seed, "variant": variant, "split": split, "metric": metric,
                        "value": float(val), "unit": "%", "chance": ch, "n_queries": n,
                        "selection": sel})
    return out


def _encode_all(frames: dict[str, np.ndarray], encoder: dict[str, Any],
                rram: dict[str, Any] | None, seed: int, device: str) -> dict[str, np.ndarray]:
    """One reservoir's spike counts of every split, as the encode stage computes them."""
    run = reservoir_encoder(encoder, rram)
    return {s: run(frames[f"x_{s}"], seed, device, k) for k, s in enumerate(SPLITS, start=1)}


def power_run(
    path_a: str | Path, path_b: str | Path, runs: dict[str, dict[str, Any]],
    pairing: dict[str, Any], power: dict[str, Any], modalities: tuple[str, str], *,
    experiment: str, dataset: str, metrics_path: str | Path, curves_path: str | Path,
    provenance_path: str | Path, rram: dict[str, Any] | None = None, device: str = "cpu",
) -> dict[str, Any]:
    """Run the power analysis of one zero-shot experiment (module docstring).

    `runs`: name -> {model, variant, encoders: {query, gallery} (encoder configs), params
    (head, loss, temperature, feature_scale), train (readout settings)}, LSM runs only.
    `power`: n_reservoirs, n_heads, pd, paper_rule {seen_min, unseen_min}, rotations
    {runs, n_unseen, n_splits (null: all), n_reservoirs, n_heads, seed}. Writes one
    metrics document (rows per run, selection and split; rotated splits per split and
    pooled; RSA), the per-epoch curves of every head (val and the monitored test
    accuracies) and provenance."""

    req = tuple(f"{p}_{s}" for s in SPLITS for p in ("x", "y"))
    frames = {}
    for side, path in (("a", path_a), ("b", path_b)):
        d = load_npz(path, req)
        check_splits(d, path)
        check_binary(d, path)
        frames[side] = d
    ya = {s: np.asarray(frames["a"][f"y_{s}"]) for s in SPLITS}
    yb = {s: np.asarray(frames["b"][f"y_{s}"]) for s in SPLITS}
    seen0, unseen0 = tuple(pairing["seen"]), tuple(pairing["unseen"])
    classes = sorted(seen0 + unseen0)
    q, g = modalities
    direction = pairing["select"]["direction"]
    sel = ("a2b" if direction == f"{q}2{g}" else "b2a", pairing["select"]["similarity"])
    metric = f"{direction}_top1_{pairing['select']['similarity']}"
    rule = PaperRule(**power.get("paper_rule", {}))
    pd_, n_res, n_heads = int(power["pd"]), int(power["n_reservoirs"]), int(power["n_heads"])
    rot = power.get("rotations") or {}
    splits = rotated_splits(classes, int(rot.get("n_unseen", len(unseen0))),
                            rot.get("n_splits"), int(rot.get("seed", 0)), unseen0) if rot else []
    rot_runs = set(rot.get("runs", []))
    n_rot_res, n_rot_heads = int(rot.get("n_reservoirs", 0)), int(rot.get("n_heads", 0))
    # the configured split leads the rotation: its rows reuse the main runs' first
    # reservoirs and heads instead of retraining them
    first_is_main = bool(splits) and splits[0][1] == tuple(sorted(unseen0))
    # every split's pairs exist before any encoding (a rotation can make a class seen
    # that has too few training samples): the error names the rotation and the split
    for s, u in [(seen0, unseen0), *splits]:
        make_pairs(ya, yb, _spec(pairing, s, u), field=f"zeroshot/{dataset}/power/rotations "
                   f"(unseen {'+'.join(map(str, u))}): n_{{train,val,test}}_pairs_per_class")
    records: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    def enc_key(enc: dict[str, Any]) -> str:  # one encoding per distinct encoder setting
        return repr(sorted(enc.items()))

    enc_keys = {name: (enc_key(r["encoders"]["query"]), enc_key(r["encoders"]["gallery"]))
                for name, r in runs.items()}
    jobs = sum(n_heads * n_res + ((len(splits) - first_is_main) * n_rot_heads * n_rot_res
                                  if name in rot_runs else 0) for name in runs)
    bar = tqdm(total=jobs, desc=f"zero-shot power ({dataset})", unit="head")
    # the diagnostic on the input itself (time-summed frames), before any encoder
    records += rsa_records(frames["a"]["x_test"].sum(1), frames["b"]["x_test"].sum(1), ya,
                            yb, classes, unseen0, 0, "input", "time-summed frames")
    for r in range(n_res):
        rsa_done: set[tuple[str, str]] = set()
        feats: dict[str, dict[str, np.ndarray]] = {}
        for name, run in runs.items():
            for side, key, enc in zip(("a", "b"), enc_keys[name],
                                      (run["encoders"]["query"], run["encoders"]["gallery"]),
                                      strict=True):
                if key + side not in feats:
                    feats[key + side] = _encode_all(frames[side], enc, rram, r, device)
            fa, fb = feats[enc_keys[name][0] + "a"], feats[enc_keys[name][1] + "b"]
            pair_key = enc_keys[name]
            if pair_key not in rsa_done:  # RSA: once per reservoir pair
                rsa_done.add(pair_key)
                records += rsa_records(fa["test"], fb["test"], ya, yb, classes, unseen0, r,
                                        "reservoir features",
                                        f"encoders of {run['model']} {run['variant']}")
            # (seen, unseen, variant, heads, index in the rotation: 0 = not rotated)
            todo = [(seen0, unseen0, f"{run['variant']}, {n_res} reservoirs x "
                     f"{n_heads} heads", n_heads, 0)] if r < n_res else []
            if name in rot_runs and r < n_rot_res:
                todo += [(s, u, _split_variant(run, pd_, u, n_rot_res, n_rot_heads),
                          n_rot_heads, i) for i, (s, u) in enumerate(splits, start=1)
                         if not (first_is_main and i == 1)]
            for s, u, variant, heads, i_split in todo:
                for h in range(heads):
                    seed = r + HEAD_SEED_STRIDE * h
                    res = one_head(fa, fb, ya, yb, _spec(pairing, s, u), run["params"],
                                   run["train"], pd_, seed, sel, f"zeroshot/{dataset}")
                    # the authors' thresholds are their LSM-CLIP script's (paper §3.4)
                    recs = _records(res, seed, variant, metric, rule,
                                    run["params"].get("loss", "clip_soft") == "clip_soft")
                    records += [{**x, "model": run["model"], "pd": pd_} for x in recs]
                    if i_split:  # a rotated split: its runs also go to the pooled row
                        records += [{**x, "model": run["model"], "pd": pd_,
                                     "variant": _pooled_variant(run, pd_, len(splits)),
                                     "seed": seed + 10_000 * i_split} for x in recs]
                    f = res["fit"]
                    curves += [{"run": name, "variant": variant, "pd": pd_, "seed": seed,
                                "epoch": e,
                                "val_seen": (f.val_curve[e - 1] if e else np.nan),
                                "test_seen": m["test_seen"], "test_unseen": m["test_unseen"]}
                               for e, m in enumerate(f.monitored)]
                    bar.update(1)
    bar.close()
    if first_is_main:
        _pool_first_split(records, splits, n_rot_res, n_rot_heads, runs, rot_runs, pd_)
    source = "+".join(sorted({npz_meta(frames["a"], "data_source"),
                              npz_meta(frames["b"], "data_source")}))
    doc = metrics_doc(experiment=experiment, dataset=dataset, model="power",
                      variant="power", data_source=source, selection="val", records=records,
                      run="power", kind="lsm", seen=list(seen0), unseen=list(unseen0))
    write_stage(StageResult(
        doc=doc, curves=curves,
        provenance=dict(
            params={"runs": runs, "pairing": pairing, "power": power, "rram": rram,
                    "splits": [{"seen": list(s), "unseen": list(u)} for s, u in splits],
                    "head_seed": f"reservoir + {HEAD_SEED_STRIDE} x head"},
            seeds=list(range(n_res)), data_source=source, device=device,
            generator_version=npz_meta(frames["a"], "generator_version"))),
        StageOutputs(provenance=provenance_path, metrics=metrics_path, curves=curves_path))
    return doc


def _split_variant(run: dict[str, Any], pd_: int, unseen: tuple[int, ...], n_res: int,
                   n_heads: int) -> str:
    return f"{run['variant']}, unseen {'+'.join(map(str, unseen))} ({n_res} x {n_heads})"


def _pooled_variant(run: dict[str, Any], pd_: int, n_splits: int) -> str:
    return f"{run['variant']}, rotated unseen pairs (pooled, {n_splits} splits)"


def _pool_first_split(records: list[dict[str, Any]], splits: list, n_rot_res: int,
                      n_rot_heads: int, runs: dict[str, Any], rot_runs: set[str], pd_: int
                      ) -> None:
    """The configured split is the rotation's first: its per-split row and its share of
    the pooled row are the main runs' first reservoirs and heads (no retraining)."""
    for name in rot_runs:
        run = runs[name]
        main_variant = next((x["variant"] for x in records if x.get("model") == run["model"]
                             and x.get("pd") == pd_
                             and x["variant"].startswith(f"{run['variant']}, ")
                             and "reservoirs x" in x["variant"]), None)
        if main_variant is None:
            continue
        main = [x for x in records if x.get("model") == run["model"]
                and x["variant"] == main_variant and x.get("pd") == pd_
                and x["seed"] % HEAD_SEED_STRIDE < n_rot_res
                and x["seed"] // HEAD_SEED_STRIDE < n_rot_heads]
        per = _split_variant(run, pd_, splits[0][1], n_rot_res, n_rot_heads)
        pooled = _pooled_variant(run, pd_, len(splits))
        records += [{**x, "variant": per} for x in main]
        records += [{**x, "variant": pooled} for x in main]


def summary(doc: dict[str, Any]) -> Any:
    """The document's test rows as the table will show them (lsm.results.contract.aggregate):
    mean, std, n, 95 % CI and p-values per model, variant, pd, selection and split."""
    from lsm.results.contract import aggregate

    t = aggregate([doc])
    keep = t.split.isin(["test_seen", "test_unseen", "test"])
    cols = ["model", "variant", "pd", "selection", "split", "metric", "mean", "std", "n_seeds",
            "chance", "ci95_low", "ci95_high", "p_above_chance_t", "p_above_chance_binom"]
    return t.loc[keep, cols].round(3).reset_index(drop=True)
