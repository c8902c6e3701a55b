# Frozen reservoir encoding: run once per encoder parameter set; the features are the cache.


rule encode:
    """Encode every split with one reservoir per seed, and measure its workload (notebook 01)."""
    input:
        nb=nb_path("01_encode_lsm.ipynb"),
        frames=lambda wc: "results/frames/{}.npz".format(
            config["encoders"][wc.encoder]["dataset"]
        ),
    output:
        nb="results/notebooks/encode/{encoder}.ipynb",
        features="results/features/{encoder}.npz",
        provenance="results/features/{encoder}.provenance.json",
        workload="results/metrics/workload/{encoder}.json",
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
        "results/logs/encode/{encoder}.log",
    benchmark:
        "results/benchmarks/encode/{encoder}.tsv"
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
        frames=lambda wc: "results/frames/{}.npz".format(variability_encoder()["dataset"]),
    output:
        nb="results/notebooks/variability/variability.ipynb",
        metrics="results/metrics/variability/variability.json",
        rows="results/metrics/variability/variability.rows.csv",
        provenance="results/metrics/variability/variability.provenance.json",
        fig="results/figures/variability/variability.png",
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
        "results/logs/crossbar_variability/variability.log",
    benchmark:
        "results/benchmarks/crossbar_variability/variability.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r frames_path {input.frames:q} -r metrics_path {output.metrics:q} "
        "-r rows_path {output.rows:q} -r provenance_path {output.provenance:q} "
        "-r fig_path {output.fig:q} -y {params.nb:q} &> {log:q}"
