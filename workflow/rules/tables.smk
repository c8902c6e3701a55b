# Aggregation: metrics files -> long-format tables (CSV + Markdown) under the results contract.


rule table:
    """Mean ± std over seeds per model and setting, beside the paper's values."""
    input:
        metrics=lambda wc: table_inputs(wc.experiment),
    output:
        csv="results/tables/{experiment}.csv",
        md="results/tables/{experiment}.md",
    wildcard_constraints:
        experiment="|".join(TABLES),
    params:
        title=lambda wc: TABLES[wc.experiment][0],
        caption=lambda wc: TABLES[wc.experiment][1],
        metrics=lambda wc: ",".join(TABLE_METRICS.get(wc.experiment, [])),
        ratios=lambda wc: table_ratios(wc.experiment),
    localrule: True
    log:
        "results/logs/table/{experiment}.log",
    benchmark:
        "results/benchmarks/table/{experiment}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results aggregate {input.metrics:q} --out {output.csv:q} --only={params.metrics:q} "
        "--ratios={params.ratios:q} --title {params.title:q} --caption {params.caption:q} &> {log:q}"


rule table_timing:
    """Measured wall-clock training seconds (machine-dependent, so kept apart)."""
    input:
        metrics=timing_inputs(),
    output:
        csv="results/tables/timing.csv",
        md="results/tables/timing.md",
    params:
        title="Measured training wall-clock",
        caption=(
            "Wall-clock seconds of the training loops on this machine; they depend on the "
            "machine and its load, so they are kept out of the bit-reproducible tables."
        ),
    localrule: True
    log:
        "results/logs/table/timing.log",
    benchmark:
        "results/benchmarks/table/timing.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results aggregate {input.metrics:q} --timing --out {output.csv:q} "
        "--title {params.title:q} --caption {params.caption:q} &> {log:q}"


rule report_md:
    """The reproduction report, from the tables only (a new model needs no code here)."""
    input:
        tables=report_tables(),
        figures=report_figures(),
    output:
        report(
            "results/report.md",
            caption="../report/report_md.rst",
            category="Report",
        ),
    localrule: True
    log:
        "results/logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results report --tables {input.tables:q} --figures {input.figures:q} "
        "--out {output:q} &> {log:q}"


rule effective_config:
    """The config this run used, after validation (defaults filled, window scans expanded)."""
    output:
        "results/config.json",
    params:
        config=lambda wc: as_json(config),
    localrule: True
    log:
        "results/logs/effective_config/config.log",
    run:
        from lsm import atomic

        atomic.write_json(output[0], json.loads(params.config))
