"""lsm.pipeline: the workflow's domain logic as pure functions of the validated config
(workflow/rules/common.smk only passes `config` to them)."""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lsm.config import FRAME_CLASSES, class_ids, load_config, select_direction
from lsm.energy.model import fc_head_macs
from lsm.models.registry import model_input, zs_input
from lsm.pipeline import data, paths, runs, tables, targets
from lsm.pipeline.protocol import protocol_caption, run_budgets, zeroshot_encoder_caption
from lsm.reservoir.sweep import plan as sweep_plan

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"default": "config/config.yaml", "paper": "config/paper.yaml",
           "test": ".test/config/config.yaml"}


@pytest.fixture(scope="module")
def configs() -> dict[str, dict]:
    return {name: load_config(REPO / path) for name, path in CONFIGS.items()}


@pytest.fixture
def cfg(configs) -> dict:
    """A fresh copy of the default config (a test may change it)."""
    return copy.deepcopy(configs["default"])


def every_config():
    return pytest.mark.parametrize("name", list(CONFIGS))


# ------------------------------------------------------------------ import


@pytest.mark.parametrize("module", ["lsm.pipeline", "lsm.pipeline.paths",
                                    "lsm.models.registry"])
def test_import_is_light(module):
    """Snakemake imports these at start-up: no torch, numpy, pandas, matplotlib or
    snakemake behind them."""
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'numpy', 'pandas', 'matplotlib', 'snakemake')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


@every_config()
def test_functions_do_not_change_the_config(configs, name):
    cfg = copy.deepcopy(configs[name])
    before = copy.deepcopy(cfg)
    targets.final_targets(cfg)
    tables.table_definitions(cfg)
    tables.table_metrics(cfg)
    runs.variability_encoder(cfg)
    for zs, e in cfg["zeroshot"].items():
        runs.zs_pairing(cfg, zs)
        if e.get("power"):
            runs.zs_power_runs(cfg, zs)["x"] = None
        for run in e["runs"]:
            runs.zs_run_params(cfg, zs, run)["x"] = None
    assert cfg == before


# ------------------------------------------------------------------ targets

# the outputs table of the README ("What you get"), for the default config
README_TARGETS = [
    "results/tables/supervised.csv", "results/tables/supervised.md",
    "results/tables/training_cost.csv", "results/tables/training_cost.md",
    "results/tables/timing.csv", "results/tables/timing.md",
    "results/figures/supervised/accuracy_vs_cost_nmnist.png",
    "results/figures/supervised/accuracy_vs_cost_ntidigits.png",
    "results/figures/supervised/nmnist_lsm_software_learning_curves.png",
    "results/figures/supervised/nmnist_lsm_software_confusion.png",
    "results/figures/supervised/reservoir_size_nmnist.png",
    "results/tables/reservoir_size_nmnist.csv", "results/tables/reservoir_size_nmnist.md",
    "results/data_qc/calibration.json", "results/data_qc/summary.csv",
    "results/tables/workload.csv", "results/tables/workload.md",
    "results/tables/variability.csv", "results/figures/variability/variability.png",
    "results/tables/zeroshot_audio_visual.csv", "results/tables/zeroshot_audio_visual.md",
    "results/tables/zeroshot_audio_visual_cost.csv",
    "results/tables/zeroshot_audio_visual_cost.md",
    "results/figures/zeroshot/audio_visual/accuracy_vs_pd_dot.png",
    "results/figures/zeroshot/audio_visual/accuracy_vs_cost_cos.png",
    "results/figures/zeroshot/audio_visual/lsm_clip_software_tsne.png",
    "results/figures/zeroshot/audio_visual/lsm_clip_software_similarity.png",
    "results/figures/zeroshot/audio_visual/lsm_clip_software_curves.png",
    "results/figures/zeroshot/audio_visual/power_unseen_by_selection.png",
    "results/figures/cost/audio_visual_cost_ratio_vs_epochs.png",
    "results/tables/zeroshot_bmi.csv", "results/tables/zeroshot_bmi_cost.csv",
    "results/figures/zeroshot/bmi/lsm_clip_software_per_class.png",
    "results/figures/zeroshot/bmi/lsm_clip_software_examples.png",
    "results/tables/energy.csv", "results/tables/energy.md",
    "results/figures/energy/sensitivity.png",
    "results/report.md",
    "results/report.html",
    "results/config.json",
    "results/tables/tuning.csv",
]


