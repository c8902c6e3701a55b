"""Configuration: schema validation and cross-reference checks.

The schema (`workflow/schemas/config.schema.yaml`) is the single source of truth for
keys, types, defaults and descriptions; Snakemake validates against it before any job
starts, and so does :func:`load_config` for use outside Snakemake.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from lsm.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"

DATA_HELP = {
    "nmnist": "remove data_dir to let the workflow download N-MNIST through tonic "
              "(needs internet), or download Train.zip and Test.zip from "
              "https://www.garrickorchard.com/datasets/n-mnist and extract them so that "
              "data_dir holds Train/ and Test/.",
    "ntidigits": "remove data_dir to let the workflow download n-tidigits.hdf5 "
                 "(md5-checked; needs internet), or point it at the folder holding that file.",
    "willett": "download handwritingBCIData.tar.gz from Dryad (doi:10.5061/dryad.wh70rxwmv), "
               "extract Datasets/t5.2019.05.08/singleLetters.mat and point willett_dir at "
               "its folder.",
    "emnist": "remove emnist_dir to download EMNIST (md5-checked), or point it at the folder "
              "holding emnist-letters-{train,test}-{images-idx3,labels-idx1}-ubyte.",
}

# Simulated sizes at (at least) the paper's scale (paper.md §2): used with paper_size.
PAPER_SIM_SIZES = {
    "nmnist": {"n_train_per_class": 400, "n_test_per_class": 100},
    "ntidigits": {"n_train_speakers": 112, "n_test_speakers": 113},
    "bmi": {},
}


def simulation_params(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """The simulate block of dataset `name`, with paper sizes applied if asked."""
    sim = copy.deepcopy(cfg["datasets"][name]["simulate"])
    if cfg.get("paper_size"):
        sim.update(PAPER_SIM_SIZES[name])
    return sim


def _set_defaults(schema: dict, inst: Any, root: dict) -> None:
    """Fill in schema defaults recursively (as Snakemake's validate does)."""
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = root["$defs"][name]
    if not isinstance(inst, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in inst and "default" in sub:
            inst[key] = copy.deepcopy(sub["default"])
        if key in inst:
            _set_defaults(sub, inst[key], root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in inst:
            if key not in schema.get("properties", {}):
                _set_defaults(extra, inst[key], root)


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate against the schema (filling defaults), then check cross references."""
    import jsonschema

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    cfg = copy.deepcopy(config)
    _set_defaults(schema, cfg, schema)
    try:
        jsonschema.validate(cfg, schema)
    except jsonschema.ValidationError as exc:
        key = "/".join(str(p) for p in exc.absolute_path) or "<top level>"
        raise ConfigError(key, exc.message, "see workflow/schemas/config.schema.yaml.") from exc
    cfg["zeroshot"] = expand_window_scans(cfg.get("zeroshot", {}))
    check_references(cfg)
    return cfg


def expand_window_scans(experiments: dict[str, Any]) -> dict[str, Any]:
    """Replace every experiment with ``unseen_window_scan: w`` by one experiment per window
    of w consecutive classes (seen + unseen, in ascending order) held out as unseen."""
    out = {}
    for name, zs in experiments.items():
        w = zs.get("unseen_window_scan")
        if not w:
            out[name] = zs
            continue
        classes = sorted({*zs["seen"], *zs["unseen"]}, key=lambda v: class_ids([v])[0])
        if w >= len(classes) - 1:
            raise ConfigError(f"zeroshot/{name}/unseen_window_scan",
                              f"a window of {w} leaves fewer than 2 of {len(classes)} classes "
                              "seen.", "use a smaller window.")
        for i in range(len(classes) - w + 1):
            window = classes[i : i + w]
            tag = "".join(str(c) for c in window)
            out[f"{name}_unseen_{tag}"] = {
                **copy.deepcopy(zs), "unseen_window_scan": None, "unseen": window,
                "seen": [c for c in classes if c not in window]}
    return out


def load_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), f"cannot read YAML ({exc}).") from exc
    return validate_config(raw)


def check_references(cfg: dict[str, Any], base: Path | None = None) -> None:
    """Names must resolve (run -> encoder -> dataset; run -> readout), and a real dataset's
    configured data_dir must exist. Raises ConfigError naming the key and the fix."""
    datasets, encoders = cfg.get("datasets", {}), cfg.get("encoders", {})
    readouts = cfg.get("readouts", {})
    frames = frame_names(datasets)
    for name, enc in encoders.items():
        if enc["dataset"] not in frames:
            raise ConfigError(f"encoders/{name}/dataset",
                              f"unknown frames '{enc['dataset']}'.",
                              f"use one of {sorted(frames)}.")
    for name, run in cfg.get("supervised", {}).get("runs", {}).items():
        if run["kind"] == "lsm_readout" and run.get("encoder") not in encoders:
            raise ConfigError(f"supervised/runs/{name}/encoder",
                              f"unknown encoder '{run.get('encoder')}'.",
                              f"use one of {sorted(encoders)}.")
        if run["kind"] != "lsm_readout" and run.get("dataset") not in datasets:
            raise ConfigError(f"supervised/runs/{name}/dataset",
                              f"unknown dataset '{run.get('dataset')}'.",
                              f"use one of {sorted(datasets)}.")
        if run["readout"] not in readouts:
            raise ConfigError(f"supervised/runs/{name}/readout",
                              f"unknown readout '{run['readout']}'.",
                              f"use one of {sorted(readouts)}.")
    var = cfg.get("variability", {})
    if var.get("encoder"):
        if var["encoder"] not in encoders:
            raise ConfigError("variability/encoder", f"unknown encoder '{var['encoder']}'.",
                              f"use one of {sorted(encoders)}.")
        if var["readout"] not in readouts:
            raise ConfigError("variability/readout", f"unknown readout '{var['readout']}'.",
                              f"use one of {sorted(readouts)}.")
    for name, zs in cfg.get("zeroshot", {}).items():
        _check_zeroshot(f"zeroshot/{name}", zs, frames, encoders, readouts)
    for name, ds in datasets.items():
        if ds["source"] != "real":
            continue
        for key, help_key in (("data_dir", name), ("willett_dir", "willett"),
                              ("emnist_dir", "emnist")):
            if not ds.get(key):
                continue
            d = Path(ds[key])
            if not d.is_absolute() and base is not None:
                d = base / d
            if not d.is_dir():
                raise ConfigError(f"datasets/{name}/{key}",
                                  f"folder '{ds[key]}' does not exist.",
                                  DATA_HELP.get(help_key, "point it at the extracted dataset."))


def _check_zeroshot(key: str, zs: dict[str, Any], frames: list[str], encoders: dict,
                    readouts: dict) -> None:
    """Cross references of one zero-shot experiment (see the schema's zeroshot_experiment)."""
    q, g = zs["query"], zs["gallery"]
    for side in ("query", "gallery"):
        if zs[side]["frames"] not in frames:
            raise ConfigError(f"{key}/{side}/frames", f"unknown frames '{zs[side]['frames']}'.",
                              f"use one of {sorted(frames)}.")
    if q["name"] == g["name"]:
        raise ConfigError(f"{key}/gallery/name", "query and gallery share a name.",
                          "give the two modalities different tags (e.g. a and i).")
    both = sorted(set(class_ids(zs["seen"])) & set(class_ids(zs["unseen"])))
    if both:
        raise ConfigError(f"{key}/unseen", f"classes {both} are also seen.",
                          "make the seen and unseen lists disjoint.")
    directions = (f"{q['name']}2{g['name']}", f"{g['name']}2{q['name']}")
    if select_direction(zs) not in directions:
        raise ConfigError(f"{key}/select/direction",
                          f"'{zs['select']['direction']}' is not a direction of this pair.",
                          f"use one of {list(directions)}.")
    for name, run in zs["runs"].items():
        rk = f"{key}/runs/{name}"
        if run["train"] not in readouts:
            raise ConfigError(f"{rk}/train", f"unknown readout '{run['train']}'.",
                              f"use one of {sorted(readouts)}.")
        for side in ("query", "gallery"):
            if run["kind"] == "lsm":
                enc = run.get("encoders", {}).get(side)
                if enc not in encoders:
                    raise ConfigError(f"{rk}/encoders/{side}", f"unknown encoder '{enc}'.",
                                      f"use one of {sorted(encoders)}.")
                if encoders[enc]["dataset"] != zs[side]["frames"]:
                    raise ConfigError(f"{rk}/encoders/{side}",
                                      f"encoder '{enc}' reads '{encoders[enc]['dataset']}', "
                                      f"but the {side} side is '{zs[side]['frames']}'.",
                                      "use an encoder of that dataset.")
            elif side not in run.get("srnn", {}):
                raise ConfigError(f"{rk}/srnn/{side}", "missing (kind srnn needs both sides).",
                                  "give const (and n_res, decay, v_th) for query and gallery.")
    for i, r in enumerate(zs["cost_ratios"]):
        for end in ("numerator", "denominator"):
            run = zs["runs"].get(r[end])
            if run is None:
                raise ConfigError(f"{key}/cost_ratios/{i}/{end}", f"unknown run '{r[end]}'.",
                                  f"use one of {sorted(zs['runs'])}.")
            field = "denominator_proj_dim" if (end == "denominator" and
                                               r.get("denominator_proj_dim")) else "proj_dim"
            if r[field] not in run["proj_dims"]:
                raise ConfigError(f"{key}/cost_ratios/{i}/{field}",
                                  f"run '{r[end]}' does not train pd={r[field]}.",
                                  f"use one of {run['proj_dims']}.")


def class_ids(values: list[int | str]) -> list[int]:
    """Class labels from config: integers as they are, letters a-z as 0-25."""
    return [ord(v) - ord("a") if isinstance(v, str) else int(v) for v in values]


def frame_names(datasets: dict[str, Any]) -> list[str]:
    """Names of the frame files the datasets give (results/frames/<name>.npz): one per
    dataset, but two for bmi (neural trials and letter images)."""
    out = []
    for name in datasets:
        out += ["bmi_neural", "bmi_letters"] if name == "bmi" else [name]
    return out


def select_direction(zs: dict[str, Any]) -> str:
    """The selection direction of a zero-shot experiment (default: query to gallery)."""
    return zs["select"].get("direction") or f"{zs['query']['name']}2{zs['gallery']['name']}"
