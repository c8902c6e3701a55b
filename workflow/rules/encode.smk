# Frozen reservoir encoding: run once per encoder parameter set; the features are the cache.


rule encode:
    """Encode every split with one reservoir per seed (notebook 01)."""
    input:
        nb=nb_path("01_encode_lsm.ipynb"),
        frames=lambda wc: "results/frames/{}.npz".format(
            config["encoders"][wc.encoder]["dataset"]
        ),
    output:
        nb="results/notebooks/encode/{encoder}.ipynb",
        features="results/features/{encoder}.npz",
        provenance="results/features/{encoder}.provenance.json",
    params:
        nb=lambda wc: as_json(
            {
                "encoder_name": wc.encoder,
                "encoder": config["encoders"][wc.encoder],
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
        "papermill {input.nb} {output.nb} -k python3 --log-output "
        "-r frames_path {input.frames} -r features_path {output.features} "
        "-r provenance_path {output.provenance} -y '{params.nb}' &> {log}"
