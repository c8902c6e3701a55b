# Zero-shot cross-modal retrieval: one model per run, trained per pd and seed (notebook 04).


rule train_zeroshot:
    """Train on seen-class pairs, select the epoch on seen validation pairs, test seen and unseen."""
    input:
        unpack(lambda wc: zs_inputs(wc.zs, wc.zsrun)),
        nb=nb_path("04_zeroshot.ipynb"),
        frames_a=lambda wc: f"results/frames/{zs_cfg(wc.zs)['query']['frames']}.npz",
        frames_b=lambda wc: f"results/frames/{zs_cfg(wc.zs)['gallery']['frames']}.npz",
    output:
        nb="results/notebooks/zeroshot/{zs}/{zsrun}.ipynb",
        metrics="results/metrics/zeroshot/{zs}/{zsrun}.json",
        provenance="results/metrics/zeroshot/{zs}/{zsrun}.provenance.json",
        curves="results/metrics/zeroshot/{zs}/{zsrun}.curves.csv",
        embeddings="results/metrics/zeroshot/{zs}/{zsrun}.embeddings.npz",
        fig_tsne="results/figures/zeroshot/{zs}/{zsrun}_tsne.png",
        fig_heatmap="results/figures/zeroshot/{zs}/{zsrun}_similarity.png",
        fig_curves="results/figures/zeroshot/{zs}/{zsrun}_curves.png",
        fig_per_class="results/figures/zeroshot/{zs}/{zsrun}_per_class.png",
        fig_examples="results/figures/zeroshot/{zs}/{zsrun}_examples.png",
    params:
        nb=lambda wc: as_json(
            {
                "run_name": wc.zsrun,
                "experiment": wc.zs,
                "kind": zs_run(wc.zs, wc.zsrun)["kind"],
                "params": zs_run_params(wc.zs, wc.zsrun),
                "train": config["readouts"][zs_run(wc.zs, wc.zsrun)["train"]],
                "pairing": zs_pairing(wc.zs),
                "proj_dims": zs_run(wc.zs, wc.zsrun)["proj_dims"],
                "modalities": [zs_cfg(wc.zs)["query"]["name"], zs_cfg(wc.zs)["gallery"]["name"]],
                "model": zs_run(wc.zs, wc.zsrun)["model"],
                "variant": zs_run(wc.zs, wc.zsrun)["variant"],
                "class_names": zs_class_names(wc.zs),
                "seeds": config["seeds"],
            }
        ),
        # kind srnn has no frozen encoder, hence no workload files: pass empty paths
        workloads=lambda wc, input: shell_args(
            "-r", "workload_a", dict(input.items()).get("wa", ""),
            "-r", "workload_b", dict(input.items()).get("wb", ""),
        ),
    threads: lambda wc: zs_threads(wc.zs, wc.zsrun)
    log:
        "results/logs/train_zeroshot/{zs}/{zsrun}.log",
    benchmark:
        "results/benchmarks/train_zeroshot/{zs}/{zsrun}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r path_a {input.a:q} -r path_b {input.b:q} {params.workloads} "
        "-r metrics_path {output.metrics:q} -r provenance_path {output.provenance:q} "
        "-r curves_path {output.curves:q} -r embeddings_path {output.embeddings:q} "
        "-r fig_tsne_path {output.fig_tsne:q} -r fig_heatmap_path {output.fig_heatmap:q} "
        "-r fig_curves_path {output.fig_curves:q} -r fig_per_class_path {output.fig_per_class:q} "
        "-r fig_examples_path {output.fig_examples:q} -r frames_a {input.frames_a:q} "
        "-r frames_b {input.frames_b:q} -y {params.nb:q} &> {log:q}"


rule figure_zeroshot:
    """Top-1 against projection dimension and against training cost, seen and unseen."""
    input:
        table="results/tables/zeroshot_{zs}.csv",
        cost="results/tables/zeroshot_{zs}_cost.csv",
    output:
        pd=report(
            "results/figures/zeroshot/{zs}/accuracy_vs_pd_{sim}.png",
            caption="../report/figure.rst",
            category="Zero-shot",
            subcategory="{zs}",
        ),
        cost=report(
            "results/figures/zeroshot/{zs}/accuracy_vs_cost_{sim}.png",
            caption="../report/figure.rst",
            category="Zero-shot",
            subcategory="{zs}",
        ),
    params:
        metric=lambda wc: f"{select_direction(zs_cfg(wc.zs))}_top1_{wc.sim}",
    localrule: True
    log:
        "results/logs/figure_zeroshot/{zs}_{sim}.log",
    benchmark:
        "results/benchmarks/figure_zeroshot/{zs}_{sim}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results plot-zeroshot --table {input.table:q} --cost {input.cost:q} "
        "--metric {params.metric:q} --out-pd {output.pd:q} --out-cost {output.cost:q} &> {log:q}"


rule zeroshot_power:
    """Many reservoirs x heads, the paper's test-selected rule, rotated splits, RSA (notebook 06)."""
    # one of the longest single-core jobs (minutes): started as soon as its frames exist
    priority: 1
    input:
        nb=nb_path("06_zeroshot_power.ipynb"),
        frames_a=lambda wc: f"results/frames/{zs_cfg(wc.zs)['query']['frames']}.npz",
        frames_b=lambda wc: f"results/frames/{zs_cfg(wc.zs)['gallery']['frames']}.npz",
    output:
        nb="results/notebooks/zeroshot_power/{zs}.ipynb",
        metrics="results/metrics/zeroshot_power/{zs}.json",
        provenance="results/metrics/zeroshot_power/{zs}.provenance.json",
        curves="results/metrics/zeroshot_power/{zs}.curves.csv",
        fig=report(
            "results/figures/zeroshot/{zs}/power_unseen_by_selection.png",
            caption="../report/figure.rst",
            category="Zero-shot",
            subcategory="{zs}",
        ),
    params:
        nb=lambda wc: as_json(
            {
                "experiment": wc.zs,
                "runs": zs_power_runs(wc.zs),
                "pairing": zs_pairing(wc.zs),
                "power": zs_power(wc.zs),
                "modalities": [zs_cfg(wc.zs)["query"]["name"], zs_cfg(wc.zs)["gallery"]["name"]],
                "rram": config["rram"],
                "device": config["device"],
            }
        ),
    threads: 1
    log:
        "results/logs/zeroshot_power/{zs}.log",
    benchmark:
        "results/benchmarks/zeroshot_power/{zs}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_a {input.frames_a:q} -r frames_b {input.frames_b:q} "
        "-r metrics_path {output.metrics:q} -r provenance_path {output.provenance:q} "
        "-r curves_path {output.curves:q} -r fig_path {output.fig:q} "
        "-y {params.nb:q} &> {log:q}"
