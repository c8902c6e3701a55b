"""The ``lsm`` command line (also ``python -m lsm``).

Data and table steps of the workflow are plain commands (they need no notebook); each
prints a clear error naming the file or key and exits non-zero on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lsm.errors import LSMBenchError


def _json_of(kind: type, name: str):
    """An argparse type: JSON text that must decode to `kind` (dict or list)."""
    def parse(text: str):
        try:
            val = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc
        if not isinstance(val, kind):
            raise argparse.ArgumentTypeError(f"expected a JSON {name}")
        return val

    return parse


_json_arg = _json_of(dict, "object")
_json_list = _json_of(list, "list")


def _fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1 (a validation fraction)."""
    try:
        v = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0.0 < v < 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, not {text}")
    return v


def _int_in(lo: int, hi: int, what: str):
    """An argparse type: an integer in ``lo..hi``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be in {lo}..{hi}, not {v}")
        return v

    return parse


_seed_arg = _int_in(0, 2**32 - 1, "a seed")
_workers_arg = _int_in(1, 1024, "the number of worker processes")


def cmd_info(args: argparse.Namespace) -> int:
    from lsm.datasets.info import info

    print(json.dumps(info(args.path), indent=2, sort_keys=True))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from lsm.datasets.info import show

    show(args.path, args.out, args.index)
    print(f"wrote {args.out}")
    return 0


_SEED_MAX = 2**32 - 1


def _build(cls: type, fields: object, arg: str):
    """``cls(**fields)`` for a frozen dataclass, its refusals (an unknown field, a value
    out of range) turned into one error naming the command-line argument."""
    import dataclasses

    if not isinstance(fields, dict):
        raise LSMBenchError(f"{arg}: expected a JSON object of {cls.__name__} fields, not "
                            f"{json.dumps(fields)}.")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in fields if k not in names]
    if unknown:
        raise LSMBenchError(f"{arg}: unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"{cls.__name__} takes {', '.join(names)}.")
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise LSMBenchError(f"{arg}: {exc}") from exc


def _sim_params(kind: str, p: dict) -> tuple[list[int], int, str]:
    """The sizes and seed of `lsm data simulate <kind>` checked: every required key,
    no unknown one, integers within the config schema's bounds."""
    from lsm.datasets.catalog import DATASETS

    sizes, block = DATASETS[kind].sim_sizes, DATASETS[kind].sim_block
    required = [*sizes, "seed"]
    usage = (f"`lsm data simulate {kind}` needs {', '.join(required)} (and optionally "
             f"{block}).")
    missing = [k for k in required if k not in p]
    if missing:
        raise LSMBenchError(f"--params: missing key(s) {', '.join(map(repr, missing))}; "
                            + usage)
    unknown = [k for k in p if k not in (*required, block)]
    if unknown:
        raise LSMBenchError(f"--params: unknown key(s) {', '.join(map(repr, unknown))}; "
                            + usage)
    bounds = {**sizes, "seed": (0, _SEED_MAX)}
    for k, (lo, hi) in bounds.items():
        v = p[k]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise LSMBenchError(f"--params: {k} must be an integer in {lo}..{hi}, not "
                                f"{json.dumps(v)}.")
    return [p[k] for k in sizes], p["seed"], block


def cmd_simulate(args: argparse.Namespace) -> int:
    from lsm.datasets.catalog import DATASETS, resolve

    spec = DATASETS[args.kind]
    p = dict(args.params)
    (n_train, n_test), seed, block = _sim_params(args.kind, p)
    params = _build(resolve(spec.sim_params), p.get(block, {}), f"--params: {block}")
    m = resolve(spec.simulator)(args.out, n_train, n_test, seed, params, workers=args.workers)
    print(json.dumps({k: v for k, v in m.items() if k.startswith(("n_", "events", "mean"))}))
    return 0


