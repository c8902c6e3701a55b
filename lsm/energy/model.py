r"""Energy per inference of a frozen LSM encoder on the RRAM crossbar against digital
hardware running the same reservoir, from *measured* operation counts.

Per sample, with C inputs, R neurons, T steps and the workload metrics of
:mod:`lsm.reservoir.workload` (measured on the test split; ``rows`` = input events + spikes, every
one of which activates one crossbar row for one step):

RRAM (energies in J; constants in ``config/energy.yaml``)::

    E_rows  = rows * e_row                              # 1-bit DAC / wordline pulse per active row
    E_cells = rows * (c * R) * V^2 G t                  # cell reads, c cells per signed weight
    E_adc   = T * k * R * e_adc                         # k conversions per neuron per step
    E_lif   = T * R * e_lif                             # digital LIF update per neuron per step
    E_heads = head_MACs * e_mac(heads)                  # digital projection / readout heads

(the ADC term assumes a conversion every step, an upper bound when a step has no active row.)

Digital, ``dense`` (GPU / systolic ASIC; weight fetch from the smallest memory level the
INT8 weights fit in, where the baseline says so)::

    E = T (C + R) R * (e_op + e_fetch) + T R e_lif + head_MACs * e_op

Digital, ``events`` (event-driven SNN chip; e_op per synaptic op)::

    E = effective_synops * e_op + T R e_lif + head_MACs * e_mac(heads)

The ratio is E_digital / E_RRAM. Nothing here is fitted to the paper's 23.34x / 160x; the
choice of baseline moves the ratio by two orders of magnitude, which the sensitivity
figure shows.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lsm.errors import ConfigError, DataFormatError
from lsm.reservoir.workload import read_workload

WORKLOAD_METRICS = ("dense_synops", "weights", "membrane_updates", "effective_synops")
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "energy.schema.yaml"
PJ = 1e-12
_UNIT = {"pJ": 1e-12, "fJ": 1e-15, "V": 1.0, "uS": 1e-6, "ns": 1e-9, "count": 1.0}


def load_constants(path: str | Path, overrides: dict[str, float] | None = None
                   ) -> dict[str, Any]:
    """Read and validate the constants file; apply ``{"rram.e_adc": 3.0, ...}`` overrides
    (values in the constant's own unit), then validate again.

    A missing, unreadable or non-mapping file is a :class:`DataFormatError`; a file the
    schema refuses a :class:`ConfigError` keyed ``<path>: <where>``; an override that
    names no constant, or gives a value the schema refuses, a :class:`ConfigError` keyed
    ``energy/overrides/<key>``."""
    path = Path(path)
    fix = "point energy/constants at a constants file like config/energy.yaml."
    if not path.is_file():
        raise DataFormatError(path, "the energy constants file does not exist." if not
                              path.exists() else "is a folder, not the energy constants "
                              "file.", fix)
    try:
        consts = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, RecursionError) as exc:
        raise DataFormatError(path, f"cannot read the energy constants ({exc}).", fix) from exc
    if not isinstance(consts, dict):
        what = "nothing" if consts is None else f"a {type(consts).__name__}"
        raise DataFormatError(path, f"holds {what}, not a mapping of energy constants "
                              "(rram, heads, memory, baselines).", fix)
    schema = yaml.safe_load(SCHEMA.read_text())
    _validate(consts, schema, path, {})
    consts = copy.deepcopy(consts)
    where: dict[tuple[str, ...], str] = {}  # the node each override set -> its key
    for key, value in (overrides or {}).items():
        node: Any = consts
        parts = str(key).split(".")
        for p in parts[:-1]:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        leaf = node.get(parts[-1]) if isinstance(node, dict) else None
        at = tuple(parts)
        if isinstance(leaf, dict) and "e_op" in leaf:
            leaf, at = leaf["e_op"], (*at, "e_op")
        if not isinstance(leaf, dict) or "value" not in leaf:
            raise ConfigError(f"energy/overrides/{key}", "names no constant.",
                              f"use a dotted path into {path}, e.g. rram.e_adc.")
        leaf["value"] = value
        where[at] = str(key)
    _validate(consts, schema, path, where)
    return consts


def _validate(consts: dict[str, Any], schema: dict[str, Any], path: Path,
              overridden: dict[tuple[str, ...], str]) -> None:
    import jsonschema

    try:
        jsonschema.validate(consts, schema)
    except jsonschema.ValidationError as exc:
        at = tuple(str(p) for p in exc.absolute_path)
        for node, key in overridden.items():
            if at[:len(node)] == node:
                raise ConfigError(f"energy/overrides/{key}", f"{exc.message} (in {path}: "
                                  f"{'/'.join(at)}).", "give a value the constant allows "
                                  f"(see {SCHEMA.relative_to(SCHEMA.parents[2])}).") from exc
        raise ConfigError(f"{path}: {'/'.join(at) or '<top level>'}", exc.message,
                          f"see {SCHEMA.relative_to(SCHEMA.parents[2])}.") from exc


def _si(c: dict[str, Any]) -> float:
    return float(c["value"]) * _UNIT[c["unit"]]


@dataclass(frozen=True)
class Workload:
    """Per-sample operation counts of one encoder (from :func:`lsm.reservoir.workload.workload`)."""

    n_in: int
    n_res: int
    time_steps: int
    effective_synops: float
    rows: float

    @classmethod
    def from_metrics(cls, m: dict[str, float]) -> Workload:
        n_t = round(m["dense_synops"] / m["weights"])
        n_res = round(m["membrane_updates"] / n_t)
        n_in = round(m["weights"] / n_res) - n_res
        return cls(n_in, n_res, n_t, m["effective_synops"], m["effective_synops"] / n_res)

    @classmethod
    def checked(cls, m: dict[str, float], path: str | Path, seed: int) -> Workload:
        """:meth:`from_metrics`, or a :class:`DataFormatError` naming the file, the seed
        and the metric: a metric missing, not positive, or counts that no reservoir of
        whole sizes gives (dense_synops = T (C + R) R, weights = (C + R) R,
        membrane_updates = T R)."""
        fix = "delete it and rerun the encode rule that writes it."
        missing = [k for k in WORKLOAD_METRICS if k not in m]
        if missing:
            raise DataFormatError(path, f"lacks the workload metric(s) {missing} for seed "
                                  f"{seed}.", fix)
        for k in WORKLOAD_METRICS:
            low = k == "effective_synops"  # no events at all: a count of 0
            if not (m[k] >= 0 if low else m[k] > 0):
                raise DataFormatError(path, f"workload metric '{k}' of seed {seed} is {m[k]}, "
                                      f"not a {'non-negative' if low else 'positive'} count.",
                                      fix)
        n_t = round(m["dense_synops"] / m["weights"])
        n_res = round(m["membrane_updates"] / n_t) if n_t >= 1 else 0
        n_in = round(m["weights"] / n_res) - n_res if n_res >= 1 else 0
        consistent = n_t >= 1 and n_res >= 1 and n_in >= 1 and all(
            math.isclose(a, b, rel_tol=1e-9) for a, b in (
                (m["weights"], (n_in + n_res) * n_res), (m["membrane_updates"], n_t * n_res),
                (m["dense_synops"], n_t * (n_in + n_res) * n_res)))
        if not consistent:
            raise DataFormatError(path, f"the workload counts of seed {seed} (dense_synops "
                                  f"{m['dense_synops']:g}, weights {m['weights']:g}, "
                                  f"membrane_updates {m['membrane_updates']:g}) fit no "
                                  "reservoir of whole sizes (dense_synops = T (C + R) R, "
                                  "weights = (C + R) R, membrane_updates = T R).", fix)
        return cls.from_metrics(m)

    @property
    def dense_macs(self) -> float:
        return float(self.time_steps * (self.n_in + self.n_res) * self.n_res)

    @property
    def neuron_steps(self) -> float:
        return float(self.time_steps * self.n_res)


def rram_energy(w: Workload, consts: dict[str, Any], head_macs: float = 0.0
                ) -> dict[str, float]:
    """Breakdown (J per sample) of the encoder on the crossbar plus digital heads."""
    r = consts["rram"]
    e_cell = _si(r["v_read"]) ** 2 * _si(r["g_cell"]) * _si(r["t_read"])
    return {
        "rows": w.rows * _si(r["e_row"]),
        "cells": w.rows * _si(r["cells_per_weight"]) * w.n_res * e_cell,
        "adc": w.neuron_steps * _si(r["conversions_per_neuron_step"]) * _si(r["e_adc"]),
        "lif": w.neuron_steps * _si(r["e_lif"]),
        "heads": head_macs * _si(consts["heads"]["e_mac"]),
    }


def weight_fetch(w: Workload, consts: dict[str, Any]) -> float:
    """Energy (J) of fetching one INT8 weight from the smallest memory level that holds
    all (C + R) R weights."""
    size = (w.n_in + w.n_res) * w.n_res  # bytes at INT8
    m = consts["memory"]
    for limit, level in ((8 * 1024, "sram_8kb"), (32 * 1024, "sram_32kb"),
                         (1024 * 1024, "sram_1mb")):
        if size <= limit:
            return _si(m[level])
    return _si(m["dram"])


def digital_energy(w: Workload, consts: dict[str, Any], baseline: str,
                   head_macs: float = 0.0) -> float:
    """J per sample of the reservoir (and heads) on one digital baseline."""
    b = consts["baselines"][baseline]
    e_op = _si(b["e_op"])
    lif = w.neuron_steps * _si(consts["rram"]["e_lif"])
    if b["kind"] == "dense":
        fetch = weight_fetch(w, consts) if b.get("weight_fetch") else 0.0
        return w.dense_macs * (e_op + fetch) + lif + head_macs * e_op
    return w.effective_synops * e_op + lif + head_macs * _si(consts["heads"]["e_mac"])


def system_records(workloads: list[dict[str, float]], consts: dict[str, Any],
                   head_macs: float, seed: int) -> list[dict[str, Any]]:
    """Results-contract records of one system (one or two encoders + heads) and seed:
    RRAM energy with its breakdown, and per baseline the digital energy and the ratio.
    Energies in nJ per inference."""
    ws = [Workload.from_metrics(m) for m in workloads]
    parts: dict[str, float] = {}
    for k, wl in enumerate(ws):
        for name, e in rram_energy(wl, consts, head_macs if k == 0 else 0.0).items():
            parts[name] = parts.get(name, 0.0) + e
    e_rram = sum(parts.values())
    if not e_rram > 0:
        raise ConfigError("energy/overrides", "the RRAM energy per inference comes to 0 J "
                          "(every RRAM and head constant that counts is 0), so no ratio "
                          "exists.", "give rram.e_adc, rram.e_lif or rram.e_row a positive "
                          "value.")
    recs = [{"seed": seed, "split": "test", "metric": f"rram_{name}_energy", "unit": "nJ",
             "value": e / 1e-9, "variant": "rram"} for name, e in parts.items()]
    recs.append({"seed": seed, "split": "test", "metric": "energy_per_inference",
                 "unit": "nJ", "value": e_rram / 1e-9, "variant": "rram"})
    for b in consts["baselines"]:
        e_dig = sum(digital_energy(wl, consts, b, head_macs if k == 0 else 0.0)
                    for k, wl in enumerate(ws))
        if not e_dig > 0:
            raise ConfigError(f"energy/overrides/baselines.{b}", "the baseline's energy per "
                              "inference comes to 0 J (its e_op and rram.e_lif are 0), a "
                              "ratio of 0 that no log axis shows.",
                              "give its e_op (or rram.e_lif) a positive value.")
        recs += [{"seed": seed, "split": "test", "metric": "energy_per_inference",
                  "unit": "nJ", "value": e_dig / 1e-9, "variant": b},
                 {"seed": seed, "split": "test", "metric": "energy_ratio", "unit": "x",
                  "value": e_dig / e_rram, "variant": b}]
    return recs


FC_LAYERS = {"linear": 1, "OneFC": 1, "TwoFC": 2, "ThreeFC": 3}


def fc_head_macs(kind: str, n_in: int, pd: int) -> int:
    """MACs of one projection head (torch-free twin of lsm.zeroshot.contrastive.head_macs, so the
    workflow can count them without importing torch; a test keeps the two equal)."""
    return n_in * pd + (FC_LAYERS[kind] - 1) * pd * pd


def check_systems(systems: Any, key: str = "--systems") -> list[dict[str, Any]]:
    """The systems the energy table compares, or a :class:`ConfigError` naming the item
    and the field: a list of {dataset, label, encoders (a non-empty list of names),
    head_macs (a finite number >= 0), sensitivity (optional, true or false)}."""
    from lsm.results.contract import is_number

    fix = ('give a JSON list of {"dataset", "label", "encoders": [names], "head_macs", '
           '"sensitivity"} (the workflow builds it from the config).')
    if not isinstance(systems, list) or not systems:
        raise ConfigError(key, "is not a non-empty list of systems.", fix)
    for i, s in enumerate(systems):
        at = f"{key}/{i}"
        if not isinstance(s, dict):
            raise ConfigError(at, f"is {s!r}, not an object.", fix)
        for field in ("dataset", "label"):
            if not isinstance(s.get(field), str):
                raise ConfigError(f"{at}/{field}", f"is {s.get(field)!r}, not text.", fix)
        enc = s.get("encoders")
        if (not isinstance(enc, list) or not enc
                or not all(isinstance(e, str) and e for e in enc)):
            raise ConfigError(f"{at}/encoders", f"is {enc!r}, not a non-empty list of "
                              "encoder names.", fix)
        if not is_number(s.get("head_macs")) or s["head_macs"] < 0:
            raise ConfigError(f"{at}/head_macs", f"is {s.get('head_macs')!r}, not a "
                              "number of MACs (finite, at least 0).", fix)
        if not isinstance(s.get("sensitivity", False), bool):
            raise ConfigError(f"{at}/sensitivity", f"is {s['sensitivity']!r}, not true or "
                              "false.", fix)
    return systems


def energy_table(systems: list[dict[str, Any]], workload_paths: dict[str, str],
                 consts: dict[str, Any]
                 ) -> tuple[Any, list[dict[str, Any]], list[dict[int, list[Workload]]]]:
    """Aggregate (mean ± std over seeds) energy rows of every system, beside the paper's
    ratios. Returns the table, the per-system documents and, per system, its encoders'
    workloads by seed (for the sensitivity figure). Systems are checked
    (:func:`check_systems`), an encoder without a workload file is a
    :class:`ConfigError`, a bad workload file a :class:`DataFormatError`."""
    from lsm.results.contract import aggregate, metrics_doc
    from lsm.results.paper import PAPER_ENERGY_RATIO

    check_systems(systems)
    read: dict[str, tuple[dict[int, dict[str, float]], str]] = {}
    docs, workloads = [], []
    for i, s in enumerate(systems):
        per_enc = []
        for enc in s["encoders"]:
            if enc not in workload_paths:
                raise ConfigError(f"--systems/{i}/encoders", f"encoder '{enc}' has no "
                                  f"workload file in --workloads (given: "
                                  f"{sorted(workload_paths)}).",
                                  f"add {enc}=results/metrics/workload/{enc}.json.")
            path = Path(workload_paths[enc])
            if enc not in read:
                read[enc] = read_workload(path)
            per_seed, source = read[enc]
            per_enc.append((per_seed, source, path))
        seeds = sorted(set.intersection(*(set(p) for p, _, _ in per_enc)))
        if not seeds:
            raise DataFormatError(per_enc[0][2], f"shares no seed with the other workload "
                                  f"file(s) of system '{s['label']}' ("
                                  f"{[str(p) for _, _, p in per_enc[1:]]}).",
                                  "encode every encoder with the same seed list.")
        by_seed = {seed: [Workload.checked(p[seed], path, seed) for p, _, path in per_enc]
                   for seed in seeds}
        records = []
        for seed in seeds:
            records += system_records([p[seed] for p, _, _ in per_enc], consts,
                                      s["head_macs"], seed)
        workloads.append(by_seed)
        docs.append(metrics_doc(
            experiment="energy", dataset=s["dataset"], model=s["label"], variant="",
            data_source="+".join(sorted({src for _, src, _ in per_enc})), selection="none",
            records=records))
    df = aggregate(docs)
    for (dataset, label), value in PAPER_ENERGY_RATIO.items():
        hit = (df.dataset == dataset) & (df.model == label) & (df.metric == "energy_ratio")
        df.loc[hit, "paper"] = value
    return df, docs, workloads
