"""Reservoir-size sweep: LSM accuracy against the number of reservoir neurons.

For one dataset, the configured encoder (``reservoir_size.encoders``; by default the
encoder of the dataset's software LSM row) is rebuilt at every size ``n_res`` of the
sweep, everything else unchanged, and per size and seed a linear readout is trained on
its spike counts with the LSM rows' training settings (:class:`lsm.models.LSMReadout`,
the same :class:`~lsm.models.training.TrainConfig` path), its epoch selected on validation and
the test split evaluated once. Seed s draws reservoir s at every size, so the sweep's
point at n_res = 200 is the LSM row's reservoir, bit for bit.

Weight scale. The weights stay ``const * N(mean_g, sigma_g^2)`` with the configured
`const` at every size. The *input* scaling need not change with n_res: a neuron's input
current sums over the C input channels, whatever the number of neurons. The *recurrent*
current sums over n_res presynaptic neurons, so its spread grows like sqrt(n_res) (the
recurrent matrix's spectral radius too): large reservoirs are more recurrent-driven. We
keep `const` fixed, as a physical crossbar would (its conductances do not rescale with
its size; the paper also keeps const when it grows the BMI reservoir from 512 to 2048),
and report the measured firing rate per size (``mean_rate``) so that the effect is
visible (default config, simulated N-MNIST: 0.055 spikes per neuron and step at 50
neurons, 0.072 at 200, 0.26 at 2,000; test accuracy peaks near 500 and falls beyond);
a sweep with the recurrent weights scaled by sqrt(200 / n_res) is a separate question,
not run here.

Training settings. The readout is the ``readouts`` entry of the LSM row (or the one
named in the section), without the supervised tuning grid (the grid would multiply the
cost by its size at every point; every size gets the same settings, so the curve
compares sizes on equal terms), and with an optional epoch cap of its own
(``reservoir_size.max_epochs``) to keep the default run short.

References. The supervised runs without a reservoir on the same dataset (kinds in
:data:`REFERENCE_KINDS`: linear readouts on the raw binned input, on its time sum and on
a random projection to the LSM's n_res) are read from their metrics files and drawn as
horizontal lines, with the chance level.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lsm import atomic
from lsm.errors import ConfigError, DataFormatError

# supervised kinds drawn as reference lines: linear readouts without a reservoir
REFERENCE_KINDS = ("raw_readout", "time_sum_readout", "random_projection_readout")
EXPERIMENT = "reservoir_size"
SECTION = "reservoir_size"


# ---------------------------------------------------------------------- configuration


def _supervised_datasets(cfg: dict[str, Any]) -> set[str]:
    return set(cfg.get("datasets", {}))


def plan(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sweep of a validated config, per dataset: ``{dataset: {"encoder": name,
    "readout": name, "train": settings (epoch cap applied), "n_res": sizes,
    "references": [run names]}}``; empty when the sweep is off (no sizes, or
    ``encoders: []``). Raises :class:`ConfigError` naming the key and the fix.

    ``encoders: auto`` takes, per dataset in order of the supervised runs, the encoder
    of the first ``lsm_readout`` run whose weights are the software Gaussian ones."""
    sec = cfg.get(SECTION, {})
    sizes = list(sec.get("n_res") or [])
    encoders = cfg.get("encoders", {})
    runs = cfg.get("supervised", {}).get("runs", {})
    readouts = cfg.get("readouts", {})
    names = sec.get("encoders", "auto")
    if names == "auto":
        names, taken = [], set()
        for r in runs.values():
            if r["kind"] != "lsm_readout" or r.get("encoder") not in encoders:
                continue
            enc = encoders[r["encoder"]]
            if enc["weights"]["source"] == "gaussian" and enc["dataset"] not in taken:
                names.append(r["encoder"])
                taken.add(enc["dataset"])
    if not sizes or not names:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        key = f"{SECTION}/encoders/{i}"
        if name not in encoders:
            raise ConfigError(key, f"unknown encoder '{name}'.",
                              f"use one of {sorted(encoders)}.")
        ds = encoders[name]["dataset"]
        if ds not in _supervised_datasets(cfg):
            raise ConfigError(key, f"encoder '{name}' reads the frames '{ds}', not a "
                              "supervised dataset.",
                              f"use an encoder of {sorted(_supervised_datasets(cfg))}.")
        if ds in out:
            raise ConfigError(key, f"a second encoder of dataset '{ds}' (the first is "
                              f"'{out[ds]['encoder']}'); the sweep has one per dataset.",
                              "keep one encoder per dataset.")
        readout = sec.get("readout")
        if readout is None:  # the LSM row's training settings
            readout = next((r["readout"] for r in runs.values()
                            if r["kind"] == "lsm_readout" and r.get("encoder") == name), None)
            if readout is None:
                raise ConfigError(f"{SECTION}/readout", f"is null, but no supervised "
                                  f"lsm_readout run uses the encoder '{name}' to take the "
                                  "training settings from.",
                                  f"name a readouts entry (one of {sorted(readouts)}).")
        if readout not in readouts:
            raise ConfigError(f"{SECTION}/readout", f"unknown readout '{readout}'.",
                              f"use one of {sorted(readouts)}.")
        out[ds] = {"encoder": name, "readout": readout,
                   "train": capped(readouts[readout], sec.get("max_epochs")),
                   "n_res": sizes,
                   "references": [r for r, run in runs.items() if run["kind"] in
                                  REFERENCE_KINDS and run.get("dataset") == ds]}
    return out


