# Frozen reservoir encoding: run once per encoder parameter set; the features are the cache.


rule encode:
    """Encode every split with one reservoir per seed, and measure its workload (notebook 01)."""
    input:
        nb=nb_path("01_encode_lsm.ipynb"),
        frames=lambda wc: encoder_frames(wc.encoder),
    output:
        nb=paths.ENCODE_NOTEBOOK,
        features=paths.FEATURES,
        provenance=paths.FEATURES_PROVENANCE,
        workload=paths.WORKLOAD,
    params:
        nb=lambda wc: as_json(
            {
                "encoder_name": wc.encoder,
                "encoder": config["encoders"][wc.encoder],
                "rram": config["rram"],
                "seeds": config["seeds"],
                "device": config["device"],
            }
        ),
    log:
        paths.log("encode", "{encoder}"),
    benchmark:
        paths.benchmark("encode", "{encoder}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_path {input.frames:q} -r features_path {output.features:q} "
        "-r provenance_path {output.provenance:q} -r workload_path {output.workload:q} "
        "-y {params.nb:q} &> {log:q}"


rule crossbar_variability:
    """Accuracy under RRAM non-idealities: trained on ideal vs variability-aware (notebook 03)."""
    input:
        nb=nb_path("03_crossbar_variability.ipynb"),
        frames=lambda wc: encoder_frames(config["variability"]["encoder"]),
    output:
        nb=paths.VARIABILITY_NOTEBOOK,
        metrics=paths.VARIABILITY_METRICS,
        rows=paths.VARIABILITY_ROWS,
        provenance=paths.VARIABILITY_PROVENANCE,
        fig=paths.VARIABILITY_FIG,
    params:
        nb=lambda wc: as_json(
            {
                "encoder_name": config["variability"]["encoder"],
                "encoder": variability_encoder(),
                "rram": config["rram"],
                "readout": config["readouts"][config["variability"]["readout"]],
                "axes": config["variability"]["axes"],
                "seeds": config["seeds"],
                "dataset": variability_encoder()["dataset"],
            }
        ),
    log:
        paths.log("crossbar_variability", "variability"),
    benchmark:
        paths.benchmark("crossbar_variability", "variability")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_path {input.frames:q} -r metrics_path {output.metrics:q} "
        "-r rows_path {output.rows:q} -r provenance_path {output.provenance:q} "
        "-r fig_path {output.fig:q} -y {params.nb:q} &> {log:q}"