def test_final_targets_of_the_default_config(cfg):
    t = targets.final_targets(cfg)
    assert len(t) == len(set(t)), "a target listed twice"
    missing = [x for x in README_TARGETS if x not in t]
    assert not missing
    for run in cfg["supervised"]["runs"]:
        for fig in ("learning_curves", "confusion"):
            assert f"results/figures/supervised/{run}_{fig}.png" in t
    for zs, e in cfg["zeroshot"].items():
        for run in e["runs"]:
            for fig in ("tsne", "similarity", "curves", "per_class", "examples"):
                assert f"results/figures/zeroshot/{zs}/{run}_{fig}.png" in t
        has_power = f"results/figures/zeroshot/{zs}/power_unseen_by_selection.png" in t
        assert has_power == bool(e.get("power"))
    assert t[0] == "results/config.json" and t[-2:] == ["results/report.md",
                                                        "results/report.html"]


def test_report_false_leaves_the_report_out(cfg):
    assert targets.final_targets(cfg, report=False) == targets.final_targets(cfg)[:-2]


def test_the_html_report_reads_every_table_and_executed_notebook(cfg):
    """report_html's inputs: every table of the run and every notebook a rule executes
    (one per encoder, supervised run, zero-shot run, sweep dataset, power analysis, QC,
    variability)."""
    tables = targets.html_tables(cfg)
    assert set(tables) == {t for t in targets.final_targets(cfg)
                           if t.startswith("results/tables/") and t.endswith(".csv")}
    nbs = targets.executed_notebooks(cfg)
    n_zs = sum(len(e["runs"]) + bool(e["runs"] and e.get("power"))
               for e in cfg["zeroshot"].values())
    assert len(nbs) == len(set(nbs)) == (1 + len(cfg["encoders"]) + 1
                                         + len(cfg["supervised"]["runs"]) + n_zs
                                         + len(sweep_plan(cfg)))
    assert all(n.startswith("results/notebooks/") and n.endswith(".ipynb") for n in nbs)


def _stage_targets(t: list[str], words: tuple[str, ...]) -> list[str]:
    return [x for x in t if any(w in x for w in words)]


def test_no_supervised_runs_no_supervised_targets(cfg):
    cfg["supervised"]["runs"] = {}
    cfg["reservoir_size"]["n_res"] = []  # the sweep takes its settings from the runs
    t = targets.final_targets(cfg)
    assert not _stage_targets(t, ("/supervised", "training_cost", "tuning", "reservoir_size"))
    # energy keeps the zero-shot LSM systems; timing the zero-shot runs; the report both
    assert "results/tables/energy.csv" in t and "results/tables/timing.csv" in t
    assert "results/report.md" in t
    assert "results/tables/supervised.csv" not in targets.report_tables(cfg)


def test_no_zeroshot_no_zeroshot_targets(cfg):
    cfg["zeroshot"] = {}
    t = targets.final_targets(cfg)
    assert not _stage_targets(t, ("zeroshot", "/cost/"))
    assert "results/tables/supervised.csv" in t


def test_zeroshot_experiment_without_runs_has_no_targets(cfg):
    cfg["zeroshot"]["bmi"]["runs"] = {}
    t = targets.final_targets(cfg)
    assert not [x for x in t if "zeroshot_bmi." in x or "zeroshot_bmi_cost" in x
                or "/zeroshot/bmi/" in x or "/cost/bmi_" in x]
    assert "results/tables/zeroshot_bmi_unseen_abcd.csv" in t


