"""Every code-point table and token regex of the text stages, in one place.

The regexes say what a line, a paragraph, a sentence end and a token are; the tables say
the same per code point, for the compiled kernels (which must agree with the regexes bit
for bit). Tables are built lazily, once per process, from ``re`` and ``unicodedata``
themselves, so they follow the running Python's Unicode version.

The fold table: the hashed copy of a paragraph is
``unicodedata.normalize("NFKC", p).casefold()``. For most characters that is a fixed map
to one character: a character of combining class 0 that NFKC leaves alone and that never
ends a canonical composition pair has NFKC quick check YES, so a run of them is already
normalized, and ``casefold`` is context-free. So a compiled pass can fold such text
itself, a table lookup per character, and only paragraphs holding another character (an
accent to compose, a ligature, a compatibility form, a character outside the table) go
through Python. ``fold_table()[cp]`` is the code point ``cp`` becomes, or :data:`COMPLEX`;
code points at or past the table's end are complex (~0.3 s to build).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Callable, Dict, Hashable, Optional, Tuple

import numpy as np

# -- token and line regexes ---------------------------------------------------------------

#: Separates paragraphs when a batch is tokenized as one string; never part of a word.
PARAGRAPH_MARK = "\x1e"

# A line that holds something other than white space. Lines end at \n or \r\n; a lone \r
# is turned into \n in a same-length copy before matching, so it ends a line too.
_LINE = r"[^\S\r\n]*\S[^\r\n]*"
PARAGRAPH_RE = re.compile(rf"(?m)^{_LINE}(?:\r?\n{_LINE})*")
LINE_RE = re.compile(rf"(?m)^{_LINE}")
#: A run of digits (any script): the ``digits`` normalization step makes each one "0".
DIGITS_RE = re.compile(r"\d+")
#: Punctuation between two word characters (don't, e-mail, U.S): the ``punctuation`` step drops it.
INNER_PUNCTUATION_RE = re.compile(r"(?<=\w)[-'\u2019.\u00b7](?=\w)")
#: A hyphen after a word character at a line end (spaces or tabs around the break), the next line
#: going on with a word character: the ``dehyphenate`` step drops it with the break.
DEHYPHENATE_RE = re.compile(r"(?<=\w)-[ \t]*(?:\r\n|\r|\n)[ \t]*(?=\w)")
#: A blank line: white space only, then a line break or the end of a non-empty last line.
BLANK_LINE_RE = re.compile(r"(?m)^(?:[^\S\r\n]*\r?\n|[^\S\r\n]+\Z)")
LONE_CR_RE = re.compile(r"\r(?!\n)")

#: A sentence ends at . ! ? (then closing quotes/brackets) before white space or the end,
#: or at a CJK full stop.
SENTENCE_END_RE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|$)|[\u3002\uff01\uff1f]+")

#: Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): a
#: "word" there is a whole clause, so each character is a token instead, and word n-grams
#: become character n-grams (``unspaced_scripts="chars"``). A regex character class body.
UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
            "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f")
UNSPACED_RE = re.compile(f"[{UNSPACED}]")

#: Tokens: runs of word characters ...
WORD_RE = re.compile(r"\w+")
#: ... or single characters of unspaced scripts and runs of the other word characters.
CHAR_OR_WORD_RE = re.compile(f"[{UNSPACED}]|[^{UNSPACED}\\W]+")
#: The same two, with the paragraph mark as a token of its own.
WORD_OR_MARK_RE = re.compile(rf"\w+|{PARAGRAPH_MARK}")
CHAR_OR_WORD_OR_MARK_RE = re.compile(f"[{UNSPACED}]|[^{UNSPACED}\\W]+|{PARAGRAPH_MARK}")

# -- per-code-point tables for the kernels ------------------------------------------------

#: Marks a code point that needs Python's normalization (in context).
COMPLEX = np.uint32(0xFFFFFFFF)

_CODE_POINTS = 0x110000
# The fold table covers the Basic Multilingual Plane and the plane-1 blocks of symbols and emoji.
_FOLD_END = 0x20000
_SYMBOLS_FROM = 0x1F000
# Hangul jamo compose algorithmically (not listed as decompositions): always complex.
_JAMO = (0x1100, 0x1200)

_built: Dict[Hashable, object] = {}


def _once(key: Hashable, build: Callable[[], np.ndarray]) -> np.ndarray:
    """The table ``build()`` makes, built on first use and kept for the process."""
    table = _built.get(key)
    if table is None:
        table = _built[key] = build()
    return table  # type: ignore[return-value]


def _matching(run_pattern: str, end: int = _CODE_POINTS) -> np.ndarray:
    """uint8 per code point below ``end``: 1 where ``run_pattern`` (runs of a class) matches."""
    table = np.zeros(end, dtype=np.uint8)
    for m in re.finditer(run_pattern, "".join(map(chr, range(end)))):
        table[m.start():m.end()] = 1
    return table


#: ``\w`` and ``\s`` of the ASCII code points (text that is all ASCII needs no more).
ASCII_WORD = _matching(r"\w+", 128)
ASCII_SPACE = _matching(r"\s+", 128)


def space_table() -> np.ndarray:
    """uint8 per code point: 1 for every character ``re``'s ``\\s`` matches."""
    return _once("space", lambda: _matching(r"\s+"))


