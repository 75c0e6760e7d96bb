"""Paragraph splitting and the normalization applied to the hashed copy of the text.

Paragraphs are spans ``(start, end)`` of character offsets into the original text, so
the output can keep every kept paragraph byte for byte. Normalization (NFKC, case-fold)
touches only the copy that is tokenized and hashed.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from dedup.chardata import (BLANK_LINE_RE, DEHYPHENATE_RE, DIGITS_RE, INNER_PUNCTUATION_RE, CHAR_OR_WORD_OR_MARK_RE, CHAR_OR_WORD_RE, LINE_RE, LONE_CR_RE,
                            PARAGRAPH_MARK, PARAGRAPH_RE, SENTENCE_END_RE, UNSPACED_RE, WORD_OR_MARK_RE, WORD_RE)
from dedup.errors import ConfigError, InputTypeError
from dedup.text.settings import DEFAULT_NORMALIZATION


def check_text(text: object, what: str = "text") -> str:
    """Return ``text`` if it is a ``str``; otherwise raise a TypeError that says what to do."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise InputTypeError(
            f"{what} must be str, got {type(text).__name__}: decode it first, "
            f"e.g. data.decode('utf-8')"
        )
    raise InputTypeError(f"{what} must be str, got {type(text).__name__}")


def split_paragraphs(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """Paragraph spans of ``text`` as two int64 arrays (starts, ends).

    If the text has a blank line, a paragraph is a maximal run of non-blank lines (hard
    wrapped lines stay together); otherwise every non-empty line is a paragraph. Spans
    exclude line breaks around the paragraph.
    """
    if "\r" in text:
        text = LONE_CR_RE.sub("\n", text)  # same length: offsets unchanged
    pattern = PARAGRAPH_RE if BLANK_LINE_RE.search(text) else LINE_RE
    spans = [m.span() for m in pattern.finditer(text)]
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    arr = np.array(spans, dtype=np.int64)
    return arr[:, 0].copy(), arr[:, 1].copy()


def document_span(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """The whole text as one unit, white space around it excluded (none for a blank text)."""
    stripped = text.lstrip()
    if not stripped:
        return _spans([])
    start = len(text) - len(stripped)
    return _spans([(start, len(text.rstrip()))])


def _spans(spans: List[Tuple[int, int]]) -> Tuple[np.ndarray, np.ndarray]:
    arr = np.array(spans, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def line_breaks(text: str) -> int:
    """How many line breaks ``text`` holds (``\r\n``, ``\n`` and a lone ``\r`` count one each)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def sentence_spans(text: str, offset: int = 0) -> List[Tuple[int, int]]:
    """Sentence spans of ``text`` (shifted by ``offset``), white space around them excluded."""
    spans: List[Tuple[int, int]] = []
    pos = 0
    for m in SENTENCE_END_RE.finditer(text):
        _append_stripped(text, pos, m.end(), offset, spans)
        pos = m.end()
    _append_stripped(text, pos, len(text), offset, spans)
    return spans


def _append_stripped(text: str, start: int, end: int, offset: int, spans: list) -> None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    if lead < len(piece):
        spans.append((offset + start + lead, offset + end - (len(piece) - len(piece.rstrip()))))


def split_units(text: str, granularity: str = "paragraph") -> Tuple[np.ndarray, np.ndarray]:
    """Spans of the units deduplicated: paragraphs, sentences inside each paragraph, every
    non-blank line (whatever the blank lines say: cc_net's unit), or the whole document
    (white space around it excluded)."""
    if granularity == "document":
        return document_span(text)
    if granularity == "line":
        return _spans([m.span() for m in LINE_RE.finditer(LONE_CR_RE.sub("\n", text) if "\r" in text else text)])
    starts, ends = split_paragraphs(text)
    if granularity == "paragraph" or len(starts) == 0:
        return starts, ends
    spans = [span for s, e in zip(starts.tolist(), ends.tolist()) for span in sentence_spans(text[s:e], s)]
    arr = np.array(spans, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


#: Tokenizers registered by name (:func:`register_tokenizer`), for ``+tokenizer=NAME``.
TOKENIZERS: Dict[str, Callable[[str], Iterable[str]]] = {}
_TOKENIZER_STEP = "tokenizer="


def register_tokenizer(name: str, tokenizer: Callable[[str], Iterable[str]]) -> None:
    """Make ``tokenizer`` (normalized text -> its tokens) usable as the normalization step
    ``+tokenizer=NAME``: the hook for tokens of your own (a language's word segmenter, a
    subword vocabulary). The name, not the function, is part of an index's settings, so
    register the same function under the same name wherever the index is used."""
    if not name or not isinstance(name, str) or "+" in name or not callable(tokenizer):
        raise ConfigError(f"register_tokenizer needs a name without '+' and a callable, got {name!r}")
    TOKENIZERS[name] = tokenizer


def tokenizer_of(normalization: str) -> Optional[Callable[[str], Iterable[str]]]:
    """The registered tokenizer a normalization names (``+tokenizer=NAME``), or None."""
    for step in normalization.split("+")[1:]:
        if step.startswith(_TOKENIZER_STEP):
            name = step[len(_TOKENIZER_STEP):]
            if name not in TOKENIZERS:
                raise ConfigError(f"no tokenizer registered as {name!r} (dedup.register_tokenizer)")
            return TOKENIZERS[name]
    return None


def normalize(text: str, normalization: str = DEFAULT_NORMALIZATION) -> str:
    """The hashed copy of ``text``: NFKC then case-folded (or as written with ``"none"``),
    then the steps after ``+`` (see :class:`dedup.DedupConfig`)."""
    base, _, steps = normalization.partition("+")
    out = text if base == "none" else unicodedata.normalize("NFKC", text).casefold()
    for step in steps.split("+") if steps else ():
        if not step.startswith(_TOKENIZER_STEP):
            out = _STEPS[step](out)
    return out


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


_STEPS = {
    "dehyphenate": lambda text: DEHYPHENATE_RE.sub("", text),  # lan-\nguage -> language
    "digits": lambda text: DIGITS_RE.sub("0", text),  # every run of digits: one symbol
    "accents": _strip_accents,
    "punctuation": lambda text: INNER_PUNCTUATION_RE.sub("", text),  # don't -> dont, e-mail -> email
}


def tokenize(text: str, normalization: str = DEFAULT_NORMALIZATION, unspaced: str = "chars") -> List[str]:
    """Tokens of the normalized text: runs of word characters, and single characters of
    scripts written without spaces (``unspaced="chars"``, the default; ``"words"``: as runs)."""
    norm = normalize(text, normalization)
    custom = tokenizer_of(normalization) if "+" in normalization else None
    if custom is not None:
        return [str(token) for token in custom(norm)]
    if unspaced == "chars" and UNSPACED_RE.search(norm):
        return CHAR_OR_WORD_RE.findall(norm)
    return WORD_RE.findall(norm)


def tokenize_batch(paragraphs: Sequence[str], normalization: str = DEFAULT_NORMALIZATION,
                   unspaced: str = "chars") -> Tuple[List[str], bool]:
    """Tokens of many paragraphs from one regex pass, with a mark between paragraphs.

    Returns (tokens with ``PARAGRAPH_MARK`` between paragraphs, ok). ``ok`` is False when
    a paragraph itself contains the mark character; the caller then tokenizes one by one.
    """
    if "+" in normalization and tokenizer_of(normalization) is not None:
        return [], False  # a tokenizer of your own: paragraph by paragraph (:func:`tokenize`)
    joined = PARAGRAPH_MARK.join(paragraphs)
    if joined.count(PARAGRAPH_MARK) != max(0, len(paragraphs) - 1):
        return [], False
    norm = normalize(joined, normalization)
    if unspaced == "chars" and UNSPACED_RE.search(norm):
        return CHAR_OR_WORD_OR_MARK_RE.findall(norm), True
    return WORD_OR_MARK_RE.findall(norm), True