def capped(train: dict[str, Any], max_epochs: int | None) -> dict[str, Any]:
    """`train` with its epochs capped at `max_epochs` (None: unchanged)."""
    train = dict(train)
    if max_epochs is not None:
        train["epochs"] = min(int(train.get("epochs", max_epochs)), int(max_epochs))
    return train


def check_sizes(sizes: Any) -> list[int]:
    """Reservoir sizes: a non-empty list of distinct positive integers."""
    if (not isinstance(sizes, list | tuple) or not sizes
            or any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1
                   for n in sizes)):
        raise ConfigError(f"{SECTION}/n_res", f"is {sizes!r}, not a non-empty list of "
                          "positive integers.", "give sizes such as [50, 100, 200].")
    sizes = [int(n) for n in sizes]
    if len(set(sizes)) != len(sizes):
        raise ConfigError(f"{SECTION}/n_res", f"repeats a size ({sizes}).",
                          "give each size once.")
    return sizes


# ---------------------------------------------------------------------------- sweep


def sweep(data: dict[str, np.ndarray], encoder: dict[str, Any], sizes: list[int],
          seeds: list[int], train: dict[str, Any], *, rram: dict[str, Any] | None = None,
          device: str = "cpu") -> list[dict[str, Any]]:
    """One row per (n_res, seed), sizes outer: ``n_res``, ``seed``, ``test_accuracy``,
    ``val_accuracy`` (percent), ``best_epoch``, ``epochs_run``, the training cost of
    :class:`~lsm.models.cost.TrainingCost` (encoding billed for the training samples, as the
    supervised stage bills the LSM rows), ``mean_rate`` (test spikes per neuron and step),
    ``encode_seconds`` and ``train_seconds``.

    `data` holds binary frames ``x_{split}`` [N, T, C] and labels ``y_{split}``."""
    from lsm.models import MODELS
    from lsm.pipeline.stages import SPLITS, reservoir_encoder
    from lsm.reservoir.workload import workload

    sizes = check_sizes(sizes)
    x = {s: data[f"x_{s}"] for s in SPLITS}
    y = {s: np.asarray(data[f"y_{s}"]) for s in SPLITS}
    n_classes = int(max(y["train"].max(), y["val"].max()) + 1)  # test feeds no choice
    n_train = int(y["train"].shape[0])
    rows = []
    for n_res in sizes:
        run = reservoir_encoder({**encoder, "n_res": n_res}, rram)
        for seed in seeds:
            t0 = time.perf_counter()
            f = {s: run(x[s], seed, device, k) for k, s in enumerate(SPLITS, start=1)}
            t_enc = time.perf_counter() - t0
            wl = workload(x["train"], f["train"])
            model = MODELS["lsm_readout"](train=train,
                                          encode_macs_dense=wl["dense_synops"] * n_train,
                                          encode_macs_events=wl["effective_synops"] * n_train)
            fitted = model.fit(f["train"], y["train"], f["val"], y["val"], n_classes, seed)
            pred = fitted.predict(f["test"])
            cost = fitted.cost
            rows.append({
                "n_res": n_res, "seed": int(seed),
                "test_accuracy": float((pred == y["test"]).mean() * 100.0),
                "val_accuracy": float(fitted.best_val_acc),
                "best_epoch": int(fitted.best_epoch), "epochs_run": len(fitted.val_curve),
                "trainable_params": int(cost.trainable_params),
                "train_macs": float(cost.train_macs),
                "encode_macs_dense": float(cost.encode_macs_dense),
                "encode_macs_events": float(cost.encode_macs_events),
                "mean_rate": float(f["test"].sum() / (f["test"].size * x["test"].shape[1])),
                "encode_seconds": t_enc, "train_seconds": float(cost.train_seconds),
            })
    return rows


