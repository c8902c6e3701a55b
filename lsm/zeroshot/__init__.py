"""The zero-shot layer: cross-modal pairs, projection heads and contrastive losses, the
pair-model training stage, retrieval metrics, the power analysis and their figures.

See docs/architecture.md for the layers and the data flow.
"""
