# Energy per inference: RRAM crossbar against digital baselines, from measured workloads.


rule energy:
    """Energy tables (RRAM breakdown, digital baselines, ratios) and the sensitivity figure."""
    input:
        workloads=lambda wc: expand(paths.WORKLOAD, encoder=energy_encoders()),
        constants=lambda wc: energy_constants(),
        measured=paths.GPU_ENERGY,
    output:
        csv=paths.fill(paths.TABLE_CSV, experiment="energy"),
        md=paths.fill(paths.TABLE_MD, experiment="energy"),
        fig=report(
            paths.ENERGY_FIG,
            caption="../report/figure.rst",
            category="Energy",
        ),
    params:
        systems=lambda wc: as_json(energy_systems()),
        overrides=lambda wc: as_json(config["energy"]["overrides"]),
        pairs=lambda wc: [f"{e}={paths.fill(paths.WORKLOAD, encoder=e)}" for e in energy_encoders()],
        caption=(
            "Energy per inference (nJ) from the measured operation counts of each encoder "
            "(test split): RRAM = active rows x row driver + cell reads x V2Gt + ADC "
            "conversions, digital LIF updates and digital heads; digital = dense MACs x energy "
            "per MAC (with weight fetch for the ASIC) or synaptic ops x energy per op (SNN chips), "
            "LIF updates and heads. Constants with sources and grades: config/energy.yaml. "
            "Ratio = digital / RRAM; the paper does not name its baseline."
        ),
    localrule: True
    log:
        paths.log("energy", "energy"),
    benchmark:
        paths.benchmark("energy", "energy")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm energy table --systems {params.systems:q} --workloads {params.pairs:q} "
        "--constants {input.constants:q} --overrides {params.overrides:q} "
        "--caption {params.caption:q} --measured {input.measured:q} --out {output.csv:q} "
        "--fig {output.fig:q} &> {log:q}"


rule gpu_energy:
    """Measured GPU energy (NVML) of the first energy system's first encoder, at batch 1 and
    1024; on a machine without a CUDA GPU it records why it did not measure."""
    input:
        frames=lambda wc: encoder_frames(energy_encoders()[0]),
    output:
        json=paths.GPU_ENERGY,
    params:
        name=lambda wc: energy_encoders()[0],
        encoder=lambda wc: as_json(config["encoders"][energy_encoders()[0]]),
    resources:
        gpu=1 if config["device"].startswith("cuda") else 0,
    log:
        paths.log("energy", "gpu_measured"),
    benchmark:
        paths.benchmark("energy", "gpu_measured")
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm energy gpu --frames {input.frames:q} --encoder {params.encoder:q} "
        "--name {params.name:q} --out {output.json:q} &> {log:q}"
