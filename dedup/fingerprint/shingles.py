"""Shingle hashing for a whole batch of paragraphs, as flat numpy arrays.

Words are hashed once each with xxhash (a per-process cache makes repeated words free),
then word hashes are combined into n-gram hashes with array arithmetic: no shingle
strings are ever built. The result is one flat array of per-paragraph sorted, unique
32-bit shingle hashes plus offsets: the shingle *sets* that MinHash summarizes and that
verification compares exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
import threading
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import xxhash

from dedup.accel import jit
from dedup.chardata import fold_table
from dedup.fingerprint.hashing import fmix64, multiplier
from dedup.text.split import _UNSPACED_RE, PARAGRAPH_MARK, normalize, tokenize, tokenize_batch

_U64 = np.uint64
_MARK_HASH = 0  # stands for PARAGRAPH_MARK in the token-hash stream
_LENGTH_MULTIPLIER = 14  # multiplier index that mixes the shingle length in
_WORD_CACHE_LIMIT = 2_000_000

_word_cache: Dict[str, int] = {PARAGRAPH_MARK: _MARK_HASH}


@dataclass
class ShingleSets:
    """Sorted unique shingle hashes of n paragraphs, flat.

    ``hashes[offsets[i]:offsets[i + 1]]`` is paragraph i's set (never empty: a paragraph
    with no tokens has the one shingle of the empty sequence). ``n_tokens[i]`` counts its
    word tokens; ``set_keys[i]`` identifies the set (equal sets, equal keys).
    """

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, n + 1
    n_tokens: np.ndarray  # int64, n
    set_keys: np.ndarray  # uint64, n
    #: the word hashes they were made from, paragraph after paragraph (n_tokens each), when
    #: kept (the compiled path keeps them: the inner-repeat search reads them again)
    words: Optional[np.ndarray] = None

    def words_of(self, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(word hashes, tokens per row) of some rows, as :func:`word_hashes` gives them."""
        first = np.cumsum(self.n_tokens) - self.n_tokens
        counts = self.n_tokens[rows]
        take = np.repeat(first[rows] - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
        return self.words[take], counts

    def __len__(self) -> int:
        return len(self.n_tokens)

    def get(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i]:self.offsets[i + 1]]


def _hash_words(tokens: List[str]) -> np.ndarray:
    cache = _word_cache
    if len(cache) > _WORD_CACHE_LIMIT:
        cache.clear()
        cache[PARAGRAPH_MARK] = _MARK_HASH
    missing = set(tokens).difference(cache)
    for word in missing:
        h = xxhash.xxh3_64_intdigest(word.encode("utf-8", "surrogatepass"))
        cache[word] = h if h != _MARK_HASH else 1
    return np.fromiter(map(cache.__getitem__, tokens), dtype=_U64, count=len(tokens))


def word_hashes(paragraphs: Sequence[str], normalization: str = "nfkc_casefold", unspaced: str = "chars"):
    """(flat word hashes, tokens per paragraph) for a batch of paragraph strings."""
    if not paragraphs:
        return np.zeros(0, dtype=_U64), np.zeros(0, dtype=np.int64)
    kernels = jit.kernels()
    if kernels is not None:
        compiled = _word_hashes_compiled(kernels, paragraphs, normalization, unspaced)
        if compiled is not None:
            return compiled
    tokens, ok = tokenize_batch(paragraphs, normalization, unspaced)
    if not ok:
        per = [tokenize(p, normalization, unspaced) for p in paragraphs]
        counts = np.array([len(t) for t in per], dtype=np.int64)
        flat = [w for t in per for w in t]
        return _hash_words(flat), counts
    stream = _hash_words(tokens)
    marks = np.flatnonzero(stream == _U64(_MARK_HASH))
    bounds = np.concatenate(([-1], marks, [len(stream)]))
    counts = (np.diff(bounds) - 1).astype(np.int64)
    return stream[stream != _U64(_MARK_HASH)], counts


