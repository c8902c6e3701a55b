"""The energy layer: the RRAM-versus-digital energy model, optional measured GPU energy, and
the energy figures.

See docs/architecture.md for the layers and the data flow.
"""