def test_no_variability_no_energy_no_runs(cfg):
    cfg["variability"]["encoder"] = None
    assert not _stage_targets(targets.final_targets(cfg), ("variability",))
    cfg["supervised"]["runs"], cfg["zeroshot"] = {}, {}
    cfg["reservoir_size"]["n_res"] = []
    t = targets.final_targets(cfg)
    assert not _stage_targets(t, ("energy", "timing", "report"))
    assert targets.report_tables(cfg) == [] and targets.timing_inputs(cfg) == []
    cfg["datasets"], cfg["encoders"] = {}, {}
    assert targets.final_targets(cfg) == ["results/config.json"]


def test_report_inputs(cfg):
    final = targets.final_targets(cfg)
    figs = targets.report_figures(cfg)
    assert figs and all(f in final and f.endswith(".png") for f in figs)
    assert not [f for f in figs if "_tsne" in f or "_confusion" in f or "_learning" in f]
    assert "results/figures/energy/sensitivity.png" in figs
    assert targets.report_tables(cfg) == [
        "results/tables/supervised.csv", "results/tables/training_cost.csv",
        *[f"results/tables/zeroshot_{zs}{c}.csv" for zs in cfg["zeroshot"] for c in ("", "_cost")],
        "results/tables/energy.csv"]


def test_table_inputs(cfg):
    sup = targets.table_inputs(cfg, "supervised")
    assert sup == [f"results/metrics/supervised/{r}.json" for r in cfg["supervised"]["runs"]]
    assert targets.table_inputs(cfg, "training_cost") == sup
    assert targets.table_inputs(cfg, "workload") == [
        f"results/metrics/workload/{e}.json" for e in cfg["encoders"]]
    av = targets.table_inputs(cfg, "zeroshot_audio_visual")
    assert av[-1] == "results/metrics/zeroshot_power/audio_visual.json"  # power: on
    cost = targets.table_inputs(cfg, "zeroshot_audio_visual_cost")
    assert cost == av[:-1] and len(cost) == len(cfg["zeroshot"]["audio_visual"]["runs"])
    assert not [p for p in targets.timing_inputs(cfg) if "zeroshot_power" in p]
    assert set(targets.timing_inputs(cfg)) == set(sup) | {
        f"results/metrics/zeroshot/{zs}/{r}.json"
        for zs, e in cfg["zeroshot"].items() for r in e["runs"]}
    with pytest.raises(ValueError, match="no table named"):
        targets.table_inputs(cfg, "energy")
    assert set(tables.table_definitions(cfg)) == {
        n for n in tables.table_definitions(cfg) if targets.table_inputs(cfg, n)}


# ------------------------------------------------------------------ supervised runs


def test_supervised_run_inputs(cfg):
    for name, r in cfg["supervised"]["runs"].items():
        if model_input(r["kind"]) == "features":
            assert runs.run_input(cfg, name) == f"results/features/{r['encoder']}.npz"
            assert runs.run_workload(cfg, name) == [
                f"results/metrics/workload/{r['encoder']}.json"]
            assert runs.dataset_of_run(cfg, name) == cfg["encoders"][r["encoder"]]["dataset"]
        else:
            assert runs.run_input(cfg, name) == f"results/frames/{r['dataset']}.npz"
            assert runs.run_workload(cfg, name) == []
            assert runs.dataset_of_run(cfg, name) == r["dataset"]
    assert runs.supervised_datasets(cfg) == ["nmnist", "ntidigits"]


def test_supervised_priorities_longest_first(cfg):
    pr = {r["kind"]: runs.supervised_priority(cfg, n) for n, r in cfg["supervised"]["runs"].items()}
    assert pr["rnn"] > pr["srnn"] > pr["lsm_readout"] == pr["raw_readout"] == 1


@every_config()
def test_tuning_budget_agrees_with_run_budgets(configs, name):
    cfg = configs[name]
    budgets = run_budgets(cfg).values()
    assert runs.tuning_budget(cfg, "epochs") == str(max(b[0] for b in budgets))
    assert runs.tuning_budget(cfg, "patience") == str(max(b[1] for b in budgets))
    if len(set(budgets)) == 1:  # one protocol: every readout's cap
        r = next(iter(cfg["supervised"]["runs"].values()))
        assert runs.tuning_budget(cfg, "epochs") == str(cfg["readouts"][r["readout"]]["epochs"])