def cmd_frames(args: argparse.Namespace) -> int:
    from lsm import atomic
    from lsm.datasets.catalog import DATASETS, resolve
    from lsm.errors import ConfigError

    spec = DATASETS[args.kind]
    if not (spec.frames_fn and spec.prep):  # a dataset with its own frames command
        raise ConfigError(f"lsm data frames {args.kind}", f"{spec.title} has no single-file "
                          "frames step (its modalities are built together).",
                          f"use `lsm data {args.kind}-frames` (the workflow's frames rule).")
    root = spec.locate(args.root)  # a tonic cache (NMNIST/, NTIDIGITS18/) is read in place
    prep = _build(resolve(spec.prep), args.prep, "--prep")
    # the folder, or the file inside it the descriptor names (a file given as is)
    path = root / spec.input_file if spec.input_file and root.is_dir() else root
    man = atomic.checked_manifest(path if spec.input_file is None else path.parent)
    data = resolve(spec.frames_fn)(path, prep, args.val_fraction, args.split_seed)
    atomic.write_npz(
        args.out, **data, prep=np.array(json.dumps(prep.to_dict())),
        data_source=np.array(man.get("data_source", "real")),
        generator_version=np.array(man.get("generator_version", "none (real data)")))
    print(json.dumps({k: list(v.shape) for k, v in data.items()}))
    return 0


def cmd_bmi_frames(args: argparse.Namespace) -> int:
    from lsm import atomic
    from lsm.datasets.bmi import BMISplit, LetterPrep, letter_frames, neural_frames

    split = _build(BMISplit, args.split, "--split")
    prep = _build(LetterPrep, args.prep, "--prep")
    man = atomic.checked_manifest(Path(args.mat).parent)  # simulated: as listed
    meta = {"data_source": np.array(man.get("data_source", "real")),
            "generator_version": np.array(man.get("generator_version", "none (real data)")),
            "split": np.array(json.dumps(split.to_dict()))}
    # both computed before either is written: a bad EMNIST leaves no neural output behind
    neural = neural_frames(args.mat, split)
    letters = letter_frames(args.emnist, prep, split)
    atomic.write_npz(args.out_neural, **neural, **meta)
    atomic.write_npz(args.out_letters, **letters, **meta,
                     prep=np.array(json.dumps(prep.to_dict())))
    print(json.dumps({k: list(v.shape) for d in (neural, letters) for k, v in d.items()
                      if k.startswith("x_")}))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from lsm.datasets import fetch

    print(f"wrote {fetch.fetch(args.kind, args.out, args.params)}")
    return 0


def cmd_plot_cost_ratio(args: argparse.Namespace) -> int:
    import pandas as pd

    from lsm.errors import DataFormatError
    from lsm.results import plots
    from lsm.results.contract import read_metrics, variant_label
    from lsm.results.paper import paper_value
    from lsm.results.ratios import check_specs, ratio_curve, ratio_docs

    docs = [read_metrics(p) for p in args.metrics]
    specs = check_specs(args.ratios)
    by_run = {d["run"]: d for d in docs if isinstance(d.get("run"), str)}
    curves, paper, sources = {}, {}, set()
    for spec, rdoc in zip(specs, ratio_docs(docs, specs, list(args.metrics)), strict=True):
        num, den = by_run[spec["numerator"]], by_run[spec["denominator"]]
        pd_ = next((r["pd"] for r in rdoc["records"] if "pd" in r), None)
        name = f"{rdoc['model']} ({variant_label(rdoc['variant'], pd_)})"
        try:
            curves[name] = pd.DataFrame(ratio_curve(num, den, spec["proj_dim"],
                                                    spec.get("denominator_proj_dim")))
        except ValueError as exc:
            raise DataFormatError(args.metrics[0], str(exc), "rerun the zero-shot runs with "
                                  "this version (their records need cost_epochs).") from exc
        v = paper_value(rdoc["experiment"], rdoc["dataset"], rdoc["model"], rdoc["variant"],
                        pd_, "train", "ratio_total_macs_dense")
        if v is not None:
            paper[name] = v
        sources.add(rdoc["data_source"])
    plots.cost_ratio_vs_epochs(curves, paper, args.title, "+".join(sorted(sources)), args.out)
    print(f"wrote {args.out} ({len(curves)} ratios)")
    return 0


