"""A document's result again, with removals a later pass added (exact substrings, boilerplate).

Passes that run after the paragraph decisions (:mod:`dedup.decide.substrings`, the boilerplate
rule) decide more removals for a document; its output is then assembled again from the input
by the one rule (:func:`dedup.text.assemble.assemble`): removed units go with their separator,
cut spans with the white space before them, so the report still replays the output.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from dedup.results import DedupResult, Removal, Spans, Stats, make_result, utf8_len
from dedup.text.assemble import assemble, is_cut


def unit_arrays(result: DedupResult) -> Spans:
    """The result's unit spans as a :class:`Spans` (two int64 arrays)."""
    units = result.paragraphs
    if isinstance(units, Spans):
        return units
    pairs = np.array(list(units), dtype=np.int64).reshape(-1, 2)
    return Spans(pairs[:, 0].copy(), pairs[:, 1].copy())


def removed_units(result: DedupResult, units: Spans) -> np.ndarray:
    """Per unit, whether the result removed it whole (cuts inside kept units do not count)."""
    removed = np.zeros(len(units), dtype=bool)
    for r in result.removed:
        if not is_cut(r, units[r.index]):
            removed[r.index] = True
    return removed


def rebuild(text: str, result: DedupResult, removals: Sequence[Removal], stats: Stats) -> DedupResult:
    """``result`` of input ``text`` with ``removals`` (all of them, old and new) instead of its own:
    the output assembled again, and ``stats`` moved by the difference."""
    units = unit_arrays(result)
    removed = np.zeros(len(units), dtype=bool)
    cuts = []
    for r in removals:
        if is_cut(r, units[r.index]):
            cuts.append((r.start, r.end))
        else:
            removed[r.index] = True
    ordered: List[Removal] = sorted(removals, key=lambda r: (r.index, r.start))
    out = assemble(text, units.starts, units.ends, removed, cuts) if ordered else text
    amended = make_result(out, result.doc_id, units, ordered, len(text))
    _count(stats, result, amended)
    return amended


def _count(stats: Stats, before: DedupResult, after: DedupResult) -> None:
    stats.removed += len(after.removed) - len(before.removed)
    stats.documents_changed += bool(after.removed) and not before.removed
    emptied = lambda r: bool(r.removed) and (not r.text or r.text.isspace())  # noqa: E731
    stats.documents_emptied += emptied(after) - emptied(before)
    stats.chars_out += len(after.text) - len(before.text)
    stats.bytes_out += utf8_len(after.text) - utf8_len(before.text)
