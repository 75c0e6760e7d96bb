"""Exact substrings: a run of at least N tokens that occurred earlier in scope is cut from the later text.

After the paragraph decisions of a document, the tokens of what it keeps (its kept units, less
the spans cut inside them) form one sequence. Every run of at least ``N = exact_substrings``
tokens of it that occurred earlier (in an earlier document, or earlier in this one) is cut;
the first occurrence stays. Cuts are the union of those runs: overlapping or adjacent runs make
one cut. The sequence is then stored (:class:`~dedup.decide.span_store.SpanStore`) for the
documents after it: what enters the store is the text after paragraph decisions, before span
cuts, so "occurred earlier" means in that text.

Finding the runs in bounded memory: winnowing (:func:`dedup.fingerprint.grams.winnow`) keeps
one k-gram in about ``(w + 1) / 2`` (k + w - 1 = N), and any run of N equal tokens selects the
same k-gram in both places; a selected k-gram's earlier places (the first 64 of its
fingerprint) are extended token by token to the longest equal run, reading the earlier text
from disk.

Where a cut lands: on token boundaries of the input, taking the punctuation glued to its first
and last tokens; a cut holding every token of its unit removes the unit (separators as for a
removed paragraph), any other cut takes the white space before it (at the start of its unit,
the white space after it instead). A cut running through several units is one cut per unit.
Each cut is a :class:`~dedup.results.Removal` with ``reason="substring"``, naming the earlier
place of its first tokens (``matched_*``: document, unit, character span) and similarity 1.0.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Deque, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from dedup.arrays import ragged_take
from dedup.decide.amend import rebuild, removed_units, unit_arrays
from dedup.decide.span_store import FINGERPRINT_CAP, SpanStore, temporary_directory
from dedup.errors import ConfigError, DedupError
from dedup.fingerprint.grams import token_spans_batch
from dedup.results import DedupResult, Removal, Spans, Stats
from dedup.text.assemble import is_cut

if TYPE_CHECKING:
    from dedup.config import DedupConfig

REASON = "substring"
#: A chunk of documents the pass takes at once: this much text, or this many documents.
_CHUNK_CHARS = 1 << 20
_CHUNK_DOCS = 1024


def gram_layout(n: int) -> Tuple[int, int]:
    """(k, w) for runs of ``n`` tokens: k-grams of k tokens (8 to 16: rare enough in text that a
    look-up seldom finds a k-gram by chance), winnowed in windows of ``w = n - k + 1``."""
    k = min(n, max(8, min(16, n // 4)))
    return k, n - k + 1


def store_location(index: Any) -> Optional[str]:
    """Where a corpus index keeps its span store: beside a file or directory index
    (``PATH.spans``); None for an index in memory."""
    from dedup.index.exact import ExactIndex
    from dedup.index.memory import MemoryIndex
    from dedup.index.sorted_memory import SortedMemoryIndex
    if isinstance(index, (MemoryIndex, SortedMemoryIndex, ExactIndex)):
        return None
    path = getattr(index, "path", None)
    if path is None:
        raise ConfigError(f"exact_substrings keeps its span store in files beside the index; {index!r} has no "
                          "path (use an SQLite file or a compact index directory)")
    return os.fspath(path).rstrip("/" + os.sep) + ".spans"


class SubstringPass:
    """Cuts the runs of a document's kept text that repeat earlier text (see the module)."""

    def __init__(self, config: "DedupConfig", stats: Stats, index: Any = None) -> None:
        assert config.exact_substrings is not None
        self.min_tokens = int(config.exact_substrings)
        self.k, self.w = gram_layout(self.min_tokens)
        self.text = config.text
        self.stats = stats
        self.corpus = config.scope == "corpus"
        settings = {"exact_substrings": self.min_tokens, "k": self.k, "w": self.w, "cap": FINGERPRINT_CAP,
                    "normalization": config.normalization, "unspaced_scripts": config.unspaced_scripts}
        if not self.corpus:
            self.store = SpanStore(settings)
            return
        where = store_location(index)
        if where is None:
            self.store = SpanStore(settings, temporary_directory(), temporary=True)
            return
        fresh = not Path(where).exists()
        if fresh and len(index):
            raise DedupError(f"{where}: the span store of this index is missing (the index holds "
                             f"{len(index):,} paragraphs whose text it needs)")
        self.store = SpanStore(settings, where)

    def __getstate__(self) -> dict:
        if self.corpus:
            raise TypeError("a Deduplicator with exact_substrings in corpus scope cannot be pickled: its span "
                            "store is files only this process appends to")
        state = dict(self.__dict__)
        state["store"] = dict(self.store.settings)
        return state

    def __setstate__(self, state: dict) -> None:
        settings = state.pop("store")
        settings.pop("format", None)
        self.__dict__.update(state)
        self.store = SpanStore(settings)

    def close(self) -> None:
        self.store.close()

    def run(self, decide: Callable[[Iterable[str], Optional[Iterable[Any]]], Iterator[DedupResult]],
            texts: Iterable[str], doc_ids: Optional[Iterable[Any]]) -> Iterator[DedupResult]:
        """The results of ``decide(texts, doc_ids)`` (the unit decisions, in input order) with the
        repeated runs cut, a chunk of documents at a time (about a megabyte of text). Results
        already decided come out before an error the input raises."""
        given: Deque[str] = deque()
        ids: Deque[Any] = deque()

        def feed_texts() -> Iterator[str]:
            for text in texts:
                given.append(text)
                yield text

        def feed_ids() -> Iterator[Any]:  # the engine takes one id right after each text
            for doc_id in doc_ids if doc_ids is not None else ():
                ids.append(doc_id)
                yield doc_id

        chunk: List[DedupResult] = []
        chunk_texts: List[str] = []
        autos: List[bool] = []
        size = 0
        try:
            for result in decide(feed_texts(), feed_ids() if doc_ids is not None else None):
                text = given.popleft()
                doc_id = ids.popleft() if doc_ids is not None else None
                chunk.append(result)
                chunk_texts.append(text)
                autos.append(doc_id is None and self.corpus)
                size += len(text)
                if size >= _CHUNK_CHARS or len(chunk) >= _CHUNK_DOCS:
                    yield from self.amend(chunk_texts, chunk, autos)
                    chunk, chunk_texts, autos, size = [], [], [], 0
        except Exception:
            if chunk:  # what was decided before the error, then the error
                yield from self.amend(chunk_texts, chunk, autos)
            raise
        if chunk:
            yield from self.amend(chunk_texts, chunk, autos)

    def amend(self, texts: Sequence[str], results: List[DedupResult], autos: Optional[Sequence[Any]]) -> List[DedupResult]:
        """``results`` (of ``texts``, in input order) with the repeated runs cut; ``autos[i]`` says
        whether document i's id was numbered by the deduplicator (such a document is never a
        repeat run of a stored one)."""
        flags = [bool(a) for a in autos] if autos is not None else [False] * len(texts)
        if self.corpus:
            amended = self._batch(texts, results, flags)
            self.store.flush()
            return amended
        out = []
        for text, result, auto in zip(texts, results, flags):  # document scope: a fresh store per document
            self.store.reset()
            out += self._batch([text], [result], [auto])
        return out

    def _batch(self, texts: Sequence[str], results: List[DedupResult], autos: Sequence[bool]) -> List[DedupResult]:
        """Store the batch's kept texts and match them in one call of the kernel, in order."""
        store = self.store
        kept = _kept_tokens(texts, results, self.text)
        documents = np.zeros(len(texts), dtype=np.int64)
        inserts = np.zeros(len(texts), dtype=np.uint8)
        for b, (result, auto) in enumerate(zip(results, autos)):
            if kept.units[b] is None:
                continue
            replay = None
            if self.corpus and not auto:
                replay = store.replay_of(result.doc_id, kept.words[kept.offsets[b]:kept.offsets[b + 1]])
            if replay is None:
                inserts[b] = 1
            else:
                documents[b] = replay
        new = np.flatnonzero(inserts)
        if len(new):
            # the new documents' tokens, in order (all of the batch's, mostly)
            lengths = kept.offsets[new + 1] - kept.offsets[new]
            take = ragged_take(kept.offsets[new], lengths) if len(new) < len(texts) else slice(None)
            documents[new] = store.add_many([results[b].doc_id for b in new.tolist()], [autos[b] for b in new.tolist()],
                                            kept.words[take], kept.starts[take], kept.ends[take], kept.units_of[take],
                                            np.concatenate(([0], np.cumsum(lengths))))
        found = store.match_batch(kept.words, kept.offsets, documents, inserts, self.k, self.w, self.min_tokens)
        if not len(found):
            return results
        amended = list(results)
        found = found[np.argsort(found[:, 0], kind="stable")]
        bounds = np.searchsorted(found[:, 0], np.arange(len(texts) + 1))
        for b in np.flatnonzero(np.diff(bounds)).tolist():
            cuts = self._cuts(texts[b], kept.of(b), cover(found[bounds[b]:bounds[b + 1], 1:]))
            amended[b] = rebuild(texts[b], results[b], list(results[b].removed) + cuts, self.stats)
        return amended

    def _cuts(self, text: str, kept: "_Kept", segments: np.ndarray) -> List[Removal]:
        """One removal per piece of a cut inside one unit (between the spans cut there already),
        naming where its first tokens occurred earlier."""
        segs = segments.tolist()
        seg_starts = [a for a, _, _ in segs]
        pieces: List[Tuple[int, int]] = []  # (first, last) kept tokens of each piece
        k = 0
        while k < len(segs):  # a region: segments that touch
            region_start, region_end = segs[k][0], segs[k][1]
            k += 1
            while k < len(segs) and segs[k][0] == region_end:
                region_end = segs[k][1]
                k += 1
            units_of = kept.units_of[region_start:region_end]
            positions = kept.positions[region_start:region_end]
            if units_of[0] == units_of[-1] and positions[-1] - positions[0] == region_end - region_start - 1:
                pieces.append((region_start, region_end - 1))  # one unit, no span cut between: one piece
                continue
            breaks = np.flatnonzero((units_of[1:] != units_of[:-1]) | (positions[1:] != positions[:-1] + 1)) + 1
            bounds = [0] + breaks.tolist() + [region_end - region_start]
            pieces += [(region_start + a, region_start + b - 1) for a, b in zip(bounds, bounds[1:])]
        sources = []
        for first, last in pieces:
            a, b, src = segs[bisect_right(seg_starts, first) - 1]
            src0 = src + first - a
            sources.append((src0, src0 + min(last, b - 1) - first))
        found = self.store.spans_at([p for pair in sources for p in pair])
        units, inner = kept.units, kept.inner
        starts, ends, units_of_all = kept.starts, kept.ends, kept.units_of
        removals = []
        for n, ((first, last), (src0, _)) in enumerate(zip(pieces, sources)):
            u, s, e = int(units_of_all[first]), int(starts[first]), int(ends[last])
            lo, hi = int(units.starts[u]), int(units.ends[u])
            cut_lo, cut_hi, whole = lo, hi, True
            for a, b in inner:
                if lo <= a < hi:
                    whole = False
                    if b <= s:
                        cut_lo = max(cut_lo, b)
                    if a >= e:
                        cut_hi = min(cut_hi, a)
            span = _piece_span(text, s, e, lo, hi, cut_lo, cut_hi, whole)
            doc_id = self.store.document_of(src0)[1]
            removals.append(Removal(u, span[0], span[1], doc_id, int(found[2 * n, 2]), int(found[2 * n, 0]),
                                    int(found[2 * n + 1, 1]), 1.0, REASON))
        return removals


