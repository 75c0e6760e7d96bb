"""Checking a corpus against a reference set without adding to it (decontamination).

"Does my training corpus contain my benchmark?" A :class:`Reference` holds the shingle sets
of a reference (a benchmark's test split, a set of documents seen before) in an inverted
index: shingle -> the reference units that have it. Checking a unit counts, exactly, the
shingles it shares with every reference unit that shares any, so two scores come out
without LSH or estimation:

- ``similarity``: the Jaccard similarity of the two sets (the dedup measure);
- ``containment``: the share of the *reference* unit's shingles found in the checked unit,
  high when a short benchmark item sits inside a long paragraph of the corpus (its
  Jaccard with that paragraph is low).

A unit is a hit when ``similarity >= threshold`` or ``containment >= min_containment``.
Units with fewer than ``min_tokens`` tokens take no part, as in dedup (a short heading is no
evidence of a leak): a short reference unit matches nothing (it would be "contained" in every
unit that holds its few words), and a short checked unit is never a hit. Nothing is ever added
to the reference, and units of the checked corpus are never compared with each other.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from dedup.config import DedupConfig, make_config
from dedup.errors import ConfigError
from dedup.fingerprint.shingles import ShingleSets, shingle_sets
from dedup.index.base import Index, check_settings
from dedup.index.open import open_index
from dedup.text.assemble import assemble
from dedup.text.split import check_text, split_units

#: The settings that make a unit's shingle set: a persistent index checked against must match them.
SHINGLE_SETTINGS = ("version", "ngram", "normalization", "unspaced_scripts", "granularity")

#: A shingle found in more reference units than this is too common to say anything (a
#: boilerplate phrase of the benchmark): it is not counted, which keeps a check linear.
MAX_UNITS_PER_SHINGLE = 1000
#: Documents whose units are shingled together.
_CHUNK = 256


@dataclass(frozen=True)
class Hit:
    """One unit of a checked document found in the reference."""

    index: int  #: unit index in the checked document
    start: int  #: character offsets of the unit in the checked text
    end: int
    ref_doc_id: Optional[Hashable]  #: the reference document and unit it matches best
    ref_index: int
    similarity: float  #: Jaccard similarity of the two shingle sets
    containment: float  #: share of the reference unit's shingles found in this unit

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CheckResult:
    """The hits of one checked document, and its text with the hit units removed."""

    doc_id: Optional[Hashable]
    hits: List[Hit] = field(default_factory=list)
    text: str = ""  #: the input minus the hit units (the contract's separator rule)


class Reference:
    """A reference set to check texts against; built once, only ever read.

    ``Reference(texts, ids=None, config=None, min_containment=0.8, **settings)``: units are
    split, normalized and shingled with the settings (``granularity``, ``ngram``,
    ``normalization``, ``threshold``...) as dedup would, so the same text checks the same
    way. :meth:`from_index` reads the units of a persistent index instead.
    """

    def __init__(self, texts: Iterable[str] = (), ids: Optional[Iterable[Optional[Hashable]]] = None,
                 config: Optional[DedupConfig] = None, *, min_containment: float = 0.8, **settings: Any) -> None:
        self.config = make_config(config, default_scope="corpus", **settings)  # a query of an index
        if not 0.0 < min_containment <= 1.0:
            raise ConfigError(f"min_containment must be in (0, 1], got {min_containment!r}")
        self.min_containment = float(min_containment)
        id_list = list(ids) if ids is not None else None
        units: List[str] = []
        where: List[Tuple[Optional[Hashable], int]] = []
        for k, text in enumerate(texts):
            check_text(text, f"reference document {k}")
            starts, ends = split_units(text, self.config.granularity)
            doc_id = id_list[k] if id_list is not None else k
            for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
                units.append(text[s:e])
                where.append((doc_id, i))
        sets = self._sets(units)
        self._build_flat(sets.hashes, sets.offsets, where, sets.n_tokens < self.config.min_tokens)

    @classmethod
    def from_index(cls, index: Union[Index, str, os.PathLike], config: Optional[DedupConfig] = None, *, min_containment: float = 0.8,
                   **settings: Any) -> "Reference":
        """The units a persistent index holds (an :class:`Index`, or a spec :func:`open_index` takes,
        opened read-only). The settings that make a unit's shingle
        set (:data:`SHINGLE_SETTINGS`) must match the index's; the others (MinHash, LSH,
        ``exact_only``) play no part in a check. The index keeps no token counts, so a reference
        unit counts as short when its set is no larger than a short unit's can be
        (``max(1, min_tokens - ngram)`` shingles)."""
        if isinstance(index, (str, os.PathLike)):  # a spec: opened read-only here, read whole, closed
            opened = open_index(index, read_only=True)
            try:
                return cls.from_index(opened, config, min_containment=min_containment, **settings)
            finally:
                opened.close()
        ref = cls((), config=config, min_containment=min_containment, **settings)
        stored = index.info().get("settings")
        if stored:
            now = _shingle_part(ref.config.fingerprint_settings())
            check_settings(f"index {index!r}", _shingle_part(stored), now[0], now[1])
        else:  # an index that does not say its settings: all of them must match
            index.bind(ref.config.fingerprint(), ref.config.fingerprint_settings())
        ids = np.arange(len(index), dtype=np.int64)
        if not len(ids):
            return ref
        pool, starts, lengths = index.shingle_spans(ids)
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        hashes = np.concatenate([pool[int(s):int(s) + int(n)] for s, n in zip(starts.tolist(), lengths.tolist())])
        where: List[Tuple[Optional[Hashable], int]] = []
        for entry in ids.tolist():
            loc = index.location(entry)
            where.append((loc.doc_id, loc.index))
        short = lengths <= max(1, ref.config.min_tokens - ref.config.ngram)
        ref._build_flat(hashes.astype(np.uint32), offsets, where, short)
        return ref

    def _sets(self, units: Sequence[str]) -> ShingleSets:
        cfg = self.config
        return shingle_sets(list(units), cfg.ngram, cfg.normalization, cfg.unspaced_scripts)

    def _build_flat(self, hashes: np.ndarray, offsets: np.ndarray, where: List[Tuple[Optional[Hashable], int]],
                    short: np.ndarray) -> None:
        """The inverted index shingle -> reference units, short units left out."""
        self._where = where
        self._size = np.diff(offsets).astype(np.int64)
        unit_of = np.repeat(np.arange(len(self._size), dtype=np.int64), self._size)
        counted = ~np.repeat(np.asarray(short, dtype=bool), self._size)
        hashes, unit_of = hashes[counted], unit_of[counted]
        order = np.lexsort((unit_of, hashes))
        sorted_hashes, units = hashes[order], unit_of[order]
        self._keys, first, counts = np.unique(sorted_hashes, return_index=True, return_counts=True)
        common = counts > MAX_UNITS_PER_SHINGLE
        self._first, self._count = first, np.where(common, 0, counts)
        self._units = units

    def __len__(self) -> int:
        return len(self._size)

    def check(self, text: str, doc_id: Optional[Hashable] = None) -> CheckResult:
        """The hits of one text, and the text without them."""
        return next(self.check_many([text], [doc_id]))

    def check_many(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None
                   ) -> Iterator[CheckResult]:
        """:meth:`check` of each text, in order (units shingled a chunk of documents at a time)."""
        ids = iter(doc_ids) if doc_ids is not None else iter(())
        chunk: List[Tuple[str, Optional[Hashable], np.ndarray, np.ndarray]] = []
        for k, text in enumerate(texts):
            check_text(text, f"document {k}")
            starts, ends = split_units(text, self.config.granularity)
            chunk.append((text, next(ids, None), starts, ends))
            if len(chunk) >= _CHUNK:
                yield from self._check_chunk(chunk)
                chunk = []
        yield from self._check_chunk(chunk)

    def _check_chunk(self, chunk: List[Tuple[str, Optional[Hashable], np.ndarray, np.ndarray]]
                     ) -> Iterator[CheckResult]:
        units = [text[s:e] for text, _, starts, ends in chunk for s, e in zip(starts.tolist(), ends.tolist())]
        found = self._best(self._sets(units)) if units and len(self._size) else {}
        row = 0
        for text, doc_id, starts, ends in chunk:
            n = len(starts)
            hits = []
            for i in range(n):
                best = found.get(row + i)
                if best is not None:
                    r, sim, con = best
                    ref_doc, ref_index = self._where[r]
                    hits.append(Hit(i, int(starts[i]), int(ends[i]), ref_doc, ref_index, sim, con))
            row += n
            if not hits:
                yield CheckResult(doc_id, [], text)
                continue
            removed = np.zeros(n, dtype=bool)
            removed[[h.index for h in hits]] = True
            yield CheckResult(doc_id, hits, assemble(text, starts, ends, removed, []))

    def _best(self, sets: ShingleSets) -> Dict[int, Tuple[int, float, float]]:
        """Per unit with a hit: (best reference unit, similarity, containment); the best is the
        highest similarity, then containment, then the earliest reference unit."""
        sizes = np.diff(sets.offsets)
        if not len(self._keys):
            return {}
        unit_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        pos = np.minimum(np.searchsorted(self._keys, sets.hashes), len(self._keys) - 1)
        found = (self._keys[pos] == sets.hashes) & np.repeat(sets.n_tokens >= self.config.min_tokens, sizes)
        pos, unit_of = pos[found], unit_of[found]
        counts = self._count[pos]
        keep = counts > 0
        pos, unit_of, counts = pos[keep], unit_of[keep], counts[keep]
        if not len(pos):
            return {}
        # every (checked unit, reference unit) pair sharing a shingle, once per shared shingle
        reps = np.repeat(np.arange(len(pos)), counts)
        within = np.arange(len(reps)) - np.repeat(np.cumsum(counts) - counts, counts)
        refs = self._units[self._first[pos[reps]] + within]
        n_ref = np.int64(len(self._size))
        pairs, shared = np.unique(unit_of[reps] * n_ref + refs, return_counts=True)
        mine, ref = pairs // n_ref, pairs % n_ref
        similarity = shared / (sizes[mine] + self._size[ref] - shared)
        containment = shared / self._size[ref]
        hit = (similarity >= self.config.threshold) | (containment >= self.min_containment)
        mine, ref, similarity, containment = mine[hit], ref[hit], similarity[hit], containment[hit]
        order = np.lexsort((ref, -containment, -similarity, mine))  # per unit: the best first
        mine, ref, similarity, containment = mine[order], ref[order], similarity[order], containment[order]
        first = np.r_[True, mine[1:] != mine[:-1]] if len(mine) else np.zeros(0, dtype=bool)
        return {m: (r, s, c) for m, r, s, c in zip(mine[first].tolist(), ref[first].tolist(),
                                                  similarity[first].tolist(), containment[first].tolist())}


def _shingle_part(settings: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """(fingerprint, settings) of the shingle settings alone, for :func:`check_settings`."""
    part = {k: settings.get(k) for k in SHINGLE_SETTINGS}
    return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:16], part
