"""Offline simulators that write the real dataset formats from real packaged material."""