# (row field, split, unit) of each metric a sweep row becomes; wall-clock has unit "s"
_METRICS = {"accuracy": ("test_accuracy", "test", "%"),
            "val_accuracy": ("val_accuracy", "val", "%"),
            "best_epoch": ("best_epoch", "train", "epoch"),
            "epochs_run": ("epochs_run", "train", "epoch"),
            "trainable_params": ("trainable_params", "train", "params"),
            "train_macs": ("train_macs", "train", "MACs"),
            "encode_macs_dense": ("encode_macs_dense", "train", "MACs"),
            "encode_macs_events": ("encode_macs_events", "train", "ACs"),
            "mean_rate": ("mean_rate", "test", "spikes/neuron/step"),
            "train_seconds": ("train_seconds", "train", "s"),
            "encode_seconds": ("encode_seconds", "train", "s")}


def variant_of(base: str, n_res: int) -> str:
    """The table label of one size (the size itself is the record's ``n_res`` field)."""
    return f"{base} n_res={n_res}"


def as_records(rows: list[dict[str, Any]], n_classes: int, base_variant: str
               ) -> list[dict[str, Any]]:
    """Sweep rows as results-contract records, each with its own integer ``n_res``
    field (and, so that a table row is one size, a variant naming it). The validation
    accuracy is the split "val" record of metric "accuracy"."""
    out = []
    for r in rows:
        for metric, (field, split, unit) in _METRICS.items():
            rec = {"seed": r["seed"], "split": split,
                   "metric": "accuracy" if metric == "val_accuracy" else metric,
                   "value": float(r[field]), "unit": unit, "n_res": int(r["n_res"]),
                   "variant": variant_of(base_variant, r["n_res"])}
            if unit == "%":
                rec["chance"] = 100.0 / n_classes
            out.append(rec)
    return out


