"""Reading what the audit looks at: corpora (JSONL records or plain text) and run reports.

Kept apart from the page and the numbers so both modes read files the same way, with
errors that name the file and line. Document ids follow the ``dedup`` command: the
record's id field when it has one, else ``"<file>:<line>"``; a plain text file is one
document whose id is its path.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterator, Optional

from dedup.errors import DedupError, MissingDependencyError

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_BOM = b"\xef\xbb\xbf"
_LINE_ID = re.compile(r"(.*):(\d+)")
#: Fields every report line must have (what ``dedup --report`` writes has all of these).
REPORT_FIELDS = ("doc_id", "index", "similarity")
#: Character spans an "inner" removal (part of a paragraph) needs.
_SPAN_FIELDS = ("start", "end", "matched_start", "matched_end")


class AuditInputError(DedupError, ValueError):
    """A corpus or report line that cannot be read; the message starts with ``file:line:``."""

    def __init__(self, path: str, line: Optional[int], message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass
class Record:
    """One document of a corpus."""

    doc_id: Any
    text: str
    line: int


def open_binary(path: str) -> BinaryIO:
    """``path`` opened for reading, decompressed by its suffix (.gz, .bz2, .xz, .zst)."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith(".xz"):
        return lzma.open(path, "rb")
    if lower.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise MissingDependencyError(f"{path}: reading .zst needs zstandard: "
                                         "pip install 'paradedup[zstd]'") from None
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")))
    return open(path, "rb")


def is_jsonl(path: str) -> bool:
    """Whether ``path`` names JSONL (by its suffix, after a compression suffix)."""
    name = path.lower()
    for comp in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(comp):
            name = name[: -len(comp)]
            break
    return name.endswith(_JSONL_SUFFIXES)


def read_corpus(path: str, text_field: str = "text", id_field: Optional[str] = "id") -> Iterator[Record]:
    """Documents of ``path`` in order: JSONL records, or a plain text file as one document."""
    if not is_jsonl(path):
        with open_binary(path) as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AuditInputError(path, data.count(b"\n", 0, exc.start) + 1, "invalid UTF-8") from None
        yield Record(path, text[1:] if text.startswith("\ufeff") else text, 1)
        return
    for line_no, obj in _json_lines(path):
        if not isinstance(obj, dict):
            raise AuditInputError(path, line_no, f"expected a JSON object, got {type(obj).__name__}")
        if text_field not in obj:
            raise AuditInputError(path, line_no, f"no field {text_field!r} (choose it with --text-field)")
        text = obj[text_field]
        if not isinstance(text, str):
            raise AuditInputError(path, line_no, f"field {text_field!r} must be a string, "
                                                 f"got {type(text).__name__}")
        doc_id = obj[id_field] if id_field is not None and id_field in obj else f"{path}:{line_no}"
        yield Record(doc_id, text, line_no)


def read_report(path: str) -> Iterator[dict]:
    """Lines of a ``--report`` file, checked: one removed paragraph each.

    Lean on purpose: a report can hold millions of lines, and this loop is most of the
    time it takes to audit one.
    """
    decode = json.JSONDecoder().decode
    with open_binary(path) as f:
        for line_no, raw in enumerate(f, 1):
            if line_no == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            try:
                obj = decode(raw.decode("utf-8"))
                sim, index = obj["similarity"], obj["index"]
                obj["doc_id"]
                if type(index) is not int or not 0.0 <= sim <= 1.0 or type(sim) is bool:
                    raise ValueError
                if obj.get("reason") == "inner" and not all(type(obj.get(k)) is int for k in _SPAN_FIELDS):
                    raise ValueError
            except UnicodeDecodeError:
                raise AuditInputError(path, line_no, "invalid UTF-8") from None
            except json.JSONDecodeError as exc:
                if not raw.strip():
                    continue
                raise AuditInputError(path, line_no, f"malformed JSON: {exc.msg} at column {exc.colno}") from None
            except (KeyError, TypeError, ValueError):
                raise AuditInputError(path, line_no, _report_problem(obj)) from None
            yield obj


def _report_problem(obj: Any) -> str:
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    for name in REPORT_FIELDS:
        if name not in obj:
            return f"not a dedup report line: no field {name!r}"
    sim = obj["similarity"]
    if isinstance(sim, bool) or not isinstance(sim, (int, float)) or not 0.0 <= sim <= 1.0:
        return f"similarity must be a number in [0, 1], got {sim!r}"
    if type(obj["index"]) is not int:
        return f"index must be an integer, got {obj['index']!r}"
    return f"an 'inner' removal needs integer {', '.join(_SPAN_FIELDS)}"


def looks_like_report(path: str) -> bool:
    """Whether the first record of ``path`` is a report line (has similarity and matched_doc_id)."""
    if not is_jsonl(path):
        return False
    for _, obj in _json_lines(path):
        return isinstance(obj, dict) and "similarity" in obj and "matched_doc_id" in obj
    return False


def report_uses_line_ids(report: str, input_path: str) -> bool:
    """Whether the report names documents ``"<input file>:<line>"`` (a run without --id-field)."""
    base = os.path.basename(input_path)
    for obj in read_report(report):
        doc_id = obj["doc_id"]
        m = _LINE_ID.fullmatch(doc_id) if isinstance(doc_id, str) else None
        return bool(m) and os.path.basename(m.group(1)) == base
    return False


def id_normalizer(input_path: Optional[str]) -> Callable[[Any], Any]:
    """Maps report doc ids to the ids :func:`read_corpus` gives the same documents.

    A report made without an id field names documents ``"<file>:<line>"`` with the path as
    typed then; the same file given here under another path (relative, absolute) still
    matches when the file name is the same.
    """
    if input_path is None:
        return lambda doc_id: doc_id
    base = os.path.basename(input_path)
    prefix = f"{base}:"
    if not base:
        return lambda doc_id: doc_id

    def normalize(doc_id: Any) -> Any:
        if type(doc_id) is str and prefix in doc_id:
            m = _LINE_ID.fullmatch(doc_id)
            if m and os.path.basename(m.group(1)) == base:
                return f"{input_path}:{m.group(2)}"
        return doc_id

    return normalize


def _json_lines(path: str) -> Iterator[tuple]:
    with open_binary(path) as f:
        for line_no, raw in enumerate(f, 1):
            if line_no == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            if not raw.strip():
                continue
            try:
                yield line_no, json.loads(raw)
            except UnicodeDecodeError:
                raise AuditInputError(path, line_no, "invalid UTF-8") from None
            except json.JSONDecodeError as exc:
                raise AuditInputError(path, line_no, f"malformed JSON: {exc.msg} at column {exc.colno}") from None