def test_tuning_budget_without_runs(cfg):
    cfg["supervised"]["runs"] = {}
    assert runs.tuning_budget(cfg, "epochs") == runs.tuning_budget(cfg, "patience") == "0"


def test_variability_encoder_has_rram_weights(cfg):
    name = cfg["variability"]["encoder"]
    cfg["encoders"][name]["weights"]["source"] = "gaussian"
    enc = runs.variability_encoder(cfg)
    assert enc["weights"]["source"] == "rram"
    assert cfg["encoders"][name]["weights"]["source"] == "gaussian"  # a copy
    assert {k: v for k, v in enc.items() if k != "weights"} == {
        k: v for k, v in cfg["encoders"][name].items() if k != "weights"}


# ------------------------------------------------------------------ zero-shot runs


@every_config()
def test_zs_run_params_pass_every_model_key(configs, name):
    cfg = configs[name]
    for zs, e in cfg["zeroshot"].items():
        for run, r in e["runs"].items():
            p = runs.zs_run_params(cfg, zs, run)
            assert p == {k: v for k, v in r.items() if k not in runs.ZS_WORKFLOW_KEYS}
            assert not set(p) & {"kind", "encoders", "model", "variant", "proj_dims", "train"}


def test_zs_run_params_pass_a_new_key(cfg):
    r = cfg["zeroshot"]["audio_visual"]["runs"]["srnn_clip"]
    r["my_plugin_setting"] = {"depth": 3}
    p = runs.zs_run_params(cfg, "audio_visual", "srnn_clip")
    assert p["my_plugin_setting"] == {"depth": 3}
    assert p["head"] == r["head"]


def test_zs_inputs_features_or_frames(cfg):
    e = cfg["zeroshot"]["audio_visual"]
    for run, r in e["runs"].items():
        ins = runs.zs_inputs(cfg, "audio_visual", run)
        if zs_input(r["kind"]) == "features":
            q, g = r["encoders"]["query"], r["encoders"]["gallery"]
            assert ins == {"a": f"results/features/{q}.npz", "b": f"results/features/{g}.npz",
                           "wa": f"results/metrics/workload/{q}.json",
                           "wb": f"results/metrics/workload/{g}.json"}
        else:
            assert ins == {"a": "results/frames/ntidigits.npz", "b": "results/frames/nmnist.npz"}
    kinds = {r["kind"] for r in e["runs"].values()}
    assert kinds == {"lsm", "srnn"}  # both branches checked


def test_zs_threads_follow_the_training(cfg):
    for zs, e in cfg["zeroshot"].items():
        for run, r in e["runs"].items():
            assert runs.zs_threads(cfg, zs, run) == cfg["readouts"][r["train"]].get("threads", 1)
    assert runs.zs_threads(cfg, "audio_visual", "srnn_clip") == 2
    assert runs.zs_threads(cfg, "audio_visual", "lsm_clip_software") == 1


def test_zs_pairing(cfg):
    p = runs.zs_pairing(cfg, "bmi_unseen_abcd")
    assert p["unseen"] == [0, 1, 2, 3]  # letters a..d as class ids
    e = cfg["zeroshot"]["bmi_unseen_abcd"]
    assert p["seen"] == class_ids(e["seen"])
    assert p["select"] == {"direction": "n2v", "similarity": e["select"]["similarity"]}
    assert set(p) == {*runs.PAIRING_KEYS, "select"}
    for k in ("n_train_pairs_per_class", "n_val_pairs_per_class", "n_test_pairs_per_class",
              "enlarge"):
        assert p[k] == e[k]


def test_zs_pairing_default_direction(configs):
    cfg = configs["test"]  # audio_visual leaves the direction out: query to gallery
    e = cfg["zeroshot"]["audio_visual"]
    assert e["select"]["direction"] is None
    assert runs.zs_pairing(cfg, "audio_visual")["select"]["direction"] == select_direction(e)
    assert select_direction(e) == f"{e['query']['name']}2{e['gallery']['name']}"


