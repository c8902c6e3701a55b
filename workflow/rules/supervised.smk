# Supervised classification: a linear readout per run on frozen features (notebook 02).


rule train_supervised:
    """Train the readout per seed; select the epoch on validation; test once."""
    input:
        nb=nb_path("02_supervised_readout.ipynb"),
        features=lambda wc: "results/features/{}.npz".format(encoder_of_run(wc.run)),
    output:
        nb="results/notebooks/supervised/{run}.ipynb",
        metrics="results/metrics/supervised/{run}.json",
        provenance="results/metrics/supervised/{run}.provenance.json",
        curves="results/metrics/supervised/{run}.curves.csv",
        confusion="results/metrics/supervised/{run}.confusion.csv",
        fig_curves="results/figures/supervised/{run}_learning_curves.png",
        fig_confusion="results/figures/supervised/{run}_confusion.png",
    params:
        nb=lambda wc: as_json(
            {
                "run_name": wc.run,
                "dataset": dataset_of_run(wc.run),
                "model": run_cfg(wc.run)["model"],
                "variant": run_cfg(wc.run)["variant"],
                "feature_scale": run_cfg(wc.run)["feature_scale"],
                "readout": config["readouts"][run_cfg(wc.run)["readout"]],
                "seeds": config["seeds"],
            }
        ),
    log:
        "results/logs/train_supervised/{run}.log",
    benchmark:
        "results/benchmarks/train_supervised/{run}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "papermill {input.nb} {output.nb} -k python3 --log-output "
        "-r features_path {input.features} -r metrics_path {output.metrics} "
        "-r provenance_path {output.provenance} -r curves_path {output.curves} "
        "-r confusion_path {output.confusion} -r fig_curves_path {output.fig_curves} "
        "-r fig_confusion_path {output.fig_confusion} -y '{params.nb}' &> {log}"