def cmd_tuning(args: argparse.Namespace) -> int:
    from lsm.results.contract import tuning_table

    df = tuning_table(args.tuning, args.out, args.epoch_cap, args.patience,
                      (args.halving_min_epochs, args.halving_eta))
    print(f"wrote {args.out} ({len(df)} grid points) and {Path(args.out).with_suffix('.md')}")
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    from lsm.results.contract import aggregate, read_metrics, write_table

    docs = [read_metrics(p) for p in args.metrics]
    paths: list[str] = list(args.metrics)
    if args.ratios is not None:
        from lsm.results.ratios import ratio_docs

        ratios = ratio_docs(docs, args.ratios, paths)
        docs += ratios
        paths += [f"--ratios/{i}" for i in range(len(ratios))]
    df = aggregate(docs, timing=args.timing, paths=paths)
    if args.only:
        df = df[df["metric"].isin(args.only.split(","))].reset_index(drop=True)
    write_table(df, args.out, args.title, args.caption)
    print(f"wrote {args.out} ({len(df)} rows) and {Path(args.out).with_suffix('.md')}")
    return 0


def cmd_plot_cost(args: argparse.Namespace) -> int:
    from lsm.errors import DataFormatError
    from lsm.results import plots
    from lsm.results.contract import read_table

    acc, cost = read_table(args.accuracy), read_table(args.cost)
    for path, df, what in ((args.accuracy, acc, (acc.split == "test")
                            & (acc.metric == "accuracy")),
                           (args.cost, cost, cost.metric == "total_macs_events")):
        if not (what & (df.dataset == args.dataset)).any():
            raise DataFormatError(path, f"has no rows of dataset '{args.dataset}' to plot "
                                  f"(datasets: {sorted(set(df.dataset.astype(str)))}).",
                                  "pass the table of that dataset's runs, or another "
                                  "--dataset.")
    plots.accuracy_vs_cost(acc, cost, args.dataset, args.out)
    print(f"wrote {args.out}")
    return 0


def cmd_plot_zeroshot(args: argparse.Namespace) -> int:
    from lsm.errors import DataFormatError
    from lsm.results.contract import read_table
    from lsm.zeroshot import plots as plots_retrieval

    table, cost = read_table(args.table), read_table(args.cost)
    if not (table.metric == args.metric).any():
        raise DataFormatError(args.table, f"has no rows of metric '{args.metric}' to plot "
                              f"(metrics: {sorted(set(table.metric.astype(str)))[:10]}).",
                              "pass the zero-shot table, or a --metric it holds.")
    if not (cost.metric == "total_macs_events").any():
        raise DataFormatError(args.cost, "has no rows of metric 'total_macs_events' to plot.",
                              "pass the zero-shot training-cost table.")
    plots_retrieval.accuracy_vs_pd(table, args.metric, args.out_pd)
    plots_retrieval.accuracy_vs_cost(table, cost, args.metric, args.out_cost)
    print(f"wrote {args.out_pd} and {args.out_cost}")
    return 0


