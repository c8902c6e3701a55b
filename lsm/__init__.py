"""LSM-Bench: a reproducible benchmark of the RRAM zero-shot liquid state machine.

Lin et al., "Resistive memory-based zero-shot liquid state machine for multimodal event
data learning", Nature Computational Science 5, 37-47 (2025).

The package holds all logic; notebooks and Snakemake rules only call into it.
"""

__version__ = "0.1.0"