def summary(doc: dict[str, Any]) -> pd.DataFrame:
    """The sweep's long table: the results contract's columns plus an integer ``n_res``
    column, sorted by metric, split and size."""
    from lsm.results.contract import COLUMNS, aggregate

    df = aggregate([doc])
    size_of = {r["variant"]: int(r["n_res"]) for r in doc["records"]}
    df.insert(len(COLUMNS), "n_res", df["variant"].map(size_of).astype(int))
    return df.sort_values(["metric", "split", "n_res"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------- references


def reference_lines(paths: list[str | Path], dataset: str) -> list[dict[str, Any]]:
    """Test accuracy (mean, sample std, seeds) of each reference run's metrics file, or a
    :class:`DataFormatError` naming the file: unreadable, of another dataset, or without
    test accuracy records."""
    from lsm.results.contract import read_metrics

    out = []
    for p in paths:
        doc = read_metrics(p)
        if doc["dataset"] != dataset:
            raise DataFormatError(p, f"is a run on '{doc['dataset']}', but the sweep is of "
                                  f"'{dataset}'.", "pass the reference runs of the same "
                                  "dataset.")
        vals = np.array([r["value"] for r in doc["records"]
                         if r["split"] == "test" and r["metric"] == "accuracy"])
        if vals.size == 0:
            raise DataFormatError(p, "has no test accuracy records (split 'test', metric "
                                  "'accuracy').", "delete it and rerun the train_supervised "
                                  "rule that makes it.")
        out.append({"label": f"{doc['model']} ({doc['variant']})",
                    "run": str(doc.get("run", "")), "kind": str(doc.get("kind", "")),
                    "features": _features(doc),
                    "mean": float(vals.mean()),
                    "std": float(vals.std(ddof=1)) if vals.size > 1 else 0.0,
                    "n_seeds": int(vals.size), "data_source": doc["data_source"]})
    return out


DEMO_REFERENCES = {  # run name -> (kind, params, model label)
    "raw": ("raw_readout", {}, "linear on raw binned input"),
    "time_sum": ("time_sum_readout", {}, "linear on time-summed input"),
    "projection": ("random_projection_readout", {"n_res": 100}, "linear on random projection"),
}


def demo_references(frames_path: str | Path, train: dict[str, Any], seeds: list[int] = (0, 1),
                    folder: str | Path = "results/demo/reservoir_size/references",
                    dataset: str = "nmnist") -> list[str]:
    """The three reference rows on the demo frames (made once under `folder`, reused), so
    the notebook's demo draws its lines; returns their metrics paths."""
    from lsm.datasets.demo import anchor
    from lsm.pipeline.spec import RunLabels, SupervisedSpec
    from lsm.pipeline.stages import supervised_outputs, supervised_run

    folder = Path(anchor(str(folder)))
    paths = []
    for name, (kind, params, model) in DEMO_REFERENCES.items():
        out = folder / f"{name}.json"
        if not out.is_file():
            supervised_run(frames_path, SupervisedSpec(
                kind, params, train, list(seeds), RunLabels(dataset, model, "linear", name)),
                supervised_outputs(out, folder / f"{name}.curves.csv",
                                   folder / f"{name}.confusion.csv",
                                   folder / f"{name}.provenance.json"))
        paths.append(str(out))
    return paths


def _features(doc: dict[str, Any]) -> int | None:
    """The input features of a linear readout's metrics: trainable parameters
    (F + 1) x K, K = 100 / chance; None where the records do not say."""
    params = [r["value"] for r in doc["records"] if r["metric"] == "trainable_params"]
    chance = [r.get("chance") for r in doc["records"]
              if r["metric"] == "accuracy" and r.get("chance")]
    if not params or not chance:
        return None
    k = round(100.0 / chance[0])
    if k < 1:
        return None
    f = params[0] / k - 1
    return round(f) if f > 0 and abs(f - round(f)) < 1e-6 else None


# ---------------------------------------------------------------------------- stage


def reservoir_size(
    frames_path: str | Path, encoder: dict[str, Any], sizes: list[int], seeds: list[int],
    train: dict[str, Any], *, dataset: str, metrics_path: str | Path,
    table_path: str | Path, provenance_path: str | Path,
    reference_paths: list[str | Path] = (), encoder_name: str = "",
    rram: dict[str, Any] | None = None, device: str = "cpu",
) -> dict[str, Any]:
    """Run :func:`sweep` on the frames and write the metrics (results contract, one
    record per size, seed and metric, each with its ``n_res``), the long table
    (`table_path`, CSV + Markdown, with an ``n_res`` column) and provenance.

    Every input is checked before any training: the frames (binary, labelled, every
    split non-empty), the sizes, and the reference metrics files. Returns
    ``{"summary": table, "rows": per-seed rows, "references": lines, "chance": percent,
    "data_source": ...}`` for the figure (:func:`plot`)."""
    from lsm.pipeline.stages import SPLITS, VARIANT, check_binary, check_splits, load_npz
    from lsm.provenance import provenance
    from lsm.results.contract import metrics_doc, write_table

    sizes = check_sizes(list(sizes))
    if not seeds:
        raise ConfigError("seeds", "is empty.", "give at least one seed.")
    data = load_npz(frames_path, tuple(f"{p}_{s}" for s in SPLITS for p in ("x", "y")))
    check_splits(data, frames_path)
    check_binary(data, frames_path)
    refs = reference_lines(list(reference_paths), dataset)
    source = str(data["data_source"]) if "data_source" in data else "unknown"
    generator = str(data["generator_version"]) if "generator_version" in data else "unknown"
    n_classes = int(max(data["y_train"].max(), data["y_test"].max()) + 1)
    t0 = time.perf_counter()
    rows = sweep(data, encoder, sizes, list(seeds), train, rram=rram, device=device)
    seconds = time.perf_counter() - t0
    base = VARIANT.get(encoder["weights"]["source"], encoder["weights"]["source"])
    doc = metrics_doc(experiment=EXPERIMENT, dataset=dataset, model="LSM", variant=base,
                      data_source=source, selection="val",
                      records=as_records(rows, n_classes, base), encoder=encoder_name,
                      n_res=sizes)
    table = summary(doc)
    atomic.write_json(metrics_path, doc)
    caption = (f"Test accuracy (epoch selected on validation) of a linear readout on the "
               f"'{encoder_name}' reservoir rebuilt at each size n_res (const and the LIF "
               "parameters unchanged), mean ± std over seeds; seed s draws reservoir s. "
               "Encoding MACs billed for the training samples.")
    write_table(table, table_path, f"LSM accuracy against reservoir size: {dataset}", caption)
    atomic.write_json(provenance_path, provenance(
        params={"encoder": encoder_name, **encoder, "n_res": sizes, "train": train,
                "rram": rram, "references": [str(p) for p in reference_paths]},
        seeds=list(seeds), device=device, data_source=source, generator_version=generator,
        stats={"sweep_seconds": seconds}))
    return {"summary": table, "rows": pd.DataFrame(rows), "references": refs,
            "chance": 100.0 / n_classes, "data_source": source}


# --------------------------------------------------------------------------- figure


def plot(result: dict[str, Any], dataset: str, path: str | Path,
         encoder_name: str = "") -> None:
    """Test accuracy (mean ± std over seeds) against n_res on a log axis, the reference
    rows as horizontal lines (their ±1 std as a band) and the chance level."""
    import matplotlib.pyplot as plt

    from lsm.results.plots import _caption, save

    t = result["summary"]
    acc = t[(t["split"] == "test") & (t["metric"] == "accuracy")].sort_values("n_res")
    sources = sorted({result["data_source"], *(r["data_source"] for r in result["references"])})
    simulated = any("simulated" in s for s in sources)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    n_seeds = int(acc["n_seeds"].max()) if len(acc) else 0
    ax.errorbar(acc["n_res"], acc["mean"], yerr=acc["std"], fmt="o-", color="C0", capsize=3,
                label=f"LSM {encoder_name}, n_res features (mean ± std, {n_seeds} seeds)"
                .replace("  ", " "))
    styles = ["--", "-.", (0, (6, 2, 1, 2, 1, 2)), (0, (2, 1))]
    for k, ref in enumerate(result["references"], start=1):
        feats = f", {ref['features']:,} features" if ref.get("features") else ""
        ax.axhline(ref["mean"], color=f"C{k}", ls=styles[(k - 1) % len(styles)], lw=1.4,
                   label=f"{ref['label']}{feats}: {ref['mean']:.1f} ± {ref['std']:.1f}")
        if ref["std"] > 0:
            ax.axhspan(ref["mean"] - ref["std"], ref["mean"] + ref["std"], color=f"C{k}",
                       alpha=0.08)
    ax.axhline(result["chance"], color="k", ls=":", lw=1,
               label=f"chance ({result['chance']:.1f} %)")
    ax.set_xscale("log")
    ax.set_xticks(acc["n_res"].tolist())
    ax.set_xticklabels([str(n) for n in acc["n_res"]])
    ax.minorticks_off()
    ax.set(xlabel="reservoir size n_res (neurons)", ylabel="test accuracy (%)",
           title=f"{dataset}: LSM accuracy against reservoir size"
                 + (" (SIMULATED data)" if simulated else ""))
    handles, labels = ax.get_legend_handles_labels()
    order = [len(handles) - 1, *range(len(handles) - 1)]  # the LSM's curve first
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7,
              loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.subplots_adjust(bottom=0.22)
    _caption(fig, "Test split, epoch selected on validation; the sweep's readouts use the "
                  "LSM rows' settings without their lr x batch-size grid. Lines: the "
                  "supervised rows without a reservoir (linear readouts, tuned as every "
                  "supervised row), ±1 std shaded.", sources)
    save(fig, path)
