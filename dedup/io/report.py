"""The removal report: one JSON line per removed unit, written by ``dedup --report``, read by the audit.

One schema, derived from :class:`~dedup.results.Removal`: ``doc_id``, then every field of
the removal (``Removal._fields``), then ``text`` (the removed text). Reading checks the
types of what comes back and names the file and line of a bad one.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Generator, Hashable, Iterable, Optional, get_type_hints

from dedup.errors import InputDataError
from dedup.io.files import AtomicOutput, display, open_input
from dedup.io.jsonl import json_lines, parse_line
from dedup.io.records import dumps_record, json_type
from dedup.results import Removal

#: Every field of a report line, in the order written.
REPORT_FIELDS = ("doc_id",) + Removal._fields + ("text",)
#: What a line must have to be read (older and hand-made reports may leave out the rest).
REQUIRED_FIELDS = ("doc_id", "index", "similarity")
#: Integer fields: checked when present.
INT_FIELDS = tuple(name for name, kind in get_type_hints(Removal).items() if kind is int)
#: Character spans an "inner" removal (part of a paragraph) needs.
SPAN_FIELDS = ("start", "end", "matched_start", "matched_end")
_ID_TYPES = (str, int)


def report_line(doc_id: Optional[Hashable], removal: Removal, text: str) -> Dict[str, Any]:
    """The report line of ``removal`` from the document ``text`` named ``doc_id``."""
    return {"doc_id": doc_id, **removal.to_dict(), "text": text[removal.start:removal.end]}


class ReportWriter:
    """Writes report lines through :class:`AtomicOutput` (compressed by the suffix; ``-``: stdout)."""

    def __init__(self, path: str) -> None:
        self.out = AtomicOutput(path)

    def write(self, doc_id: Optional[Hashable], text: str, removals: Iterable[Removal]) -> None:
        for removal in removals:
            self.out.write(dumps_record(report_line(doc_id, removal, text)))

    def commit(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.abort()


def read_report(path: str) -> Generator[dict, None, None]:
    """Lines of a report, in order, each checked (:func:`line_problem`).

    Lean on purpose: a report can hold millions of lines, and this loop is most of the time
    it takes to audit one. Raises :class:`InputDataError` naming ``file:line``.
    """
    decode = json.JSONDecoder().decode
    name = display(path)
    with open_input(path) as stream:
        for line_no, raw in json_lines(stream):
            try:
                obj = decode(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise InputDataError(name, line_no, parse_line(raw)[1] or "unreadable line") from None
            problem = line_problem(obj)
            if problem:
                raise InputDataError(name, line_no, problem)
            yield obj


def line_problem(obj: Any) -> Optional[str]:
    """What is wrong with a parsed report line, or ``None``."""
    if type(obj) is not dict:
        return f"expected a JSON object, got {json_type(obj)}"
    for name in REQUIRED_FIELDS:
        if name not in obj:
            return f"not a dedup report line: no field {name!r}"
    sim = obj["similarity"]
    if type(sim) not in (int, float) or not 0.0 <= sim <= 1.0:
        return f"similarity must be a number in [0, 1], got {sim!r}"
    for name in INT_FIELDS:
        value = obj.get(name)
        if value is not None and type(value) is not int:
            return f"{name} must be an integer, got {value!r}"
    if type(obj["doc_id"]) not in _ID_TYPES:
        return f"doc_id must be a string or an integer, got {json_type(obj['doc_id'])}"
    matched = obj.get("matched_doc_id")
    if matched is not None and type(matched) not in _ID_TYPES:
        return f"matched_doc_id must be a string or an integer, got {json_type(matched)}"
    if obj.get("reason") == "inner" and not all(type(obj.get(k)) is int for k in SPAN_FIELDS):
        return f"an 'inner' removal needs integer {', '.join(SPAN_FIELDS)}"
    return None


def looks_like_report(path: str) -> bool:
    """Whether the first line of ``path`` is a report line (it has similarity and matched_doc_id)."""
    with open_input(path) as stream:
        for _, raw in json_lines(stream):
            obj, _problem = parse_line(raw)
            return isinstance(obj, dict) and "similarity" in obj and "matched_doc_id" in obj
    return False
