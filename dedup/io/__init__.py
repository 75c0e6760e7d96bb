"""Readers and writers for the formats the command line speaks: text, JSONL, Parquet, CSV/TSV.

Readers yield, in input order, an :class:`Item` for each good record and a
:class:`Reject` (with its file, line and raw bytes) for each bad one, so the caller
decides whether bad input stops the run or is set aside. Writers keep every field of
every record and write through :class:`AtomicOutput` (a temporary file renamed into
place at the end).
"""

from __future__ import annotations

from typing import Optional, Union

from dedup.io.delimited import DELIMITERS, DelimitedWriter
from dedup.io.files import STDIO, AtomicOutput, same_file, strip_compression
from dedup.io.jsonl import JsonlWriter
from dedup.io.parquet import ParquetWriter
from dedup.io.plain import TextWriter
from dedup.io.records import FORMATS, InputDataError, Item, Read, Reject, format_for_name
from dedup.io.sources import Record, Source, is_plain_parquet, open_source, read_items, read_records, read_source
from dedup.io.plan import RunPlan, plan_run

Writer = Union[JsonlWriter, ParquetWriter, TextWriter, DelimitedWriter]

__all__ = [
    "AtomicOutput", "DelimitedWriter", "FORMATS", "InputDataError", "Item", "JsonlWriter", "ParquetWriter", "Read",
    "Record", "Reject", "RunPlan", "Source", "TextWriter", "STDIO", "format_for_name", "is_plain_parquet",
    "open_source", "open_writer", "plan_run", "read_items", "read_records", "read_source", "same_file",
    "strip_compression",
]


def open_writer(path: str, fmt: str, text_field: str = "text", id_field: Optional[str] = None) -> Writer:
    """A writer for ``fmt`` at ``path`` (``-``: stdout)."""
    if fmt == "jsonl":
        return JsonlWriter(path, text_field, id_field)
    if fmt == "parquet":
        return ParquetWriter(path, text_field, id_field)
    if fmt in DELIMITERS:
        return DelimitedWriter(path, fmt, text_field, id_field)
    return TextWriter(path)
