"""The workflow: lint, dry runs, config errors, and a real end-to-end run of .test."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from workflow_helpers import REPO, snakemake

pytestmark = pytest.mark.workflow


def test_lint_is_clean():
    r = snakemake("--lint")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Congratulations" in r.stdout + r.stderr


@pytest.mark.parametrize("cfg", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_resolves(cfg):
    r = snakemake("-n", "--forceall", "--configfile", cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    for rule in ("train_supervised", "table", "table_timing", "encode", "crossbar_variability",
                 "datasets_qc", "train_zeroshot", "figure_zeroshot", "frames_bmi", "energy"):
        assert f"rule {rule}:" in out, rule
    if cfg.endswith("paper.yaml"):
        assert "fetch_dataset" in out and "fetch_emnist" in out and "fetch_willett" in out
        assert "simulate_dataset" not in out
    else:
        assert "simulate_dataset" in out and "fetch_" not in out


def test_unknown_config_key_fails_before_any_job():
    r = snakemake("--config", "bogus=1", "-n")
    assert r.returncode != 0
    assert "bogus" in r.stdout + r.stderr


def test_missing_real_data_dir_fails_with_instructions(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text((REPO / "config" / "paper.yaml").read_text().replace(
        "data_dir: null", f"data_dir: {tmp_path / 'nowhere'}"))
    r = snakemake("-n", "--configfile", str(cfg))
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "datasets/nmnist/data_dir" in out and "Train" in out


def test_end_to_end_table(test_run):
    df = pd.read_csv(test_run / "results" / "tables" / "supervised.csv")
    row = df[(df.split == "test") & (df.metric == "accuracy") & (df.variant == "software")
             & (df.dataset == "nmnist")]
    assert len(row) == 1
    row = row.iloc[0]
    assert (row.dataset, row.model, row.variant) == ("nmnist", "LSM", "software")
    assert row.n_seeds == 3 and row.selection == "val" and row.data_source == "simulated"
    assert row.paper == 89.11 and row.chance == 10.0
    # 120 training digits, 40 test digits: clearly above chance, never above 100
    assert 20.0 < row["mean"] <= 100.0 and 0.0 <= row["std"] < 30.0
    md = (test_run / "results" / "tables" / "supervised.md").read_text()
    assert "SIMULATED" in md
    assert "train_seconds" not in set(df.metric)  # wall-clock lives in the timing table
    timing = pd.read_csv(test_run / "results" / "tables" / "timing.csv")
    assert set(timing.metric) == {"train_seconds"} and (timing["mean"] > 0).all()
    rram = df[(df.variant == "rram") & (df.split == "test") & (df.metric == "accuracy")
              & (df.dataset == "nmnist")]
    assert len(rram) == 1 and rram.iloc[0].paper == 89.66


def test_end_to_end_supervised_models_and_cost(test_run):
    acc = pd.read_csv(test_run / "results/tables/supervised.csv")
    test = acc[(acc.split == "test") & (acc.metric == "accuracy")]
    want = {("nmnist", "LSM", "software"), ("nmnist", "LSM", "rram"),
            ("nmnist", "linear on raw binned input", "linear"), ("nmnist", "SRNN-ANN", "trainable"),
            ("nmnist", "SRNN-SNN", "trainable"), ("nmnist", "RNN", "trainable"),
            ("ntidigits", "LSM", "software"), ("ntidigits", "linear on raw binned input", "linear")}
    assert set(zip(test.dataset, test.model, test.variant, strict=True)) == want
    assert (test.n_seeds == 3).all() and (test.selection == "val").all()
    assert test[test.model == "SRNN-ANN"].paper.iloc[0] == 96.96
    assert test[(test.dataset == "ntidigits") & (test.model == "LSM")].chance.iloc[0] == (
        100 / 11)
    cost = pd.read_csv(test_run / "results/tables/training_cost.csv")
    macs = {(r.dataset, r.model): r.mean for r in cost[cost.metric == "train_macs"].itertuples()}
    # BPTT through T steps costs more than a readout on frozen features
    assert macs[("nmnist", "SRNN-ANN")] > macs[("nmnist", "LSM")]
    enc = cost[(cost.metric == "encode_macs_dense") & (cost.model == "LSM")]
    assert (enc["mean"] > 0).all()
    assert not set(cost.metric) & {"accuracy", "train_seconds"}
    for ds in ("nmnist", "ntidigits"):
        fig = test_run / f"results/figures/supervised/accuracy_vs_cost_{ds}.png"
        assert fig.stat().st_size > 10_000


def test_end_to_end_workload_and_variability(test_run):
    wl = pd.read_csv(test_run / "results/tables/workload.csv")
    wl = wl[wl.dataset == "nmnist"]
    # the variant names the encoder: encoders of one dataset and source stay apart
    get = {(r.variant, r.metric): r for r in wl.itertuples()}
    sw, rram = "software (lsm_nmnist)", "rram (lsm_nmnist_rram)"
    assert get[(sw, "dense_synops")].mean == 50 * (256 + 64) * 64
    assert get[(sw, "effective_synops")].mean < get[(sw, "dense_synops")].mean
    assert 0.0 < get[(rram, "activation_sparsity")].mean < 1.0
    assert get[(sw, "arrays")].mean == 1
    var = pd.read_csv(test_run / "results/tables/variability.csv")
    assert set(var.model) == {"LSM-RRAM (nominal chip)", "LSM-RRAM (trained on ideal)",
                              "LSM-RRAM (variability-aware)"}
    assert (var.n_seeds == 3).all() and (var.selection == "val").all()
    zero = var[(var.variant == "read_sigma=0")]
    nominal = var[var.variant == "nominal"].iloc[0]["mean"]
    assert (zero["mean"] == nominal).all()  # no noise: same as the nominal chip
    assert (test_run / "results/figures/variability/variability.png").stat().st_size > 10_000


def test_end_to_end_records(test_run):
    res = test_run / "results"
    for p in ["figures/supervised/nmnist_lsm_software_learning_curves.png",
              "figures/supervised/nmnist_lsm_software_confusion.png",
              "notebooks/encode/lsm_nmnist.ipynb",
              "notebooks/supervised/nmnist_lsm_software.ipynb",
              "logs/encode/lsm_nmnist.log",
              "benchmarks/encode/lsm_nmnist.tsv",
              "benchmarks/train_supervised/nmnist_lsm_software.tsv"]:
        assert (res / p).is_file(), p
    import json

    prov = json.loads((res / "metrics/supervised/nmnist_lsm_software.provenance.json").read_text())
    assert prov["seeds"] == [0, 1, 2] and prov["data_source"] == "simulated"
    assert prov["generator_version"].startswith("dvs-saccade")
    assert {"torch", "numpy", "snakemake"} <= set(prov["packages"])
    assert prov["git_sha"] and "device" in prov
    # float training is bit-exact only on the same CPU type: the provenance says which
    assert prov["device"]["cpu_model"] and isinstance(prov["device"]["vector_isa"], list)
    assert prov["device"]["torch_cpu_capability"]
    enc = json.loads((res / "features/lsm_nmnist.provenance.json").read_text())
    assert enc["params"]["encoder"] == "lsm_nmnist" and enc["params"]["n_res"] == 64


def test_end_to_end_datasets_qc(test_run):
    """The default-shaped run simulates all three modalities and checks them."""
    import json

    summary = pd.read_csv(test_run / "results/data_qc/summary.csv")
    assert set(summary.dataset) == {"nmnist", "ntidigits", "willett", "emnist"}
    assert set(summary.source) == {"simulated"}
    cal = json.loads((test_run / "results/data_qc/calibration.json").read_text())
    assert cal["nmnist_all_digits"]["real_events"] == 4325
    assert cal["ntidigits_speakers_disjoint"] is True
    assert 0 <= cal["bmi_decoding_accuracy_pct"] <= 100
    for f in ("overview.png", "nmnist_calibration.png"):
        assert (test_run / "results/figures/datasets" / f).stat().st_size > 10_000


def test_end_to_end_zeroshot(test_run):
    res = test_run / "results"
    ret = pd.read_csv(res / "tables/zeroshot_audio_visual.csv")
    power = ret[ret.variant.str.contains(", ")]  # the power analysis's rows (lsm.zeroshot.power)
    top1 = ret[(ret.metric == "a2i_top1_dot") & ~ret.index.isin(power.index)]
    models = set(zip(top1.model, top1.variant, top1.pd, strict=True))  # pd: its own column
    assert models == {("LSM-CLIP", "software", 16), ("LSM-CLIP", "software", 32),
                      ("LSM-Proto", "software", 16), ("SRNN-CLIP", "trainable", 16)}
    t = top1[top1.split.str.startswith("test")]
    assert (t.n_seeds == 3).all() and (t.selection == "val").all()
    assert set(t.data_source) == {"simulated"}
    assert set(t[t.split == "test_unseen"].chance) == {50.0}
    assert t[t.split == "test_seen"].chance.iloc[0] == pytest.approx(100 / 7)
    assert set(ret.split) == {"val_seen", "test_seen", "test_unseen", "train", "test"}  # test: RSA
    honest = power[(power.model == "LSM-CLIP")
                   & (power.variant == "software, 3 reservoirs x 2 heads") & (power.pd == 16)
                   & (power.metric == "a2i_top1_dot") & (power.split == "test_unseen")]
    by = honest.set_index("selection")
    assert by.loc["val", "n_seeds"] == 6 and by.loc["val", "ci95_low"] <= by.loc["val", "mean"]
    assert {"untrained head", "best unseen epoch (test-selected)"} <= set(by.index)
    assert pd.isna(by.loc["best unseen epoch (test-selected)", "p_above_chance_t"])
    assert set(ret[ret.metric.str.startswith("rsa_")].model) == {"RSA: input",
                                                                "RSA: reservoir features"}
    assert (res / "figures/zeroshot/audio_visual/power_unseen_by_selection.png").is_file()
    md = (res / "tables/zeroshot_audio_visual.md").read_text()
    assert "SIMULATED" in md
    cost = pd.read_csv(res / "tables/zeroshot_audio_visual_cost.csv")
    ratio = cost[cost.metric == "ratio_total_macs_events"]
    assert len(ratio) == 1 and ratio.iloc[0].model == "SRNN-CLIP / LSM-CLIP"
    assert ratio.iloc[0]["mean"] > 1.0 and ratio.iloc[0].n_seeds == 3
    assert not set(cost.metric) & {"train_seconds", "a2i_top1_dot"}
    for f in ("accuracy_vs_pd_dot", "accuracy_vs_cost_cos", "lsm_clip_software_tsne",
              "srnn_clip_similarity", "lsm_proto_software_curves"):
        assert (res / f"figures/zeroshot/audio_visual/{f}.png").stat().st_size > 10_000, f


def test_end_to_end_bmi(test_run):
    res = test_run / "results"
    ret = pd.read_csv(res / "tables/zeroshot_bmi.csv")
    t = ret[(ret.metric == "n2v_top1_cos") & ret.split.str.startswith("test")]
    assert set(zip(t.model, t.variant, t.pd, strict=True)) == {
        ("LSM-CLIP", "software", 16), ("SRNN-Proto", "trainable", 16)}
    assert (t.n_seeds == 3).all() and (t.selection == "val").all()
    chance = t.groupby("split").chance.first()
    assert chance["test_seen"] == pytest.approx(100 / 22) and chance["test_unseen"] == 25.0
    assert {"v2n_top5_dot", "n2v_top1_dot"} <= set(ret.metric)
    cost = pd.read_csv(res / "tables/zeroshot_bmi_cost.csv")
    assert "SRNN-Proto / LSM-CLIP" in set(cost.model)
    import numpy as np

    with np.load(res / "frames/bmi_neural.npz") as f:
        assert f["x_train"].shape[1:] == (201, 192) and f["x_train"].max() == 1
    with np.load(res / "frames/bmi_letters.npz") as f:
        assert f["x_test"].shape[1:] == (49, 784)
    for fig in ("lsm_clip_software_examples", "lsm_clip_software_per_class",
                "srnn_proto_tsne"):
        assert (res / f"figures/zeroshot/bmi/{fig}.png").stat().st_size > 10_000, fig


def test_end_to_end_energy(test_run):
    res = test_run / "results"
    df = pd.read_csv(res / "tables/energy.csv")
    ratio = df[df.metric == "energy_ratio"]
    av = ratio[(ratio.dataset == "audio_visual") & (ratio.model == "LSM-CLIP (software)")]
    assert set(av.variant) >= {"gpu_3090ti_int8_peak", "asic40_int8", "snn_ubrain40"}
    assert (av.paper == 23.34).all() and (av["mean"] > 0).all() and (av.n_seeds == 3).all()
    bmi = ratio[(ratio.dataset == "bmi") & (ratio.model == "LSM-CLIP (software)")]
    assert (bmi.paper == 160.0).all()
    parts = df[(df.variant == "rram") & (df.dataset == "bmi")]
    assert {"rram_cells_energy", "rram_adc_energy", "rram_lif_energy", "rram_rows_energy",
            "rram_heads_energy"} <= set(parts.metric)
    assert (res / "figures/energy/sensitivity.png").stat().st_size > 10_000
    assert "SIMULATED" in (res / "tables/energy.md").read_text()


def test_changing_the_unseen_classes_reruns_the_experiment(test_run, tmp_path):
    import yaml

    cfg = yaml.safe_load((test_run / "config" / "config.yaml").read_text())
    cfg["zeroshot"]["audio_visual"].update(seen=[1, 2, 3, 4, 5, 8, 9], unseen=[6, 7])
    letters = [chr(ord("a") + i) for i in range(26)]  # the paper's first scan window a-d
    cfg["zeroshot"]["bmi"].update(seen=letters[4:], unseen=letters[:4])
    path = tmp_path / "unseen67.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(test_run), "--cores", "1",
                  "-n", "--configfile", str(path))
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "train_zeroshot" in out and "params have changed" in out
    assert "zeroshot/bmi/lsm_clip_software.json" in out
    assert "zeroshot/audio_visual/lsm_clip_software.json" in out
    assert "train_supervised" not in out  # nothing else is redone


def test_second_run_has_nothing_to_do(test_run):
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(test_run), "--cores", "2",
                  "-n")
    assert r.returncode == 0
    assert "Nothing to be done" in r.stdout + r.stderr


def test_rerun_is_deterministic(test_run, tmp_path):
    """Same config and seeds -> identical table (CPU)."""
    shutil.copytree(REPO / ".test" / "config", tmp_path / "config")
    shutil.copytree(test_run / "resources", tmp_path / "resources")  # skip re-simulation
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--cores", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    a = (test_run / "results/tables/supervised.csv").read_text()
    b = (tmp_path / "results/tables/supervised.csv").read_text()
    assert a == b


def test_report_is_built_from_the_tables_and_renders(test_run):
    res = test_run / "results"
    md = (res / "report.md").read_text()
    assert "SIMULATED" in md and "## supervised" in md and "## energy" in md
    assert "89.11" in md and "152.83" in md and "23.34" in md  # paper beside ours
    assert "did not run" in md and "82.7" in md  # unrun numbers and script-comment values listed
    assert "Paper:" in md  # an ordering paragraph
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(test_run),
                  "--report", str(res / "report.html"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (res / "report.html").stat().st_size > 100_000


def test_a_model_added_through_config_reaches_every_table_and_the_report(test_run, tmp_path):
    """The extension points: one config entry for a built-in kind, and the plug-in example
    (examples/new_baseline: a model class outside lsm/, named as "module:Class") with its
    own config file, both with no edit under lsm/."""
    import yaml

    work = tmp_path / "dummy"
    shutil.copytree(test_run, work, ignore=shutil.ignore_patterns("*.html"))
    # importable from the working directory, as the example's README says
    shutil.copytree(REPO / "examples/new_baseline/new_baseline", work / "new_baseline")
    cfg = yaml.safe_load((work / "config" / "config.yaml").read_text())
    cfg["supervised"]["runs"]["nmnist_dummy"] = {
        "kind": "lsm_readout", "encoder": "lsm_nmnist", "readout": "linear",
        "model": "Dummy-Baseline", "variant": "config-only"}
    plugin = yaml.safe_load((REPO / "examples/new_baseline/config.yaml").read_text())
    for name, run in plugin["supervised"]["runs"].items():  # the tiny config's readout
        cfg["supervised"]["runs"][name] = {**run, "readout": "linear"}
    for name, run in plugin["zeroshot"]["audio_visual"]["runs"].items():
        cfg["zeroshot"]["audio_visual"]["runs"][name] = {**run, "train": "heads",
                                                         "proj_dims": [16]}
    cfg["zeroshot"]["audio_visual"]["runs"]["dummy_zs"] = {
        "kind": "lsm", "encoders": {"query": "lsm_ntidigits", "gallery": "lsm_nmnist"},
        "head": "TwoFC", "model": "Dummy-ZS", "proj_dims": [16], "train": "heads"}
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    r = snakemake("-s", str(REPO / "Snakefile"), "--directory", str(work), "--cores", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    res = work / "results"
    for table in ("supervised", "training_cost", "timing"):
        models = set(pd.read_csv(res / f"tables/{table}.csv").model)
        assert {"Dummy-Baseline", "MLP on LSM features"} <= models, table
    sup = pd.read_csv(res / "tables/supervised.csv")
    mlp = sup[(sup.model == "MLP on LSM features") & (sup.metric == "accuracy")
              & (sup.split == "test")]
    assert len(mlp) == 1 and mlp["mean"].iloc[0] > 2 * mlp["chance"].iloc[0]  # it learned
    cost = pd.read_csv(res / "tables/training_cost.csv")
    enc = cost[(cost.model == "MLP on LSM features") & (cost.metric == "encode_macs_dense")]
    assert len(enc) == 1 and enc["mean"].iloc[0] > 0  # billed the encoding, as the LSM row
    for table in ("zeroshot_audio_visual", "zeroshot_audio_visual_cost", "energy"):
        models = set(pd.read_csv(res / f"tables/{table}.csv").model)
        assert any("Dummy-ZS" in m for m in models), table
    for table in ("zeroshot_audio_visual", "zeroshot_audio_visual_cost"):  # the plug-in
        models = set(pd.read_csv(res / f"tables/{table}.csv").model)  # encoder (no energy:
        assert "GRU-CLIP" in models, table                            # it is not an LSM)
    zs = pd.read_csv(res / "tables/zeroshot_audio_visual_cost.csv")
    gru = zs[(zs.model == "GRU-CLIP") & (zs.metric == "train_macs")]
    assert len(gru) == 1 and gru["mean"].iloc[0] > 0  # its cost counted from forward_macs
    md = (res / "report.md").read_text()
    assert "Dummy-Baseline" in md and "Dummy-ZS" in md and "MLP on LSM features" in md
    assert "GRU-CLIP" in md
    assert (res / "figures/supervised/nmnist_mlp_learning_curves.png").stat().st_size > 0