def shingle_hashes(words: np.ndarray, counts: np.ndarray, ngram: int):
    """(flat 32-bit shingle hashes in paragraph order, shingles per paragraph).

    Word n-grams inside each paragraph; a paragraph with fewer than ``ngram`` tokens has
    one shingle, its whole token sequence. Equal token sequences give equal hashes.
    """
    n = len(counts)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    long_mask = counts >= ngram
    per_para = np.where(long_mask, counts - ngram + 1, 1)
    with np.errstate(over="ignore"):
        # Windows over the whole stream; keep those that lie inside one paragraph.
        total = len(words)
        if total >= ngram and long_mask.any():
            acc = np.full(total - ngram + 1, _U64(ngram) * multiplier(_LENGTH_MULTIPLIER), dtype=_U64)
            for k in range(ngram):
                acc += words[k:total - ngram + 1 + k] * multiplier(k)
            n_windows = per_para[long_mask]
            first = starts[long_mask]
            # index of every valid window: first[p] + 0..n_windows[p]-1
            rel = np.arange(n_windows.sum(), dtype=np.int64) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
            long_hashes = acc[np.repeat(first, n_windows) + rel]
        else:
            long_hashes = np.zeros(0, dtype=_U64)
        short_idx = np.flatnonzero(~long_mask)
        short_hashes = np.zeros(len(short_idx), dtype=_U64)
        if len(short_idx):
            c = counts[short_idx]
            s = starts[short_idx]
            short_hashes += c.astype(_U64) * multiplier(_LENGTH_MULTIPLIER)
            for k in range(ngram - 1):
                has = c > k
                if not has.any():
                    break
                short_hashes[has] += words[s[has] + k] * multiplier(k)
    # Interleave in paragraph order: long paragraphs' windows and short paragraphs' one hash.
    out = np.empty(int(per_para.sum()), dtype=_U64)
    para_start = np.zeros(n, dtype=np.int64)
    np.cumsum(per_para[:-1], out=para_start[1:])
    is_short_slot = np.zeros(len(out), dtype=bool)
    is_short_slot[para_start[short_idx]] = True
    out[is_short_slot] = short_hashes
    out[~is_short_slot] = long_hashes
    return (fmix64(out) >> _U64(32)).astype(np.uint32), per_para


def shingle_sets(paragraphs: Sequence[str], ngram: int = 5, normalization: str = "nfkc_casefold",
                 unspaced: str = "chars") -> ShingleSets:
    """The shingle sets of a batch of paragraph strings."""
    jit.note_work(len(paragraphs))
    kernels = jit.kernels()
    if kernels is not None and paragraphs:
        sets = _shingle_sets_compiled(kernels, paragraphs, ngram, normalization, unspaced)
        if sets is not None:
            return sets
    return shingle_sets_numpy(paragraphs, ngram, normalization, unspaced)


def shingle_sets_numpy(paragraphs: Sequence[str], ngram: int = 5, normalization: str = "nfkc_casefold",
                       unspaced: str = "chars") -> ShingleSets:
    """The reference path of :func:`shingle_sets`: ``re`` tokens, xxhash, numpy arithmetic."""
    words, counts = word_hashes(paragraphs, normalization, unspaced)
    hashes, per_para = shingle_hashes(words, counts, ngram)
    n = len(counts)
    owner = np.repeat(np.arange(n, dtype=_U64), per_para)
    keyed = np.unique((owner << _U64(32)) | hashes.astype(_U64))
    flat = (keyed & _U64(0xFFFFFFFF)).astype(np.uint32)
    offsets = np.searchsorted(keyed >> _U64(32), np.arange(n + 1, dtype=_U64)).astype(np.int64)
    return ShingleSets(flat, offsets, counts, set_keys(flat, offsets))


