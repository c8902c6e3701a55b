# Shared set-up: config validation (before any job starts), path helpers, targets.
import json
import shlex
from pathlib import Path

from lsm.config import (
    class_ids,
    load_yaml_strict,
    select_direction,
    simulation_params,
    validate_config,
)
from lsm.ratios import RATIO_METRICS
from lsm.protocol import (
    BUDGET_KEYS,
    halving_setting,
    protocol_caption,
    run_budgets,
    zeroshot_encoder_caption,
)

# Notebooks live at the repository root, not under the working directory, so that
# `--directory .test` still finds them (G5).
REPO = Path(workflow.current_basedir).parents[1]

# The config is validated before any job, by the same function as `lsm config validate`:
# the schema with its defaults, strict YAML (a duplicate key is an error, not "last one
# wins"), no quote or control character in any value, cross references, existing data
# folders; zero-shot window scans are expanded. The jobs see exactly this dict, and
# results/config.json records it.
for _f in [*workflow.configfiles, *workflow.overwrite_configfiles]:
    load_yaml_strict(_f)
_validated = validate_config(dict(config))
config.clear()
config.update(_validated)


def nb_path(name):
    """Absolute path of a notebook in notebooks/ (G5)."""
    return str(REPO / "notebooks" / name)


def as_json(obj):
    """Compact JSON for papermill -y or CLI --params: JSON is YAML and never wraps (G6).
    Shell lines quote it with `:q`, like every other value that reaches a shell."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def shell_args(*args):
    """Pre-quoted shell arguments, for a params value used unquoted: an empty string
    stays an argument (`:q` leaves an empty value out)."""
    return shlex.join(str(a) for a in args)


def parent(path):
    return str(Path(path).parent)


def as_path(path):
    """A user path as a command argument: a relative one starting with '-' gets './' so
    that no command reads it as an option."""
    return f"./{path}" if str(path).startswith("-") else str(path)


def dataset_cfg(name):
    return config["datasets"][name]


def sim_params(name):
    """The simulate block of a dataset, with paper sizes applied when paper_size is set."""
    return simulation_params(config, name)


def dataset_root(name):
    """Folder the frames step reads (N-MNIST: Train/ and Test/; N-TIDIGITS: the .hdf5)."""
    ds = dataset_cfg(name)
    if ds["source"] == "simulated":
        return f"resources/datasets/{name}/simulated"
    if ds.get("data_dir"):
        return as_path(ds["data_dir"])
    return {"nmnist": "resources/datasets/nmnist/real/NMNIST"}.get(
        name, f"resources/datasets/{name}/real"
    )


def dataset_input(name):
    """Input of the frames step (a manifest written by a job, or the user folder)."""
    ds = dataset_cfg(name)
    if ds["source"] == "simulated":
        return f"resources/datasets/{name}/simulated/MANIFEST.json"
    if ds.get("data_dir"):
        return as_path(ds["data_dir"])
    return f"resources/datasets/{name}/real/MANIFEST.json"


def bmi_paths():
    """(singleLetters.mat, EMNIST folder, files the jobs wait for) of the BMI dataset."""
    ds = dataset_cfg("bmi")
    if ds["source"] == "simulated":
        base = "resources/datasets/bmi/simulated"
        return f"{base}/singleLetters.mat", f"{base}/emnist", [f"{base}/MANIFEST.json"]
    wdir = as_path(ds.get("willett_dir") or "resources/datasets/bmi/real/willett")
    edir = as_path(ds.get("emnist_dir") or "resources/datasets/bmi/real/emnist")
    mat = f"{wdir}/singleLetters.mat"
    return mat, edir, [mat, f"{edir}/emnist-letters-test-labels-idx1-ubyte"]


def bmi_emnist_dir(image_fonts):
    """The folder of the BMI letter images whose fonts follow `image_fonts` (disjoint or
    mixed); the simulator writes both sets (lsm.sim.bmi_dataset.IMAGE_SETS), real EMNIST
    is one."""
    mat, emnist_dir, _ = bmi_paths()
    if dataset_cfg("bmi")["source"] != "simulated":
        return emnist_dir
    from lsm.sim.bmi_dataset import IMAGE_SETS

    return "{}/{}".format(parent(mat), next(f for f, r in IMAGE_SETS.items() if r == image_fonts))


def bmi_generator_version():
    from lsm.sim.bmi_dataset import GENERATOR_VERSION

    return GENERATOR_VERSION


def qc_inputs():
    """Every dataset's files, for the dataset QC notebook."""
    files = []
    for name in ("nmnist", "ntidigits"):
        if name in config["datasets"]:
            files.append(dataset_input(name))
    if "bmi" in config["datasets"]:
        files += bmi_paths()[2]
    return files


