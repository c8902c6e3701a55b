"""LSM-Bench: a reproducible benchmark of the RRAM zero-shot liquid state machine.

Lin et al., "Resistive memory-based zero-shot liquid state machine for multimodal event
data learning", Nature Computational Science 5, 37-47 (2025).

The package holds all logic; notebooks and Snakemake rules only call into it
(docs/architecture.md: its layers and the data flow). Citations "paper §n.m" and "§n.m"
in the code refer to docs/paper-notes.md, the facts about the paper the code relies on;
tags G1-G7 to docs/workflow-pitfalls.md.
"""

__version__ = "0.1.0"
