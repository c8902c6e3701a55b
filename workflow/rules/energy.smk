# Energy per inference: RRAM crossbar against digital baselines, from measured workloads.


rule energy:
    """Energy tables (RRAM breakdown, digital baselines, ratios) and the sensitivity figure."""
    input:
        workloads=lambda wc: expand("results/metrics/workload/{encoder}.json", encoder=energy_encoders()),
        constants=lambda wc: energy_constants(),
        measured="results/metrics/energy/gpu_measured.json",
    output:
        csv="results/tables/energy.csv",
        md="results/tables/energy.md",
        fig=report(
            "results/figures/energy/sensitivity.png",
            caption="../report/figure.rst",
            category="Energy",
        ),
    params:
        systems=lambda wc: as_json(energy_systems()),
        overrides=lambda wc: as_json(config["energy"]["overrides"]),
        pairs=lambda wc: [f"{e}=results/metrics/workload/{e}.json" for e in energy_encoders()],
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
        "results/logs/energy/energy.log",
    benchmark:
        "results/benchmarks/energy/energy.tsv"
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
        frames=lambda wc: f"results/frames/{config['encoders'][energy_encoders()[0]]['dataset']}.npz",
    output:
        json="results/metrics/energy/gpu_measured.json",
    params:
        name=lambda wc: energy_encoders()[0],
        encoder=lambda wc: as_json(config["encoders"][energy_encoders()[0]]),
    resources:
        gpu=1 if config["device"].startswith("cuda") else 0,
    log:
        "results/logs/energy/gpu_measured.log",
    benchmark:
        "results/benchmarks/energy/gpu_measured.tsv"
    conda:
        "../envs/lsm.yaml"
    shell:
        "lsm energy gpu --frames {input.frames:q} --encoder {params.encoder:q} "
        "--name {params.name:q} --out {output.json:q} &> {log:q}"
