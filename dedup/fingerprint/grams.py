"""Word n-grams as 64-bit hashes over token sequences: for spans and contamination, not sets.

Shingle sets (:mod:`dedup.fingerprint.shingles`) forget where each shingle stood; exact
substrings and per-item contamination need the grams of a whole sequence in order. The hash of
``words[i:i+n]`` is the shingle hash before its 32-bit cut,
``fmix64(n * M14 + sum_t words[i+t] * M_t)``, so equal token runs have equal gram hashes on every
path. The loops run in :mod:`dedup.accel._spans` when it is built, else in numpy, with the same
results (tests compare them).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel import native, spankernels
from dedup.chardata import CHAR_OR_WORD_RE, UNSPACED_RE, WORD_RE
from dedup.fingerprint.hashing import fmix64, multiplier, multipliers
from dedup.fingerprint.shingles import _hash_words
from dedup.text.settings import TextSettings
from dedup.text.split import normalize

_U64 = np.uint64
#: The multiplier that mixes a gram's length in (the shingles' own).
M_LEN = int(multiplier(14))

TokenSpans = Tuple[np.ndarray, np.ndarray, np.ndarray]  # (word hashes u64, char starts i64, char ends i64)


def gram_hashes(words: np.ndarray, n: int) -> np.ndarray:
    """The 64-bit hash of every window of ``n`` consecutive ``words`` (none when fewer)."""
    count = len(words) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=_U64)
    mult = multipliers(n)
    with np.errstate(over="ignore"):
        acc = np.full(count, _U64(n) * _U64(M_LEN), dtype=_U64)
        for t in range(n):
            acc += words[t:t + count] * mult[t]
    return fmix64(acc)


def sequence_hash(words: np.ndarray) -> int:
    """The gram hash of a whole token sequence (a benchmark item shorter than n tokens)."""
    return int(gram_hashes(words, len(words))[0]) if len(words) else 0


def winnow(words: np.ndarray, k: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """(fingerprint of every k-gram (its gram hash's high 32 bits), the k-grams selected).

    Winnowing (Schleimer et al. 2003): of every ``w`` consecutive k-grams, the one of smallest
    fingerprint, the rightmost of equal ones, so any run of ``w + k - 1`` equal tokens in two
    sequences selects the same k-gram in both. A sequence of fewer than ``w + k - 1`` tokens
    selects none.
    """
    words = np.ascontiguousarray(words, dtype=_U64)
    module = spankernels.module()
    if module is not None:
        fps_b, sel_b = module.winnow(words, k, w, multipliers(k), M_LEN)
        return np.frombuffer(fps_b, dtype=np.uint32), np.frombuffer(sel_b, dtype=np.int64)
    fps = (gram_hashes(words, k) >> _U64(32)).astype(np.uint32)
    if len(fps) < w:
        return fps, np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(fps, w)
    chosen = np.arange(len(windows), dtype=np.int64) + (w - 1 - windows[:, ::-1].argmin(axis=1))
    keep = np.ones(len(chosen), dtype=bool)
    keep[1:] = chosen[1:] != chosen[:-1]
    return fps, chosen[keep]


class GramSet:
    """A set of gram hashes (a benchmark's n-grams), each of a length, to find in token sequences
    streamed past it."""

    def __init__(self, keys: np.ndarray, lengths: np.ndarray) -> None:
        self.keys = np.ascontiguousarray(keys, dtype=_U64)
        self.lengths = np.ascontiguousarray(lengths, dtype=np.int64)
        self._distinct = sorted(set(self.lengths.tolist()))
        module = spankernels.module()
        self._compiled = None
        if module is not None:
            longest = max(self._distinct, default=1)
            self._compiled = module.GramSet(self.keys, self.lengths, multipliers(longest), M_LEN)
        else:
            self._order = np.argsort(self.keys, kind="stable")
            self._sorted = self.keys[self._order]

    def __len__(self) -> int:
        return len(self.keys)

    def scan(self, words: np.ndarray, offsets: np.ndarray, skip: Optional[np.ndarray] = None
             ) -> Tuple[np.ndarray, np.ndarray]:
        """(document, key index) of every window lying inside one document
        (``words[offsets[d]:offsets[d + 1]]``) whose gram hash is a key of its length, as a set;
        keys with ``skip[key]`` set are left out."""
        words = np.ascontiguousarray(words, dtype=_U64)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if skip is None:
            skip = np.zeros(len(self.keys), dtype=np.uint8)
        if not len(self.keys) or len(offsets) < 2:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if self._compiled is not None:
            docs_b, ids_b = self._compiled.scan(words, offsets, np.ascontiguousarray(skip, dtype=np.uint8))
            return np.frombuffer(docs_b, dtype=np.int64), np.frombuffer(ids_b, dtype=np.int64)
        docs_out: List[np.ndarray] = []
        ids_out: List[np.ndarray] = []
        for n in self._distinct:
            hashes = gram_hashes(words, n)
            if not len(hashes):
                continue
            at = np.arange(len(hashes), dtype=np.int64)
            doc = np.searchsorted(offsets, at, side="right") - 1
            inside = (doc < len(offsets) - 1) & (at + n <= offsets[np.minimum(doc + 1, len(offsets) - 1)])
            pos = np.minimum(np.searchsorted(self._sorted, hashes), len(self._sorted) - 1)
            key = self._order[pos]
            hit = inside & (self._sorted[pos] == hashes) & (self.lengths[key] == n)
            hit[hit] = skip[key[hit]] == 0
            docs_out.append(doc[hit])
            ids_out.append(key[hit].astype(np.int64))
        if not docs_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(docs_out), np.concatenate(ids_out)

    def scan_texts(self, texts: Sequence[str], settings: TextSettings, skip: Optional[np.ndarray] = None
                   ) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`scan` of whole texts (documents), tokenized as :func:`word_hashes_of` does: ASCII
        texts inside the compiled kernel, in one call, the others here."""
        if skip is None:
            skip = np.zeros(len(self.keys), dtype=np.uint8)
        others: Sequence[int] = range(len(texts))
        docs = ids = np.zeros(0, np.int64)
        if self._compiled is not None and settings.compiled:
            docs_b, ids_b, others = self._compiled.scan_texts(list(texts), settings.case_fold,
                                                              np.ascontiguousarray(skip, dtype=np.uint8))
            docs, ids = np.frombuffer(docs_b, dtype=np.int64), np.frombuffer(ids_b, dtype=np.int64)
        if len(others):
            words, counts = word_hashes_of([texts[k] for k in others], settings)
            more_docs, more_ids = self.scan(words, np.concatenate(([0], np.cumsum(counts))), skip)
            docs = np.concatenate([docs, np.asarray(others, dtype=np.int64)[more_docs]])
            ids = np.concatenate([ids, more_ids])
        return docs, ids


def word_hashes_of(texts: Sequence[str], settings: TextSettings) -> Tuple[np.ndarray, np.ndarray]:
    """(flat word hashes, tokens per text) of whole texts, as dedup tokenizes a unit."""
    from dedup.fingerprint.shingles import word_hashes
    if settings.compiled and native.core() is not None:
        parts: List[np.ndarray] = []
        counts = np.zeros(len(texts), dtype=np.int64)
        pending: List[int] = []
        base = settings.normalization.partition("+")[0]
        for i, text in enumerate(texts):
            found = native.tokens(text, settings.case_fold, settings.unspaced_scripts)
            if found is None:  # a character the engine's table cannot fold alone: the text normalized first
                found = native.tokens(normalize(text, base), settings.case_fold, settings.unspaced_scripts)
            if found is None:
                pending.append(i)
                parts.append(np.zeros(0, dtype=_U64))
            else:
                parts.append(found[0])
                counts[i] = len(found[0])
        if pending:  # a character Python must normalize: the reference path for those texts
            words, n = word_hashes([texts[i] for i in pending], text=settings)
            cut = np.concatenate(([0], np.cumsum(n)))
            for k, i in enumerate(pending):
                parts[i] = words[cut[k]:cut[k + 1]]
                counts[i] = n[k]
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=_U64)), counts
    return word_hashes(list(texts), text=settings)


def token_spans(text: str, settings: TextSettings) -> TokenSpans:
    """(word hashes, token starts, token ends) of ``text``: its tokens as a unit's, with the span
    of each in the text.

    From the compiled engine when it can (the same hashes as :func:`word_hashes_of`); else each
    character is normalized alone (NFKC + case folding: what the engine's table does), so a
    token's span is where its characters stood. That differs from normalizing the whole text
    only where a character composes with its neighbour (a letter and a separate combining
    accent), and it is the same on every path. Normalization steps after the base have no
    character spans and are refused by the settings that need this.
    """
    if native.core() is not None:
        found = native.tokens(text, settings.case_fold, settings.unspaced_scripts)
        if found is not None:
            return found
    return _token_spans_python(text, settings.case_fold, settings.unspaced_scripts)


def token_spans_batch(texts: Sequence[str], settings: TextSettings
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`token_spans` of many texts, flat: (word hashes, starts, ends, offsets: text i's tokens
    are ``[offsets[i], offsets[i + 1])``, spans in its own characters). ASCII texts are tokenized
    in one call of the span kernels when built."""
    module = spankernels.module()
    n = len(texts)
    if module is not None and settings.compiled and n:
        w_b, s_b, e_b, c_b, others = module.tokens_batch(list(texts), settings.case_fold)
        words, starts = np.frombuffer(w_b, dtype=_U64), np.frombuffer(s_b, dtype=np.int64)
        ends, counts = np.frombuffer(e_b, dtype=np.int64), np.frombuffer(c_b, dtype=np.int64)
        if not others:
            return words, starts, ends, np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        at = np.concatenate(([0], np.cumsum(counts)))
        parts = [(words[at[k]:at[k + 1]], starts[at[k]:at[k + 1]], ends[at[k]:at[k + 1]]) for k in range(n)]
        for k in others:
            parts[k] = token_spans(texts[k], settings)
    else:
        parts = [token_spans(text, settings) for text in texts]
    sizes = [len(p[0]) for p in parts]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=_U64), empty, empty, offsets
    return (np.concatenate([p[0] for p in parts]).astype(_U64, copy=False), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), offsets)


_images: Dict[str, str] = {}
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _image(ch: str) -> str:
    """A character NFKC-normalized and case-folded on its own."""
    img = _images.get(ch)
    if img is None:
        img = unicodedata.normalize("NFKC", ch).casefold()
        if len(_images) < 1_000_000:
            _images[ch] = img
    return img


def _token_spans_python(text: str, case_fold: bool, unspaced: str) -> TokenSpans:
    norm = text
    grown: Optional[Tuple[np.ndarray, np.ndarray]] = None  # characters whose image is not one character
    if case_fold:
        table: Dict[int, Any] = dict(_ASCII_LOWER)
        longer = []
        for ch in set(text):
            if ord(ch) > 127:
                img = _image(ch)
                if img != ch:
                    table[ord(ch)] = img
                if len(img) != 1:
                    longer.append(ch)
        norm = text.translate(table)
        if longer:
            at = np.array([m.start() for m in re.finditer("|".join(map(re.escape, longer)), text)], dtype=np.int64)
            size = np.array([len(_image(text[i])) for i in at.tolist()], dtype=np.int64)
            grown = (at, size)
    regex = CHAR_OR_WORD_RE if unspaced == "chars" and UNSPACED_RE.search(norm) else WORD_RE
    tokens = regex.findall(norm)
    gaps = regex.split(norm)  # the text around the tokens: one piece more than tokens
    sizes = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    gap_sizes = np.fromiter(map(len, gaps), dtype=np.int64, count=len(gaps))
    starts = np.cumsum(gap_sizes[:-1]) + np.cumsum(sizes) - sizes
    ends = starts + sizes
    if grown is not None and len(tokens):
        starts = _original_offsets(starts, *grown)
        ends = _original_offsets(ends - 1, *grown) + 1
    return _hash_words(tokens), starts, ends


def _original_offsets(offsets: np.ndarray, at: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The characters of the text whose images hold the normalized ``offsets``: ``at`` are the
    characters whose image is ``size`` characters long (not 1), the rest map one to one."""
    shift = np.cumsum(size - 1)
    begins = at + shift - (size - 1)  # where each one's image begins in the normalized text
    k = np.searchsorted(begins, offsets, side="right") - 1
    before = np.where(k >= 0, shift[np.maximum(k, 0)], 0)
    inside = (k >= 0) & (offsets < begins[np.maximum(k, 0)] + size[np.maximum(k, 0)])
    return np.where(inside, at[np.maximum(k, 0)], offsets - before)
