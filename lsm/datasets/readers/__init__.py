"""Readers and writers of the real on-disk dataset formats."""
