"""The output text: the input without its removed units (and cut spans), kept text byte-identical."""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import numpy as np

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
    """What stands between kept units ``prev`` and ``i`` when the units between are removed.

    The gap before ``i``, unless it holds no blank line and an earlier gap of the removed
    stretch does: then ``i`` is a sentence whose paragraph lost its first sentences, and the
    paragraph break before them (the last blank-line gap) stands instead. With no blank line
    around, a gap before ``i`` without a line break gives way to the last one with a line
    break (the line break before ``i``'s line, when every line is a paragraph).
    """
    sep = text[ends[i - 1]:starts[i]]
    own = line_breaks(sep)
    if i == prev + 1 or own >= 2:
        return sep
    line = sep
    for j in range(i - 1, prev, -1):
        gap = text[ends[j - 1]:starts[j]]
        breaks = line_breaks(gap)
        if breaks >= 2:
            return gap
        if breaks and line is sep and not own:
            line = gap
    return line


def _cut(text: str, start: int, end: int, cuts: Sequence[Tuple[int, int]]) -> str:
    inside = [(a, b) for a, b in cuts if start <= a and b <= end]
    if not inside:
        return text[start:end]
    out, pos = [], start
    for a, b in inside:
        keep_to = a
        while keep_to > pos and text[keep_to - 1].isspace():
            keep_to -= 1
        out.append(text[pos:keep_to])
        pos = b
    out.append(text[pos:end])
    return "".join(out)
