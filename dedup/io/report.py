"""The removal report: one JSON line per removed unit, written by ``dedup --report``, read by the audit.

One schema, derived from :class:`~dedup.results.Removal`: ``doc_id``, then every field of
the removal (``Removal._fields``), then ``cut_start``, ``cut_end`` (the span of the input
that went: the unit or span and the separator that went with it), then ``text`` (the
removed text). Deleting every ``[cut_start, cut_end)`` of a document from its input gives
its output byte for byte (:func:`apply_removals`). Reading checks the types of what comes
back and names the file and line of a bad one.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Generator, Hashable, Iterable, Mapping, Optional, Sequence, Tuple, Union, get_type_hints

from dedup.errors import InputDataError
from dedup.io.files import AtomicOutput, display, open_input
from dedup.io.jsonl import json_lines, parse_line
from dedup.io.records import dumps_record, json_type
from dedup.results import Removal
from dedup.text.assemble import removal_cuts

#: The span of the input that went with a removal (the removed text and its separator).
CUT_FIELDS = ("cut_start", "cut_end")
#: Every field of a report line, in the order written.
REPORT_FIELDS = ("doc_id",) + Removal._fields + CUT_FIELDS + ("text",)
#: What a line must have to be read (older and hand-made reports may leave out the rest).
REQUIRED_FIELDS = ("doc_id", "index", "similarity")
#: Integer fields: checked when present.
INT_FIELDS = tuple(name for name, kind in get_type_hints(Removal).items() if kind is int) + CUT_FIELDS
#: Character spans an "inner" removal (part of a paragraph) needs.
SPAN_FIELDS = ("start", "end", "matched_start", "matched_end")
_ID_TYPES = (str, int)
#: The reasons a removal can have (``Removal.reason``).
REASONS = ("exact", "near", "run", "inner", "contained", "noisy", "noisy-contained", "substring",
           "boilerplate")
#: Reasons of removals that may be a span of a unit rather than the unit.
SPAN_REASONS = ("inner", "substring")


def report_line(doc_id: Optional[Hashable], removal: Removal, text: str,
                cut: Optional[Tuple[int, int]] = None) -> Dict[str, Any]:
    """The report line of ``removal`` from the document ``text`` named ``doc_id``, with the
    span ``cut`` that went with it (:func:`dedup.text.assemble.removal_cuts`) when given."""
    line: Dict[str, Any] = {"doc_id": doc_id, **removal.to_dict()}
    if cut is not None:
        line["cut_start"], line["cut_end"] = cut
    line["text"] = text[removal.start:removal.end]
    return line


class ReportWriter:
    """Writes report lines through :class:`AtomicOutput` (compressed by the suffix; ``-``: stdout)."""

    def __init__(self, path: str) -> None:
        self.out = AtomicOutput(path)

    def write(self, doc_id: Optional[Hashable], text: str, removals: Sequence[Removal],
              units: Optional[Sequence[Tuple[int, int]]] = None,
              clusters: Optional[Mapping[Tuple[Any, int], Tuple[Any, int]]] = None,
              counts: Optional[Callable[[Any, int], int]] = None) -> None:
        """The lines of one document's ``removals``; with its ``units`` (``DedupResult.paragraphs``)
        they carry ``cut_start``/``cut_end`` too (the command line always passes them), with
        ``clusters`` (``Deduplicator.clusters``) a ``cluster`` field: ``[doc_id, index]`` of the
        cluster's first member; with ``counts`` (``BoilerplateCounts.count``) a ``boilerplate``
        removal carries ``count``: the documents the unit it names occurs in."""
        cuts: Sequence[Optional[Tuple[int, int]]] = [None] * len(removals)
        if units is not None and removals:
            cuts = removal_cuts(text, units, removals)
        for removal, cut in zip(removals, cuts):
            line = report_line(doc_id, removal, text, cut)
            if clusters is not None and removal.reason not in SPAN_REASONS:
                line["cluster"] = list(clusters[(doc_id, removal.index)])
            if counts is not None and removal.reason == "boilerplate":
                line["count"] = counts(removal.matched_doc_id, removal.matched_index)
            self.out.write(dumps_record(line))

    def finish(self) -> None:
        """Written whole and closed under its temporary name (see :class:`AtomicOutput`)."""
        self.out.finish()

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
        if value is not None and (type(value) is not int or value < 0):
            return f"{name} must be a non-negative integer, got {_shown(value)}"
    reason = obj.get("reason", "near")
    if reason not in REASONS:
        return f"reason must be one of {', '.join(REASONS)}, got {_shown(reason)}"
    text = obj.get("text")
    if text is not None and type(text) is not str:
        return f"text must be a string, got {json_type(text)}"
    if type(obj["doc_id"]) not in _ID_TYPES:
        return f"doc_id must be a string or an integer, got {json_type(obj['doc_id'])}"
    matched = obj.get("matched_doc_id")
    if matched is not None and type(matched) not in _ID_TYPES:
        return f"matched_doc_id must be a string or an integer, got {json_type(matched)}"
    if obj.get("reason") in SPAN_REASONS and not all(type(obj.get(k)) is int for k in SPAN_FIELDS):
        return f"an {obj['reason']!r} removal needs integer {', '.join(SPAN_FIELDS)}"
    return None


def _shown(value: Any) -> str:
    """A bad value as a message shows it: short, one line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def looks_like_report(path: str) -> bool:
    """Whether the first line of ``path`` is a report line (it has similarity and matched_doc_id)."""
    with open_input(path) as stream:
        for _, raw in json_lines(stream):
            obj, _problem = parse_line(raw)
            return isinstance(obj, dict) and "similarity" in obj and "matched_doc_id" in obj
    return False


#: A removal as :func:`apply_removals` takes it: a report line, or a (cut_start, cut_end) pair.
CutLike = Union[Mapping[str, Any], Tuple[int, int]]


def apply_removals(text: str, removals: Iterable[CutLike]) -> str:
    """``text`` without every ``[cut_start, cut_end)`` of ``removals``: the output of the run.

    ``removals``: one document's report lines (or (cut_start, cut_end) pairs). Replays a
    report: ``apply_removals(input, lines_of_that_document) == output``, byte for byte.
    Raises :class:`ValueError` when a line has no cut span, or spans overlap or leave the text.
    """
    spans = sorted(_cut_of(r) for r in removals)
    pieces, pos = [], 0
    for start, end in spans:
        if not pos <= start <= end <= len(text):
            raise ValueError(f"cut span [{start}, {end}) overlaps another or lies outside the text "
                             f"(length {len(text)})")
        pieces.append(text[pos:start])
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _cut_of(removal: CutLike) -> Tuple[int, int]:
    if isinstance(removal, tuple):
        return int(removal[0]), int(removal[1])
    try:
        return int(removal["cut_start"]), int(removal["cut_end"])
    except KeyError:
        raise ValueError("report line without cut_start/cut_end (written by an older dedup, or "
                         "without the document's units)") from None
