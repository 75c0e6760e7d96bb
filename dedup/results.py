"""What a run returns: the canonical text and an account of every removal."""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from functools import partial
from typing import Any, Hashable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np


class Removal(NamedTuple):
    """One removed paragraph and the earlier paragraph it repeats.

    Immutable, with fields by name (a named tuple: a third of a corpus's paragraphs become
    one, and a tuple is built and collected several times cheaper than an object).
    """

    index: int  # type: ignore[assignment]  # the field's name shadows tuple.index; it is the public name
    #: paragraph index in this document
    start: int  #: character offset of the removed paragraph in the input text
    end: int
    matched_doc_id: Optional[Hashable]  #: document of the earlier paragraph
    matched_index: int  #: its paragraph index in that document
    matched_start: int
    matched_end: int
    similarity: float  #: Jaccard similarity of the two shingle sets (verified, not estimated)
    #: "exact" (same shingle set), "near" (>= threshold), "run" (short, inside a removed run),
    #: "inner" (a span of a paragraph repeating an earlier span of the same paragraph)
    reason: str = "near"

    def to_dict(self) -> dict:
        return self._asdict()


#: ``removals_from(zip(columns...))``: Removals from tuples of their fields, at C speed.
removals_from = partial(map, partial(tuple.__new__, Removal))


class Spans(abc.Sequence):
    """The ``(start, end)`` spans of a document's paragraphs: a read-only list over two arrays.

    Every result carries one; a list of tuples would cost a tuple per paragraph (and the
    garbage collector's time over them) whether anyone reads it or not: about 4% of a run.
    Compares equal to a list or tuple of the same pairs.
    """

    __slots__ = ("starts", "ends")

    def __init__(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self.starts = starts
        self.ends = ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(zip(self.starts[i].tolist(), self.ends[i].tolist()))
        return int(self.starts[i]), int(self.ends[i])

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        return zip(self.starts.tolist(), self.ends.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Spans, list, tuple)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like the list it stands for

    def __repr__(self) -> str:
        return repr(list(self))


class DedupResult:
    """The canonical text of one document, with its paragraphs and what was removed.

    Immutable. ``paragraphs`` (every unit span of the input, a :class:`Spans`) is computed when
    first read: most results of a stream are never asked for it, and a record nothing was
    removed from then costs this one object.
    """

    __slots__ = ("text", "doc_id", "_paragraphs", "removed", "original_length")
    text: str  #: the input minus removed paragraphs, separators tidied
    doc_id: Optional[Hashable]
    _paragraphs: Any  #: a Spans, or the splitter that makes it (text -> (starts, ends) bytes)
    removed: List[Removal]
    original_length: int

    def __init__(self, text: str, doc_id: Optional[Hashable], paragraphs: Any, removed: List[Removal],
                 original_length: int = 0) -> None:
        _set(self, "text", text)
        _set(self, "doc_id", doc_id)
        _set(self, "_paragraphs", paragraphs)
        _set(self, "removed", removed)
        _set(self, "original_length", original_length)

    @property
    def paragraphs(self) -> Sequence[Tuple[int, int]]:
        """Every unit span of the input (a :class:`Spans`)."""
        spans = self._paragraphs
        if callable(spans):  # the splitter of an unchanged record (its text is the input): split once
            starts, ends = spans(self.text)
            spans = Spans(np.frombuffer(starts, dtype=np.int64), np.frombuffer(ends, dtype=np.int64))
            _set(self, "_paragraphs", spans)
        return spans

    @property
    def changed(self) -> bool:
        return bool(self.removed)

    @property
    def removed_chars(self) -> int:
        return self.original_length - len(self.text)

    def __str__(self) -> str:
        return self.text

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DedupResult is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DedupResult is immutable: cannot delete {name!r}")

    def _fields(self) -> tuple:
        return (self.text, self.doc_id, self.paragraphs, self.removed, self.original_length)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # as the frozen dataclass it was (its lists are unhashable)

    def __repr__(self) -> str:
        return (f"DedupResult(text={self.text!r}, doc_id={self.doc_id!r}, paragraphs={self.paragraphs!r}, "
                f"removed={self.removed!r}, original_length={self.original_length!r})")

    def __reduce__(self) -> Any:
        return DedupResult, (self.text, self.doc_id, Spans(*_arrays(self.paragraphs)), self.removed,
                             self.original_length)


_set = object.__setattr__


def _arrays(spans: Sequence[Tuple[int, int]]) -> Tuple[np.ndarray, np.ndarray]:
    if isinstance(spans, Spans):
        return spans.starts, spans.ends
    pairs = np.array(list(spans), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def make_result(text: str, doc_id: Optional[Hashable], paragraphs: Any,
                removed: List[Removal], original_length: int) -> DedupResult:
    """``DedupResult(...)``: ``paragraphs`` a sequence of spans, or the splitter (text ->
    (starts, ends) as int64 bytes) that makes them when they are first read."""
    return DedupResult(text, doc_id, paragraphs, removed, original_length)


@dataclass
class Stats:
    """Running totals of a Deduplicator."""

    documents: int = 0
    paragraphs: int = 0
    removed: int = 0
    documents_changed: int = 0
    documents_emptied: int = 0
    chars_in: int = 0
    chars_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    #: documents given again under an id the index holds, with the same text: they got the
    #: decisions of their first run (a rerun after a crash), not deduplicated against themselves
    documents_replayed: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))
