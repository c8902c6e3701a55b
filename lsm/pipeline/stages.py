"""The work of each workflow stage, as plain functions the notebooks call.

Each stage reads declared inputs, loops over seeds inside (a notebook costs seconds to
start, so we never start one per seed), and writes declared outputs atomically with a
provenance JSON beside them.
"""

from __future__ import annotations

import math
import struct
import time
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lsm.errors import DataFormatError
from lsm.models.training import TrainConfig
from lsm.pipeline import paths
from lsm.pipeline.protocol import halving_setting, tuning_grid
from lsm.pipeline.spec import StageOutputs, StageResult, SupervisedSpec, write_stage
from lsm.reservoir.crossbar import RRAMParams, RRAMWeightSource
from lsm.reservoir.network import GaussianWeightSource, LIFParams, encode
from lsm.reservoir.workload import UNITS as WORKLOAD_UNITS
from lsm.reservoir.workload import encode_cost, workload
from lsm.results.contract import metrics_doc

SPLITS = ("train", "val", "test")


def _npy_declared_bytes(z: Any, member: str) -> int | None:
    """Bytes that the .npy header of `member` declares (Python ints: no overflow), or
    None for a header version without a public reader (3.0, used for non-latin1 names)."""
    with z.zip.open(member) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            return None
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read(fp)
    return math.prod(shape) * dtype.itemsize


