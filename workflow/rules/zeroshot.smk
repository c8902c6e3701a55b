# Zero-shot cross-modal retrieval: one model per run, trained per pd and seed (notebook 04).


rule train_zeroshot:
    """Train on seen-class pairs, select the epoch on seen validation pairs, test seen and unseen."""
    input:
        unpack(lambda wc: zs_inputs(wc.zs, wc.zsrun)),
        nb=nb_path("04_zeroshot.ipynb"),
        frames_a=lambda wc: zs_frames(wc.zs, "query"),
        frames_b=lambda wc: zs_frames(wc.zs, "gallery"),
    output:
        nb=paths.ZS_NOTEBOOK,
        metrics=paths.ZS_METRICS,
        provenance=paths.ZS_PROVENANCE,
        curves=paths.ZS_CURVES,
        embeddings=paths.ZS_EMBEDDINGS,
        fig_tsne=paths.ZS_FIG_TSNE,
        fig_heatmap=paths.ZS_FIG_SIMILARITY,
        fig_curves=paths.ZS_FIG_CURVES,
        fig_per_class=paths.ZS_FIG_PER_CLASS,
        fig_examples=paths.ZS_FIG_EXAMPLES,
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
        paths.log("train_zeroshot", "{zs}/{zsrun}"),
    benchmark:
        paths.benchmark("train_zeroshot", "{zs}/{zsrun}")
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
        table=paths.fill(paths.TABLE_CSV, experiment="zeroshot_{zs}"),
        cost=paths.fill(paths.TABLE_CSV, experiment="zeroshot_{zs}_cost"),
    output:
        pd=report(
            paths.ZS_FIG_PD,
            caption="../report/figure.rst",
            category="Zero-shot",
            subcategory="{zs}",
        ),
        cost=report(
            paths.ZS_FIG_COST,
            caption="../report/figure.rst",
            category="Zero-shot",
            subcategory="{zs}",
        ),
    params:
        metric=lambda wc: f"{select_direction(zs_cfg(wc.zs))}_top1_{wc.sim}",
    localrule: True
    log:
        paths.log("figure_zeroshot", "{zs}_{sim}"),
    benchmark:
        paths.benchmark("figure_zeroshot", "{zs}_{sim}")
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
        frames_a=lambda wc: zs_frames(wc.zs, "query"),
        frames_b=lambda wc: zs_frames(wc.zs, "gallery"),
    output:
        nb=paths.ZS_POWER_NOTEBOOK,
        metrics=paths.ZS_POWER_METRICS,
        provenance=paths.ZS_POWER_PROVENANCE,
        curves=paths.ZS_POWER_CURVES,
        fig=report(
            paths.ZS_POWER_FIG,
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
        paths.log("zeroshot_power", "{zs}"),
    benchmark:
        paths.benchmark("zeroshot_power", "{zs}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_a {input.frames_a:q} -r frames_b {input.frames_b:q} "
        "-r metrics_path {output.metrics:q} -r provenance_path {output.provenance:q} "
        "-r curves_path {output.curves:q} -r fig_path {output.fig:q} "
        "-y {params.nb:q} &> {log:q}"
