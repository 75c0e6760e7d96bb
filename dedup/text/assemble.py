"""The output text: the input without its removed units (and cut spans), kept text byte-identical."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from dedup.results import Removal
from dedup.text.split import line_breaks

#: Unit offsets: an int64 array or a list of ints.
Positions = Union[np.ndarray, Sequence[int]]


def assemble(text: str, starts: Positions, ends: Positions, removed: np.ndarray,
             cuts: Sequence[Tuple[int, int]] = ()) -> str:
    """``text`` without the removed units (and ``cuts`` inside kept ones); kept text byte-identical.

    Between two kept units stands the separator that stood just before the second one in
    the input: a removed unit goes with the separator before it. Except that a kept unit
    keeps the paragraph break before its paragraph: when sentences are the units and the
    first sentences of a paragraph go, the break before them stays (not the space after
    them), so lines are never joined. After the last kept unit, whatever ended the input (a
    final newline survives). Text before the first unit is kept. A cut also takes the white
    space just before it.
    """
    if not removed.any() and not cuts:
        return text
    kept = np.flatnonzero(~removed).tolist()
    if not kept:
        return ""
    if not cuts:
        return _assemble_runs(text, np.asarray(starts).tolist(), np.asarray(ends).tolist(), kept)
    return _assemble_units(text, starts, ends, kept, sorted(cuts))


def _assemble_runs(text: str, starts: Sequence[int], ends: Sequence[int], kept: Sequence[int]) -> str:
    """:func:`assemble` without cuts, one slice per run of consecutive kept units."""
    pieces = [text[:starts[0]]]
    first = prev = kept[0]
    for i in kept[1:]:
        if i != prev + 1:  # a removed stretch ends the run
            pieces.append(text[starts[first]:ends[prev]])
            pieces.append(separator(text, starts, ends, prev, i))
            first = i
        prev = i
    pieces.append(text[starts[first]:ends[prev]])
    pieces.append(text[ends[-1]:])
    return "".join(pieces)


def _assemble_units(text: str, starts: Positions, ends: Positions, kept: Sequence[int],
                    cuts: Sequence[Tuple[int, int]]) -> str:
    """:func:`assemble` one kept unit at a time, each without the ``cuts`` (sorted) inside it."""
    pieces = [text[:starts[0]]]
    for j, i in enumerate(kept):
        if j:
            pieces.append(separator(text, starts, ends, kept[j - 1], i))
        pieces.append(_cut(text, starts[i], ends[i], cuts))
    pieces.append(text[ends[len(starts) - 1]:])
    return "".join(pieces)


def separator(text: str, starts: Positions, ends: Positions, prev: int, i: int) -> str:
    """What stands between kept units ``prev`` and ``i`` when the units between are removed:
    the gap before unit :func:`separator_unit` (the gap before ``i`` unless a paragraph
    break stood earlier in the removed stretch)."""
    j = separator_unit(text, starts, ends, prev, i)
    return text[ends[j - 1]:starts[j]]


def separator_unit(text: str, starts: Positions, ends: Positions, prev: int, i: int) -> int:
    """The unit whose preceding gap stands between kept units ``prev`` and ``i``.

    ``i``, unless its gap holds no blank line and an earlier gap of the removed stretch
    does: then ``i`` is a sentence whose paragraph lost its first sentences, and the
    paragraph break before them (the last blank-line gap) stands instead. With no blank line
    around, a gap before ``i`` without a line break gives way to the last one with a line
    break (the line break before ``i``'s line, when every line is a paragraph).
    """
    own = line_breaks(text[ends[i - 1]:starts[i]])
    if i == prev + 1 or own >= 2:
        return i
    line = i
    for j in range(i - 1, prev, -1):
        breaks = line_breaks(text[ends[j - 1]:starts[j]])
        if breaks >= 2:
            return j
        if breaks and line == i and not own:
            line = j
    return line


def _cut(text: str, start: int, end: int, cuts: Sequence[Tuple[int, int]]) -> str:
    inside = [(a, b) for a, b in cuts if start <= a and b <= end]
    if not inside:
        return text[start:end]
    out, pos = [], start
    for a, b in inside:
        out.append(text[pos:_cut_start(text, pos, a)])
        pos = b
    out.append(text[pos:end])
    return "".join(out)


def _cut_start(text: str, pos: int, a: int) -> int:
    """Where a cut at ``a`` really starts: the white space before it goes too (not before ``pos``)."""
    while a > pos and text[a - 1].isspace():
        a -= 1
    return a


def cut_spans(text: str, starts: Positions, ends: Positions, removed: np.ndarray,
              cuts: Sequence[Tuple[int, int]] = ()) -> Tuple[Dict[int, Tuple[int, int]], List[Tuple[int, int]]]:
    """The spans of ``text`` that :func:`assemble` deletes, disjoint, their union all it deletes.

    Returns ({removed unit: (start, end)}, [(start, end) per cut, in the order of sorted
    ``cuts``]). A removed unit takes the separator before it; a removed unit before the
    first kept one, or between a kept paragraph break and the kept unit after it (see
    :func:`separator_unit`), the separator after it; with nothing kept, everything goes.
    A cut takes the white space before it.
    """
    s = np.asarray(starts).tolist()
    e = np.asarray(ends).tolist()
    n = len(s)
    kept = np.flatnonzero(~removed).tolist() if n else []
    spans: Dict[int, Tuple[int, int]] = {}
    if not kept:
        for u in range(n):
            spans[u] = (s[u] if u else 0, s[u + 1] if u + 1 < n else len(text))
        return spans, []
    for u in range(kept[0]):
        spans[u] = (s[u], s[u + 1])
    for prev, i in zip(kept, kept[1:]):
        if i > prev + 1:
            j = separator_unit(text, s, e, prev, i)
            for u in range(prev + 1, j):
                spans[u] = (e[u - 1], e[u])
            for u in range(j, i):
                spans[u] = (s[u], s[u + 1])
    for u in range(kept[-1] + 1, n):
        spans[u] = (e[u - 1], e[u])
    inner: List[Tuple[int, int]] = []
    unit_start = np.asarray(starts)
    last_unit, pos = -1, 0
    for a, b in sorted(cuts):
        unit = int(np.searchsorted(unit_start, a, side="right")) - 1
        pos = pos if unit == last_unit else s[unit]
        inner.append((_cut_start(text, pos, a), b))
        last_unit, pos = unit, b
    return spans, inner


def is_cut(removal: Removal, unit: Tuple[int, int]) -> bool:
    """Whether ``removal`` cuts a span out of its unit (``unit``: that unit's span) rather than
    removing the unit: an inner repeat, or a repeated substring that is not the whole unit."""
    if removal.reason == "inner":
        return True
    return removal.reason == "substring" and (removal.start, removal.end) != (int(unit[0]), int(unit[1]))


def removal_cuts(text: str, units: Sequence[Tuple[int, int]], removals: Sequence[Removal]) -> List[Tuple[int, int]]:
    """Per removal of a document (its units: ``DedupResult.paragraphs``), the span of ``text``
    that went with it: deleting every one of them from ``text`` gives the output."""
    pairs = np.array(list(units), dtype=np.int64).reshape(-1, 2)
    removed = np.zeros(len(pairs), dtype=bool)
    cuts = []
    cut_of = [is_cut(r, pairs[r.index]) for r in removals]
    for r, cut in zip(removals, cut_of):
        if cut:
            cuts.append((r.start, r.end))
        else:
            removed[r.index] = True
    spans, inner = cut_spans(text, pairs[:, 0], pairs[:, 1], removed, cuts)
    inner_at = {cut: span for cut, span in zip(sorted(cuts), inner)}
    return [inner_at[(r.start, r.end)] if cut else spans[r.index] for r, cut in zip(removals, cut_of)]
