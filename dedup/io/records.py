"""What readers yield: a good record (Item) or a bad one (Reject), each with where it came from."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Optional, Union

from dedup.errors import InputDataError

FORMATS = ("text", "jsonl", "parquet", "csv", "tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv",)
TSV_SUFFIXES = (".tsv", ".tab")
#: Suffixes of files that are text (one document each) by their name, not only by default.
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".rst", ".html", ".htm", ".xml", ".tex", ".log", ".srt")


@dataclass
class Item:
    """One good record: what to deduplicate and everything needed to write it back."""

    record: Any  #: the parsed record (dict), or the document text (plain text input)
    text: str  #: the text to deduplicate
    doc_id: Hashable  #: ``record[id_field]``, else ``"<file>:<line>"`` (records) or the file name (text)
    source: str  #: input name as given (``<stdin>`` for ``-``)
    line: int  #: 1-based line (JSONL), row (Parquet) or 1 (a text file)
    raw: Optional[bytes] = None  #: the input line as read (JSONL), written back as is when unchanged
    schema: Any = None  #: the pyarrow schema of a Parquet input (kept for the output)


@dataclass
class Reject:
    """A record that cannot be processed, with the raw bytes to write to the rejects file."""

    source: str
    line: int
    raw: bytes
    message: str

    def error(self) -> InputDataError:
        return InputDataError(self.source, self.line, self.message)


Read = Union[Item, Reject]


def format_for_name(name: str) -> Optional[str]:
    """``"jsonl"`` / ``"parquet"`` / ``"csv"`` / ``"tsv"`` from a (decompressed) file name's
    suffix; ``None`` otherwise."""
    lower = name.lower()
    for fmt, suffixes in (("jsonl", JSONL_SUFFIXES), ("parquet", PARQUET_SUFFIXES), ("csv", CSV_SUFFIXES),
                          ("tsv", TSV_SUFFIXES)):
        if lower.endswith(suffixes):
            return fmt
    return None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def field_list(record: Mapping) -> str:
    """The first field names of a record, for messages that say which fields there are."""
    names = [repr(k) for k in list(record)[:10]]
    return ", ".join(names) + (", ..." if len(record) > 10 else "") if names else "none"


def check_record(record: Any, text_field: str, id_field: Optional[str]) -> Optional[str]:
    """What is wrong with a parsed record, or ``None`` when it can be deduplicated."""
    if isinstance(record, list):
        return "expected a JSON object, got array (input must be JSON Lines: one object per line, not a JSON array)"
    if not isinstance(record, Mapping):
        return f"expected a JSON object, got {json_type(record)}"
    if text_field not in record:
        return f"no field {text_field!r} (fields: {field_list(record)}; name the text field with --text-field)"
    if not isinstance(record[text_field], str):
        return f"field {text_field!r} must be a string, got {json_type(record[text_field])}"
    if id_field is not None:
        if id_field not in record:
            return f"no id field {id_field!r} (fields: {field_list(record)})"
        value = record[id_field]
        if value is None or isinstance(value, (list, dict)):
            return f"id field {id_field!r} must be a string or number, got {json_type(value)}"
        try:
            hash(value)
        except TypeError:
            return f"id field {id_field!r} must be a string or number, got {json_type(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"id field {id_field!r} must be a finite number, got {value}"
    return None


def dumps_record(record: Mapping) -> bytes:
    """One JSONL line for a record; UTF-8 as written, ``\\u`` escapes only where UTF-8 cannot go.

    Values JSON has no type for are written as base64 (bytes) or ``str(value)`` (dates, decimals).
    """
    try:
        return (json.dumps(record, ensure_ascii=False, default=_json_value) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (legal in JSON escapes, not in UTF-8)
        return (json.dumps(record, ensure_ascii=True, default=_json_value) + "\n").encode("ascii")


def _json_value(value: Any) -> Any:
    """A value JSON has no type for: bytes (Parquet binary columns) as base64, others as str."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