def qc_params():
    p = {"nmnist_root": "", "ntidigits_path": "", "willett_path": "", "emnist_dir": ""}
    if "nmnist" in config["datasets"]:
        p["nmnist_root"] = dataset_root("nmnist")
    if "ntidigits" in config["datasets"]:
        p["ntidigits_path"] = str(Path(dataset_root("ntidigits"), "n-tidigits.hdf5"))
    if "bmi" in config["datasets"]:
        p["willett_path"], p["emnist_dir"], _ = bmi_paths()
    return p


def run_cfg(run):
    return config["supervised"]["runs"][run]


def dataset_of_run(run):
    r = run_cfg(run)
    if r["kind"] == "lsm_readout":
        return config["encoders"][r["encoder"]]["dataset"]
    return r["dataset"]


def supervised_priority(run):
    """Longest first (LPT on two cores): the BPTT baselines take minutes, readouts seconds."""
    return {"rnn": 3, "srnn": 2}.get(run_cfg(run)["kind"], 1)


def run_input(run):
    """Features of the run's encoder (lsm_readout) or the dataset's frames."""
    r = run_cfg(run)
    if r["kind"] == "lsm_readout":
        return f"results/features/{r['encoder']}.npz"
    return f"results/frames/{r['dataset']}.npz"


def run_workload(run):
    r = run_cfg(run)
    if r["kind"] == "lsm_readout":
        return [f"results/metrics/workload/{r['encoder']}.json"]
    return []


def supervised_datasets():
    return sorted({dataset_of_run(r) for r in config["supervised"]["runs"]})


TABLES = {
    "supervised": (
        "Supervised classification accuracy",
        protocol_caption(config) + " Epoch selected on a validation split carved from "
        "train; test evaluated once.",
    ),
    "training_cost": (
        "Training cost of the supervised models",
        "training MACs = one-time encoding of the training samples by a frozen encoder "
        "plus, over the epochs trained, N_train x (forward and backward) of the trainable "
        "part, backward = 2 x forward, BPTT through all T steps. Two counts: dense MACs on "
        "both sides (total_macs_dense), and event-driven operations on both sides "
        "(total_macs_events: accumulates per input event or spike, measured; non-spiking "
        "layers dense). Also trainable parameters and optimizer steps; wall-clock is in "
        "timing.csv.",
    ),
    "workload": (
        "Reservoir workload (NeuroBench vocabulary)",
        "Per test sample: effective synaptic operations (accumulates of an event-driven "
        "reservoir), dense MACs, activation sparsity, firing rate; static footprint in "
        "weights, RRAM cells (two per weight) and 512x512 arrays.",
    ),
    "variability": (
        "RRAM crossbar variability",
        "Test accuracy of a linear readout under device non-idealities (one axis at a "
        "time): trained on the ideal chip, or variability-aware (trained on the non-ideal "
        "chip); epochs selected on validation.",
    ),
}


def variability_encoder():
    """The encoder of the variability study, with RRAM weights."""
    enc = dict(config["encoders"][config["variability"]["encoder"]])
    enc["weights"] = {**enc["weights"], "source": "rram"}
    return enc


