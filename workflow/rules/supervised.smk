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
        nb=paths.SUPERVISED_NOTEBOOK,
        metrics=paths.SUPERVISED_METRICS,
        provenance=paths.SUPERVISED_PROVENANCE,
        curves=paths.SUPERVISED_CURVES,
        confusion=paths.SUPERVISED_CONFUSION,
        tuning=paths.SUPERVISED_TUNING,
        fig_curves=paths.SUPERVISED_FIG_CURVES,
        fig_confusion=paths.SUPERVISED_FIG_CONFUSION,
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
        paths.log("train_supervised", "{run}"),
    benchmark:
        paths.benchmark("train_supervised", "{run}")
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
        table=paths.fill(paths.TABLE_CSV, experiment="supervised"),
        cost=paths.fill(paths.TABLE_CSV, experiment="training_cost"),
    output:
        fig=report(
            paths.SUPERVISED_FIG_COST,
            caption="../report/figure.rst",
            category="Supervised",
        ),
    localrule: True
    log:
        paths.log("figure_supervised", "{dataset}"),
    benchmark:
        paths.benchmark("figure_supervised", "{dataset}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results plot-cost --accuracy {input.table:q} --cost {input.cost:q} "
        "--dataset {wildcards.dataset:q} --out {output.fig:q} &> {log:q}"
