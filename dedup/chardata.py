"""Which characters normalization maps one to one, whatever stands around them.

The hashed copy of a paragraph is ``unicodedata.normalize("NFKC", p).casefold()``. For
most characters that is a fixed map to one character: a character of combining class 0
that NFKC leaves alone and that never ends a canonical composition pair has NFKC quick
check YES, so a run of them is already normalized, and ``casefold`` is context-free. So a compiled pass can fold such text itself, a table lookup per
character, and only paragraphs holding another character (an accent to compose, a
ligature, a compatibility form, a character outside the table) go through Python.

``fold_table()[cp]`` is the code point ``cp`` becomes, or :data:`COMPLEX`; code points at
or past the table's end are complex. Built once per process (~0.3 s), from ``unicodedata``
itself, so it follows the running Python's Unicode version.
"""

from __future__ import annotations

import unicodedata
from typing import Optional

import numpy as np

#: Marks a code point that needs Python's normalization (in context).
COMPLEX = np.uint32(0xFFFFFFFF)

# The Basic Multilingual Plane and the plane-1 blocks of symbols and emoji.
_TABLE_END = 0x20000
_SYMBOLS_FROM = 0x1F000
# Hangul jamo compose algorithmically (not listed as decompositions): always complex.
_JAMO = (0x1100, 0x1200)

_tables = {}


def fold_table(case_fold: bool = True) -> np.ndarray:
    """uint32 per code point below 0x20000: its image under NFKC + case folding, or COMPLEX.

    ``case_fold=False``: the identity table (normalization ``"none"``): every code point
    maps to itself.
    """
    table: Optional[np.ndarray] = _tables.get(case_fold)
    if table is None:
        table = _build(case_fold)
        _tables[case_fold] = table
    return table


def _composition_seconds() -> set:
    """Code points that end a canonical composition pair (they may merge with the one before)."""
    seconds = set()
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return seconds


def _build(case_fold: bool) -> np.ndarray:
    table = np.full(_TABLE_END, COMPLEX, dtype=np.uint32)
    if not case_fold:
        table[:] = np.arange(_TABLE_END, dtype=np.uint32)
        return table
    seconds = _composition_seconds()
    for cp in list(range(0x10000)) + list(range(_SYMBOLS_FROM, _TABLE_END)):
        if cp in seconds or _JAMO[0] <= cp < _JAMO[1]:
            continue
        ch = chr(cp)
        if unicodedata.combining(ch) or unicodedata.normalize("NFKC", ch) != ch:
            continue
        folded = ch.casefold()
        if len(folded) == 1:
            table[cp] = ord(folded)
    return table
