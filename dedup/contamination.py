"""Per-item contamination: which benchmark items occur in a training corpus, by shared word n-grams.

The rule of GPT-3 and lm-evaluation-harness's "janitor": an item (a test question, a passage)
is contaminated when at least ``min_shared`` of its distinct word n-grams (n = 13 by default)
occur anywhere in the corpus. Tokens are dedup's (NFKC, case-folded runs of word characters);
an item shorter than n tokens has one n-gram, all its tokens, which occurs where those tokens
stand together in a corpus document. A document's n-grams run across its paragraphs.

The benchmark's n-grams are held in memory (a hash set, about 20 bytes each); the corpus is
streamed past them (:meth:`Contamination.scan`, as many times as there are batches), so its
size costs nothing. Counts are exact (64-bit hashes of the n-grams: two different n-grams
share one with odds of about 1e-19 per pair).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.arrays import exclusive_cumsum, ragged_take, row_of
from dedup.config import make_config
from dedup.errors import ConfigError
from dedup.fingerprint.grams import M_LEN, GramSet, gram_hashes, word_hashes_of
from dedup.fingerprint.hashing import fmix64, multipliers
from dedup.text.split import check_text

#: Corpus text scanned per call of the n-gram kernel (characters).
_CHUNK_CHARS = 1 << 20


@dataclass(frozen=True)
class ItemReport:
    """What the corpus shares with one benchmark item."""

    id: Optional[Hashable]  #: the item's id
    ngrams: int  #: its distinct word n-grams (1 when it is shorter than n tokens, 0 with no token)
    shared_ngrams: int  #: how many of them occur in the corpus
    contaminated: bool  #: ``shared_ngrams >= min_shared``
    documents: List[Any] = field(default_factory=list)  #: the first corpus documents sharing any, in corpus order

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "ngrams": self.ngrams, "shared_ngrams": self.shared_ngrams,
                "contaminated": self.contaminated, "documents": list(self.documents)}


class Contamination:
    """A benchmark's items, to find in a corpus by shared word n-grams.

    ``Contamination(items, ids=None, *, ngram=13, min_shared=1, max_documents=5,
    normalization="nfkc_casefold", unspaced_scripts="chars")``: ``items`` are the benchmark's
    texts (ids default to their positions). Feed the corpus with :meth:`scan` (any number of
    calls, in corpus order), then read :meth:`reports`.
    """

    def __init__(self, items: Iterable[str], ids: Optional[Iterable[Optional[Hashable]]] = None, *, ngram: int = 13,
                 min_shared: int = 1, max_documents: int = 5, normalization: str = "nfkc_casefold",
                 unspaced_scripts: str = "chars") -> None:
        self.config = make_config(default_scope="corpus", ngram=ngram, normalization=normalization,
                                  unspaced_scripts=unspaced_scripts)
        for name, value, low in (("min_shared", min_shared, 1), ("max_documents", max_documents, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        self.ngram = ngram
        self.min_shared = min_shared
        self.max_documents = max_documents
        texts = list(items)
        for k, text in enumerate(texts):
            check_text(text, f"benchmark item {k}")
        self.ids: List[Optional[Hashable]] = list(ids) if ids is not None else list(range(len(texts)))
        if len(self.ids) != len(texts):
            raise ConfigError(f"{len(self.ids)} ids for {len(texts)} benchmark items")
        words, counts = word_hashes_of(texts, self.config.text)
        owners, grams, gram_lengths = _item_grams(words, counts, ngram)
        self._keys, first, key_of = np.unique(grams, return_index=True, return_inverse=True)
        lengths = gram_lengths[first]
        #: key -> its items (CSR), item -> its keys
        order = np.argsort(key_of, kind="stable")
        self._key_items = owners[order]
        self._key_first = np.searchsorted(key_of[order], np.arange(len(self._keys) + 1))
        self._item_keys = key_of.reshape(-1)
        self._item_first = np.searchsorted(owners, np.arange(len(texts) + 1)).astype(np.int64)
        self._set = GramSet(self._keys, lengths)
        self._shared = np.zeros(len(self._keys), dtype=bool)
        #: keys whose hits can tell nothing more (shared, and every item of theirs has its documents)
        self._done = np.zeros(len(self._keys), dtype=np.uint8)
        self._documents: List[List[Any]] = [[] for _ in texts]
        self._full = np.zeros(len(texts), dtype=bool) if max_documents else np.ones(len(texts), dtype=bool)
        #: corpus documents scanned so far
        self.documents_scanned = 0

    def __len__(self) -> int:
        return len(self.ids)

    def scan(self, texts: Iterable[str], doc_ids: Optional[Iterable[Any]] = None) -> int:
        """Look for the items in the next corpus documents (ids default to their running number);
        returns how many were scanned."""
        ids = iter(doc_ids) if doc_ids is not None else None
        chunk: List[str] = []
        chunk_ids: List[Any] = []
        size = 0
        scanned = 0
        for text in texts:
            check_text(text, f"corpus document {self.documents_scanned + scanned + len(chunk)}")
            chunk.append(text)
            chunk_ids.append(next(ids) if ids is not None else self.documents_scanned + scanned + len(chunk) - 1)
            size += len(text)
            if size >= _CHUNK_CHARS:
                self._scan_chunk(chunk, chunk_ids)
                scanned += len(chunk)
                chunk, chunk_ids, size = [], [], 0
        if chunk:
            self._scan_chunk(chunk, chunk_ids)
            scanned += len(chunk)
        self.documents_scanned += scanned
        return scanned

    def _scan_chunk(self, texts: Sequence[str], ids: Sequence[Any]) -> None:
        if not len(self._keys):
            return
        docs, keys = self._set.scan_texts(texts, self.config.text, self._done)
        if not len(docs):
            return
        self._shared[keys] = True
        touched = np.unique(keys)
        if not self._full.all():
            # (document, item) pairs in corpus order: the first documents of each item
            spans = self._key_first[keys + 1] - self._key_first[keys]
            pair_doc = np.repeat(docs, spans)
            pair_item = self._key_items[ragged_take(self._key_first[keys], spans)]
            open_items = ~self._full[pair_item]
            pairs = np.unique(np.stack([pair_doc[open_items], pair_item[open_items]], axis=1), axis=0)
            for doc, item in pairs.tolist():
                listed = self._documents[item]
                if len(listed) < self.max_documents:
                    listed.append(ids[doc])
                    if len(listed) == self.max_documents:
                        self._full[item] = True
        spans = self._key_first[touched + 1] - self._key_first[touched]
        full = self._full[self._key_items[ragged_take(self._key_first[touched], spans)]]
        every = np.minimum.reduceat(full, exclusive_cumsum(spans)) if len(full) else np.zeros(0, dtype=bool)
        self._done[touched[every]] = 1

    def reports(self) -> List[ItemReport]:
        """One report per item, in the order given."""
        sizes = np.diff(self._item_first)
        owner = np.repeat(np.arange(len(self.ids)), sizes)
        shared = np.bincount(owner, weights=self._shared[self._item_keys], minlength=len(self.ids)).astype(np.int64)
        return [ItemReport(self.ids[i], int(sizes[i]), int(shared[i]), bool(sizes[i]) and int(shared[i]) >= self.min_shared,
                           list(self._documents[i])) for i in range(len(self.ids))]

    def __iter__(self) -> Iterator[ItemReport]:
        return iter(self.reports())

    def summary(self) -> Dict[str, Any]:
        """The totals: items, contaminated items, corpus documents scanned, and the settings."""
        reports = self.reports()
        return {"items": len(reports), "contaminated": sum(r.contaminated for r in reports),
                "documents": self.documents_scanned, "ngram": self.ngram, "min_shared": self.min_shared}


def _item_grams(words: np.ndarray, counts: np.ndarray, n: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item, gram hash, gram length) of every distinct n-gram of every item (``counts[i]`` tokens
    of ``words`` each), items in order; an item shorter than n has one gram, all its tokens."""
    first = exclusive_cumsum(counts)
    item = row_of(counts)
    hashes = gram_hashes(words, n)
    inside = np.arange(len(hashes)) + n <= (first + counts)[item[:len(hashes)]]
    parts = [(item[:len(hashes)][inside], hashes[inside], np.full(int(inside.sum()), n, dtype=np.int64))]
    for length in np.unique(counts[(counts > 0) & (counts < n)]).tolist():
        rows = np.flatnonzero(counts == length)
        block = words[first[rows][:, None] + np.arange(length)]
        mult = multipliers(length)
        with np.errstate(over="ignore"):
            acc = np.full(len(rows), np.uint64(length) * np.uint64(M_LEN), dtype=np.uint64)
            for t in range(length):
                acc += block[:, t] * mult[t]
        parts.append((rows, fmix64(acc), np.full(len(rows), length, dtype=np.int64)))
    owners = np.concatenate([p[0] for p in parts]).astype(np.int64)
    grams = np.concatenate([p[1] for p in parts])
    lengths = np.concatenate([p[2] for p in parts])
    order = np.lexsort((grams, owners))
    owners, grams, lengths = owners[order], grams[order], lengths[order]
    keep = np.ones(len(owners), dtype=bool)
    keep[1:] = (owners[1:] != owners[:-1]) | (grams[1:] != grams[:-1])
    return owners[keep], grams[keep], lengths[keep]
