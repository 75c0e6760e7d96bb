"""What a run returns: the canonical text and an account of every removal."""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from functools import partial
from typing import Hashable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

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


@dataclass(frozen=True)
class DedupResult:
    """The canonical text of one document, with its paragraphs and what was removed."""

    text: str  #: the input minus removed paragraphs, separators tidied
    doc_id: Optional[Hashable]
    paragraphs: Sequence[Tuple[int, int]]  #: every paragraph span of the input (a :class:`Spans`)
    removed: List[Removal]
    original_length: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.removed)

    @property
    def removed_chars(self) -> int:
        return self.original_length - len(self.text)

    def __str__(self) -> str:
        return self.text


_new = object.__new__


def make_result(text: str, doc_id: Optional[Hashable], paragraphs: Sequence[Tuple[int, int]],
                removed: List[Removal], original_length: int) -> DedupResult:
    """``DedupResult(...)``, built without the frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field): a result per document is most of a short document's cost."""
    result = _new(DedupResult)
    result.__dict__.update(text=text, doc_id=doc_id, paragraphs=paragraphs, removed=removed,
                           original_length=original_length)
    return result


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
