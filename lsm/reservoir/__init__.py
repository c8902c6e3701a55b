"""The reservoir layer: LIF dynamics and kernels, the RRAM crossbar weight source, the
encoder that turns frames into spike counts, its workload, and the studies that vary it
(crossbar variability, reservoir size).

See docs/architecture.md for the layers and the data flow.
"""
