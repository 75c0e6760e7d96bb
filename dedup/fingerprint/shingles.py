"""Shingle hashing for a whole batch of paragraphs, as flat numpy arrays.

Words are hashed once each with xxhash (a per-process cache makes repeated words free),
then word hashes are combined into n-gram hashes with array arithmetic: no shingle
strings are ever built. The result is one flat array of per-paragraph sorted, unique
32-bit shingle hashes plus offsets: the shingle *sets* that MinHash summarizes and that
verification compares exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import xxhash

from dedup.accel import jit
from dedup.arrays import exclusive_cumsum, offsets_of, ragged_take, row_of
from dedup.chardata import ASCII_WORD, PARAGRAPH_MARK, fold_table, word_table
from dedup.fingerprint.hashing import fmix64, multiplier, multipliers
from dedup.text.settings import DEFAULT_NORMALIZATION, TextSettings
from dedup.text.split import normalize, tokenize, tokenize_batch

_U64 = np.uint64
_MARK_HASH = 0  # stands for PARAGRAPH_MARK in the token-hash stream
_LENGTH_MULTIPLIER = 14  # multiplier index that mixes the shingle length in
_WORD_CACHE_LIMIT = 2_000_000

_word_cache: Dict[str, int] = {PARAGRAPH_MARK: _MARK_HASH}


def _settings(text: Optional[TextSettings], ngram: int, normalization: str, unspaced: str) -> TextSettings:
    """``text`` when given, else the loose keywords of the older signatures, as one value."""
    return text if text is not None else TextSettings(normalization, unspaced, ngram)  # type: ignore[arg-type]


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
        if self.words is None:
            raise ValueError("only sets made by shingle_sets_of_spans keep their words")
        counts = self.n_tokens[rows]
        return self.words[ragged_take(exclusive_cumsum(self.n_tokens)[rows], counts)], counts

    def take(self, rows: np.ndarray) -> "ShingleSets":
        """The sets of ``rows`` only (in that order, repeats allowed), renumbered 0..len(rows)-1."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        return ShingleSets(self.hashes[ragged_take(self.offsets[rows], lengths)], offsets_of(lengths),
                           self.n_tokens[rows], self.set_keys[rows])

    @staticmethod
    def concat(parts: Sequence["ShingleSets"]) -> "ShingleSets":
        """The sets of several batches, one after the other, as one (words are not kept)."""
        sizes = [len(p.hashes) for p in parts]
        shifted = [p.offsets[1:] + shift for p, shift in zip(parts, exclusive_cumsum(np.array(sizes)).tolist())]
        return ShingleSets(np.concatenate([p.hashes for p in parts]),
                           np.concatenate([np.zeros(1, dtype=np.int64)] + shifted),
                           np.concatenate([p.n_tokens for p in parts]), np.concatenate([p.set_keys for p in parts]))

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


