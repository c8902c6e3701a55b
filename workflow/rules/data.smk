# Datasets: offline simulation (default) or real downloads, then binary frames.


rule simulate_dataset:
    """Write a simulated dataset in the real on-disk format (MANIFEST.json is written last)."""
    output:
        manifest="resources/datasets/{dataset}/simulated/MANIFEST.json",
    params:
        sim=lambda wc: as_json(sim_params(wc.dataset)),
    threads: 2
    log:
        "results/logs/simulate_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/simulate_dataset/{dataset}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data simulate {wildcards.dataset} --out $(dirname {output.manifest}) "
        "--params '{params.sim}' --workers {threads} &> {log}"


rule fetch_dataset:
    """Download N-MNIST (through tonic) or n-tidigits.hdf5, md5-checked."""
    output:
        manifest="resources/datasets/{dataset}/real/MANIFEST.json",
    wildcard_constraints:
        dataset="nmnist|ntidigits",
    localrule: True
    retries: 3
    log:
        "results/logs/fetch_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/fetch_dataset/{dataset}.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch {wildcards.dataset} --out $(dirname {output.manifest}) &> {log}"


rule fetch_emnist:
    """EMNIST gzip.zip (md5-checked) -> the four letters IDX files."""
    output:
        labels="resources/datasets/bmi/real/emnist/emnist-letters-test-labels-idx1-ubyte",
    params:
        src=lambda wc: as_json(
            {k: dataset_cfg("bmi")[k] for k in ("emnist_url", "emnist_md5")}
        ),
    localrule: True
    retries: 3
    log:
        "results/logs/fetch_emnist/emnist.log",
    benchmark:
        "results/benchmarks/fetch_emnist/emnist.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch emnist --out $(dirname {output.labels}) --params '{params.src}' &> {log}"


rule fetch_willett:
    """Willett's Dryad archive (checksummed) -> singleLetters.mat of t5.2019.05.08."""
    output:
        mat="resources/datasets/bmi/real/willett/singleLetters.mat",
    params:
        src=lambda wc: as_json(
            {k: dataset_cfg("bmi")[k] for k in ("willett_url", "willett_sha256")}
        ),
    localrule: True
    retries: 3
    log:
        "results/logs/fetch_willett/willett.log",
    benchmark:
        "results/benchmarks/fetch_willett/willett.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch willett --out $(dirname {output.mat}) --params '{params.src}' &> {log}"


rule frames:
    """Events -> binary frames; stratified (N-MNIST) or by-speaker (N-TIDIGITS) validation."""
    input:
        data=lambda wc: dataset_input(wc.dataset),
    output:
        frames="results/frames/{dataset}.npz",
    wildcard_constraints:
        dataset="nmnist|ntidigits",
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


rule frames_bmi:
    """Willett trials (binary) and EMNIST letters (rate-coded); last trials per letter = test."""
    input:
        data=lambda wc: bmi_paths()[2],
    output:
        neural="results/frames/bmi_neural.npz",
        letters="results/frames/bmi_letters.npz",
    params:
        mat=lambda wc: bmi_paths()[0],
        emnist=lambda wc: bmi_paths()[1],
        prep=lambda wc: as_json(dataset_cfg("bmi")["preprocess"]),
        split=lambda wc: as_json(dataset_cfg("bmi")["split"]),
    log:
        "results/logs/frames/bmi.log",
    benchmark:
        "results/benchmarks/frames/bmi.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data bmi-frames --mat {params.mat} --emnist {params.emnist} "
        "--prep '{params.prep}' --split '{params.split}' --out-neural {output.neural} "
        "--out-letters {output.letters} &> {log}"


rule datasets_qc:
    """Simulated beside real: frames, rates, class counts, cochleagram, raster, calibration."""
    input:
        nb=nb_path("00_datasets.ipynb"),
        data=qc_inputs(),
    output:
        nb="results/notebooks/datasets_qc/datasets.ipynb",
        calibration="results/data_qc/calibration.json",
        summary="results/data_qc/summary.csv",
        fig_overview="results/figures/datasets/overview.png",
        fig_calibration="results/figures/datasets/nmnist_calibration.png",
    params:
        nb=lambda wc: as_json(qc_params()),
    log:
        "results/logs/datasets_qc/datasets.log",
    benchmark:
        "results/benchmarks/datasets_qc/datasets.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "papermill {input.nb} {output.nb} -k python3 --log-output "
        "-r calibration_path {output.calibration} -r summary_path {output.summary} "
        "-r fig_overview_path {output.fig_overview} "
        "-r fig_calibration_path {output.fig_calibration} -y '{params.nb}' &> {log}"
