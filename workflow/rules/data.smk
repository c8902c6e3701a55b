# Datasets: offline simulation (default) or real downloads, then binary frames.


rule simulate_dataset:
    """Write a simulated dataset in the real on-disk format (MANIFEST.json is written last)."""
    # every later job waits on the data: without a priority the scheduler filled both
    # cores with the (cheap) BMI jobs first and started N-TIDIGITS 20 minutes in
    priority: 10
    output:
        manifest=paths.SIMULATED_MANIFEST,
    wildcard_constraints:
        dataset="nmnist|ntidigits",
    params:
        out=lambda wc, output: parent(output.manifest),
        sim=lambda wc: as_json(sim_params(wc.dataset)),
    threads: 2
    log:
        paths.log("simulate_dataset", "{dataset}"),
    benchmark:
        paths.benchmark("simulate_dataset", "{dataset}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data simulate {wildcards.dataset:q} --out {params.out:q} "
        "--params {params.sim:q} --workers {threads} &> {log:q}"


rule simulate_bmi:
    """The BMI session and both letter-image sets (font-disjoint, and the mixed-font
    ablation). The generator version is a parameter: a new simulator version reruns the
    job (Snakemake's params trigger) instead of silently reusing an older dataset."""
    # one worker (about 10 s): a 2-core job waits for both cores to be free, and once the
    # long 1-core BPTT runs start that does not happen for minutes
    priority: 9
    output:
        manifest=paths.fill(paths.SIMULATED_MANIFEST, dataset="bmi"),
    params:
        out=lambda wc, output: parent(output.manifest),
        # image_fonts picks one of the two letter-image sets the simulator always writes
        # (read by the frames step), so the simulate command does not take it
        sim=lambda wc: as_json(
            {k: v for k, v in sim_params("bmi").items() if k != "image_fonts"}
        ),
        generator=lambda wc: bmi_generator_version(),
    threads: 1
    log:
        paths.log("simulate_dataset", "bmi"),
    benchmark:
        paths.benchmark("simulate_dataset", "bmi")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data simulate bmi --out {params.out:q} "
        "--params {params.sim:q} --workers {threads} &> {log:q}"


rule fetch_dataset:
    """Download N-MNIST's zips or n-tidigits.hdf5 (URLs and md5s from the config)."""
    output:
        manifest=paths.REAL_MANIFEST,
    params:
        out=lambda wc, output: parent(output.manifest),
        src=lambda wc: as_json(fetch_params(wc.dataset)),
    wildcard_constraints:
        dataset="nmnist|ntidigits",
    localrule: True
    retries: 3
    log:
        paths.log("fetch_dataset", "{dataset}"),
    benchmark:
        paths.benchmark("fetch_dataset", "{dataset}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch {wildcards.dataset:q} --out {params.out:q} --params {params.src:q} "
        "&> {log:q}"


rule fetch_emnist:
    """EMNIST gzip.zip (md5-checked) -> the four letters IDX files."""
    output:
        labels=paths.EMNIST_LABELS,
    params:
        out=lambda wc, output: parent(output.labels),
        src=lambda wc: as_json(fetch_params("emnist")),
    localrule: True
    retries: 3
    log:
        paths.log("fetch_emnist", "emnist"),
    benchmark:
        paths.benchmark("fetch_emnist", "emnist")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch emnist --out {params.out:q} --params {params.src:q} &> {log:q}"


rule fetch_willett:
    """Willett's Dryad archive (checksummed) -> singleLetters.mat of t5.2019.05.08."""
    output:
        mat=paths.WILLETT_MAT,
    params:
        out=lambda wc, output: parent(output.mat),
        src=lambda wc: as_json(fetch_params("willett")),
    localrule: True
    retries: 3
    log:
        paths.log("fetch_willett", "willett"),
    benchmark:
        paths.benchmark("fetch_willett", "willett")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data fetch willett --out {params.out:q} --params {params.src:q} &> {log:q}"


rule frames:
    """Events -> binary frames; stratified (N-MNIST) or by-speaker (N-TIDIGITS) validation."""
    priority: 10
    input:
        data=lambda wc: dataset_input(wc.dataset),
    output:
        frames=paths.FRAMES,
    wildcard_constraints:
        dataset="nmnist|ntidigits",
    params:
        root=lambda wc: dataset_root(wc.dataset),
        prep=lambda wc: as_json(dataset_cfg(wc.dataset)["preprocess"]),
        val_fraction=lambda wc: dataset_cfg(wc.dataset)["val_fraction"],
        split_seed=lambda wc: dataset_cfg(wc.dataset)["split_seed"],
    log:
        paths.log("frames", "{dataset}"),
    benchmark:
        paths.benchmark("frames", "{dataset}")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data frames {wildcards.dataset:q} --root {params.root:q} --prep {params.prep:q} "
        "--val-fraction {params.val_fraction:q} --split-seed {params.split_seed:q} "
        "--out {output.frames:q} &> {log:q}"


rule frames_bmi:
    """Willett trials (binary) and EMNIST letters (rate-coded); last trials per letter = test."""
    input:
        data=lambda wc: bmi_paths()[2],
    output:
        neural=paths.fill(paths.FRAMES, dataset="bmi_neural"),
        letters=paths.fill(paths.FRAMES, dataset="bmi_letters"),
    params:
        mat=lambda wc: bmi_paths()[0],
        emnist=lambda wc: bmi_emnist_dir(dataset_cfg("bmi")["simulate"]["image_fonts"]),
        prep=lambda wc: as_json(dataset_cfg("bmi")["preprocess"]),
        split=lambda wc: as_json(dataset_cfg("bmi")["split"]),
    log:
        paths.log("frames", "bmi"),
    benchmark:
        paths.benchmark("frames", "bmi")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data bmi-frames --mat {params.mat:q} --emnist {params.emnist:q} "
        "--prep {params.prep:q} --split {params.split:q} --out-neural {output.neural:q} "
        "--out-letters {output.letters:q} &> {log:q}"


rule frames_bmi_mixed_fonts:
    """The ablation's letter frames (simulated data only): the same letters, labels, split
    and rate coding as bmi_letters, drawn by the mixed font rule (the neural writer's
    glyphs among the image fonts). The neural frames it also writes are bmi_neural's
    (the same file and split): a temporary copy, deleted."""
    input:
        data=lambda wc: bmi_paths()[2],
    output:
        letters=paths.fill(paths.FRAMES, dataset="bmi_letters_mixed"),
        neural=temp(paths.FRAMES_NEURAL_COPY),
    params:
        mat=lambda wc: bmi_paths()[0],
        emnist=lambda wc: bmi_emnist_dir("mixed"),
        prep=lambda wc: as_json(dataset_cfg("bmi")["preprocess"]),
        split=lambda wc: as_json(dataset_cfg("bmi")["split"]),
    log:
        paths.log("frames", "bmi_letters_mixed"),
    benchmark:
        paths.benchmark("frames", "bmi_letters_mixed")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm data bmi-frames --mat {params.mat:q} --emnist {params.emnist:q} "
        "--prep {params.prep:q} --split {params.split:q} --out-neural {output.neural:q} "
        "--out-letters {output.letters:q} &> {log:q}"


rule datasets_qc:
    """Simulated beside real: frames, rates, class counts, cochleagram, raster, calibration."""
    input:
        nb=nb_path("00_datasets.ipynb"),
        data=lambda wc: qc_inputs(),
    output:
        nb=paths.QC_NOTEBOOK,
        calibration=paths.QC_CALIBRATION,
        summary=paths.QC_SUMMARY,
        fig_overview=paths.QC_FIG_OVERVIEW,
        fig_calibration=paths.QC_FIG_CALIBRATION,
    params:
        nb=lambda wc: as_json(qc_params()),
    log:
        paths.log("datasets_qc", "datasets"),
    benchmark:
        paths.benchmark("datasets_qc", "datasets")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm notebook {input.nb:q} {output.nb:q} "
        "-r calibration_path {output.calibration:q} -r summary_path {output.summary:q} "
        "-r fig_overview_path {output.fig_overview:q} "
        "-r fig_calibration_path {output.fig_calibration:q} -y {params.nb:q} &> {log:q}"
