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
        workloads=lambda wc, input: (
            f"-r workload_a {input.wa} -r workload_b {input.wb}"
            if "wa" in input.keys()
            else "-r workload_a '' -r workload_b ''"
        ),
    threads: 2
    log:
        "results/logs/train_zeroshot/{zs}/{zsrun}.log",
    benchmark:
        "results/benchmarks/train_zeroshot/{zs}/{zsrun}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "papermill {input.nb} {output.nb} -k python3 --log-output "
        "-r path_a {input.a} -r path_b {input.b} {params.workloads} "
        "-r metrics_path {output.metrics} -r provenance_path {output.provenance} "
        "-r curves_path {output.curves} -r embeddings_path {output.embeddings} "
        "-r fig_tsne_path {output.fig_tsne} -r fig_heatmap_path {output.fig_heatmap} "
        "-r fig_curves_path {output.fig_curves} -r fig_per_class_path {output.fig_per_class} "
        "-r fig_examples_path {output.fig_examples} -r frames_a {input.frames_a} "
        "-r frames_b {input.frames_b} -y '{params.nb}' &> {log}"


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
        "lsm results plot-zeroshot --table {input.table} --cost {input.cost} "
        "--metric {params.metric} --out-pd {output.pd} --out-cost {output.cost} &> {log}"
