"""Deduplicator: the API of corpus and document scope, over one of two engines.

Records go to the compiled engine (:mod:`dedup.engine.compiled`: one C call per chunk of records,
its store the index) where it is built and the index is its store, else to the batch path
(:mod:`dedup.engine.batch`: numpy and numba, any :class:`~dedup.index.base.Index`). Both give the
same decisions; this class holds what the user sees: settings, index, stats, clusters.
"""

from __future__ import annotations

import itertools
import os
from types import MappingProxyType
from typing import Any, Dict, Hashable, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from dedup.config import DedupConfig, make_config
from dedup.decide.substrings import substring_pass
from dedup.engine.batch import BatchEngine
from dedup.engine.compiled import NativeEngine, available as native_available
from dedup.errors import ConfigError
from dedup.index.base import Index, as_index, check_process
from dedup.index.exact import ExactIndex
from dedup.index.memory import MemoryIndex
from dedup.index.open import bind_index
from dedup.results import DedupResult, Stats
from dedup.text.split import check_text

Engine = Union[NativeEngine, BatchEngine]


class Deduplicator:
    """Removes paragraphs that repeat an earlier paragraph; stateful in corpus scope.

    ``Deduplicator(config=None, *, index=None, **overrides)``: settings come from
    ``config`` (a :class:`DedupConfig`) with keyword ``overrides``; scope defaults to
    ``"corpus"`` here, wherever the settings come from (:func:`~dedup.config.make_config`). ``index`` is where corpus scope remembers what it has seen (a
    :class:`MemoryIndex` by default; a path or ``redis://`` URL opens a persistent one).
    """

    def __init__(self, config: Optional[DedupConfig] = None, *,
                 index: Optional[Index | str | os.PathLike] = None, read_only: bool = False,
                 clusters: bool = False, workers: int = 1, **overrides: Any) -> None:
        self.config = make_config(config, default_scope="corpus", **overrides)
        #: Query only: units are matched against the index, never against each other, and
        #: nothing is added (a reference set checked for leaks, "have we seen this?").
        self.read_only = bool(read_only)
        if self.read_only and self.config.scope != "corpus":
            raise ConfigError("read_only=True queries an index: it needs scope 'corpus'")
        if self.read_only and self.config.inner_repeats:  # a repeat inside a unit is not a hit in the index
            self.config = self.config.replace(inner_repeats=False)
        if isinstance(index, (str, os.PathLike)):  # "corpus.dedup", "redis://host:6379/0"
            from dedup.index.open import open_index
            index = open_index(index, self.config if self.config.scope == "corpus" else None,
                               read_only=self.read_only)  # closed on mismatch
        self.index: Index = as_index(index) if index is not None else (
            MemoryIndex() if native_available() or not self.config.exact_only else ExactIndex())
        if self.config.scope == "corpus":
            bind_index(self.index, self.config)
        self.stats = Stats()
        self._made_in = os.getpid()  # see check_process
        self._auto_ids = itertools.count()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
        #: threads of iter_dedupe: 1 works on the calling thread only; N fingerprints the next
        #: chunk on N - 1 threads while this one is decided (the same decisions for every N)
        self.workers = workers
        #: (doc_id, unit index) -> its cluster's first member, for every unit in a removal decision
        self._clusters: Optional[Dict[Tuple[Hashable, int], Tuple[Hashable, int]]] = {} if clusters else None
        self._engine: Engine = self._make_engine()
        #: the pass after the unit decisions: exact substrings cut from what the units kept
        self._substrings = substring_pass(self.config, self.stats, self.index, self.read_only)

    def _make_engine(self) -> Engine:
        """The compiled engine where it is built and the index is its store, else the batch path."""
        corpus = self.config.scope == "corpus"
        on_engine = native_available() and (not corpus or self.index.native_store() is not None)
        if self.config.noisy_rules is not None and not on_engine:
            where = (f"{type(self.index).__name__} is not one" if native_available()
                     else "the engine is not built here (no C compiler at install: pip install paradedup with one)")
            raise ConfigError(f"noisy_rules (preset 'noisy') run on the compiled engine with an in-memory or SQLite "
                              f"index; {where}")
        if on_engine:
            return NativeEngine(self.config, self.stats, self.index if corpus else None, self.read_only,
                                self._auto_ids, self.workers)
        return BatchEngine(self.config, self.index, self.read_only, self.stats, self._auto_ids, self.workers)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_engine"]  # made again on load (the compiled one holds C state)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._engine = self._make_engine()

    def _check_process(self) -> None:
        """A copy in another process (pickled, forked) may not write to an index of its own."""
        if self._made_in != os.getpid():
            self._made_in = check_process(self._made_in, self.index,
                                          self.config.scope == "corpus" and not self.read_only)

    def dedupe(self, text: str, doc_id: Optional[Hashable] = None) -> DedupResult:
        """Deduplicate one document (against earlier ones in corpus scope).

        The same as ``dedupe_many([text], [doc_id])[0]``, without the streaming machinery
        (read-ahead, chunks, a generator): a loop of calls pays only the record itself.
        """
        self._check_process()
        result = self._engine.one(text, doc_id)
        if self._clusters is not None:
            self._join_clusters([result])
        if self._substrings is not None:
            result = self._substrings.amend([text], [result], [doc_id is None and self.config.scope == "corpus"])[0]
        return result

    def dedupe_many(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None
                    ) -> List[DedupResult]:
        """Deduplicate documents in order; the same results as calling :meth:`dedupe` on each."""
        return list(self.iter_dedupe(texts, doc_ids))

    def iter_dedupe(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None
                    ) -> Iterator[DedupResult]:
        """Stream results, one per input document in order, working in bounded chunks.

        With ``workers`` > 1 the next chunk is fingerprinted (units, shingle sets, signatures,
        band keys: work that does not depend on earlier decisions) on worker threads while this
        one is decided; decisions run in input order on this thread, so they are the same for
        every number of workers.
        """
        self._check_process()
        if self._substrings is not None:
            yield from self._substrings.run(self._decided, texts, doc_ids)
        else:
            yield from self._decided(texts, doc_ids)

    def _decided(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]]) -> Iterator[DedupResult]:
        """The engine's results, each document's units joining their clusters."""
        if self._clusters is None:
            yield from self._engine.stream(texts, doc_ids)
            return
        for result in self._engine.stream(texts, doc_ids):
            self._join_clusters([result])
            yield result

    def _join_clusters(self, results: List[DedupResult]) -> None:
        """Each removal is a verified edge from a unit to an earlier one: the unit joins the
        cluster of the unit it repeats, whose first member is the cluster's id. Edges only point
        back in input order, so following one edge gives the first member: no union-find."""
        clusters = self._clusters
        assert clusters is not None
        for result in results:
            for r in result.removed:
                if r.reason == "inner":  # a span inside a unit: not a unit of its own
                    continue
                earlier = (r.matched_doc_id, r.matched_index)
                first = clusters.setdefault(earlier, earlier)
                clusters[(result.doc_id, r.index)] = first

    def clusters(self) -> Mapping[Tuple[Hashable, int], Tuple[Hashable, int]]:
        """Every unit that took part in a near-duplicate decision, ``(doc_id, unit index)``, mapped
        to its cluster's id: ``(doc_id, unit index)`` of the cluster's first member (which maps
        to itself). Clusters are the connected components of verified removal edges (single
        linkage: if B repeats A and C repeats B, C is in A's cluster even when C and A are
        not similar). Needs ``Deduplicator(clusters=True)``. A read-only view that grows
        as documents are deduplicated (in the order members joined)."""
        if self._clusters is None:
            raise ConfigError("clusters() needs Deduplicator(clusters=True)")
        return MappingProxyType(self._clusters)



def dedupe_text(text: str, config: Optional[DedupConfig] = None, **overrides: Any) -> str:
    """``text`` with repeated paragraphs removed (document scope); first occurrences kept."""
    return explain(text, config, **overrides).text


def explain(text: str, config: Optional[DedupConfig] = None, **overrides: Any) -> DedupResult:
    """Like :func:`dedupe_text`, with the paragraphs and an account of every removal."""
    check_text(text)
    return Deduplicator(make_config(config, default_scope="document", **overrides)).dedupe(text, doc_id=None)
