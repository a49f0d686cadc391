"""The shared conformance suite: `*.test` data files and their loader (see loader.py)."""