def test_zs_power_runs(cfg):
    assert runs.zs_power(cfg, "bmi") is None
    power = runs.zs_power(cfg, "audio_visual")
    out = runs.zs_power_runs(cfg, "audio_visual")
    assert list(out) == list(power["runs"])
    for name, p in out.items():
        r = cfg["zeroshot"]["audio_visual"]["runs"][name]
        assert p["encoders"] == {s: cfg["encoders"][x] for s, x in r["encoders"].items()}
        assert p["train"] == cfg["readouts"][r["train"]]
        assert p["params"] == runs.zs_run_params(cfg, "audio_visual", name)
        assert (p["model"], p["variant"]) == (r["model"], r["variant"])


def _pair(cfg: dict, query: str, gallery: str) -> dict:
    cfg["zeroshot"]["audio_visual"]["query"]["frames"] = query
    cfg["zeroshot"]["audio_visual"]["gallery"]["frames"] = gallery
    return cfg


def test_zs_class_names(cfg):
    letters = runs.zs_class_names(cfg, "bmi")
    assert letters == list("abcdefghijklmnopqrstuvwxyz")
    assert runs.zs_class_names(cfg, "audio_visual") == [str(i) for i in range(11)]  # ntidigits
    assert runs.zs_class_names(_pair(cfg, "nmnist", "nmnist"), "audio_visual") == list("0123456789")
    assert runs.zs_class_names(_pair(cfg, "bmi_neural", "bmi_letters_mixed"),
                               "audio_visual") == letters


# ------------------------------------------------------------------ tables


def test_table_definitions(cfg):
    t = tables.table_definitions(cfg)
    assert list(t)[:4] == ["supervised", "training_cost", "workload", "variability"]
    assert list(t)[4:] == [f"zeroshot_{zs}{c}" for zs in cfg["zeroshot"] for c in ("", "_cost")]
    assert t["supervised"][1].startswith(protocol_caption(cfg))
    assert "test evaluated once" in t["supervised"][1]
    for zs in cfg["zeroshot"]:
        title, caption = t[f"zeroshot_{zs}"]
        assert zs in title and caption.endswith(zeroshot_encoder_caption(cfg, zs))
        assert "test_unseen" in caption
        cost = t[f"zeroshot_{zs}_cost"][1]
        assert cost.startswith(t["training_cost"][1]) and "152.83x" in cost
    for title, caption in t.values():
        assert title and caption and "\n" not in caption


@every_config()
def test_captions_leave_the_data_source_to_the_aggregator(configs, name):
    """`lsm results aggregate` appends 'Data: SIMULATED ...' or 'Data: real datasets.' from
    the metrics (lsm.results.contract.data_caption): a caption here must not claim either, or the
    paper config's real-data tables would say simulated."""
    for _, caption in tables.table_definitions(configs[name]).values():
        assert "simulated" not in caption.lower() and "real data" not in caption.lower()


def test_table_metrics(cfg):
    from lsm.results.ratios import RATIO_METRICS

    m = tables.table_metrics(cfg)
    assert m["supervised"] == ["accuracy", "best_epoch"]
    assert "total_macs_events" in m["training_cost"]
    assert "workload" not in m and "variability" not in m  # those keep every metric
    av = tables.zs_metrics(cfg, "audio_visual")
    assert len(av) == len(set(av)) == 2 * 2 * 2 + 2 * 2
    assert {"a2i_top1_dot", "i2a_top5_cos", "a2i_n_distinct_query", "i2a_n_distinct_gallery"} \
        <= set(av)
    assert tables.zs_metrics(cfg, "bmi")[0] == "n2v_top1_dot"
    assert m["zeroshot_audio_visual"][: len(av)] == av
    assert "rsa_unseen_classes" in m["zeroshot_audio_visual"]
    assert m["zeroshot_bmi_cost"] == m["training_cost"] + [f"ratio_{r}" for r in RATIO_METRICS]


def test_table_ratios(cfg):
    assert tables.table_ratios(cfg, "zeroshot_bmi_cost") == cfg["zeroshot"]["bmi"]["cost_ratios"]
    assert tables.table_ratios(cfg, "zeroshot_bmi_cost")
    assert tables.table_ratios(cfg, "zeroshot_bmi") == []
    assert tables.table_ratios(cfg, "supervised") == []


