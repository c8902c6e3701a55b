# Datasets: offline simulation (default) or real downloads, then binary frames.


rule simulate_nmnist:
    """Real MNIST digits -> DVS saccade simulator -> N-MNIST .bin files."""
    output:
        manifest="resources/datasets/nmnist/simulated/MANIFEST.json",
    params:
        sim=lambda wc: as_json(config["datasets"]["nmnist"]["simulate"]),
    threads: 2
    log:
        "results/logs/simulate_nmnist/nmnist.log",
    benchmark:
        "results/benchmarks/simulate_nmnist/nmnist.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data simulate nmnist --out $(dirname {output.manifest}) "
        "--params '{params.sim}' --workers {threads} &> {log}"


rule fetch_nmnist:
    """Download the official N-MNIST archives through tonic (md5-checked)."""
    output:
        manifest="resources/datasets/nmnist/real/MANIFEST.json",
    localrule: True
    retries: 3
    log:
        "results/logs/fetch_nmnist/nmnist.log",
    benchmark:
        "results/benchmarks/fetch_nmnist/nmnist.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch nmnist --out $(dirname {output.manifest}) &> {log}"


rule frames:
    """Events -> centre-cropped, one-polarity binary frames; stratified train/val/test."""
    input:
        data=lambda wc: dataset_input(wc.dataset),
    output:
        frames="results/frames/{dataset}.npz",
    params:
        root=lambda wc: dataset_root(wc.dataset),
        prep=lambda wc: as_json(dataset_cfg(wc.dataset)["preprocess"]),
        val_fraction=lambda wc: dataset_cfg(wc.dataset)["val_fraction"],
        split_seed=lambda wc: dataset_cfg(wc.dataset)["split_seed"],
    log:
        "results/logs/frames/{dataset}.log",
    benchmark:
        "results/benchmarks/frames/{dataset}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data frames {wildcards.dataset} --root {params.root} --prep '{params.prep}' "
        "--val-fraction {params.val_fraction} --split-seed {params.split_seed} "
        "--out {output.frames} &> {log}"
