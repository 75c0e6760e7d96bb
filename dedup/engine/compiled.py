"""The compiled engine: records to decisions in one C call (:mod:`dedup.accel._core`).

:class:`NativeEngine` holds a ``_core.Engine`` made from a :class:`~dedup.config.DedupConfig`
and turns what it returns into :class:`~dedup.results.DedupResult`: a record nothing was
removed from comes back as its own string in a result whose unit spans are computed only
if someone reads them; for the others, the Removals the engine built, the repeats found
inside kept paragraphs, and the output text.
"""

from __future__ import annotations

from functools import partial
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel.native import core
from dedup.chardata import engine_tables
from dedup.config import DedupConfig
from dedup.decide.inner import InnerRepeat, find_inner_repeats_many
from dedup.decide.rules import inner_removals
from dedup.engine.gcpause import gc_paused
from dedup.fingerprint.hashing import multiplier, multipliers
from dedup.fingerprint.minhash import permutations
from dedup.fingerprint.shingles import ShingleSets
from dedup.index.base import Index, IndexBatch
from dedup.results import DedupResult, Removal, Spans, Stats, make_result, utf8_len
from dedup.text.assemble import assemble
from dedup.text.noisy import noisy_tokens
from dedup.text.split import check_text, normalize, tokenize

#: Units the engine splits into, by its code.
GRANULARITY = {"paragraph": 0, "sentence": 1, "line": 2, "document": 3}
_LENGTH_MULTIPLIER, _SIZE_MULTIPLIER, _SALT_MULTIPLIER = 14, 13, 15


#: Normalization steps the engine does while it tokenizes (the others: Python tokenizes the unit).
COMPILED_STEPS = {"digits": 1, "punctuation": 2, "dehyphenate": 8}
_PUNCTUATION_FIRST = 4


def _step_flags(steps: Sequence[str]) -> int:
    """The engine's STEP_* flags for these steps (in their order: punctuation before digits lets
    digit runs join across a dropped mark)."""
    flags = 0
    for step in steps:
        flags |= COMPILED_STEPS.get(step, 0)
    if "digits" in steps and "punctuation" in steps and steps.index("punctuation") < steps.index("digits"):
        flags |= _PUNCTUATION_FIRST
    return flags


class CompiledPrints:
    """The compiled engine's shingle sets and band keys, for the batch path's backends (the
    compact and Redis indexes): equal to the numpy path's (``tests/accel/test_engine.py``), at
    the engine's speed. One engine a thread: an engine's buffers are its own."""

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        self._local = threading.local()

    @classmethod
    def of(cls, config: DedupConfig) -> Optional["CompiledPrints"]:
        """For ``config``; None without the engine, or with a registered tokenizer."""
        return None if core() is None or "tokenizer=" in config.normalization else cls(config)

    def _engine(self) -> Any:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = make_engine(self.config)
        return engine

    def sets(self, texts: Sequence[str]) -> ShingleSets:
        hashes, offsets, n_tokens, keys = self._engine().sets(list(texts))
        return ShingleSets(np.frombuffer(hashes, np.uint32), np.frombuffer(offsets, np.int64),
                           np.frombuffer(n_tokens, np.int64), np.frombuffer(keys, np.uint64))

    def band_keys(self, sets: ShingleSets, rows: np.ndarray) -> np.ndarray:
        """(len(rows), bands) uint64: the band keys of those rows' sets."""
        data = self._engine().band_keys(np.ascontiguousarray(sets.hashes, np.uint32),
                                        np.ascontiguousarray(sets.offsets, np.int64),
                                        np.ascontiguousarray(rows, np.int64))
        return np.frombuffer(data, np.uint64).reshape(len(rows), self.config.layout.bands).copy()


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
    base, _, rest = config.normalization.partition("+")
    steps = rest.split("+") if rest else []
    nz = config.noisy_rules
    noisy = None
    widest = max(config.ngram, rows)
    if nz is not None:
        na, nb = permutations(nz.num_perm, config.seed)
        noisy = (nz.ngram, na, nb, nz.bands, nz.rows, float(nz.threshold), float(nz.containment), nz.min_tokens,
                 float(nz.max_unexplained), float(nz.max_added), nz.keep_name_changes)
        widest = max(widest, nz.ngram, nz.rows)
    return module.Engine(
        ngram=config.ngram, num_perm=config.num_perm, perm_a=a, perm_b=b,
        bands=0 if config.exact_only else config.layout.bands, rows=rows,
        multipliers=multipliers(widest), m_len=int(multiplier(_LENGTH_MULTIPLIER)),
        m_size=int(multiplier(_SIZE_MULTIPLIER)), m_salt=int(multiplier(_SALT_MULTIPLIER)),
        threshold=float(config.threshold), min_tokens=config.min_tokens, cap=config.max_bucket_candidates,
        granularity=GRANULARITY[config.granularity], case_fold=text.case_fold,
        python_tokens=any(step not in COMPILED_STEPS for step in steps), steps=_step_flags(steps),
        inner=config.inner_repeats, inner_min_tokens=config.inner_min_tokens, exact_only=config.exact_only,
        load_tables=partial(engine_tables, config.unspaced_scripts, text.case_fold),
        normalize=partial(normalize, normalization=base),
        tokenize=partial(tokenize, normalization=config.normalization, unspaced=config.unspaced_scripts),
        removal_type=Removal, result_type=DedupResult,
        containment=float(config.containment) if config.shortened_rule else 0.0,  # type: ignore[arg-type]
        containment_min_tokens=config.containment_min_tokens,
        containment_min_size=float(config.containment_min_size), noisy=noisy,
        noisy_tokens=partial(noisy_tokens, unspaced=config.unspaced_scripts))