# ------------------------------------------------------------------ energy


def test_head_classes_are_the_frames_classes():
    from lsm.datasets.readers import ntidigits

    assert tables.head_classes("nmnist") == 10
    assert tables.head_classes("ntidigits") == len(ntidigits.CLASS_NAMES) == 11
    assert tables.head_classes("bmi_letters") == 26
    assert all(tables.head_classes(f) == len(c) for f, c in FRAME_CLASSES.items())


@every_config()
def test_energy_systems_are_the_frozen_encoder_runs(configs, name):
    cfg = configs[name]
    systems = tables.energy_systems(cfg)
    sup = [r for r in cfg["supervised"]["runs"].values() if model_input(r["kind"]) == "features"]
    zs = [(k, r) for k, e in cfg["zeroshot"].items() for r in e["runs"].values()
          if zs_input(r["kind"]) == "features"]
    assert len(systems) == len(sup) + len(zs)
    for s, r in zip(systems, sup, strict=False):
        enc = cfg["encoders"][r["encoder"]]
        assert s["encoders"] == [r["encoder"]] and s["dataset"] == enc["dataset"]
        assert s["head_macs"] == enc["n_res"] * len(FRAME_CLASSES[enc["dataset"]])
        assert s["label"] == f"{r['model']} ({r['variant']})" and not s["sensitivity"]
    seen = set()
    for s, (k, r) in zip(systems[len(sup):], zs, strict=True):
        encs = [r["encoders"]["query"], r["encoders"]["gallery"]]
        assert s["dataset"] == k and s["encoders"] == encs
        assert s["head_macs"] == sum(fc_head_macs(r["head"], cfg["encoders"][x]["n_res"],
                                                  r["proj_dims"][0]) for x in encs)
        assert s["sensitivity"] == (k not in seen)  # the first LSM model per experiment
        seen.add(k)
    assert tables.energy_encoders(cfg) == sorted({x for s in systems for x in s["encoders"]})


def test_energy_head_macs_of_the_default_config(cfg):
    by = {(s["dataset"], s["label"]): s["head_macs"] for s in tables.energy_systems(cfg)}
    assert by[("nmnist", "LSM (software)")] == 200 * 10
    assert by[("ntidigits", "LSM (rram)")] == 200 * 11
    pd0 = cfg["zeroshot"]["audio_visual"]["runs"]["lsm_clip_software"]["proj_dims"][0]
    assert by[("audio_visual", "LSM-CLIP (software)")] == 2 * 200 * pd0  # one FC layer a side
    assert not [s for s in tables.energy_systems(cfg) if "SRNN" in s["label"]]


def test_energy_constants_path(cfg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tables.energy_constants(cfg, "/repo") == "/repo/config/energy.yaml"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "energy.yaml").write_text("{}")
    assert tables.energy_constants(cfg, "/repo") == "config/energy.yaml"
    cfg["energy"]["constants"] = "/abs/energy.yaml"
    assert tables.energy_constants(cfg, "/repo") == "/abs/energy.yaml"


# ------------------------------------------------------------------ data


def test_dataset_paths_simulated(cfg):
    assert data.dataset_root(cfg, "nmnist") == "resources/datasets/nmnist/simulated"
    assert data.dataset_input(cfg, "ntidigits") == \
        "resources/datasets/ntidigits/simulated/MANIFEST.json"
    _, _, wait = data.bmi_paths(cfg)
    assert wait == ["resources/datasets/bmi/simulated/MANIFEST.json"]
    assert data.bmi_emnist_dir(cfg, "disjoint") == "resources/datasets/bmi/simulated/emnist"
    assert data.bmi_emnist_dir(cfg, "mixed") == \
        "resources/datasets/bmi/simulated/emnist_mixed_fonts"
    assert data.qc_inputs(cfg) == [data.dataset_input(cfg, "nmnist"),
                                   data.dataset_input(cfg, "ntidigits"), *wait]