def cmd_energy(args: argparse.Namespace) -> int:
    from lsm.energy import plots as plots_energy
    from lsm.energy.model import check_systems, energy_table, load_constants
    from lsm.errors import ConfigError
    from lsm.results.contract import write_table
    from lsm.results.paper import PAPER_ENERGY_RATIO
    from lsm.results.plots import write_figure

    consts = load_constants(args.constants, args.overrides)
    systems = check_systems(args.systems)
    paths: dict[str, str] = {}
    for i, item in enumerate(args.workloads):
        name, eq, path = item.partition("=")
        if not eq or not name or not path:
            raise ConfigError(f"--workloads/{i}", f"'{item}' is not encoder=path.json.",
                              "give each workload file as <encoder name>=<path>.")
        if name in paths and paths[name] != path:
            raise ConfigError(f"--workloads/{i}", f"encoder '{name}' is given twice "
                              f"({paths[name]} and {path}).", "give each encoder once.")
        paths[name] = path
    df, docs, workloads = energy_table(systems, paths, consts)
    caption = args.caption
    if args.measured:
        import pandas as pd

        from lsm.energy.gpu import read_measured
        from lsm.results.contract import COLUMNS

        m = read_measured(args.measured)
        if "skipped" in m:
            print(f"measured GPU baseline skipped: {m['skipped']}")
            caption += f" Measured GPU baseline (NVML): not measured ({m['skipped']})."
        else:
            rows = [{"experiment": "energy", "dataset": m["dataset"], "model": m["encoder"],
                     "variant": f"measured {m['device']} batch {b}", "split": "test",
                     "metric": "energy_per_inference", "mean": v["joules_per_inference"] / 1e-9,
                     "std": 0.0, "n_seeds": 1, "paper": float("nan"),
                     "data_source": m["data_source"], "selection": "none",
                     "chance": float("nan"), "unit": "nJ"} for b, v in m["batches"].items()]
            df = pd.concat([df, pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
            caption += " Measured GPU rows: NVML energy counter around a timed loop."
    chosen = [(f"{s['dataset']} {s['label']}", by_seed[min(by_seed)], s["head_macs"],
               PAPER_ENERGY_RATIO.get((s["dataset"], s["label"])))
              for s, by_seed in zip(systems, workloads, strict=True)
              if s.get("sensitivity") and by_seed]
    sources = sorted({d["data_source"] for d in docs}) or ["real"]
    # everything computed and the figure drawn before any output is written
    images = plots_energy.sensitivity_images(chosen, consts, "+".join(sources))
    write_table(df, args.out, "Energy per inference: RRAM crossbar against digital hardware",
                caption)
    write_figure(images, args.fig)
    print(f"wrote {args.out} ({len(df)} rows) and {args.fig} (+ .svg)")
    return 0


def cmd_gpu_energy(args: argparse.Namespace) -> int:
    from lsm import atomic
    from lsm.energy import gpu as gpu_energy

    reason = gpu_energy.why_not()
    if reason:
        print(f"measured GPU energy skipped: {reason}")
        atomic.write_json(args.out, {"skipped": reason})
        return 0
    from lsm.errors import DataFormatError
    from lsm.pipeline.stages import check_binary, load_npz

    data = load_npz(args.frames, ("x_test",))
    x = data["x_test"]
    if x.ndim != 3 or x.shape[0] == 0:
        raise DataFormatError(args.frames, f"x_test has shape {x.shape}, not non-empty 3-D "
                              "frames [samples, time steps, channels].",
                              "rebuild it with the workflow.")
    check_binary(data, args.frames, ("x_test",))
    res = gpu_energy.measure(x[:1024], args.encoder)
    res.update(encoder=args.name, dataset=args.encoder["dataset"],
               data_source=str(data.get("data_source", "unknown")))
    atomic.write_json(args.out, res)
    print(json.dumps(res))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lsm import atomic
    from lsm.results.report import build_report

    out = Path(args.out)
    atomic.write_text(out, build_report(args.tables, args.figures or [], out.parent))
    print(f"wrote {out}")
    return 0


def cmd_html(args: argparse.Namespace) -> int:
    from lsm.results.html import build_html

    out = Path(args.out)
    build_html(Path(args.report), [Path(t) for t in args.tables],
               [Path(f) for f in args.figures], [Path(n) for n in args.notebooks], out,
               Path(args.notebooks_dir), Path(args.results_dir) if args.results_dir else None)
    print(f"wrote {out} ({len(args.tables)} tables, {len(args.figures)} figures, "
          f"{len(args.notebooks)} notebooks)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from lsm.config import load_config

    load_config(args.config)
    print(f"{args.config}: valid")
    return 0


def cmd_notebook(args: argparse.Namespace) -> int:
    from lsm.pipeline.runner import run_notebook

    run_notebook(args.src, args.out, [tuple(r) for r in args.parameters_raw],
                 args.parameters_yaml, args.kernel)
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from lsm.pipeline.runner import recover

    done = recover(args.directory)
    if done:
        print(done)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from lsm import __version__
    from lsm.datasets.catalog import DATASETS  # light: names and bounds only

    ap = argparse.ArgumentParser(prog="lsm", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version",
                    version=f"lsm-bench {__version__} (Python {sys.version.split()[0]})")
    sub = ap.add_subparsers(dest="group", required=True)

    data = sub.add_parser("data", help="datasets: info, simulate, frames, fetch")
    dsub = data.add_subparsers(dest="cmd", required=True)
    p = dsub.add_parser("info", help="print a JSON summary of a data file or folder")
    p.add_argument("path")
    p.set_defaults(func=cmd_info)
    p = dsub.add_parser("show", help="draw frames, a cochleagram, a raster or a montage")
    p.add_argument("path")
    p.add_argument("--out", required=True, help="output image (.png)")
    p.add_argument("--index", type=int, default=0, help="which sample")
    p.set_defaults(func=cmd_show)
    p = dsub.add_parser("simulate", help="write a simulated dataset in the real format")
    p.add_argument("kind", choices=list(DATASETS))
    p.add_argument("--out", required=True)
    p.add_argument("--params", type=_json_arg, required=True,
                   help="sizes and seed (JSON), as the config's datasets.<kind>.simulate")
    p.add_argument("--workers", type=_workers_arg, default=None)
    p.set_defaults(func=cmd_simulate)
    p = dsub.add_parser("frames", help="events -> binary frames with train/val/test split")
    p.add_argument("kind", choices=[n for n, d in DATASETS.items() if d.frames_fn])
    p.add_argument("--root", required=True)
    p.add_argument("--prep", type=_json_arg, required=True)
    p.add_argument("--val-fraction", type=_fraction, required=True,
                   help="part of the training data held out for validation, in (0, 1)")
    p.add_argument("--split-seed", type=_seed_arg, required=True,
                   help="seed of the validation split (0..2**32-1)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_frames)

    p = dsub.add_parser("bmi-frames", help="Willett trials + EMNIST letters -> binary frames")
    p.add_argument("--mat", required=True, help="singleLetters.mat")
    p.add_argument("--emnist", required=True, help="folder of the EMNIST letters IDX files")
    p.add_argument("--prep", type=_json_arg, required=True, help="LetterPrep fields (JSON)")
    p.add_argument("--split", type=_json_arg, required=True, help="BMISplit fields (JSON)")
    p.add_argument("--out-neural", required=True)
    p.add_argument("--out-letters", required=True)
    p.set_defaults(func=cmd_bmi_frames)

    p = dsub.add_parser("fetch", help="download a real dataset (needs internet)")
    p.add_argument("kind", choices=["nmnist", "ntidigits", "emnist", "willett"])
    p.add_argument("--out", required=True)
    p.add_argument("--params", type=_json_arg, default=None, help="URLs and checksums")
    p.set_defaults(func=cmd_fetch)

    res = sub.add_parser("results", help="tables from metrics files")
    rsub = res.add_subparsers(dest="cmd", required=True)
    p = rsub.add_parser("aggregate", help="metrics JSON files -> long CSV + Markdown")
    p.add_argument("metrics", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--caption", default="")
    p.add_argument("--only", default="", help="comma-separated metrics to keep (default: all)")
    p.add_argument("--timing", action="store_true",
                   help="keep only the wall-clock records (machine-dependent), not the rest")
    p.add_argument("--ratios", type=_json_list, default=None,
                   help="JSON list of {numerator, denominator, proj_dim} run names: adds "
                        "per-seed training-cost ratio rows")
    p.set_defaults(func=cmd_aggregate)

    p = rsub.add_parser("plot-cost-ratio", help="training-cost ratios against epochs")
    p.add_argument("metrics", nargs="+")
    p.add_argument("--ratios", type=_json_list, required=True,
                   help="JSON list of {numerator, denominator, proj_dim} run names")
    p.add_argument("--title", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_plot_cost_ratio)

    p = rsub.add_parser("tuning", help="per-run tuning CSVs -> one tuning table (CSV + MD)")
    p.add_argument("tuning", nargs="*")
    p.add_argument("--out", required=True)
    p.add_argument("--epoch-cap", type=int, required=True)
    p.add_argument("--patience", type=int, required=True)
    p.add_argument("--halving-min-epochs", type=int, default=0,
                   help="the first rung of successive halving (0: none)")
    p.add_argument("--halving-eta", type=int, default=2)
    p.set_defaults(func=cmd_tuning)

    p = rsub.add_parser("plot-zeroshot",
                        help="zero-shot figures: accuracy against pd and against cost")
    p.add_argument("--table", required=True, help="the zero-shot retrieval table (CSV)")
    p.add_argument("--cost", required=True, help="the zero-shot training-cost table (CSV)")
    p.add_argument("--metric", required=True, help="e.g. a2i_top1_dot")
    p.add_argument("--out-pd", required=True)
    p.add_argument("--out-cost", required=True)
    p.set_defaults(func=cmd_plot_zeroshot)

    p = rsub.add_parser("plot-cost", help="accuracy against training cost, one dataset")
    p.add_argument("--accuracy", required=True, help="the supervised accuracy table (CSV)")
    p.add_argument("--cost", required=True, help="the training-cost table (CSV)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_plot_cost)

    p = rsub.add_parser("report", help="the reproduction report, from the tables only")
    p.add_argument("--tables", nargs="+", required=True)
    p.add_argument("--figures", nargs="*", default=[])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_report)
    p = rsub.add_parser("html", help="results/report.html: report, tables, figures, notebooks")
    p.add_argument("--report", required=True, help="report.md")
    p.add_argument("--tables", nargs="*", default=[], help="table CSVs (their .md is shown)")
    p.add_argument("--figures", nargs="*", default=[], help="summary figures (PNG)")
    p.add_argument("--notebooks", nargs="*", default=[], help="executed notebooks")
    p.add_argument("--notebooks-dir", required=True, help="where their HTML pages go")
    p.add_argument("--results-dir", default=None, help="results/ (default: --out's folder)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_html)

    en = sub.add_parser("energy", help="energy model")
    esub = en.add_subparsers(dest="cmd", required=True)
    p = esub.add_parser("table", help="energy per inference and ratios from workload metrics")
    p.add_argument("--systems", type=_json_list, required=True,
                   help="JSON list of {dataset, label, encoders, head_macs, sensitivity}")
    p.add_argument("--workloads", nargs="+", required=True, help="encoder=path.json ...")
    p.add_argument("--constants", required=True, help="config/energy.yaml")
    p.add_argument("--overrides", type=_json_arg, default=None, help='{"rram.e_adc": 3.0}')
    p.add_argument("--caption", default="")
    p.add_argument("--out", required=True)
    p.add_argument("--fig", required=True, help="the sensitivity figure (.png)")
    p.add_argument("--measured", default=None, help="lsm energy gpu output (JSON)")
    p.set_defaults(func=cmd_energy)

    p = esub.add_parser("gpu", help="measured GPU energy (NVML) of one encoder; skips "
                                    "with the reason where no CUDA GPU exists")
    p.add_argument("--frames", required=True)
    p.add_argument("--encoder", type=_json_arg, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_gpu_energy)

    p = sub.add_parser("notebook", help="run a stage notebook (papermill); bad input "
                                        "gives a one-line error, not a cell traceback")
    p.add_argument("src", help="the notebook to run")
    p.add_argument("out", help="where the executed copy goes")
    p.add_argument("-r", "--parameters-raw", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a string parameter (as papermill -r)")
    p.add_argument("-y", "--parameters-yaml", default=None,
                   help="a YAML/JSON mapping of parameters (as papermill -y)")
    p.add_argument("-k", "--kernel", default="python3")
    p.set_defaults(func=cmd_notebook)

    wf = sub.add_parser("workflow", help="the Snakemake workflow")
    wsub = wf.add_subparsers(dest="cmd", required=True)
    p = wsub.add_parser("recover", help="after a killed run: remove the stale lock unless "
                                        "a snakemake still runs in that directory")
    p.add_argument("--directory", default=".", help="the workflow's working directory")
    p.set_defaults(func=cmd_recover)

    cfg = sub.add_parser("config", help="configuration")
    csub = cfg.add_subparsers(dest="cmd", required=True)
    p = csub.add_parser("validate", help="validate a config file against the schema")
    p.add_argument("config")
    p.set_defaults(func=cmd_validate)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LSMBenchError as exc:
        print(f"lsm: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output folder that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lsm: error: {where}{exc.strerror or exc}. Fix: check the path and its "
              "permissions.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lsm: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