_NO_WORDS = np.zeros(0, dtype=np.uint64)


class _Kept(NamedTuple):
    """A document's kept tokens: their word hashes, spans, units, and indexes among all its tokens."""

    units: Spans
    words: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    units_of: np.ndarray
    positions: np.ndarray  #: the token's index among all the tokens of its document
    inner: List[Tuple[int, int]]  #: spans cut inside kept units by the unit decisions


class _BatchKept(NamedTuple):
    """The kept tokens of a batch, flat (document b's: ``[offsets[b], offsets[b + 1])``)."""

    units: List[Optional[Spans]]  #: per document its units (None: it has none)
    words: np.ndarray
    starts: np.ndarray  #: character offsets in the token's own document
    ends: np.ndarray
    units_of: np.ndarray
    positions: np.ndarray  #: the token's index among all the tokens of its document
    offsets: np.ndarray
    inner: List[List[Tuple[int, int]]]

    def of(self, b: int) -> _Kept:
        a, e = self.offsets[b], self.offsets[b + 1]
        units = self.units[b]
        assert units is not None
        return _Kept(units, self.words[a:e], self.starts[a:e], self.ends[a:e], self.units_of[a:e], self.positions[a:e],
                     self.inner[b])


def _kept_tokens(texts: Sequence[str], results: Sequence[DedupResult], settings: Any) -> _BatchKept:
    """The tokens the unit decisions kept, in every document of a batch: those inside its units,
    less the removed units and the spans cut inside kept ones, with one vectorized pass for the
    batch (a text nothing was removed from keeps every token inside its units)."""
    words, starts, ends, offsets = token_spans_batch(texts, settings)
    n = len(texts)
    units = [unit_arrays(r) for r in results]
    sizes = np.array([len(u) for u in units], dtype=np.int64)
    # one coordinate for the whole batch: document b's characters start at char_base[b]
    char_base = np.zeros(n, dtype=np.int64)
    np.cumsum([len(t) + 1 for t in texts[:-1]], out=char_base[1:])
    unit_first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=unit_first[1:])
    doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    if int(sizes.sum()):
        shift = np.repeat(char_base, sizes)
        unit_starts = np.concatenate([u.starts for u in units]) + shift
        unit_ends = np.concatenate([u.ends for u in units]) + shift
        unit = np.searchsorted(unit_starts, starts + char_base[doc], side="right") - 1
        keep = (unit >= unit_first[doc]) & (ends + char_base[doc] <= unit_ends[np.maximum(unit, 0)])
        unit -= unit_first[doc]
    else:
        unit = np.zeros(len(words), dtype=np.int64)
        keep = np.zeros(len(words), dtype=bool)
    inner: List[List[Tuple[int, int]]] = [[] for _ in range(n)]
    for b, result in enumerate(results):
        if result.removed:
            a, e = offsets[b], offsets[b + 1]
            if e > a:
                keep[a:e] &= ~removed_units(result, units[b])[np.maximum(unit[a:e], 0)]
            inner[b] = sorted((r.start, r.end) for r in result.removed if is_cut(r, units[b][r.index]))
            for lo, hi in inner[b]:
                keep[a:e] &= ~((starts[a:e] >= lo) & (ends[a:e] <= hi))
    index = np.flatnonzero(keep)
    kept_offsets = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))[offsets]
    return _BatchKept([u if len(u) else None for u in units], words[index], starts[index], ends[index], unit[index],
                      index - offsets[doc[index]], kept_offsets, inner)