def set_keys(hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """A 64-bit key per set, equal for equal sets (order-free sum of mixed members)."""
    n = len(offsets) - 1
    if n == 0:
        return np.zeros(0, dtype=_U64)
    with np.errstate(over="ignore"):
        mixed = fmix64(hashes.astype(_U64) + _U64(0x9E3779B97F4A7C15))
        sums = np.add.reduceat(mixed, offsets[:-1])
        sizes = np.diff(offsets).astype(_U64)
        return fmix64(sums + sizes * multiplier(13))


# -- the compiled path ------------------------------------------------------------------

_ASCII_WORD = np.zeros(128, dtype=np.uint8)
for _c in "0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ASCII_WORD[ord(_c)] = 1
_unicode_tables: Dict[str, np.ndarray] = {}


def _unicode_word_table(unspaced: str = "words") -> np.ndarray:
    """Per code point: 1 for ``re``'s ``\\w``, 2 for a character of a script written without
    spaces when those are single-character tokens (``unspaced="chars"``), else 0. Built
    once per mode, with the same regular expressions as :mod:`dedup.text.split`."""
    table = _unicode_tables.get(unspaced)
    if table is None:
        table = np.zeros(0x110000, dtype=np.uint8)
        everything = "".join(map(chr, range(0x110000)))
        for m in re.finditer(r"\w+", everything):
            table[m.start():m.end()] = 1
        if unspaced == "chars":
            for m in _UNSPACED_RE.finditer(everything):
                table[m.start()] = 2
        _unicode_tables[unspaced] = table
    return table


def _word_hashes_compiled(kernels, paragraphs: Sequence[str], normalization: str, unspaced: str):
    """:func:`word_hashes` in one compiled pass; None when a paragraph holds the mark."""
    joined = PARAGRAPH_MARK.join(paragraphs)
    lower = False
    if normalization == "none":
        text = joined
    elif joined.isascii():  # NFKC leaves ASCII alone, and case-folding it maps A-Z to a-z
        text, lower = joined, True
    else:
        # The mark is a normalization boundary (a starter that composes with nothing), so
        # paragraphs normalize one by one to the same text; ASCII ones only need A-Z -> a-z
        # (done below on the bytes, harmless on the others: case-folded text has no A-Z).
        text = PARAGRAPH_MARK.join([p if p.isascii() else normalize(p, normalization) for p in paragraphs])
        lower = True
    table = _ASCII_WORD if text.isascii() else _unicode_word_table(unspaced)
    buf = np.frombuffer(bytearray(text.encode("utf-8", "surrogatepass")), dtype=np.uint8)
    if lower:
        kernels.lower_ascii(buf)
    return _tokenize_buffer(kernels, buf, table, len(paragraphs))


def _tokenize_buffer(kernels, buf: np.ndarray, table: np.ndarray, n: int):
    """(word hashes, tokens per paragraph) of hashed-copy UTF-8 whose n paragraphs are
    separated by the mark; None when a paragraph holds the mark itself."""
    words, counts, seen, long_at, long_start, long_end = kernels.tokenize_hash(buf, table, n)
    if seen != n:  # a paragraph holds the mark: the caller tokenizes one by one
        return None
    for at, start, end in zip(long_at.tolist(), long_start.tolist(), long_end.tolist()):
        h = xxhash.xxh3_64_intdigest(buf[start:end].tobytes())
        words[at] = h if h != _MARK_HASH else 1
    return words, counts


def shingle_sets_of_spans(pieces: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]],
                          paragraph_texts: Callable[[np.ndarray], List[str]], n: int, ngram: int = 5,
                          normalization: str = "nfkc_casefold", unspaced: str = "chars") -> Optional[ShingleSets]:
    """:func:`shingle_sets` of a batch's n paragraphs given as spans of code points, not strings.

    ``pieces``: in batch order, ``(cps, starts, ends)`` for runs of paragraphs that share one
    code point array (paragraph k of the run is ``cps[starts[k]:ends[k]]``). One kernel pass
    folds each character (a table lookup, see :mod:`dedup.chardata`), finds the words and
    hashes their folded UTF-8; ``paragraph_texts(rows)`` gives the strings of the few rows
    whose text Python must normalize. Saves slicing, joining, encoding and re-reading every
    paragraph. None when the kernels are not in use: call :func:`shingle_sets` with the
    strings instead. The words are kept on the result (``words_of``).
    """
    kernels = jit.kernels()
    if kernels is None or n == 0:
        return None
    jit.note_work(n)
    fold = fold_table(normalization != "none")
    table = _unicode_word_table(unspaced)
    chars = sum(int((ends - starts).sum()) for _, starts, ends in pieces)
    # Room for a token per 4 characters (text has fewer); the kernel says when it needs more.
    room = _scratch(8 * (chars // 4 + 64)).view(np.uint64)
    counts = np.zeros(n, dtype=np.int64)
    hard = np.zeros(n, dtype=np.bool_)
    long_at = np.empty(64, dtype=np.int64)
    long_span = np.empty((64, 2), dtype=np.int64)
    nw = nl = row = 0
    for cps, starts, ends in pieces:
        first_long = nl
        k = 0
        while True:
            nw, nl, k = kernels.fold_tokenize(cps, starts, ends, fold, table, room, nw, counts, hard, long_at,
                                              long_span, nl, row, k)
            if k == len(starts):
                break
            # Paragraph k ran out of room: double what may have, then go on from it.
            size = int(ends[k] - starts[k])
            grow_words = nw + 2 + size > len(room)  # at most a token per character
            grow_long = nl + 2 + size // 33 > len(long_at)  # a long word has over 32 characters
            if grow_words or not grow_long:
                grown = np.empty(2 * len(room), dtype=np.uint64)
                grown[:nw] = room[:nw]
                room = grown
            if grow_long or not grow_words:
                long_at = np.concatenate([long_at, np.empty(len(long_at), dtype=np.int64)])
                long_span = np.concatenate([long_span, np.empty_like(long_span)])
        for at, (a, b) in zip(long_at[first_long:nl].tolist(), long_span[first_long:nl].tolist()):
            h = xxhash.xxh3_64_intdigest("".join(map(chr, fold[cps[a:b]].tolist())).encode("utf-8", "surrogatepass"))
            room[at] = h if h != _MARK_HASH else 1
        row += len(starts)
    hard_rows = np.flatnonzero(hard)
    if len(hard_rows):  # the rows Python normalizes: tokenized apart, spliced in at their place
        hard_words, hard_counts = word_hashes(paragraph_texts(hard_rows), normalization, unspaced)
        at = (np.cumsum(counts) - counts)[hard_rows].tolist()
        parts, prev, taken = [], 0, 0
        for p, c in zip(at, hard_counts.tolist()):
            parts += [room[prev:p], hard_words[taken:taken + c]]
            prev, taken = p, taken + c
        words = np.concatenate(parts + [room[prev:nw]])
        counts[hard_rows] = hard_counts
    else:
        words = room[:nw].copy()
    sets = _sets_of_words(kernels, words, counts, ngram)
    sets.words = words
    return sets


_SCRATCH_KEPT = 64 << 20  # bytes of scratch a thread keeps between batches
_scratch_of = threading.local()


def _scratch(size: int) -> np.ndarray:
    """A byte buffer of at least ``size`` for this thread, reused from batch to batch.

    A fresh buffer of several times the batch's text costs more than its page faults:
    unmapping it makes the allocator hand out fresh pages to the arrays that follow (the
    tokenizer ran 30% slower after one). Buffers over 64 MB (a huge document) are not kept.
    """
    buf = getattr(_scratch_of, "buf", None)
    if buf is not None and len(buf) >= size:
        return buf
    buf = np.empty(max(size, 1 << 20), dtype=np.uint8)
    if size <= _SCRATCH_KEPT:
        _scratch_of.buf = buf
    return buf


def _shingle_sets_compiled(kernels, paragraphs: Sequence[str], ngram: int, normalization: str,
                           unspaced: str = "chars") -> Optional[ShingleSets]:
    """:func:`shingle_sets_numpy` in compiled passes; None when a paragraph holds the mark."""
    tokens = _word_hashes_compiled(kernels, paragraphs, normalization, unspaced)
    if tokens is None:
        return None
    return _sets_of_words(kernels, *tokens, ngram)


def _sets_of_words(kernels, words: np.ndarray, counts: np.ndarray, ngram: int) -> ShingleSets:
    mults = np.array([multiplier(k) for k in range(ngram)], dtype=_U64)
    keyed = kernels.shingle_windows(words, counts, ngram, mults, multiplier(_LENGTH_MULTIPLIER))
    keyed.sort()  # numpy's SIMD sort: all sets sorted at once, grouped by paragraph
    hashes, offsets, keys = kernels.unique_sets(keyed, len(counts), multiplier(13))
    return ShingleSets(hashes, offsets, counts, keys)
