# Supervised classification: one model kind per run, trained per seed (notebook 02).


rule train_supervised:
    """Train per seed; select the epoch on validation; test once; record training cost."""
    # the longest jobs (BPTT baselines, minutes each) first, so that none of them is left
    # running alone at the end of a 2-core run
    priority: lambda wc: supervised_priority(wc.run)
    input:
        nb=nb_path("02_supervised_readout.ipynb"),
        data=lambda wc: run_input(wc.run),
        workload=lambda wc: run_workload(wc.run),
    output:
        nb="results/notebooks/supervised/{run}.ipynb",
        metrics="results/metrics/supervised/{run}.json",
        provenance="results/metrics/supervised/{run}.provenance.json",
        curves="results/metrics/supervised/{run}.curves.csv",
        confusion="results/metrics/supervised/{run}.confusion.csv",
        tuning="results/metrics/supervised/{run}.tuning.csv",
        fig_curves="results/figures/supervised/{run}_learning_curves.png",
        fig_confusion="results/figures/supervised/{run}_confusion.png",
    params:
        nb=lambda wc: as_json(
            {
                "run_name": wc.run,
                "kind": run_cfg(wc.run)["kind"],
                "params": run_cfg(wc.run)["params"],
                "train": config["readouts"][run_cfg(wc.run)["readout"]],
                "dataset": dataset_of_run(wc.run),
                "model": run_cfg(wc.run)["model"],
                "variant": run_cfg(wc.run)["variant"],
                "feature_scale": run_cfg(wc.run)["feature_scale"],
                "seeds": config["seeds"],
                "tuning": config["supervised"]["tuning"],
            }
        ),
        # an LSM readout reads its encoder's workload; other kinds pass an empty path
        workload=lambda wc, input: shell_args("-r", "workload_path", *input.workload[:1] or [""]),
    threads: 1
    log:
        "results/logs/train_supervised/{run}.log",
    benchmark:
        "results/benchmarks/train_supervised/{run}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r input_path {input.data:q} {params.workload} "
        "-r metrics_path {output.metrics:q} "
        "-r provenance_path {output.provenance:q} -r curves_path {output.curves:q} "
        "-r confusion_path {output.confusion:q} -r tuning_path {output.tuning:q} "
        "-r fig_curves_path {output.fig_curves:q} "
        "-r fig_confusion_path {output.fig_confusion:q} -y {params.nb:q} &> {log:q}"


rule figure_supervised:
    """Accuracy against training cost (log axis), per dataset, with the paper's values."""
    input:
        table="results/tables/supervised.csv",
        cost="results/tables/training_cost.csv",
    output:
        fig=report(
            "results/figures/supervised/accuracy_vs_cost_{dataset}.png",
            caption="../report/figure.rst",
            category="Supervised",
        ),
    localrule: True
    log:
        "results/logs/figure_supervised/{dataset}.log",
    benchmark:
        "results/benchmarks/figure_supervised/{dataset}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results plot-cost --accuracy {input.table:q} --cost {input.cost:q} "
        "--dataset {wildcards.dataset:q} --out {output.fig:q} &> {log:q}"
