"""What a run returns: the canonical text and an account of every removal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, List, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class Removal:
    """One removed paragraph and the earlier paragraph it repeats."""

    index: int  #: paragraph index in this document
    start: int  #: character offset of the removed paragraph in the input text
    end: int
    matched_doc_id: Optional[Hashable]  #: document of the earlier paragraph
    matched_index: int  #: its paragraph index in that document
    matched_start: int
    matched_end: int
    similarity: float  #: Jaccard similarity of the two shingle sets (verified, not estimated)
    reason: str = "near"  #: "exact" (same shingle set), "near" (>= threshold), "run" (short, inside a removed run)

    def to_dict(self) -> dict:
        return {
            "index": self.index, "start": self.start, "end": self.end,
            "matched_doc_id": self.matched_doc_id, "matched_index": self.matched_index,
            "matched_start": self.matched_start, "matched_end": self.matched_end,
            "similarity": self.similarity, "reason": self.reason,
        }


@dataclass(frozen=True)
class DedupResult:
    """The canonical text of one document, with its paragraphs and what was removed."""

    text: str  #: the input minus removed paragraphs, separators tidied
    doc_id: Optional[Hashable]
    paragraphs: List[Tuple[int, int]]  #: every paragraph span of the input
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

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def assemble(text: str, starts: Sequence[int], ends: Sequence[int], removed: np.ndarray) -> str:
    """``text`` without the removed paragraphs; kept paragraphs byte-identical.

    Each kept paragraph is followed by the separator that followed it in the input; the
    last kept one by whatever followed the last paragraph (so a final newline survives).
    Text before the first paragraph is kept.
    """
    if not removed.any():
        return text
    kept = np.flatnonzero(~removed)
    if len(kept) == 0:
        return ""
    n = len(starts)
    pieces = [text[:starts[0]]]
    for j, i in enumerate(kept.tolist()):
        last = j == len(kept) - 1
        pieces.append(text[starts[i]:ends[i]])
        if last:
            pieces.append(text[ends[n - 1]:])
        else:
            pieces.append(text[ends[i]:starts[i + 1]])
    return "".join(pieces)