def test_dataset_paths_real(cfg):
    for name in ("nmnist", "ntidigits", "bmi"):
        cfg["datasets"][name]["source"] = "real"
    assert data.dataset_root(cfg, "nmnist") == "resources/datasets/nmnist/real/NMNIST"
    assert data.dataset_root(cfg, "ntidigits") == "resources/datasets/ntidigits/real"
    assert data.dataset_input(cfg, "nmnist") == "resources/datasets/nmnist/real/MANIFEST.json"
    cfg["datasets"]["ntidigits"]["data_dir"] = "-odd/dir"
    assert data.dataset_root(cfg, "ntidigits") == data.dataset_input(cfg, "ntidigits") \
        == "./-odd/dir"
    mat, emnist, wait = data.bmi_paths(cfg)
    assert mat == "resources/datasets/bmi/real/willett/singleLetters.mat"
    assert wait == [mat, f"{emnist}/emnist-letters-test-labels-idx1-ubyte"]
    assert data.bmi_emnist_dir(cfg, "mixed") == emnist  # real EMNIST is one set
    p = data.qc_params(cfg)
    # a notebook parameter (JSON), not a command argument: no './' needed
    assert p["ntidigits_path"] == "-odd/dir/n-tidigits.hdf5" and p["willett_path"] == mat


def test_qc_params_without_datasets(cfg):
    del cfg["datasets"]["bmi"], cfg["datasets"]["ntidigits"]
    p = data.qc_params(cfg)
    assert p == {"nmnist_root": "resources/datasets/nmnist/simulated", "ntidigits_path": "",
                 "willett_path": "", "emnist_dir": ""}
    assert data.qc_inputs(cfg) == ["resources/datasets/nmnist/simulated/MANIFEST.json"]


def test_bmi_generator_version():
    from lsm.datasets.simulators.bmi_dataset import GENERATOR_VERSION

    assert data.bmi_generator_version() == GENERATOR_VERSION


# ------------------------------------------------------------------ paths (issue 17)

# the wildcards a pattern may hold: the rules' (Snakefile wildcard_constraints and the
# rules' own) and the two of log() and benchmark()
RULE_WILDCARDS = {"dataset", "encoder", "run", "zs", "zsrun", "sim", "experiment"}
# the rule files; no exception: none may spell a results or resources path, not even in a
# comment (the onerror message of the Snakefile names paths.LOGS_DIR)
RULE_FILES = [*sorted((REPO / "workflow/rules").glob("*.smk")), REPO / "workflow/Snakefile"]
PATH_PREFIXES = ("results/", "resources/")


def test_the_path_map_is_unique_and_under_results_or_resources():
    pats = paths.PATTERNS
    assert len(pats) > 50  # every pattern of the workflow, not a few
    assert len(set(pats.values())) == len(pats), "two names for one pattern"
    for name, pattern in pats.items():
        assert pattern.startswith(PATH_PREFIXES), name
        assert "//" not in pattern and not pattern.endswith("/"), name
        wildcards = set(re.findall(r"\{(\w+)\}", pattern))
        allowed = {"step", "name"} if name in ("LOG", "BENCHMARK") else RULE_WILDCARDS
        assert wildcards <= allowed, (name, wildcards - allowed)


def test_the_path_map_holds_every_path_constant_of_the_module():
    """Every upper-case string of lsm.pipeline.paths is in the map but the file names."""
    names = {k for k, v in vars(paths).items() if k.isupper() and isinstance(v, str)}
    assert names - set(paths.PATTERNS) == {k for k in names if k.endswith("_NAME")}


def test_every_pattern_is_used():
    """No dead entry: each is named by a rule, another lsm.pipeline module, or paths.py."""
    users = "".join(f.read_text() for f in RULE_FILES) + "".join(
        f.read_text() for f in (REPO / "lsm/pipeline").glob("*.py") if f.name != "paths.py")
    own = (REPO / "lsm/pipeline/paths.py").read_text()
    for name in paths.PATTERNS:
        used = re.search(rf"\bpaths\.{name}\b", users) or len(re.findall(rf"\b{name}\b", own)) > 1
        assert used, name


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rule_files_spell_no_results_path(path):
    text = path.read_text()
    for prefix in PATH_PREFIXES:
        lines = [i + 1 for i, ln in enumerate(text.splitlines()) if prefix in ln]
        assert not lines, f"{path.name} spells {prefix} on lines {lines}: use lsm.pipeline.paths"