def load_npz(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Load an .npz fully, failing with the file name and the missing keys.

    Every way numpy and zipfile report a damaged archive (an empty file, a bad zip, a bad
    CRC or deflate stream, a truncated member, a lone .npy renamed .npz) becomes a
    DataFormatError, so a stale cache says "delete and rerun" instead of a traceback. An
    array's declared size is checked against its archive member before numpy allocates it.
    """
    path = Path(path)
    fix = "delete it and rerun the workflow."
    if not path.is_file():
        raise DataFormatError(path, "file not found.", "rerun the workflow rule that makes it.")
    # what numpy and zipfile raise for damaged archives (RuntimeError: an "encrypted" flag;
    # TokenError: numpy's parser of a broken .npy header)
    errors = (OSError, ValueError, EOFError, KeyError, TypeError, IndexError, OverflowError,
              NotImplementedError, RuntimeError, SyntaxError, tokenize.TokenError,
              zipfile.BadZipFile, zlib.error, struct.error)
    try:
        z = np.load(path, allow_pickle=False)
    except PermissionError as exc:
        raise DataFormatError(path, f"cannot be read ({exc.strerror or exc}).",
                              "check the file's permissions.") from exc
    except errors as exc:
        raise DataFormatError(path, f"not a readable .npz ({type(exc).__name__}: {exc}).",
                              fix) from exc
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataFormatError(path, f"holds a single .npy array (shape {z.shape}), not an .npz "
                              "archive of named arrays.", fix)
    data: dict[str, np.ndarray] = {}
    try:
        with z:
            members = set(z.zip.namelist())
            for k in z.files:
                member = f"{k}.npy" if f"{k}.npy" in members else k
                size = z.zip.getinfo(member).file_size
                declared = _npy_declared_bytes(z, member)
                if declared is not None and declared > size:
                    raise DataFormatError(path, f"array '{k}' declares {declared} bytes but "
                                          f"its archive member holds {size}.", fix)
                value = z[k]
                if not isinstance(value, np.ndarray):
                    raise DataFormatError(path, f"member '{member}' is not a .npy array.", fix)
                data[k] = value
    except errors as exc:
        raise DataFormatError(path, f"not a readable .npz ({type(exc).__name__}: {exc}).",
                              fix) from exc
    missing = [k for k in required if k not in data]
    if missing:
        raise DataFormatError(path, f"lacks the array(s) {missing}.", fix)
    return data


def check_finite(arrays: dict[str, np.ndarray], path: str | Path,
                 keys: tuple[str, ...] | None = None) -> None:
    """Every float array (or those of `keys`) free of NaN and infinity: one NaN feature
    turns a readout's logits into NaN, and training then goes on silently at chance."""
    for key in keys if keys is not None else tuple(arrays):
        x = np.asarray(arrays[key])
        if not np.issubdtype(x.dtype, np.floating):
            continue
        n_nan, n_inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
        if n_nan or n_inf:
            what = " and ".join(t for t in (f"{n_nan} NaN" if n_nan else "",
                                            f"{n_inf} infinite" if n_inf else "") if t)
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise DataFormatError(path, f"{key} holds {what} values (the first at index "
                                  f"{first}).", "delete the file and rerun the rule that "
                                  "makes it; if they come back, the encoder's inputs or "
                                  "parameters are at fault.")


def check_binary(arrays: dict[str, np.ndarray], path: str | Path,
                 keys: tuple[str, ...] = tuple(f"x_{s}" for s in SPLITS)) -> None:
    """Frames are uint8 in {0, 1} (one bit per pixel or channel and time bin): anything
    else is not what the models and the energy model count as events."""
    for key in keys:
        x = np.asarray(arrays[key])
        if x.dtype != np.uint8:
            raise DataFormatError(path, f"{key} is {x.dtype}, not uint8 binary frames.",
                                  "rebuild the frames with `lsm data frames` (or the "
                                  "workflow's frames rule).")
        n_bad = int((x > 1).sum())
        if n_bad:
            raise DataFormatError(path, f"{key} holds {n_bad} values other than 0 and 1 "
                                  f"(max {int(x.max())}); frames must be binary.",
                                  "rebuild the frames with `lsm data frames` (or the "
                                  "workflow's frames rule).")


MAX_CLASSES = 4096  # class ids 0..4095: a larger id is a corrupt label, not a class
REBUILD = "rebuild it with the workflow (delete it and rerun the rule that makes it)."


def check_labels(arrays: dict[str, np.ndarray], path: str | Path) -> None:
    """Labels ``y_{split}`` are 1-D non-negative integers below :data:`MAX_CLASSES` (they
    index the classes), and every validation and test label is a training label: a class
    never trained on would be scored as an error of the model, not of the data."""
    for s in SPLITS:
        key = f"y_{s}"
        if key not in arrays:
            raise DataFormatError(path, f"lacks the array {key} (labels of the {s} split).",
                                  REBUILD)
        y = np.asarray(arrays[key])
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataFormatError(path, f"y_{s} is {y.dtype} of shape {y.shape}, not 1-D "
                                  "integer class labels.", "rebuild it with the workflow.")
        if y.size and int(y.min()) < 0:
            raise DataFormatError(path, f"y_{s} holds negative labels (min {int(y.min())}).",
                                  "rebuild it with the workflow.")
        if y.size and int(y.max()) >= MAX_CLASSES:
            raise DataFormatError(path, f"y_{s} holds the label {int(y.max())}, above the "
                                  f"largest class id {MAX_CLASSES - 1} (a corrupt label, not "
                                  "a class).", REBUILD)
    trained = set(np.unique(arrays["y_train"]).tolist())
    for s in SPLITS[1:]:
        extra = sorted(set(np.unique(arrays[f"y_{s}"]).tolist()) - trained)
        if extra:
            more = f" (and {len(extra) - 5} more)" if len(extra) > 5 else ""
            raise DataFormatError(path, f"y_{s} holds the class(es) {extra[:5]}{more}, which "
                                  "y_train lacks: a model cannot be selected or tested on a "
                                  "class it never trained on.", "rebuild the splits so that "
                                  "every class has training samples (with the workflow).")


_SHAPE_OF = {3: "frames [samples, time steps, channels]", 2: "features [samples, neurons]"}


def check_frames(data: dict[str, np.ndarray], path: str | Path, kind: str) -> None:
    """Binary 3-D frames with labels for every split, for a model `kind` that reads frames."""
    missing = [f"x_{s}" for s in SPLITS if f"x_{s}" not in data]
    if missing:
        frames = paths.FRAMES.format(dataset="<dataset>")
        raise DataFormatError(path, f"lacks the array(s) {missing} (kind {kind} reads "
                              "frames).", f"give it a frames file ({frames}).")
    check_splits(data, path)
    check_binary(data, path)


def check_splits(data: dict[str, np.ndarray], path: str | Path, x: str = "x_{split}",
                 ndim: int = 3) -> None:
    """The arrays a stage trains and tests on, or a :class:`DataFormatError` naming the
    array: labels as :func:`check_labels` says, and per split the inputs `x` (a name
    template: ``"x_{split}"`` for frames, ``"{split}_s0"`` for one seed's features)
    present, real numbers (integer or float, not complex, text or bool), `ndim`-D (3:
    frames, 2: features), finite, one per label, at least one sample, and the same shape
    of a sample in every split."""
    keys = {s: x.format(split=s) for s in SPLITS}
    missing = [k for k in keys.values() if k not in data]
    if missing:
        raise DataFormatError(path, f"lacks the array(s) {missing}.", REBUILD)
    check_finite(data, path, tuple(keys.values()))
    check_labels(data, path)
    for s, key in keys.items():
        a = np.asarray(data[key])
        if a.dtype == np.bool_ or not (np.issubdtype(a.dtype, np.integer)
                                       or np.issubdtype(a.dtype, np.floating)):
            what = {"U": "text", "S": "bytes", "c": "complex numbers", "b": "booleans",
                    "O": "Python objects"}.get(a.dtype.kind, "not numbers")
            raise DataFormatError(path, f"{key} is {a.dtype} ({what}), not real numbers "
                                  "(integers or floats).", REBUILD)
        if a.ndim != ndim:
            raise DataFormatError(path, f"{key} has shape {a.shape}, not {ndim}-D "
                                  f"{_SHAPE_OF.get(ndim, 'arrays')}.", REBUILD)
        n_y = int(np.asarray(data[f"y_{s}"]).shape[0])
        if a.shape[0] != n_y:
            raise DataFormatError(path, f"{key} holds {a.shape[0]} samples but y_{s} "
                                  f"{n_y} labels: every sample needs exactly one label.",
                                  REBUILD)
        if a.shape[0] == 0:
            raise DataFormatError(path, f"the {s} split is empty ({key} has shape "
                                  f"{a.shape}): nothing to train, select or test on.",
                                  "give every split samples (check the split settings and "
                                  "the dataset size) and rebuild it with the workflow.")
        first = np.asarray(data[keys["train"]])
        if a.shape[1:] != first.shape[1:]:
            raise DataFormatError(path, f"a sample of {key} has shape {a.shape[1:]}, but one "
                                  f"of {keys['train']} {first.shape[1:]}: every split must "
                                  "have the same time steps and channels (or neurons).",
                                  REBUILD)


def time_steps(data: dict[str, np.ndarray], path: str | Path) -> int:
    """The features' ``time_steps`` (rates divide by it), a positive integer."""
    t = np.asarray(data["time_steps"]) if "time_steps" in data else np.array(0)
    if t.shape != () or not np.issubdtype(t.dtype, np.integer) or int(t) < 1:
        raise DataFormatError(path, f"time_steps is {t!r}, not a positive integer.",
                              "encode the features again with the workflow.")
    return int(t)


def npz_meta(data: dict[str, np.ndarray], key: str) -> str:
    """A text field an .npz carries beside its arrays (data_source, generator_version),
    or "unknown"."""
    return str(data[key]) if key in data else "unknown"


VARIANT = {"gaussian": "software", "rram": "rram"}


def rram_params(encoder: dict[str, Any], rram: dict[str, Any] | None) -> RRAMParams:
    """Device parameters of an RRAM encoder: the rram block, with g_scale = const."""
    w = encoder["weights"]
    return RRAMParams(g_scale=w["const"], weight_bits=w["weight_bits"], **(rram or {}))


def reservoir_encoder(encoder: dict[str, Any], rram: dict[str, Any] | None = None
                      ) -> Callable[..., np.ndarray]:
    """A function ``(x, seed, device, stream) -> counts`` for the encoder's weight source;
    `stream` separates the read-noise draws of different splits."""
    lif = LIFParams(decay=encoder["decay"], v_th=encoder["v_th"])
    w = encoder["weights"]
    if w["source"] == "gaussian":
        src = GaussianWeightSource(const=w["const"], sigma_g=w["sigma_g"],
                                   mean_g=w["mean_g"], weight_bits=w["weight_bits"])

        def run_gaussian(x: np.ndarray, seed: int, device: str = "cpu", stream: int = 0
                         ) -> np.ndarray:
            weights = src.sample(x.shape[2], encoder["n_res"], seed)
            return encode(x, weights, lif, encoder["batch_size"], device)

        return run_gaussian
    if w["source"] == "rram":
        rsrc = RRAMWeightSource(rram_params(encoder, rram))

        def run_rram(x: np.ndarray, seed: int, device: str = "cpu", stream: int = 0
                     ) -> np.ndarray:
            chip = rsrc.program(x.shape[2], encoder["n_res"], seed)
            if rsrc.params.read_sigma > 0:  # independent read noise per split (`stream`)
                return chip.encode(x, lif, seed * 10 + stream, encoder["batch_size"])
            return encode(x, chip.weights(), lif, encoder["batch_size"], device)

        return run_rram
    raise ValueError(f"unknown weight source {w['source']!r}")


def encode_features(
    frames_path: str | Path, encoder: dict[str, Any], seeds: list[int], device: str,
    out_path: str | Path, provenance_path: str | Path, encoder_name: str = "",
    rram: dict[str, Any] | None = None, workload_path: str | Path | None = None,
    model: str = "LSM",
) -> dict[str, Any]:
    """Encode the train/val/test frames with one reservoir per seed.

    Output arrays: ``{split}_s{seed}`` float32 spike counts [N, R], ``y_{split}`` labels,
    ``time_steps``, and the metadata ``data_source`` and ``generator_version`` copied from
    the frames. With `workload_path`, also writes the workload metrics (measured on the
    test split) as a metrics document. Returns summary statistics.
    """
    req = tuple(f"{p}_{s}" for s in SPLITS for p in ("x", "y"))
    data = load_npz(frames_path, req)
    check_splits(data, frames_path)
    check_binary(data, frames_path)
    run = reservoir_encoder(encoder, rram)
    n_t = int(data["x_train"].shape[1])
    out: dict[str, np.ndarray] = {f"y_{s}": data[f"y_{s}"] for s in SPLITS}
    out["data_source"] = data.get("data_source", np.array("unknown"))
    out["generator_version"] = data.get("generator_version", np.array("unknown"))
    out["time_steps"] = np.array(n_t)
    stats: dict[str, Any] = {"n_in": int(data["x_train"].shape[2]), "time_steps": n_t,
                             "mean_spikes_per_neuron_step": {}}
    array = RRAMParams(**{k: v for k, v in (rram or {}).items() if k.startswith("array_")})
    records = []
    t0 = time.perf_counter()
    for seed in seeds:
        for k, s in enumerate(SPLITS, start=1):
            out[f"{s}_s{seed}"] = run(data[f"x_{s}"], seed, device, k)
        stats["mean_spikes_per_neuron_step"][seed] = float(out[f"train_s{seed}"].mean() / n_t)
        wl = workload(data["x_test"], out[f"test_s{seed}"], array)
        records += [{"seed": seed, "split": "test", "metric": k, "value": v,
                     "unit": WORKLOAD_UNITS[k]} for k, v in wl.items()]
        # the training samples' own event count: what training bills for their encoding
        # (the test split's count above is inference, and holds zero-shot unseen classes)
        wl_train = workload(data["x_train"], out[f"train_s{seed}"], array)
        records.append({"seed": seed, "split": "train", "metric": "train_effective_synops",
                        "value": wl_train["effective_synops"],
                        "unit": WORKLOAD_UNITS["effective_synops"]})
    stats["encode_seconds"] = time.perf_counter() - t0
    source = npz_meta(data, "data_source")
    wl_doc = None
    if workload_path:
        wl_doc = metrics_doc(
            experiment="workload", dataset=encoder["dataset"], model=model,
            # the encoder's name keeps apart encoders of one dataset and weight source
            # (the zero-shot encoders' consts differ from the supervised ones)
            variant=(f"{VARIANT[encoder['weights']['source']]} ({encoder_name})"
                     if encoder_name else VARIANT[encoder["weights"]["source"]]),
            data_source=source,
            selection="none", records=records, encoder=encoder_name)
    write_stage(StageResult(
        doc=wl_doc, arrays={"features": out},
        provenance=dict(params={"encoder": encoder_name, **encoder, "rram": rram}, seeds=seeds,
                        device=device, data_source=source,
                        generator_version=npz_meta(data, "generator_version"), stats=stats)),
        StageOutputs(provenance=provenance_path, metrics=workload_path or None,
                     arrays={"features": out_path}))
    return stats


TUNING_COLUMNS = ["run", "dataset", "model", "variant", "seed", "lr", "batch_size",
                  "val_accuracy", "best_epoch", "epochs_run", "eliminated_at", "chosen",
                  "data_source"]


def supervised_outputs(metrics: str | Path, curves: str | Path, confusion: str | Path,
                       provenance: str | Path, tuning: str | Path | None = None
                       ) -> StageOutputs:
    """Where :func:`supervised_run` writes (`tuning`: the grid's CSV, None: not written)."""
    return StageOutputs(provenance=provenance, metrics=metrics, curves=curves,
                        tables={"confusion": confusion, "tuning": tuning})


def load_supervised(input_path: str | Path, kind: str, seeds: Sequence[int]
                    ) -> dict[str, np.ndarray]:
    """The inputs of a supervised run, checked before any training: reservoir features of
    every seed (``{split}_s{seed}``, a features model) or binary frames (``x_{split}``)."""
    from lsm.models.registry import resolve_model

    data = load_npz(input_path, ("y_train", "y_val", "y_test"))
    check_labels(data, input_path)
    if resolve_model(kind).input != "features":
        check_frames(data, input_path, kind)
        return data
    for seed in seeds:
        for s in SPLITS:
            key = f"{s}_s{seed}"
            if key not in data:
                raise DataFormatError(input_path, f"has no features for seed {seed} "
                                      f"({key}).", "encode with the same seed list.")
        check_splits(data, input_path, f"{{split}}_s{seed}", ndim=2)
    return data


def supervised_run(input_path: str | Path, spec: SupervisedSpec, out: StageOutputs,
                   workload_path: str | Path | None = None) -> dict[str, Any]:
    """Load, fit (:func:`fit_supervised`), write (:func:`lsm.pipeline.spec.write_stage`):
    one supervised run. `input_path` holds reservoir features (a features model) or
    binary frames; `workload_path` the encoder's workload metrics (features models).
    Returns the metrics document."""
    data = load_supervised(input_path, spec.kind, spec.seeds)
    doc = write_stage(fit_supervised(data, input_path, spec, workload_path), out)
    assert doc is not None
    return doc


def fit_supervised(data: dict[str, np.ndarray], input_path: str | Path,
                   spec: SupervisedSpec, workload_path: str | Path | None = None
                   ) -> StageResult:
    """Train one model kind per seed; select on validation; evaluate test once.

    `spec.tuning` (``{"grid": {"lr": [...], "batch_size": [...]}}``, the same for every
    run): the grid's points are trained on the first seed and the point with the best
    validation accuracy (ties: the first in grid order) trains every seed; the grid, each
    point's validation result and the choice go to the ``tuning`` table and the
    provenance. The test split is not read until every choice is made.

    Returns per-seed metrics (accuracy and the training cost of :mod:`lsm.models.cost`),
    learning curves, the test confusion matrix summed over seeds, the tuning table and the
    provenance, for :func:`lsm.pipeline.spec.write_stage`.
    """
    import pandas as pd

    from lsm.models.registry import resolve_model

    kind, params, seeds, lab = spec.kind, dict(spec.params), list(spec.seeds), spec.labels
    train, tuning, feature_scale = dict(spec.train), spec.tuning, spec.feature_scale
    cls = resolve_model(kind)
    # from the labels training may see (train, val): the test split feeds no choice
    n_classes = int(max(data["y_train"].max(), data["y_val"].max()) + 1)
    records, curves = [], []
    n_conf = max(n_classes, int(data["y_test"].max()) + 1)  # for reporting only
    confusion = np.zeros((n_conf, n_conf), dtype=np.int64)

    def inputs(seed: int) -> dict[str, np.ndarray]:
        if cls.input != "features":
            return {s: data[f"x_{s}"] for s in SPLITS}
        t = float(time_steps(data, input_path))
        return {s: (data[f"{s}_s{seed}"] / t if feature_scale == "rates"
                    else data[f"{s}_s{seed}"]) for s in SPLITS}

    def fit(seed: int, train_cfg: dict[str, Any]):
        xs = inputs(seed)
        if cls.input == "features":
            dense, events = encode_cost(workload_path, seed, n_enc)
            m = cls(train=train_cfg, encode_macs_dense=dense, encode_macs_events=events,
                    **params)
        else:
            m = cls(train=train_cfg, **params)
        # train and validation only: the test split is read after every choice is made
        return m.fit(xs["train"], data["y_train"], xs["val"], data["y_val"], n_classes, seed)

    # the one-time encoding is billed for the training samples only, as the trainable
    # models' cost counts training passes only (neither side bills its validation passes);
    # encoding the test split is inference, reported in its own metric
    n_enc = int(data["y_train"].shape[0])
    grid = tuning_grid(dict(tuning) if tuning is not None else None)
    tuning_rows, fitted_first = [], None
    if grid:
        min_epochs, eta = halving_setting(tuning)
        if min_epochs:
            from lsm.models.tuning import chosen_index, successive_halving

            outcomes = successive_halving(grid, lambda point: fit(seeds[0], {**train, **point}),
                                          min_epochs=min_epochs, eta=eta)
            chosen = chosen_index(outcomes)
            fitted_first = outcomes[chosen].result
            results = [(o.best_val_acc, o.best_epoch, o.epochs_run, o.eliminated_at)
                       for o in outcomes]
        else:  # the full grid: every point to its own end
            fits = [fit(seeds[0], {**train, **point}) for point in grid]
            # strict: ties keep the first point in grid order
            chosen = max(range(len(fits)), key=lambda i: (fits[i].best_val_acc, -i))
            fitted_first = fits[chosen]
            results = [(f.best_val_acc, f.best_epoch, len(f.val_curve), None) for f in fits]
            del fits  # the other points' models are not needed
        for i, (point, (val, best_epoch, run, eliminated)) in enumerate(zip(grid, results,
                                                                          strict=True)):
            tuning_rows.append({"run": lab.run, "dataset": lab.dataset, "model": lab.model,
                                "variant": lab.variant, "seed": seeds[0], **point,
                                "val_accuracy": val, "best_epoch": best_epoch,
                                "epochs_run": run, "eliminated_at": eliminated,
                                "chosen": i == chosen,
                                "data_source": npz_meta(data, "data_source")})
        train = {**train, **grid[chosen]}
    for seed in seeds:
        fitted = (fitted_first if fitted_first is not None and seed == seeds[0]
                  else fit(seed, train))
        xs = inputs(seed)
        pred = fitted.predict(xs["test"])
        np.add.at(confusion, (data["y_test"], pred), 1)
        chance = 100.0 / n_classes
        records += [
            {"seed": seed, "split": "test", "metric": "accuracy", "unit": "%", "chance": chance,
             "value": float((pred == data["y_test"]).mean() * 100.0)},
            {"seed": seed, "split": "val", "metric": "accuracy", "unit": "%", "chance": chance,
             "value": fitted.best_val_acc},
            {"seed": seed, "split": "train", "metric": "best_epoch", "unit": "epoch",
             "value": fitted.best_epoch},
            {"seed": seed, "split": "train", "metric": "epochs_run", "unit": "epoch",
             "value": len(fitted.val_curve)},
            *fitted.cost.records(seed),
            *({"seed": seed, "split": "train", "metric": k, "unit": "", "value": float(v)}
              for k, v in fitted.extra.items() if isinstance(v, int | float)),
        ]
        if cls.input == "features" and workload_path:
            dense, events = encode_cost(workload_path, seed, int(data["y_test"].shape[0]),
                                         split="test")
            records += [{"seed": seed, "split": "test", "metric": "inference_encode_macs_dense",
                         "unit": "MACs", "value": dense},
                        {"seed": seed, "split": "test", "metric": "inference_encode_macs_events",
                         "unit": "ACs", "value": events}]
        curves += [{"seed": seed, "epoch": e + 1, "val_accuracy": v, "train_loss": loss}
                   for e, (v, loss) in enumerate(zip(fitted.val_curve, fitted.train_loss,
                                                     strict=True))]
    source = npz_meta(data, "data_source")
    doc = metrics_doc(experiment="supervised", dataset=lab.dataset, model=lab.model,
                      variant=lab.variant, data_source=source, selection="val",
                      records=records, run=lab.run, kind=kind)
    return StageResult(
        doc=doc, curves=curves, indexed=("confusion",),
        tables={"confusion": pd.DataFrame(confusion),
                "tuning": pd.DataFrame(tuning_rows, columns=TUNING_COLUMNS)},
        provenance=dict(
            params={"run": lab.run, "kind": kind, "params": params, "train": train,
                    "feature_scale": feature_scale,
                    "tuning": {"grid": grid, "tune_seed": seeds[0] if grid else None,
                               "halving": (tuning or {}).get("halving") if grid else None,
                               "epoch_cap": train.get("epochs"),
                               "patience": train.get("patience"),
                               "chosen": next(({k: r[k] for k in grid[0]} for r in tuning_rows
                                               if r["chosen"]), None)}},
            seeds=seeds, data_source=source,
            generator_version=npz_meta(data, "generator_version")))


def crossbar_variability(
    frames_path: str | Path, encoder: dict[str, Any], rram: dict[str, Any],
    readout: dict[str, Any], axes: dict[str, list[float]], seeds: list[int], *,
    dataset: str, metrics_path: str | Path, rows_path: str | Path,
    provenance_path: str | Path, encoder_name: str = "",
) -> Any:
    """Run :func:`lsm.reservoir.variability.sweep`; write metrics, per-seed rows, provenance."""
    import pandas as pd

    from lsm.reservoir.variability import as_metric_records, sweep

    data = load_npz(frames_path, tuple(f"{p}_{s}" for s in SPLITS for p in ("x", "y")))
    check_splits(data, frames_path)
    check_binary(data, frames_path)
    lif = LIFParams(decay=encoder["decay"], v_th=encoder["v_th"])
    base = rram_params(encoder, rram)
    rows = sweep(data, lif, base, encoder["n_res"], TrainConfig(**readout), axes, seeds,
                 encoder["batch_size"])
    n_classes = int(max(data["y_train"].max(), data["y_test"].max()) + 1)
    source = npz_meta(data, "data_source")
    df = pd.DataFrame(rows)
    write_stage(StageResult(
        doc=metrics_doc(experiment="variability", dataset=dataset, model="LSM-RRAM",
                        variant="", data_source=source, selection="val",
                        records=as_metric_records(rows, n_classes)),
        tables={"rows": df},
        provenance=dict(params={"encoder": encoder_name, **encoder, "rram": rram,
                                "readout": readout, "axes": axes}, seeds=seeds,
                        data_source=source,
                        generator_version=npz_meta(data, "generator_version"))),
        StageOutputs(provenance=provenance_path, metrics=metrics_path,
                     tables={"rows": rows_path}))
    return df
