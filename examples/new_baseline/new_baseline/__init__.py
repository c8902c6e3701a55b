"""A baseline defined outside the `lsm` package (the plug-in example: see README.md)."""