def word_table(unspaced: str = "words") -> np.ndarray:
    """uint8 per code point: 1 for ``re``'s ``\\w``, 2 for a character of a script written
    without spaces when those are single-character tokens (``unspaced="chars"``), else 0."""
    return _once(("word", unspaced), lambda: _build_word_table(unspaced))


def _build_word_table(unspaced: str) -> np.ndarray:
    table = _matching(r"\w+")
    if unspaced == "chars":
        table[_matching(f"[{UNSPACED}]+") == 1] = 2
    return table


def fold_table(case_fold: bool = True) -> np.ndarray:
    """uint32 per code point below 0x20000: its image under NFKC + case folding, or COMPLEX.

    ``case_fold=False``: the identity table (normalization ``"none"``): every code point
    maps to itself.
    """
    return _once(("fold", case_fold), lambda: _build_fold_table(case_fold))


def _composition_seconds() -> set:
    """Code points that end a canonical composition pair (they may merge with the one before)."""
    seconds = set()
    for cp in range(_CODE_POINTS):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return seconds


def _build_fold_table(case_fold: bool) -> np.ndarray:
    if not case_fold:
        return np.arange(_FOLD_END, dtype=np.uint32)
    table = np.full(_FOLD_END, COMPLEX, dtype=np.uint32)
    seconds = _composition_seconds()
    for cp in list(range(0x10000)) + list(range(_SYMBOLS_FROM, _FOLD_END)):
        if cp in seconds or _JAMO[0] <= cp < _JAMO[1]:
            continue
        ch = chr(cp)
        if unicodedata.combining(ch) or unicodedata.normalize("NFKC", ch) != ch:
            continue
        folded = ch.casefold()
        if len(folded) == 1:
            table[cp] = ord(folded)
    return table


# -- the compiled engine's tables, cached on disk -------------------------------------------

def _cache_dir() -> Optional[Path]:
    """Where built tables are kept between processes: ``DEDUP_CACHE_DIR``, else the user's cache
    directory (``XDG_CACHE_HOME`` or ``~/.cache``) under ``dedup``; None when none is writable."""
    base = os.environ.get("DEDUP_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "dedup"


def table_cache_dir() -> Optional[Path]:
    """Where the compiled engine's tables are cached (see :func:`engine_tables`)."""
    return _cache_dir()


def _table_file(name: str) -> Optional[Path]:
    folder = _cache_dir()
    if folder is None:
        return None
    # the tables follow the running Python's Unicode data: one file per version of it
    return folder / f"{name}-unicode{unicodedata.unidata_version}-py{sys.version_info[0]}.{sys.version_info[1]}.npy"


def _cached(name: str, build: Callable[[], np.ndarray]) -> np.ndarray:
    """``build()``, read from the disk cache when an earlier process saved it (then saved)."""
    path = _table_file(name)
    if path is not None:
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            pass
    table = build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, table, allow_pickle=False)
            os.replace(tmp, path)  # whole or not at all: a reader never sees half a table
        except OSError:
            pass  # a read-only home: built again next time, nothing else changes
    return table


def digit_table() -> np.ndarray:
    """uint8 per code point: 1 for every character ``re``'s ``\\d`` matches (the ``digits`` step)."""
    return _once("digit", lambda: _matching(r"\d+"))


def engine_tables(unspaced: str = "chars", case_fold: bool = True
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(fold, word, space, digit) tables for the compiled engine (:func:`fold_table`,
    :func:`word_table`, :func:`space_table`, :func:`digit_table`), built once per machine (~0.6 s)
    and read from the disk cache after that."""
    key = ("engine", unspaced, case_fold)
    tables = _built.get(key)
    if tables is None:
        tables = _built[key] = (_cached(f"fold{int(case_fold)}", lambda: fold_table(case_fold)),
                                _cached(f"word-{unspaced}", lambda: word_table(unspaced)),
                                _cached("space", space_table), _cached("digit", digit_table))
    return tables  # type: ignore[return-value]