TABLE_METRICS = {
    "supervised": ["accuracy", "best_epoch"],
    "training_cost": [
        "trainable_params",
        "train_macs",
        "train_macs_events",
        "cost_epochs",
        "encode_macs_dense",
        "encode_macs_events",
        "total_macs_dense",
        "total_macs_events",
        "optimizer_steps",
    ],
}


def zs_cfg(zs):
    return config["zeroshot"][zs]


def zs_run(zs, run):
    return config["zeroshot"][zs]["runs"][run]


def zs_threads(zs, run):
    """Cores a zero-shot job reserves: its training's torch threads (BPTT runs 2, heads 1),
    so that 1-thread head runs share the machine instead of holding both cores."""
    return int(config["readouts"][zs_run(zs, run)["train"]].get("threads", 1))


def zs_inputs(zs, run):
    """Both sides' inputs: LSM features (+ workload) or frames (kind srnn)."""
    r, e = zs_run(zs, run), zs_cfg(zs)
    if r["kind"] == "lsm":
        enc = r["encoders"]
        return {
            "a": f"results/features/{enc['query']}.npz",
            "b": f"results/features/{enc['gallery']}.npz",
            "wa": f"results/metrics/workload/{enc['query']}.json",
            "wb": f"results/metrics/workload/{enc['gallery']}.json",
        }
    return {
        "a": f"results/frames/{e['query']['frames']}.npz",
        "b": f"results/frames/{e['gallery']['frames']}.npz",
    }


def zs_pairing(zs):
    e = zs_cfg(zs)
    keys = (
        "seen",
        "unseen",
        "n_train_pairs_per_class",
        "n_val_pairs_per_class",
        "n_test_pairs_per_class",
        "enlarge",
    )
    out = {k: e[k] for k in keys}
    out["seen"], out["unseen"] = class_ids(e["seen"]), class_ids(e["unseen"])
    out["select"] = {"direction": select_direction(e), "similarity": e["select"]["similarity"]}
    return out


def zs_run_params(zs, run):
    r = zs_run(zs, run)
    keys = ("head", "loss", "temperature", "feature_scale", "srnn")
    return {k: r[k] for k in keys if k in r}


def zs_power(zs):
    """The experiment's power-analysis settings (None: off)."""
    return zs_cfg(zs).get("power")


def zs_power_runs(zs):
    """The power analysis's runs, each with its encoders' settings and its training."""
    out = {}
    for name in zs_power(zs)["runs"]:
        r = zs_run(zs, name)
        out[name] = {
            "model": r["model"],
            "variant": r["variant"],
            "encoders": {side: config["encoders"][enc] for side, enc in r["encoders"].items()},
            "params": zs_run_params(zs, name),
            "train": config["readouts"][r["train"]],
        }
    return out


def zs_class_names(zs):
    """Letters for the BMI letters, the label numbers otherwise."""
    frames = {zs_cfg(zs)[side]["frames"] for side in ("query", "gallery")}
    if any(f.startswith("bmi_") for f in frames):
        return [chr(ord("a") + i) for i in range(26)]
    return [str(i) for i in range(11)]


def zs_metrics(zs):
    """Retrieval metric names of an experiment: direction x top-k x similarity, and per
    direction the numbers of distinct query and gallery items ranked (lsm.retrieval)."""
    q, g = zs_cfg(zs)["query"]["name"], zs_cfg(zs)["gallery"]["name"]
    dirs = (f"{q}2{g}", f"{g}2{q}")
    return [f"{d}_top{k}_{s}" for d in dirs for k in (1, 5) for s in ("dot", "cos")] + [
        f"{d}_n_distinct_{side}" for d in dirs for side in ("query", "gallery")
    ]