def cover(found: np.ndarray) -> np.ndarray:
    """The repeated runs ``found`` ((start, length, source) rows) as disjoint segments (start, end,
    source of start) covering their union: from each point the run reaching furthest (then the
    earliest source) continues the cover, so overlapping and adjacent runs join."""
    rows = sorted(((int(i), int(i + length), int(j)) for i, length, j in found.tolist()), key=lambda r: (r[0], -r[1], r[2]))
    segments: List[Tuple[int, int, int]] = []
    k = 0
    while k < len(rows):
        cur = rows[k][0]
        while True:
            best: Optional[Tuple[int, int, int]] = None
            while k < len(rows) and rows[k][0] <= cur:
                r = rows[k]
                if r[1] > cur and (best is None or r[1] > best[1] or
                                   (r[1] == best[1] and r[2] + (cur - r[0]) < best[2] + (cur - best[0]))):
                    best = r
                k += 1
            if best is None:
                break
            segments.append((cur, best[1], best[2] + (cur - best[0])))
            cur = best[1]
    return np.array(segments, dtype=np.int64).reshape(-1, 3)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _piece_span(text: str, s: int, e: int, lo: int, hi: int, cut_lo: int, cut_hi: int,
                whole_allowed: bool) -> Tuple[int, int]:
    """The characters a piece takes: its tokens ``[s, e)`` and the punctuation glued to them (within
    ``[cut_lo, cut_hi)``, the unit less the spans cut already); at the start of its unit
    ``[lo, hi)`` the white space after it too, and the whole unit when nothing else is left."""
    while s > cut_lo and not text[s - 1].isspace() and not _is_word(text[s - 1]):
        s -= 1
    while e < cut_hi and not text[e].isspace() and not _is_word(text[e]):
        e += 1
    if cut_lo == lo and (s == lo or text[lo:s].isspace()):
        while e < cut_hi and text[e].isspace():
            e += 1
        if e == hi and whole_allowed:
            return lo, hi
    return s, e


def substring_pass(config: "DedupConfig", stats: Stats, index: Any, read_only: bool) -> Optional[SubstringPass]:
    """The exact-substring pass a deduplicator runs after its decisions, or None (not asked for)."""
    if config.exact_substrings is None:
        return None
    if read_only:
        raise ConfigError("exact_substrings cuts spans and stores text: not with read_only=True")
    return SubstringPass(config, stats, index)


__all__ = ["REASON", "SubstringPass", "cover", "gram_layout", "store_location", "substring_pass"]
