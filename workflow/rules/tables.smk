# Aggregation: metrics files -> long-format tables (CSV + Markdown) under the results contract.


rule table_supervised:
    """Mean ± std over seeds per model, beside the paper's values."""
    input:
        metrics=expand(
            "results/metrics/supervised/{run}.json", run=list(config["supervised"]["runs"])
        ),
    output:
        csv="results/tables/supervised.csv",
        md="results/tables/supervised.md",
        timing="results/tables/supervised_timing.csv",
        timing_md="results/tables/supervised_timing.md",
    params:
        title="Supervised classification accuracy",
        caption=(
            "Linear readout on frozen reservoir spike counts; epoch selected on a "
            "validation split carved from train; test evaluated once."
        ),
    localrule: True
    log:
        "results/logs/table_supervised/supervised.log",
    benchmark:
        "results/benchmarks/table_supervised/supervised.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results aggregate {input.metrics} --out {output.csv} --timing-out {output.timing} "
        "--title '{params.title}' --caption '{params.caption}' &> {log}"