for _zs in config["zeroshot"]:
    TABLES[f"zeroshot_{_zs}"] = (
        f"Zero-shot retrieval: {_zs}",
        "Top-1/top-5 cross-modal retrieval on test pairs of seen classes (test_seen) and of "
        "classes never seen in training (test_unseen); val_seen is the selection metric on "
        "seen-class validation pairs. dot = unnormalised dot product (the LSM-CLIP metric of "
        "the paper), cos = cosine. Chance = expected accuracy of a random ranking. Variant "
        f"ends in the projection dimension pd. {zeroshot_encoder_caption(config, _zs)}",
    )
    TABLES[f"zeroshot_{_zs}_cost"] = (
        f"Training cost of the zero-shot models: {_zs}",
        f"{TABLES['training_cost'][1]} Ratios: numerator / denominator per seed, dense / dense "
        "(ratio_total_macs_dense) and event-driven / event-driven (ratio_total_macs_events), "
        "never one count over the other. The paper's 152.83x (SRNN-CLIP / LSM-CLIP) and "
        "393.07x (SRNN-Proto / LSM-Proto) stand beside both; their formula is unknown, so "
        "closeness to either is not agreement. Ratios move with the epochs trained (figure "
        "cost/<experiment>_cost_ratio_vs_epochs).",
    )
    TABLE_METRICS[f"zeroshot_{_zs}"] = zs_metrics(_zs) + [
        "best_epoch", "rsa_seen_classes", "rsa_unseen_classes", "paper_rule_runs_qualifying"
    ]
    TABLE_METRICS[f"zeroshot_{_zs}_cost"] = TABLE_METRICS["training_cost"] + [
        f"ratio_{m}" for m in RATIO_METRICS
    ]


def table_ratios(experiment):
    """The cost-ratio rows a table adds, as JSON ("[]" when the table has none)."""
    for zs in config["zeroshot"]:
        if experiment == f"zeroshot_{zs}_cost":
            return as_json(zs_cfg(zs)["cost_ratios"])
    return "[]"


N_CLASSES = {"nmnist": 10, "ntidigits": 11}


def energy_systems():
    """What the energy table compares: each supervised LSM readout (encoder + linear
    readout) and each zero-shot LSM model (both encoders + heads at its first pd)."""
    from lsm.energy import fc_head_macs

    out = []
    for name, r in config["supervised"]["runs"].items():
        if r["kind"] == "lsm_readout":
            enc = config["encoders"][r["encoder"]]
            out.append(
                {
                    "dataset": enc["dataset"],
                    "label": f"{r['model']} ({r['variant']})",
                    "encoders": [r["encoder"]],
                    "head_macs": enc["n_res"] * N_CLASSES.get(enc["dataset"], 10),
                    "sensitivity": False,
                }
            )
    for zs, e in config["zeroshot"].items():
        first = True
        for name, r in e["runs"].items():
            if r["kind"] != "lsm":
                continue
            encs = [r["encoders"]["query"], r["encoders"]["gallery"]]
            heads = sum(
                fc_head_macs(r["head"], config["encoders"][x]["n_res"], r["proj_dims"][0])
                for x in encs
            )
            out.append(
                {
                    "dataset": zs,
                    "label": f"{r['model']} ({r['variant']})",
                    "encoders": encs,
                    "head_macs": heads,
                    "sensitivity": first,
                }
            )
            first = False
    return out


def energy_encoders():
    return sorted({x for s in energy_systems() for x in s["encoders"]})


def energy_constants():
    """The constants file: relative to the working directory, else to the repository."""
    path = Path(config["energy"]["constants"])
    if path.is_absolute() or path.exists():
        return as_path(path)
    return str(REPO / path)


def table_inputs(experiment):
    if experiment in ("supervised", "training_cost"):
        return expand("results/metrics/supervised/{run}.json", run=list(config["supervised"]["runs"]))
    if experiment == "workload":
        return expand("results/metrics/workload/{encoder}.json", encoder=list(config["encoders"]))
    if experiment == "variability":
        return ["results/metrics/variability/variability.json"]
    for zs in config["zeroshot"]:
        if experiment in (f"zeroshot_{zs}", f"zeroshot_{zs}_cost"):
            runs = expand(f"results/metrics/zeroshot/{zs}/{{run}}.json", run=list(zs_cfg(zs)["runs"]))
            power = [f"results/metrics/zeroshot_power/{zs}.json"] if zs_power(zs) and (
                experiment == f"zeroshot_{zs}") else []
            return runs + power
    raise ValueError(f"no table named {experiment}")


