"""The results layer: the model-agnostic results contract, the paper's values, statistics,
training-cost ratios, the tables' figures and the report.

See docs/architecture.md for the layers and the data flow.
"""
