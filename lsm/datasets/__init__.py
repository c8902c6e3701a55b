"""The data layer: the one event dtype, the real-format readers, the offline simulators,
downloads, preprocessing to frames, splits, quality control and the dataset descriptors.

See docs/architecture.md for the layers and the data flow.
"""