def _check(record: Any, position: int) -> None:
    """Raises the error :func:`dedup.text.split.check_text` gives a record that is not ``str``."""
    check_text(record, f"document {position}")


#: Records handed to the engine per call: about a megabyte of text, at most this many records.
CHUNK_CHARS = 1 << 20
CHUNK_DOCS = 1024


class NativeEngine:
    """Decides records in order against a store (corpus scope) or within each record.

    ``index``: corpus scope's index, one with a compiled store (:meth:`Index.native_store`), else
    None (document scope); ``auto_ids``: numbers the documents given no id in corpus scope (shared
    with the deduplicator); ``workers``: threads of :meth:`stream` (N fingerprints the next chunk
    on N - 1 threads while this one is decided).
    """

    def __init__(self, config: DedupConfig, stats: Stats, index: Optional[Index], read_only: bool,
                 auto_ids: "itertools.count[int]", workers: int) -> None:
        self.config = config
        self.stats = stats
        self.index = index
        #: The store decided against, when it stays the same (a memory index's); else it is asked
        #: for inside the index's batch() every time.
        self.store = index.native_store() if index is not None and not index.writes_through else None
        self.writes_through = index is not None and index.writes_through
        self.bands = 0 if config.exact_only else config.layout.bands  # band keys per unit the store keeps
        self.corpus = config.scope == "corpus"
        self.read_only = read_only
        self.auto_ids = auto_ids
        self.workers = workers
        self.engine = make_engine(config)
        self.units = self.engine.units

    def one(self, text: str, doc_id: Optional[Hashable]) -> DedupResult:
        """One record (the same result as a stream of it)."""
        check_text(text, "document 0")
        auto = doc_id is None and self.corpus
        if auto:
            doc_id = next(self.auto_ids)
        with gc_paused():
            return self.run([text], [doc_id], b"\x01" if auto else None)[0]

    def stream(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]]) -> Iterator[DedupResult]:
        """Results in input order, a chunk at a time; a bad record raised after those before it."""
        chunks = self._chunks(texts, doc_ids)
        if self.workers == 1:
            for chunk, ids, autos, error in chunks:
                if chunk:
                    with gc_paused():
                        results = self.run(chunk, ids, bytes(autos) if autos else None)
                    yield from results
                if error is not None:
                    raise error
            return
        parts = self.workers - 1
        with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="dedup-fingerprint") as pool:
            def ahead(chunk: List[str]) -> list:
                cut = [round(k * len(chunk) / parts) for k in range(parts + 1)] if len(chunk) >= 2 * parts else [0, len(chunk)]
                return [pool.submit(self.prints, chunk[a:b]) for a, b in zip(cut, cut[1:])]

            pending = next(chunks, None)
            work = ahead(pending[0]) if pending else []
            while pending is not None:
                chunk, ids, autos, error = pending
                nxt = next(chunks, None) if error is None else None
                nxt_work = ahead(nxt[0]) if nxt else []
                if chunk:
                    with gc_paused():
                        results = self.run(chunk, ids, bytes(autos) if autos else None, [f.result() for f in work])
                    yield from results
                if error is not None:
                    raise error
                pending, work = nxt, nxt_work

    def _chunks(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]]
                ) -> Iterator[Tuple[List[str], List[Optional[Hashable]], Optional[bytearray], Optional[BaseException]]]:
        """The input a chunk at a time, pulled by the engine: texts checked to be ``str``, auto
        ids given; a bad record ends the last chunk as its error."""
        ids = iter(doc_ids) if doc_ids is not None else None
        autos = self.auto_ids if self.corpus else None
        source = iter(texts)
        position = 0
        more = True
        docs = min(CHUNK_DOCS, self.config.batch_paragraphs)  # batch_paragraphs bounds what is held, as in a batch
        while more:
            chunk, chunk_ids, flags, error, more = self.engine.collect(source, ids, autos, _check, position, docs,
                                                                       CHUNK_CHARS)
            position += len(chunk)
            if chunk or error is not None:
                yield chunk, chunk_ids, flags, error

    def run(self, texts: List[str], ids: List[Optional[Hashable]], autos: Optional[bytes],
            prints: Optional[Sequence[Any]] = None) -> List[DedupResult]:
        """Results for ``texts`` (checked to be ``str``), decided in order; the store grows.

        ``prints``: the texts already fingerprinted (:meth:`prints`), in consecutive parts. An index
        that writes through is held (its batch()) while they are decided and given what was added.
        """
        if not self.writes_through:
            return self._run(self.store, texts, ids, autos, prints)
        assert self.index is not None
        with self.index.batch():
            return self._run(self.index.native_store(), texts, ids, autos, prints)

    def _run(self, store: Any, texts: List[str], ids: List[Optional[Hashable]], autos: Optional[bytes],
             prints: Optional[Sequence[Any]]) -> List[DedupResult]:
        persist = self.writes_through and not self.read_only
        try:
            if prints is None:
                outcomes = self.engine.run(store, texts, ids, autos, self.corpus, self.read_only)
                if persist:
                    self._persist(None)
            else:
                outcomes, at = [], 0
                for part in prints:
                    n = len(part)
                    outcomes += self.engine.decide(store, part, ids[at:at + n],
                                                   None if autos is None else autos[at:at + n], self.corpus,
                                                   self.read_only)
                    if persist:
                        self._persist(part)
                    at += n
        finally:
            self._count()
        return self._results(texts, ids, outcomes)

    def _persist(self, part: Any) -> None:
        """Hand the index what the last decide added to its store (to write it through)."""
        (keys, bands, hashes, offsets, refs, doc_ids, sizes, para, starts, ends, nz_keys, nz_recs,
         nz_offsets) = self.engine.added(part)
        if not doc_ids:
            return
        i64 = partial(np.frombuffer, dtype=np.int64)
        set_keys = np.frombuffer(keys, dtype=np.uint64)
        nz = self.config.noisy_rules
        assert self.index is not None
        self.index.persist_added(IndexBatch(
            set_keys=set_keys, band_keys=np.frombuffer(bands, dtype=np.uint64).reshape(len(set_keys), self.bands),
            hashes=np.frombuffer(hashes, dtype=np.uint32), offsets=i64(offsets), shingle_ref=i64(refs),
            doc_ids=doc_ids, doc_sizes=i64(sizes), para_index=i64(para), starts=i64(starts), ends=i64(ends),
            noisy_keys=None if nz is None else np.frombuffer(nz_keys, dtype=np.uint64).reshape(len(set_keys), nz.bands),
            noisy_records=None if nz is None else nz_recs, noisy_offsets=None if nz is None else i64(nz_offsets)))

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