def word_hashes(paragraphs: Sequence[str], normalization: str = DEFAULT_NORMALIZATION, unspaced: str = "chars", *,
                text: Optional[TextSettings] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(flat word hashes, tokens per paragraph) for a batch of paragraph strings."""
    settings = _settings(text, 5, normalization, unspaced)
    if not paragraphs:
        return np.zeros(0, dtype=_U64), np.zeros(0, dtype=np.int64)
    kernels = jit.kernels() if settings.compiled else None
    if kernels is not None:
        compiled = _word_hashes_compiled(kernels, paragraphs, settings)
        if compiled is not None:
            return compiled
    normalization, unspaced = settings.normalization, settings.unspaced_scripts
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


def shingle_hashes(words: np.ndarray, counts: np.ndarray, ngram: int) -> Tuple[np.ndarray, np.ndarray]:
    """(flat 32-bit shingle hashes in paragraph order, shingles per paragraph).

    Word n-grams inside each paragraph; a paragraph with fewer than ``ngram`` tokens has
    one shingle, its whole token sequence. Equal token sequences give equal hashes.
    """
    starts = exclusive_cumsum(counts)
    long_mask = counts >= ngram
    per_para = np.where(long_mask, counts - ngram + 1, 1)
    short_idx = np.flatnonzero(~long_mask)
    with np.errstate(over="ignore"):
        long_hashes = _window_hashes(words, starts[long_mask], per_para[long_mask], ngram)
        short_hashes = _whole_sequence_hashes(words, starts[short_idx], counts[short_idx], ngram)
    # Interleave in paragraph order: long paragraphs' windows and short paragraphs' one hash.
    out = np.empty(int(per_para.sum()), dtype=_U64)
    is_short_slot = np.zeros(len(out), dtype=bool)
    is_short_slot[exclusive_cumsum(per_para)[short_idx]] = True
    out[is_short_slot] = short_hashes
    out[~is_short_slot] = long_hashes
    return (fmix64(out) >> _U64(32)).astype(np.uint32), per_para


def _window_hashes(words: np.ndarray, first: np.ndarray, n_windows: np.ndarray, ngram: int) -> np.ndarray:
    """Hashes of the ``n_windows[p]`` n-gram windows starting at ``first[p]``, paragraph after paragraph."""
    total = len(words)
    if total < ngram or len(first) == 0:
        return np.zeros(0, dtype=_U64)
    # Windows over the whole stream; keep those that lie inside one paragraph.
    acc = np.full(total - ngram + 1, _U64(ngram) * multiplier(_LENGTH_MULTIPLIER), dtype=_U64)
    for k in range(ngram):
        acc += words[k:total - ngram + 1 + k] * multiplier(k)
    return acc[ragged_take(first, n_windows)]


def _whole_sequence_hashes(words: np.ndarray, starts: np.ndarray, counts: np.ndarray, ngram: int) -> np.ndarray:
    """One hash per paragraph shorter than ``ngram``: its whole token sequence."""
    hashes = counts.astype(_U64) * multiplier(_LENGTH_MULTIPLIER)
    for k in range(ngram - 1):
        has = counts > k
        if not has.any():
            break
        hashes[has] += words[starts[has] + k] * multiplier(k)
    return hashes


def shingle_sets(paragraphs: Sequence[str], ngram: int = 5, normalization: str = DEFAULT_NORMALIZATION,
                 unspaced: str = "chars", *, text: Optional[TextSettings] = None) -> ShingleSets:
    """The shingle sets of a batch of paragraph strings (``text`` overrides the three loose settings)."""
    settings = _settings(text, ngram, normalization, unspaced)
    jit.note_work(len(paragraphs))
    kernels = jit.kernels() if settings.compiled else None
    if kernels is not None and paragraphs:
        tokens = _word_hashes_compiled(kernels, paragraphs, settings)
        if tokens is not None:
            return _sets_of_words(kernels, tokens[0], tokens[1], settings.ngram)
    return shingle_sets_numpy(paragraphs, text=settings)


def shingle_sets_numpy(paragraphs: Sequence[str], ngram: int = 5, normalization: str = DEFAULT_NORMALIZATION,
                       unspaced: str = "chars", *, text: Optional[TextSettings] = None) -> ShingleSets:
    """The reference path of :func:`shingle_sets`: ``re`` tokens, xxhash, numpy arithmetic."""
    settings = _settings(text, ngram, normalization, unspaced)
    words, counts = word_hashes(paragraphs, text=settings)
    hashes, per_para = shingle_hashes(words, counts, settings.ngram)
    n = len(counts)
    keyed = np.unique((row_of(per_para).astype(_U64) << _U64(32)) | hashes.astype(_U64))
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

def _word_hashes_compiled(kernels, paragraphs: Sequence[str],
                          settings: TextSettings) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """:func:`word_hashes` in one compiled pass; None when a paragraph holds the mark."""
    joined = PARAGRAPH_MARK.join(paragraphs)
    lower = False
    if not settings.case_fold:
        text = joined
    elif joined.isascii():  # NFKC leaves ASCII alone, and case-folding it maps A-Z to a-z
        text, lower = joined, True
    else:
        # The mark is a normalization boundary (a starter that composes with nothing), so
        # paragraphs normalize one by one to the same text; ASCII ones only need A-Z -> a-z
        # (done below on the bytes, harmless on the others: case-folded text has no A-Z).
        text = PARAGRAPH_MARK.join([p if p.isascii() else normalize(p, settings.normalization) for p in paragraphs])
        lower = True
    table = ASCII_WORD if text.isascii() else word_table(settings.unspaced_scripts)
    buf = np.frombuffer(bytearray(text.encode("utf-8", "surrogatepass")), dtype=np.uint8)
    if lower:
        kernels.lower_ascii(buf)
    return _tokenize_buffer(kernels, buf, table, len(paragraphs))


def _tokenize_buffer(kernels, buf: np.ndarray, table: np.ndarray, n: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(word hashes, tokens per paragraph) of hashed-copy UTF-8 whose n paragraphs are
    separated by the mark; None when a paragraph holds the mark itself."""
    words, counts, seen, long_at, long_start, long_end = kernels.tokenize_hash(buf, table, n)
    if seen != n:  # a paragraph holds the mark: the caller tokenizes one by one
        return None
    for at, start, end in zip(long_at.tolist(), long_start.tolist(), long_end.tolist()):
        h = xxhash.xxh3_64_intdigest(buf[start:end].tobytes())
        words[at] = h if h != _MARK_HASH else 1
    return words, counts


#: In batch order, ``(cps, starts, ends)`` for runs of paragraphs that share one code point array.
Pieces = Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]]


