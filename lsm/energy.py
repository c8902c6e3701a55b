r"""Energy per inference of a frozen LSM encoder on the RRAM crossbar against digital
hardware running the same reservoir, from *measured* operation counts.

Per sample, with C inputs, R neurons, T steps and the workload metrics of
:mod:`lsm.workload` (measured on the test split; ``rows`` = input events + spikes, every
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lsm.errors import ConfigError, DataFormatError

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "energy.schema.yaml"
PJ = 1e-12
_UNIT = {"pJ": 1e-12, "fJ": 1e-15, "V": 1.0, "uS": 1e-6, "ns": 1e-9, "count": 1.0}


def load_constants(path: str | Path, overrides: dict[str, float] | None = None
                   ) -> dict[str, Any]:
    """Read and validate the constants file; apply ``{"rram.e_adc": 3.0, ...}`` overrides
    (values in the constant's own unit), then validate again."""
    import jsonschema

    path = Path(path)
    try:
        consts = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DataFormatError(path, f"cannot read the energy constants ({exc}).") from exc
    consts = copy.deepcopy(consts)
    for key, value in (overrides or {}).items():
        node = consts
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        leaf = node.get(parts[-1]) if isinstance(node, dict) else None
        if isinstance(leaf, dict) and "e_op" in leaf:
            leaf = leaf["e_op"]
        if not isinstance(leaf, dict) or "value" not in leaf:
            raise ConfigError(f"energy/overrides/{key}", "names no constant.",
                              f"use a dotted path into {path}, e.g. rram.e_adc.")
        leaf["value"] = value
    schema = yaml.safe_load(SCHEMA.read_text())
    try:
        jsonschema.validate(consts, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "<top level>"
        raise ConfigError(f"{path}: {where}", exc.message,
                          f"see {SCHEMA.relative_to(SCHEMA.parents[2])}.") from exc
    return consts


def _si(c: dict[str, Any]) -> float:
    return float(c["value"]) * _UNIT[c["unit"]]


@dataclass(frozen=True)
class Workload:
    """Per-sample operation counts of one encoder (from :func:`lsm.workload.workload`)."""

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
    recs = [{"seed": seed, "split": "test", "metric": f"rram_{name}_energy", "unit": "nJ",
             "value": e / 1e-9, "variant": "rram"} for name, e in parts.items()]
    recs.append({"seed": seed, "split": "test", "metric": "energy_per_inference",
                 "unit": "nJ", "value": e_rram / 1e-9, "variant": "rram"})
    for b in consts["baselines"]:
        e_dig = sum(digital_energy(wl, consts, b, head_macs if k == 0 else 0.0)
                    for k, wl in enumerate(ws))
        recs += [{"seed": seed, "split": "test", "metric": "energy_per_inference",
                  "unit": "nJ", "value": e_dig / 1e-9, "variant": b},
                 {"seed": seed, "split": "test", "metric": "energy_ratio", "unit": "x",
                  "value": e_dig / e_rram, "variant": b}]
    return recs


FC_LAYERS = {"linear": 1, "OneFC": 1, "TwoFC": 2, "ThreeFC": 3}


def fc_head_macs(kind: str, n_in: int, pd: int) -> int:
    """MACs of one projection head (torch-free twin of lsm.contrastive.head_macs, so the
    workflow can count them without importing torch; a test keeps the two equal)."""
    return n_in * pd + (FC_LAYERS[kind] - 1) * pd * pd


def energy_table(systems: list[dict[str, Any]], workload_paths: dict[str, str],
                 consts: dict[str, Any]
                 ) -> tuple[Any, list[dict[str, Any]], list[dict[int, list[Workload]]]]:
    """Aggregate (mean ± std over seeds) energy rows of every system, beside the paper's
    ratios. Returns the table, the per-system documents and, per system, its encoders'
    workloads by seed (for the sensitivity figure)."""
    import json

    from lsm.paper import PAPER_ENERGY_RATIO
    from lsm.results import aggregate, metrics_doc

    docs, workloads = [], []
    for s in systems:
        per_enc = []
        for enc in s["encoders"]:
            path = Path(workload_paths[enc])
            try:
                doc = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise DataFormatError(path, f"cannot read workload metrics ({exc}).",
                                      "rerun the encode rule.") from exc
            per_seed: dict[int, dict[str, float]] = {}
            for r in doc["records"]:
                per_seed.setdefault(r["seed"], {})[r["metric"]] = r["value"]
            per_enc.append((per_seed, doc["data_source"]))
        seeds = sorted(set.intersection(*(set(p) for p, _ in per_enc)))
        records = []
        for seed in seeds:
            records += system_records([p[seed] for p, _ in per_enc], consts,
                                      s["head_macs"], seed)
        workloads.append({seed: [Workload.from_metrics(p[seed]) for p, _ in per_enc]
                          for seed in seeds})
        docs.append(metrics_doc(
            experiment="energy", dataset=s["dataset"], model=s["label"], variant="",
            data_source="+".join(sorted({src for _, src in per_enc})), selection="none",
            records=records))
    df = aggregate(docs)
    for (dataset, label), value in PAPER_ENERGY_RATIO.items():
        hit = (df.dataset == dataset) & (df.model == label) & (df.metric == "energy_ratio")
        df.loc[hit, "paper"] = value
    return df, docs, workloads
