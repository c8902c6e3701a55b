# Aggregation: metrics files -> long-format tables (CSV + Markdown) under the results contract.


rule table:
    """Mean ± std over seeds per model and setting, beside the paper's values."""
    input:
        metrics=lambda wc: table_inputs(wc.experiment),
    output:
        csv=paths.TABLE_CSV,
        md=paths.TABLE_MD,
    wildcard_constraints:
        experiment="|".join(TABLES),
    params:
        title=lambda wc: TABLES[wc.experiment][0],
        caption=lambda wc: TABLES[wc.experiment][1],
        metrics=lambda wc: ",".join(TABLE_METRICS.get(wc.experiment, [])),
        ratios=lambda wc: table_ratios(wc.experiment),
    localrule: True
    log:
        paths.log("table", "{experiment}"),
    benchmark:
        paths.benchmark("table", "{experiment}")
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
        csv=paths.fill(paths.TABLE_CSV, experiment="timing"),
        md=paths.fill(paths.TABLE_MD, experiment="timing"),
    params:
        title="Measured training wall-clock",
        caption=(
            "Wall-clock seconds of the training loops on this machine; they depend on the "
            "machine and its load, so they are kept out of the bit-reproducible tables."
        ),
    localrule: True
    log:
        paths.log("table", "timing"),
    benchmark:
        paths.benchmark("table", "timing")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results aggregate {input.metrics:q} --timing --out {output.csv:q} "
        "--title {params.title:q} --caption {params.caption:q} &> {log:q}"


rule figure_cost_ratio:
    """Each zero-shot cost ratio against the number of epochs, both counts, the paper's."""
    input:
        metrics=lambda wc: table_inputs(f"zeroshot_{wc.zs}_cost"),
    output:
        paths.ZS_FIG_COST_RATIO,
    params:
        ratios=lambda wc: as_json(zs_cfg(wc.zs)["cost_ratios"]),
        title=lambda wc: f"Training-cost ratios against epochs: {wc.zs}",
    localrule: True
    log:
        paths.log("figure_cost_ratio", "{zs}"),
    benchmark:
        paths.benchmark("figure_cost_ratio", "{zs}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results plot-cost-ratio {input.metrics:q} --ratios={params.ratios:q} "
        "--title {params.title:q} --out {output:q} &> {log:q}"


rule table_tuning:
    """Every supervised run's tuning grid, its validation results and the chosen point."""
    input:
        tuning=expand(
            paths.SUPERVISED_TUNING, run=config["supervised"]["runs"]
        ),
    output:
        csv=paths.fill(paths.TABLE_CSV, experiment="tuning"),
        md=paths.fill(paths.TABLE_MD, experiment="tuning"),
    params:
        cap=tuning_budget("epochs"),
        patience=tuning_budget("patience"),
        halving_min=halving_setting(config["supervised"]["tuning"])[0],
        halving_eta=halving_setting(config["supervised"]["tuning"])[1],
    localrule: True
    log:
        paths.log("table", "tuning"),
    benchmark:
        paths.benchmark("table", "tuning")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results tuning {input.tuning:q} --out {output.csv:q} "
        "--epoch-cap {params.cap:q} --patience {params.patience:q} "
        "--halving-min-epochs {params.halving_min:q} --halving-eta {params.halving_eta:q} "
        "&> {log:q}"


rule report_md:
    """The reproduction report, from the tables only (a new model needs no code here)."""
    input:
        tables=report_tables(),
        figures=report_figures(),
    output:
        report(
            paths.REPORT,
            caption="../report/report_md.rst",
            category="Report",
        ),
    localrule: True
    log:
        paths.log("report", "report"),
    benchmark:
        paths.benchmark("report", "report")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results report --tables {input.tables:q} --figures {input.figures:q} "
        "--out {output:q} &> {log:q}"


rule report_html:
    """The HTML report: report.md, every table and summary figure, and the executed
    notebooks as HTML pages; self-contained (figures embedded)."""
    input:
        report=paths.REPORT,
        tables=html_tables(),
        figures=report_figures(),
        notebooks=executed_notebooks(),
    output:
        html=paths.REPORT_HTML,
        notebooks=directory(paths.NOTEBOOKS_HTML),
    localrule: True
    log:
        paths.log("report", "html"),
    benchmark:
        paths.benchmark("report", "html")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm results html --report {input.report:q} --tables {input.tables:q} "
        "--figures {input.figures:q} --notebooks {input.notebooks:q} "
        "--notebooks-dir {output.notebooks:q} --out {output.html:q} &> {log:q}"


rule effective_config:
    """The config this run used, after validation (defaults filled, window scans expanded)."""
    output:
        paths.CONFIG_JSON,
    params:
        config=lambda wc: as_json(config),
    localrule: True
    log:
        paths.log("effective_config", "config"),
    run:
        from lsm import atomic

        atomic.write_json(output[0], json.loads(params.config))