def shingle_sets_of_spans(pieces: Pieces, paragraph_texts: Callable[[np.ndarray], List[str]], n: int,
                          ngram: int = 5, normalization: str = DEFAULT_NORMALIZATION, unspaced: str = "chars", *,
                          text: Optional[TextSettings] = None) -> Optional[ShingleSets]:
    """:func:`shingle_sets` of a batch's n paragraphs given as spans of code points, not strings.

    ``pieces``: in batch order, ``(cps, starts, ends)`` for runs of paragraphs that share one
    code point array (paragraph k of the run is ``cps[starts[k]:ends[k]]``). One kernel pass
    folds each character (a table lookup, see :mod:`dedup.chardata`), finds the words and
    hashes their folded UTF-8; ``paragraph_texts(rows)`` gives the strings of the few rows
    whose text Python must normalize. Saves slicing, joining, encoding and re-reading every
    paragraph. None when the kernels are not in use: call :func:`shingle_sets` with the
    strings instead. The words are kept on the result (``words_of``).
    """
    settings = _settings(text, ngram, normalization, unspaced)
    kernels = jit.kernels() if settings.compiled else None
    if kernels is None or n == 0:
        return None
    jit.note_work(n)
    words, counts, hard = _fold_tokenize(kernels, pieces, n, settings)
    hard_rows = np.flatnonzero(hard)
    if len(hard_rows):  # the rows Python normalizes: tokenized apart, spliced in at their place
        hard_words, hard_counts = word_hashes(paragraph_texts(hard_rows), text=settings)
        words = _splice(words, exclusive_cumsum(counts)[hard_rows], hard_words, hard_counts)
        counts[hard_rows] = hard_counts
    sets = _sets_of_words(kernels, words, counts, settings.ngram)
    sets.words = words
    return sets


def _splice(words: np.ndarray, at: np.ndarray, inserted: np.ndarray, inserted_counts: np.ndarray) -> np.ndarray:
    """``words`` with ``inserted`` (runs of ``inserted_counts``) put in at positions ``at``."""
    parts, prev, taken = [], 0, 0
    for p, c in zip(at.tolist(), inserted_counts.tolist()):
        parts += [words[prev:p], inserted[taken:taken + c]]
        prev, taken = p, taken + c
    return np.concatenate(parts + [words[prev:]])


class _Room:
    """Output arrays of the folding tokenizer, doubled when the kernel runs out of room."""

    def __init__(self, chars: int) -> None:
        # Room for a token per 4 characters (text has fewer); the kernel says when it needs more.
        self.words = _scratch(8 * (chars // 4 + 64)).view(np.uint64)
        self.long_at = np.empty(64, dtype=np.int64)
        self.long_span = np.empty((64, 2), dtype=np.int64)

    def grow_for(self, size: int, nw: int, nl: int) -> None:
        """Double what may have run out for a paragraph of ``size`` characters."""
        grow_words = nw + 2 + size > len(self.words)  # at most a token per character
        grow_long = nl + 2 + size // 33 > len(self.long_at)  # a long word has over 32 characters
        if grow_words or not grow_long:
            grown = np.empty(2 * len(self.words), dtype=np.uint64)
            grown[:nw] = self.words[:nw]
            self.words = grown
        if grow_long or not grow_words:
            self.long_at = np.concatenate([self.long_at, np.empty(len(self.long_at), dtype=np.int64)])
            self.long_span = np.concatenate([self.long_span, np.empty_like(self.long_span)])


def _fold_tokenize(kernels, pieces: Pieces, n: int, settings: TextSettings):
    """(word hashes, tokens per row, rows Python must normalize) of the pieces' n rows."""
    fold = fold_table(settings.case_fold)
    table = word_table(settings.unspaced_scripts)
    room = _Room(sum(int((ends - starts).sum()) for _, starts, ends in pieces))
    counts = np.zeros(n, dtype=np.int64)
    hard = np.zeros(n, dtype=np.bool_)
    nw = nl = row = 0
    for cps, starts, ends in pieces:
        first_long = nl
        k = 0
        while True:
            nw, nl, k = kernels.fold_tokenize(cps, starts, ends, fold, table, room.words, nw, counts, hard,
                                              room.long_at, room.long_span, nl, row, k)
            if k == len(starts):
                break
            room.grow_for(int(ends[k] - starts[k]), nw, nl)  # paragraph k ran out of room: go on from it
        for at, (a, b) in zip(room.long_at[first_long:nl].tolist(), room.long_span[first_long:nl].tolist()):
            h = xxhash.xxh3_64_intdigest("".join(map(chr, fold[cps[a:b]].tolist())).encode("utf-8", "surrogatepass"))
            room.words[at] = h if h != _MARK_HASH else 1
        row += len(starts)
    return room.words[:nw].copy(), counts, hard


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


def _sets_of_words(kernels, words: np.ndarray, counts: np.ndarray, ngram: int) -> ShingleSets:
    keyed = kernels.shingle_windows(words, counts, ngram, multipliers(ngram), multiplier(_LENGTH_MULTIPLIER))
    keyed.sort()  # numpy's SIMD sort: all sets sorted at once, grouped by paragraph
    hashes, offsets, keys = kernels.unique_sets(keyed, len(counts), multiplier(13))
    return ShingleSets(hashes, offsets, counts, keys)