def timing_inputs():
    out = table_inputs("supervised") if config["supervised"]["runs"] else []
    for zs in config["zeroshot"]:  # the per-run documents (the power one has no timing)
        out += [p for p in table_inputs(f"zeroshot_{zs}") if "/zeroshot_power/" not in p]
    return out


def report_tables():
    """The tables the report is built from (all but workload, variability and timing)."""
    names = []
    if config["supervised"]["runs"]:
        names += ["supervised", "training_cost"]
    for zs, e in config["zeroshot"].items():
        if e["runs"]:
            names += [f"zeroshot_{zs}", f"zeroshot_{zs}_cost"]
    if energy_systems():
        names.append("energy")
    return [f"results/tables/{n}.csv" for n in names]


def report_figures():
    """The summary figures (per-run figures stay in results/figures/)."""
    keys = ("accuracy_vs_", "sensitivity", "variability.png", "cost_ratio_vs_epochs", "reservoir_size")
    return [t for t in final_targets(report=False) if t.endswith(".png") and any(k in t for k in keys)]


def tuning_budget(key):
    """The supervised runs' shared epoch cap or patience (one protocol: they must agree)."""
    vals = [b[BUDGET_KEYS.index(key)] for b in run_budgets(config).values()]
    return str(max(vals)) if vals else "0"


def final_targets(report=True):
    runs = list(config["supervised"]["runs"])
    targets = ["results/config.json"]
    if config["datasets"]:
        targets += ["results/data_qc/calibration.json", "results/data_qc/summary.csv"]
    if config["encoders"]:
        targets += ["results/tables/workload.csv", "results/tables/workload.md"]
    if config["variability"]["encoder"]:
        targets += ["results/tables/variability.csv", "results/figures/variability/variability.png"]
    if runs:
        targets += ["results/tables/supervised.csv", "results/tables/supervised.md"]
        targets += ["results/tables/training_cost.csv", "results/tables/training_cost.md"]
        targets += ["results/tables/tuning.csv", "results/tables/tuning.md"]
        targets += expand(
            "results/figures/supervised/accuracy_vs_cost_{dataset}.png",
            dataset=supervised_datasets(),
        )
        targets += expand(
            "results/figures/supervised/{run}_{kind}.png",
            run=runs,
            kind=["learning_curves", "confusion"],
        )
    from lsm.sweep import plan as sweep_plan

    for ds in sweep_plan(config):  # reservoir-size sweep (rules/sweep.smk)
        targets += [f"results/tables/reservoir_size_{ds}.{ext}" for ext in ("csv", "md")]
        targets.append(f"results/figures/supervised/reservoir_size_{ds}.png")
    for zs, e in config["zeroshot"].items():
        if not e["runs"]:
            continue
        for t in (f"zeroshot_{zs}", f"zeroshot_{zs}_cost"):
            targets += [f"results/tables/{t}.{ext}" for ext in ("csv", "md")]
        if e["cost_ratios"]:
            targets.append(f"results/figures/cost/{zs}_cost_ratio_vs_epochs.png")
        if e.get("power"):
            targets.append(f"results/figures/zeroshot/{zs}/power_unseen_by_selection.png")
        targets += expand(
            f"results/figures/zeroshot/{zs}/accuracy_vs_{{what}}_{{sim}}.png",
            what=["pd", "cost"],
            sim=["dot", "cos"],
        )
        targets += expand(
            f"results/figures/zeroshot/{zs}/{{run}}_{{fig}}.png",
            run=list(e["runs"]),
            fig=["tsne", "similarity", "curves", "per_class", "examples"],
        )
    if energy_systems():
        targets += ["results/tables/energy.csv", "results/tables/energy.md"]
        targets += ["results/figures/energy/sensitivity.png"]
    if timing_inputs():
        targets += ["results/tables/timing.csv", "results/tables/timing.md"]
    if report and report_tables():
        targets.append("results/report.md")
    return targets
