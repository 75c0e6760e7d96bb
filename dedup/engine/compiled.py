"""The compiled engine: records to decisions in one C call (:mod:`dedup.accel._core`).

:class:`NativeEngine` holds a ``_core.Engine`` made from a :class:`~dedup.config.DedupConfig`
and turns what it returns into :class:`~dedup.results.DedupResult`: a record nothing was
removed from comes back as its own string in a result whose unit spans are computed only
if someone reads them; for the others, the Removals the engine built, the repeats found
inside kept paragraphs, and the output text.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Hashable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel.native import core
from dedup.chardata import engine_tables
from dedup.config import DedupConfig
from dedup.decide.inner import InnerRepeat, find_inner_repeats_many
from dedup.decide.rules import inner_removals
from dedup.fingerprint.hashing import multiplier, multipliers
from dedup.fingerprint.minhash import permutations
from dedup.results import DedupResult, Removal, Spans, Stats, make_result, utf8_len
from dedup.text.assemble import assemble
from dedup.text.split import check_text, normalize, tokenize

#: Units the engine splits into, by its code.
GRANULARITY = {"paragraph": 0, "sentence": 1, "line": 2, "document": 3}
_LENGTH_MULTIPLIER, _SIZE_MULTIPLIER, _SALT_MULTIPLIER = 14, 13, 15


def available() -> bool:
    """Whether the compiled engine is built (and not turned off with ``DEDUP_NATIVE=0``)."""
    return core() is not None


def make_engine(config: DedupConfig) -> Any:
    """A ``_core.Engine`` deciding under ``config``."""
    module = core()
    assert module is not None
    text = config.text
    a, b = permutations(config.num_perm, config.seed)
    rows = config.layout.rows
    base = config.normalization.partition("+")[0]
    return module.Engine(
        ngram=config.ngram, num_perm=config.num_perm, perm_a=a, perm_b=b,
        bands=0 if config.exact_only else config.layout.bands, rows=rows,
        multipliers=multipliers(max(config.ngram, rows)), m_len=int(multiplier(_LENGTH_MULTIPLIER)),
        m_size=int(multiplier(_SIZE_MULTIPLIER)), m_salt=int(multiplier(_SALT_MULTIPLIER)),
        threshold=float(config.threshold), min_tokens=config.min_tokens, cap=config.max_bucket_candidates,
        granularity=GRANULARITY[config.granularity], case_fold=text.case_fold, python_tokens=not text.compiled,
        inner=config.inner_repeats, inner_min_tokens=config.inner_min_tokens, exact_only=config.exact_only,
        load_tables=partial(engine_tables, config.unspaced_scripts, text.case_fold),
        normalize=partial(normalize, normalization=base),
        tokenize=partial(tokenize, normalization=config.normalization, unspaced=config.unspaced_scripts),
        removal_type=Removal, result_type=DedupResult)


def _check(record: Any, position: int) -> None:
    """Raises the error :func:`dedup.text.split.check_text` gives a record that is not ``str``."""
    check_text(record, f"document {position}")


class NativeEngine:
    """Decides records in order against a store (corpus scope) or within each record."""

    def __init__(self, config: DedupConfig, stats: Stats) -> None:
        self.config = config
        self.stats = stats
        self.engine = make_engine(config)
        self.units = self.engine.units

    def run(self, store: Any, texts: List[str], ids: List[Optional[Hashable]], autos: Optional[bytes],
            corpus: bool, read_only: bool, prints: Optional[Sequence[Any]] = None) -> List[DedupResult]:
        """Results for ``texts`` (checked to be ``str``), decided in order; the store grows.

        ``prints``: the texts already fingerprinted (:meth:`prints`), in consecutive parts.
        """
        try:
            if prints is None:
                outcomes = self.engine.run(store, texts, ids, autos, corpus, read_only)
            else:
                outcomes, at = [], 0
                for part in prints:
                    n = len(part)
                    outcomes += self.engine.decide(store, part, ids[at:at + n],
                                                   None if autos is None else autos[at:at + n], corpus, read_only)
                    at += n
        finally:
            self._count()
        return self._results(texts, ids, outcomes)

    def prints(self, texts: List[str]) -> Any:
        """The fingerprints of ``texts`` (phase one alone): run on a worker thread, it gives up the
        GIL while it works, so the records before can be decided meanwhile."""
        return self.engine.prints(texts)

    def _results(self, texts: List[str], ids: List[Optional[Hashable]], outcomes: List[Any]) -> List[DedupResult]:
        """The engine built the results of unchanged records; the others are finished here."""
        for k, out in enumerate(outcomes):
            if out.__class__ is tuple:
                outcomes[k] = self._changed(texts[k], ids[k], out)
        return outcomes

    def collect(self, texts: Iterator[Any], ids: Optional[Iterator[Any]], autos: Optional[Iterator[int]],
                position: int, max_docs: int, max_chars: int
                ) -> Tuple[List[str], List[Optional[Hashable]], Optional[bytearray], Optional[BaseException], bool]:
        """The next chunk of records (see ``Engine.collect``): texts checked to be ``str``."""
        return self.engine.collect(texts, ids, autos, _check, position, max_docs, max_chars)

    def _count(self) -> None:
        docs, units, chars, size, replayed = self.engine.take_stats()
        st = self.stats
        st.documents += docs
        st.paragraphs += units
        st.chars_in += chars
        st.chars_out += chars
        st.bytes_in += size
        st.bytes_out += size
        st.documents_replayed += replayed

    def _changed(self, text: str, doc_id: Optional[Hashable], out: Tuple) -> DedupResult:
        """A record with removals (or units worth an inner-repeat search): its result, counted."""
        starts_b, ends_b, mask_b, removals, inner, size = out
        starts = np.frombuffer(starts_b, dtype=np.int64)
        ends = np.frombuffer(ends_b, dtype=np.int64)
        removed = np.frombuffer(mask_b, dtype=np.bool_)
        cuts: List[Tuple[int, int]] = []
        if inner:
            for i, reps in self._inner(text, starts, ends, inner):
                found = inner_removals(doc_id, i, int(starts[i]), reps)
                removals.extend(found)
                cuts.extend((r.start, r.end) for r in found)
            if cuts:
                removals.sort(key=lambda r: (r.index, r.start))
        spans = Spans(starts, ends)
        if not removals:
            return make_result(text, doc_id, spans, [], len(text))
        output = assemble(text, starts, ends, removed, cuts)
        st = self.stats
        st.removed += len(removals)
        st.documents_changed += 1
        st.documents_emptied += not output or output.isspace()
        st.chars_out -= len(text) - len(output)
        st.bytes_out -= size - (len(output) if output.isascii() else utf8_len(output))
        return make_result(output, doc_id, spans, removals, len(text))

    def _inner(self, text: str, starts: np.ndarray, ends: np.ndarray,
               rows: Sequence[Tuple[int, bytes]]) -> List[Tuple[int, List[InnerRepeat]]]:
        """Repeats inside the kept units the engine found worth a search (with their word hashes)."""
        cfg = self.config
        units = [i for i, _ in rows]
        words = [np.frombuffer(w, dtype=np.uint64) for _, w in rows]
        found = find_inner_repeats_many([text[int(starts[i]):int(ends[i])] for i in units], ngram=cfg.ngram,
                                        threshold=cfg.threshold, min_tokens=cfg.inner_min_tokens,
                                        normalization=cfg.normalization, unspaced=cfg.unspaced_scripts,
                                        words=(np.concatenate(words), np.array([len(w) for w in words], dtype=np.int64)))
        return [(i, reps) for i, reps in zip(units, found) if reps]