@pytest.mark.parametrize("module", sorted(p.name for p in (REPO / "lsm/pipeline").glob("*.py")
                                          if p.name != "paths.py"))
def test_pipeline_modules_spell_no_results_path(module):
    """Their strings (docstrings aside) name the map's patterns instead of a path."""
    tree = ast.parse((REPO / "lsm/pipeline" / module).read_text())
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body
                  and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    spelled = [n.lineno for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)
               and id(n) not in docstrings and any(p in n.value for p in PATH_PREFIXES)]
    assert not spelled, f"lsm/pipeline/{module} spells a path on lines {spelled}"


def test_fill_log_benchmark_and_matches():
    assert paths.fill(paths.FRAMES, dataset="nmnist") == "results/frames/nmnist.npz"
    # a value may hold a wildcard: the result is a pattern again
    assert paths.fill(paths.TABLE_CSV, experiment="zeroshot_{zs}") == \
        "results/tables/zeroshot_{zs}.csv"
    with pytest.raises(KeyError):
        paths.fill(paths.ZS_METRICS, zs="bmi")
    assert paths.log("train_zeroshot", "{zs}/{zsrun}") == \
        "results/logs/train_zeroshot/{zs}/{zsrun}.log"
    assert paths.benchmark("frames", "bmi") == "results/benchmarks/frames/bmi.tsv"
    assert paths.log("frames", "x").startswith(paths.LOGS_DIR + "/")
    assert paths.both_tables("energy") == ["results/tables/energy.csv", "results/tables/energy.md"]
    assert paths.matches(paths.ZS_FIG_PD, "results/figures/zeroshot/bmi/accuracy_vs_pd_dot.png")
    assert not paths.matches(paths.ZS_FIG_PD, "results/figures/zeroshot/a/b/accuracy_vs_pd_dot.png")
    assert not paths.matches(paths.ENERGY_FIG, paths.ENERGY_FIG + ".bak")


def test_dataset_file_names_are_the_writers():
    """The map's file names are those the dataset writers use."""
    from lsm.atomic import MANIFEST
    from lsm.datasets.simulators.bmi_dataset import IMAGE_SETS, MAT_NAME

    assert paths.MANIFEST_NAME == MANIFEST and paths.WILLETT_MAT_NAME == MAT_NAME
    sim_bmi = paths.fill(paths.SIMULATED_DIR, dataset="bmi")
    assert paths.SIMULATED_BMI_MAT == f"{sim_bmi}/{MAT_NAME}"
    emnist = Path(paths.SIMULATED_BMI_EMNIST_DIR)
    assert str(emnist.parent) == sim_bmi and IMAGE_SETS[emnist.name] == "disjoint"
    real_bmi = paths.fill(paths.REAL_DIR, dataset="bmi")
    assert Path(paths.WILLETT_DIR).parent == Path(paths.EMNIST_DIR).parent == Path(real_bmi)
    assert Path(paths.NMNIST_REAL_ROOT).parent == Path(paths.fill(paths.REAL_DIR, dataset="nmnist"))



def test_no_params_function_takes_input_or_output():
    """G2 (docs/workflow-pitfalls.md): Snakemake records for its rerun trigger only params
    computed from the wildcards. The hyper-parameter params (nb=, sim=, prep=, split=)
    must therefore be `lambda wc:` functions; params that carry paths only (out=,
    workload=, workloads=) may take input or output."""
    import re

    path_only = {"out", "workload", "workloads"}
    offenders = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for m in re.finditer(r"^\s+(\w+)=lambda ([^:]*):", smk.read_text(), re.M):
            name, args = m.group(1), m.group(2)
            if ("input" in args or "output" in args) and name not in path_only:
                offenders.append(f"{smk.name}: {name}=lambda {args}")
    assert not offenders, offenders
