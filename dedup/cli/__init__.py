"""The ``dedup`` command line: one module per command, a thin client of the Python API."""

from dedup.cli.clean import main

__all__ = ["main"]
