"""Boilerplate everywhere, in two passes: count, then clean (navigation, cookie banners, licences).

``Boilerplate(min_documents=K, **settings)``: :meth:`Boilerplate.count` runs the corpus through a
:class:`~dedup.deduplicator.Deduplicator` and counts, for every unit a removal names, the
documents it occurs in (:mod:`dedup.decide.boilerplate`); :meth:`Boilerplate.clean` runs the
corpus again with the same settings (the same decisions) and removes every unit found in at
least K documents from all of them, first occurrence included. Both passes need the same texts
in the same order, with the same ids.

With a persistent ``index`` the first pass adds the corpus to it and the second pass gives
each document again under its id (a replay: the decisions of its first run), so ids are needed.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any, Deque, Hashable, Iterable, Iterator, Optional

from dedup.config import DedupConfig, make_config
from dedup.decide.boilerplate import BoilerplateCounts
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError
from dedup.results import DedupResult, Stats


class Boilerplate:
    """Units found in at least ``min_documents`` documents, removed from every one (see the module)."""

    def __init__(self, min_documents: int, config: Optional[DedupConfig] = None, *, index: Any = None,
                 **settings: Any) -> None:
        if isinstance(min_documents, bool) or not isinstance(min_documents, int) or min_documents < 2:
            raise ConfigError(f"min_documents must be an integer >= 2, got {min_documents!r}")
        self.min_documents = min_documents
        self.config = make_config(config, default_scope="corpus", **settings)
        if self.config.scope != "corpus":
            raise ConfigError("boilerplate counts documents: it needs scope 'corpus'")
        self.index = index
        #: the counts of the first pass (:meth:`count`), or set from an earlier run
        self.counts: Optional[BoilerplateCounts] = None
        #: the second pass's statistics (:meth:`clean`)
        self.stats = Stats()

    def deduplicator(self) -> Deduplicator:
        """A deduplicator deciding as both passes do."""
        return Deduplicator(self.config, index=self.index)

    def count(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None) -> BoilerplateCounts:
        """The first pass: the documents each unit occurs in."""
        self._check_ids(doc_ids)
        counts = BoilerplateCounts()
        dd = self.deduplicator()
        try:
            for result in dd.iter_dedupe(texts, doc_ids):
                counts.add(result)
        finally:
            self._close(dd)
        self.counts = counts
        return counts

    def clean(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None) -> Iterator[DedupResult]:
        """The second pass: one result per document, in order, boilerplate removed."""
        if self.counts is None:
            raise ConfigError("Boilerplate.clean needs the counts: call count() over the same documents first")
        self._check_ids(doc_ids)
        dd = self.deduplicator()
        self.stats = dd.stats
        pending: Deque[str] = deque()  # texts given to the deduplicator whose results are still to come

        def feed() -> Iterator[str]:
            for text in texts:
                pending.append(text)
                yield text

        try:
            for result in dd.iter_dedupe(feed(), doc_ids):
                yield self.apply(pending.popleft(), result, dd.stats)
        finally:
            self._close(dd)

    def _close(self, dd: Deduplicator) -> None:
        if isinstance(self.index, (str, os.PathLike)):  # opened by the pass: closed by it
            dd.index.close()

    def apply(self, text: str, result: DedupResult, stats: Optional[Stats] = None) -> DedupResult:
        """One result of the second pass (of input ``text``) with the boilerplate removed."""
        assert self.counts is not None
        return self.counts.apply(text, result, self.min_documents, stats)

    def _check_ids(self, doc_ids: Any) -> None:
        if doc_ids is None and self.index is not None:
            raise ConfigError("boilerplate with a persistent index needs document ids: the second pass gives every "
                              "document again under its id")
