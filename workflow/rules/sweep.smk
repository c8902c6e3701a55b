# Reservoir-size sweep: LSM accuracy against n_res, one job per dataset (notebook 05).
from lsm.reservoir.sweep import plan as _sweep_plan

# dataset -> encoder, readout settings, sizes and reference runs (ConfigError on a bad
# section, before any job starts)
SWEEP = _sweep_plan(config)


rule reservoir_size:
    """Per size and seed: the encoder rebuilt at n_res, a linear readout selected on
    validation, test once; the reference rows as lines."""
    input:
        nb=nb_path("05_reservoir_size.ipynb"),
        frames=paths.FRAMES,
        # the dataset's supervised runs without a reservoir: the reference lines
        references=lambda wc: expand(
            paths.SUPERVISED_METRICS, run=SWEEP[wc.dataset]["references"]
        ),
    output:
        nb=paths.RESERVOIR_SIZE_NOTEBOOK,
        metrics=paths.RESERVOIR_SIZE_METRICS,
        provenance=paths.RESERVOIR_SIZE_PROVENANCE,
        table=paths.fill(paths.TABLE_CSV, experiment="reservoir_size_{dataset}"),
        md=paths.fill(paths.TABLE_MD, experiment="reservoir_size_{dataset}"),
        fig=report(
            paths.RESERVOIR_SIZE_FIG,
            caption="../report/figure.rst",
            category="Supervised",
        ),
    wildcard_constraints:
        dataset="|".join(SWEEP) or "^$",
    params:
        # a function of the wildcards only, so that a config change reruns the job (G2)
        nb=lambda wc: as_json(
            {
                "encoder_name": SWEEP[wc.dataset]["encoder"],
                "encoder": config["encoders"][SWEEP[wc.dataset]["encoder"]],
                "sizes": SWEEP[wc.dataset]["n_res"],
                "train": SWEEP[wc.dataset]["train"],
                "seeds": config["seeds"],
                "dataset": wc.dataset,
                "rram": config["rram"],
                "device": config["device"],
                "reference_paths": expand(
                    paths.SUPERVISED_METRICS, run=SWEEP[wc.dataset]["references"]
                ),
            }
        ),
    # the encoder kernel runs on every core it is given; the readouts use their `threads`
    threads: 2
    log:
        paths.log("reservoir_size", "{dataset}"),
    benchmark:
        paths.benchmark("reservoir_size", "{dataset}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_path {input.frames:q} -r metrics_path {output.metrics:q} "
        "-r provenance_path {output.provenance:q} -r table_path {output.table:q} "
        "-r fig_path {output.fig:q} -y {params.nb:q} &> {log:q}"
