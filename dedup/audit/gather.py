"""The audit page's data: what a run removed, gathered for one HTML page to see what a run removed and to choose the threshold.

Two ways in:

* from a run's report (``dedup ... --report removed.jsonl``, one file or one per shard) plus
  the run's input (one file or its shards): one pass over the report (:mod:`.scan`) gives the
  numbers and the histogram of removals of the whole run, exactly; one pass over the input
  (:mod:`.corpus`) gives its totals, the analysed documents and the texts removals repeat;
* straight from data: a corpus-scope :class:`~dedup.Deduplicator` runs over the input here.

In both, the first ``sample`` documents of the input are *analysed*: every paragraph's
highest verified similarity to an earlier paragraph (:mod:`dedup.audit.similarity`) gives
the near misses, the examples on both sides of the threshold and the what-if table (how
many paragraphs thresholds 0.5 ... 1.0 would remove), computed once, not by re-running.
Decisions depend only on earlier paragraphs, so a prefix of the input is exactly what a
run over that prefix sees. At the run's threshold the what-if count equals what the run
removed from those documents unless the run's LSH missed a pair; the page says how many.

The page is built from bounded data (aggregate counts, fixed histogram bins, a dozen
examples, one document), so a report of a million removals gives a page of the same size.

"""

from __future__ import annotations

import heapq
import itertools
import os
import time
from array import array
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from dedup.arrays import exclusive_cumsum, row_of
from dedup.audit.corpus import Corpus, Lookup, describe
from dedup.audit.page import (DocView, Example, Numbers, Page, ViewRemoval, WhatIfRow, histogram_note, encode_page,
                              render)
from dedup.audit.scan import INNER, ReportScan, hashable, same_id
from dedup.audit.similarity import FLOOR, best_matches, inner_repeats_at, removed_at
from dedup.config import DedupConfig, make_config
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError, InputDataError
from dedup.io import AtomicOutput, Item
from dedup.io.files import target_problem
from dedup.results import Removal, utf8_len
from dedup.text.split import split_units

#: Thresholds of the what-if table (the run's own is added when it is not one of them).
THRESHOLDS: Tuple[float, ...] = tuple(k / 20 for k in range(10, 21))
#: Removals of the noisy rules (preset noisy): the what-if varies the word rules' threshold only.
NOISY_REASONS = ("noisy", "noisy-contained")
#: Examples shown on each side of the threshold.
EXAMPLES_PER_SIDE = 6
_TOP_DOCUMENTS = 10

__all__ = ["AuditSummary", "THRESHOLDS", "write_audit"]

#: One path, or several (shards, in order).
Paths = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


@dataclass
class AuditSummary:
    """What :func:`audit` wrote, with the figures shown on the page."""

    output: str
    mode: str  #: "report" or "data"
    threshold: float
    documents: Optional[int]
    paragraphs: Optional[int]
    removed: int
    removed_bytes: Optional[int]
    emptied: Optional[int]
    analysed_documents: int
    analysed_paragraphs: int
    what_if: List[dict] = field(default_factory=list)  #: rows: threshold, removed, removed_bytes, emptied
    run_removed_analysed: Optional[int] = None  #: what the run removed in the analysed documents
    lsh_misses: int = 0  #: analysed paragraphs with a verified match >= threshold that the run kept
    report_mismatch: Optional[int] = None  #: analysed paragraphs where the report and a run here disagree
    doc_id: Any = None  #: the document shown in the per-document view
    notes: List[str] = field(default_factory=list)
    page_bytes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def write_audit(report: Optional[Paths] = None, input: Optional[Paths] = None, output: str = "audit.html", *,
                sample: Optional[int] = 5000, limit: Optional[int] = None, text_field: str = "text",
                id_field: Optional[str] = "id", config: Optional[DedupConfig] = None, doc: Any = None,
                on_error: str = "stop", **overrides: Any) -> AuditSummary:
    """Write the audit page to ``output`` and return its figures.

    ``report``: a run's ``--report`` (one JSONL file, or the files of ``--report DIR/`` in
    input order); with ``input`` (that run's input: one file or its shards, in the order the
    run read them) the page also has totals, near misses, the what-if table, examples with the
    text they repeat, and a per-document view. Without ``report``, a corpus-scope run over
    ``input`` is made here (``limit``: read only the first documents). ``sample``: documents
    analysed for the what-if table and examples (the first ones; ``None``: all; 0: none).
    ``config`` / ``overrides`` are the run's settings (a report does not record them; scope
    defaults to ``"corpus"``, as for a ``Deduplicator``). ``doc``: id of the document to show
    (default: the analysed document with the most removals that keeps something).
    ``on_error``: ``"skip"`` sets bad input records aside as ``dedup --on-error skip`` did
    (counted in a note); ``"stop"`` raises at the first.

    Raises :class:`~dedup.errors.InputDataError` (file and line) on unreadable input, and when
    no document the report names is in the input (the wrong input, or the wrong ``id_field``):
    no page is written then.
    """
    started = time.perf_counter()
    reports, inputs = _paths(report), _paths(input)
    _check_arguments(reports, inputs, sample, limit, on_error)
    problem = target_problem([("page", output)], reports + inputs)
    if problem:
        raise ConfigError(problem)
    cfg = make_config(config, default_scope="corpus", **overrides)
    if reports:
        scan = ReportScan(cfg.threshold, sample, doc, examples=not inputs).read(reports)
        corpus = Corpus.of(inputs, text_field, id_field, scan.line_id_files, on_error) if inputs else None
        state = _from_report(reports, scan, corpus, cfg, sample, doc)
    else:
        corpus = Corpus.of(inputs, text_field, id_field, set(), on_error)
        state = _from_data(corpus, cfg, sample, limit, doc)
    if corpus is not None and corpus.skipped:
        state.notes.append(f"{corpus.skipped:,} records of the input were set aside as bad (on_error 'skip', as "
                           f"the run's --on-error skip did): they are in no number on this page.")
    hint = histogram_note()
    if hint:
        state.notes.append(hint)
    page = state.page()
    html = encode_page(render(page))
    _write_page(output, html)
    return AuditSummary(
        output=output, mode=state.mode, threshold=cfg.threshold,
        documents=page.numbers.documents, paragraphs=page.numbers.paragraphs,
        removed=page.numbers.removed, removed_bytes=page.numbers.removed_bytes,
        emptied=page.numbers.emptied, analysed_documents=page.analysed_documents,
        analysed_paragraphs=page.analysed_paragraphs, what_if=[r.to_dict() for r in page.what_if],
        run_removed_analysed=page.run_removed_analysed, lsh_misses=state.lsh_misses,
        report_mismatch=state.report_mismatch, doc_id=page.doc_view.doc_id if page.doc_view else None,
        notes=list(page.notes), page_bytes=len(html),
        seconds=round(time.perf_counter() - started, 3),
    )


def _paths(value: Optional[Paths]) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    return [os.fspath(v) for v in value]


def _check_arguments(reports: List[str], inputs: List[str], sample: Optional[int], limit: Optional[int],
                     on_error: str) -> None:
    if not reports and not inputs:
        raise ValueError("audit needs a report, an input corpus, or both")
    for name, value in (("sample", sample), ("limit", limit)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{name} must be a non-negative integer or None, got {value!r}")
    if limit is not None and reports:
        raise ConfigError("limit applies to a run made here (no report), not to a report")
    if on_error not in ("stop", "skip"):
        raise ConfigError(f"on_error must be 'stop' or 'skip', got {on_error!r}")


def emptied(whole: int, units: int) -> bool:
    """Whether a document lost every unit: as many removed whole (spans cut inside kept units do
    not count) as it has, and it had some. The one rule of both modes."""
    return units > 0 and whole >= units


# -- what both modes gather ---------------------------------------------------------------

@dataclass
class _Doc:
    """An analysed (or shown) document with the run's removals in it."""

    doc_id: Any
    text: str
    starts: np.ndarray
    ends: np.ndarray
    removals: List[Removal]


class _State:
    """Everything gathered for the page, whichever mode gathered it."""

    def __init__(self, mode: str, cfg: DedupConfig, sources: List[Tuple[str, str]]) -> None:
        self.mode = mode
        self.cfg = cfg
        self.unit = {"sentence": "sentences", "line": "lines", "document": "documents"}.get(cfg.granularity,
                                                                                           "paragraphs")
        self.sources = sources
        self.numbers = Numbers(None, None, None, 0, 0, None, 0, {})
        self.sims = array("d")
        self.reasons: Counter = Counter()
        self.analysed: List[_Doc] = []
        self.analysis_complete = False  # the analysed documents are the whole input
        self.shown: Optional[_Doc] = None
        self.lookup = Lookup()  # texts of the units removals repeat
        self.top: List[Tuple[Any, int]] = []
        self.notes: List[str] = []
        self.what_if_notes: List[str] = []
        self.what_if_missing = "No documents to analyse: the input is empty."
        self.lsh_misses = 0
        self.report_mismatch: Optional[int] = None
        self.fallback_above: List[Example] = []  # report mode without input
        self.clusters: Counter = Counter()  # first member -> removed members (a report with clusters)

    def add_removal(self, similarity: float, reason: str, nbytes: Optional[int]) -> None:
        self.sims.append(similarity)
        self.reasons[reason] += 1
        self.numbers.removed += 1
        if nbytes is None or self.numbers.removed_bytes is None:
            self.numbers.removed_bytes = None
        else:
            self.numbers.removed_bytes += nbytes

    def count_document(self, text: str, units: int) -> None:
        """A document of the input in the totals."""
        num = self.numbers  # the pass set the totals it counts to 0
        num.documents = (num.documents or 0) + 1
        num.paragraphs = (num.paragraphs or 0) + units
        num.bytes_in = (num.bytes_in or 0) + utf8_len(text)

    def finish_reading(self, sample: Optional[int], doc: Any, not_shown: str) -> None:
        """After the pass over the input, in either mode: whether the analysed documents were all
        of them, and a note when the document asked for (``doc``) was not shown."""
        self.analysis_complete = sample is None or (self.numbers.documents or 0) <= sample
        if sample == 0:
            self.what_if_missing = "Not computed: --sample 0 analyses no documents."
        if doc is not None and self.shown is None:
            self.notes.append(f"document {doc!r} {not_shown}")

    def page(self) -> Page:
        from dedup.version import __version__

        cfg = self.cfg
        self.numbers.reasons = dict(self.reasons)
        sims = np.frombuffer(self.sims, dtype=np.float64) if len(self.sims) else np.zeros(0)
        page = Page(config=cfg, sources=self.sources, numbers=self.numbers, removal_sims=sims,
                    near_miss_sims=np.zeros(0), what_if=[], top_documents=self.top, floor=FLOOR,
                    version=__version__, n_clusters=len(self.clusters),
                    clusters=[(first[0], first[1], size + 1) for first, size in
                              heapq.nlargest(_TOP_DOCUMENTS, self.clusters.items(), key=lambda x: x[1])])
        if self.analysed:
            self._analyse(page)
        elif self.fallback_above:
            page.above = self.fallback_above
            page.analysed_scope = "the report (no input given)"
        if not self.analysed:
            page.what_if_missing = self.what_if_missing
        view = self.shown or self._default_view()
        if view is not None:
            page.doc_view = self._view(view)
        page.notes = self.notes
        page.what_if_notes = self.what_if_notes
        return page

    # -- the analysis of the first documents ---------------------------------------------

    def _analyse(self, page: Page) -> None:
        cfg = self.cfg
        docs = self.analysed
        sizes = np.array([len(d.starts) for d in docs], dtype=np.int64)
        first = exclusive_cumsum(sizes)
        paragraphs = [d.text[s:t] for d in docs for s, t in zip(d.starts.tolist(), d.ends.tolist())]
        n = len(paragraphs)
        thresholds = sorted(set(THRESHOLDS) | {cfg.threshold})
        bm = best_matches(paragraphs, sizes, cfg, thresholds=thresholds)
        run_removed, run_inner, run_noisy = _run_decisions(docs, first, n)
        page.what_if, at_run = _what_if_rows(docs, paragraphs, sizes, bm, cfg, thresholds, run_noisy)
        page.analysed_documents = len(docs)
        page.analysed_paragraphs = n
        page.analysed_scope = (f"all {len(docs):,} documents" if self.analysis_complete
                               else f"the first {len(docs):,} documents")
        page.run_removed_analysed = int(run_removed.sum()) + len(run_inner)
        self._compare(at_run, (run_removed, run_inner), sizes)
        if bm.capped_buckets:
            self.what_if_notes.append(
                f"{bm.capped_buckets:,} LSH buckets held more than {cfg.max_bucket_candidates} {self.unit}; later "
                f"members were compared with the earliest {cfg.max_bucket_candidates} only (as in a run), so "
                f"counts below {cfg.threshold:g} may miss a few {self.unit} whose only close match lies beyond.")

        self._examples(page, paragraphs, first, bm, run_removed)

    def _examples(self, page: Page, paragraphs: List[str], first: np.ndarray, bm: Any,
                  run_removed: np.ndarray) -> None:
        """The near misses (kept, closest to the threshold) and the removals closest to it."""
        cfg = self.cfg
        docs = self.analysed
        doc_of = row_of(np.array([len(d.starts) for d in docs], dtype=np.int64))
        long_enough = bm.n_tokens >= cfg.min_tokens
        near = (~run_removed) & long_enough & (bm.best >= FLOOR) & (bm.best < cfg.threshold)
        page.near_miss_sims = bm.best[near]

        def where(row: int) -> Tuple[Any, int]:
            d = int(doc_of[row])
            return docs[d].doc_id, row - int(first[d])

        below = np.flatnonzero(near)
        below = below[np.lexsort((below, -bm.best[below]))][:EXAMPLES_PER_SIDE]
        for row in below.tolist():
            doc_id, index = where(row)
            m_doc, m_index = where(int(bm.match[row]))
            page.below.append(Example(float(bm.best[row]), doc_id, index, paragraphs[row], m_doc, m_index,
                                      paragraphs[int(bm.match[row])], "kept"))
        cands = [(r.similarity, d, r) for d, doc in enumerate(docs) for r in doc.removals if r.similarity < 1.0]
        for sim, d, r in heapq.nsmallest(EXAMPLES_PER_SIDE, cands, key=lambda x: (x[0], x[1], x[2].index, x[2].start)):
            doc = docs[d]
            text, m_text = self._texts(doc, r)
            if r.reason != INNER:
                text = paragraphs[first[d] + r.index]
            page.above.append(Example(float(sim), doc.doc_id, r.index, text, r.matched_doc_id, r.matched_index,
                                      m_text, r.reason))

    def _texts(self, doc: _Doc, r: Removal) -> Tuple[str, Optional[str]]:
        """The removed text and the text it repeats (None: not known)."""
        if r.reason == INNER:  # a span of a unit repeating an earlier span of it
            return doc.text[r.start:r.end], doc.text[r.matched_start:r.matched_end]
        return doc.text[int(doc.starts[r.index]):int(doc.ends[r.index])], self.lookup.get(r.matched_doc_id,
                                                                                           r.matched_index)

    def _compare(self, at_run: Tuple[np.ndarray, set], run: Tuple[np.ndarray, set], sizes: np.ndarray) -> None:
        """The what-if at the run's threshold against what the run removed; explain any difference.

        The what-if verifies a superset of the run's candidates, so it can only find more: pairs
        the run's LSH missed. A report that differs otherwise was made with other settings; to
        tell the two apart, a run is made here over the analysed documents (only then).
        """
        cfg = self.cfg
        decided = run
        if self.mode == "report":
            self.report_mismatch = 0
            if not (np.array_equal(at_run[0], run[0]) and at_run[1] == run[1]):
                decided = self._run_here(sizes)
                self.report_mismatch = int(np.count_nonzero(decided[0] != run[0])) + len(decided[1] ^ run[1])
            if self.report_mismatch:
                self.notes.append(
                    f"In the analysed documents, a run here with these settings removes "
                    f"{int(decided[0].sum()) + len(decided[1]):,} {self.unit} and the report lists "
                    f"{int(run[0].sum()) + len(run[1]):,} ({self.report_mismatch:,} differ): the report was made "
                    f"with other settings (pass the run's --threshold, --num-perm, --min-tokens, --scope) or "
                    f"with an index holding earlier documents.")
        self.lsh_misses = int(np.count_nonzero(at_run[0] & ~decided[0]))
        if self.lsh_misses:
            self.notes.append(
                f"{self.lsh_misses:,} analysed {self.unit} have a verified earlier match at or above "
                f"{cfg.threshold:g} that a run with these settings keeps (its LSH layout, {cfg.layout.bands} "
                f"bands x {cfg.layout.rows} rows, or its per-bucket cap of {cfg.max_bucket_candidates} did not "
                f"bring the pair together); the what-if row at {cfg.threshold:g} counts them.")
        unexplained = int(np.count_nonzero(decided[0] & ~at_run[0])) + len(decided[1] ^ at_run[1])
        if unexplained and self.mode == "data":
            self.notes.append(
                f"{unexplained:,} removals of the run differ from the what-if analysis at {cfg.threshold:g}; "
                f"please report this as a bug.")

    def _run_here(self, sizes: np.ndarray) -> Tuple[np.ndarray, set]:
        """What a Deduplicator with these settings removes from the analysed documents."""
        docs = self.analysed
        first = exclusive_cumsum(sizes)
        mask = np.zeros(int(sizes.sum()), dtype=bool)
        inner = set()
        dd = Deduplicator(self.cfg)
        results = dd.iter_dedupe((d.text for d in docs), (d.doc_id for d in docs))
        for k, result in enumerate(results):
            for r in result.removed:
                if r.reason == INNER:
                    inner.add((int(first[k]) + r.index, r.start, r.end))
                else:
                    mask[first[k] + r.index] = True
        return mask, inner

    def _default_view(self) -> Optional[_Doc]:
        """The analysed document with the most removals that keeps something (on a tie, one with a near removal).

        A document every paragraph of which went has nothing to show beside its removals.
        """
        best, score = None, None
        for doc in self.analysed:
            k = len(doc.removals)
            whole = len({r.index for r in doc.removals if r.reason != INNER})
            if k == 0 or whole >= len(doc.starts):
                continue
            s = (k, any(r.similarity < 1.0 for r in doc.removals))
            if score is None or s > score:
                best, score = doc, s
        return best

    def _view(self, doc: _Doc) -> DocView:
        removals = []
        for r in doc.removals:
            inner = r.reason == INNER
            _, m_text = self._texts(doc, r)
            start = r.start if inner else int(doc.starts[r.index])
            end = r.end if inner else int(doc.ends[r.index])
            removals.append(ViewRemoval(r.index, r.matched_doc_id, r.matched_index, m_text, float(r.similarity),
                                        r.reason, start, end))
        return DocView(doc.doc_id, doc.text, list(zip(doc.starts.tolist(), doc.ends.tolist())), removals)

    def want_matches(self) -> None:
        """Ask the lookup for what the analysed and shown documents' removals repeat."""
        for doc in self.analysed + ([self.shown] if self.shown is not None else []):
            self.lookup.want(doc.removals)


def _run_decisions(docs: List[_Doc], first: np.ndarray, n: int
                   ) -> Tuple[np.ndarray, Set[Tuple[int, int, int]], np.ndarray]:
    """What the run removed among the analysed units: a mask of units removed whole, the spans
    cut inside kept units as ``(row, start, end)``, and a mask of the noisy rules' removals (the
    same at every word threshold)."""
    removed = np.zeros(n, dtype=bool)
    noisy = np.zeros(n, dtype=bool)
    inner = set()
    for d, doc in enumerate(docs):
        for r in doc.removals:
            if r.reason == INNER:
                inner.add((int(first[d]) + r.index, r.start, r.end))
            else:
                removed[first[d] + r.index] = True
                noisy[first[d] + r.index] |= r.reason in NOISY_REASONS
    return removed, inner, noisy


def _what_if_rows(docs: List[_Doc], paragraphs: List[str], sizes: np.ndarray, bm: Any, cfg: DedupConfig,
                  thresholds: Sequence[float], run_noisy: np.ndarray
                  ) -> Tuple[List[WhatIfRow], Tuple[np.ndarray, Set[Tuple[int, int, int]]]]:
    """One row per threshold of what a run at it would remove, and that removal at the run's own
    threshold (units removed whole, spans cut inside kept ones). The noisy rules' removals
    (``run_noisy``) and the shortened copies of each threshold's candidates count at every one."""
    n = len(paragraphs)
    unit_start = np.concatenate([d.starts for d in docs]) if docs else np.zeros(0, dtype=np.int64)
    nbytes = np.fromiter((utf8_len(p) for p in paragraphs), dtype=np.int64, count=n)
    doc_of = row_of(sizes)
    rows = []
    at_run: Tuple[np.ndarray, Set[Tuple[int, int, int]]] = (np.zeros(n, dtype=bool), set())
    for t in thresholds:
        contained = bm.contained_at(t)
        rem = removed_at(bm.best, bm.n_tokens, sizes, t, cfg.min_tokens,
                         run_noisy if contained is None else contained | run_noisy)
        inner = {(row, int(unit_start[row]) + rep.start, int(unit_start[row]) + rep.end)
                 for row, rep in inner_repeats_at(paragraphs, rem, bm, cfg, t)}
        inner_bytes = sum(utf8_len(docs[doc_of[row]].text[a:b]) for row, a, b in inner)
        per_doc = np.bincount(doc_of[rem], minlength=len(docs))
        empty = int(np.count_nonzero([emptied(int(k), int(s)) for k, s in zip(per_doc, sizes)]))
        rows.append(WhatIfRow(t, int(rem.sum()) + len(inner), int(nbytes[rem].sum()) + inner_bytes, empty))
        if t == cfg.threshold:
            at_run = (rem, inner)
    return rows, at_run


# -- data mode: run here -------------------------------------------------------------------

def _from_data(corpus: Corpus, cfg: DedupConfig, sample: Optional[int], limit: Optional[int],
               doc: Any) -> _State:
    state = _State("data", cfg, [("input", corpus.describe()), ("mode", "run here (no report given)")])
    records: Iterable[Item] = corpus.records(count_skipped=True)
    if limit is not None:
        records = itertools.islice(records, limit)
    pending: deque = deque()

    def texts() -> Iterator[str]:
        for rec in records:
            pending.append(rec)
            yield rec.text

    def ids() -> Iterator[Any]:
        while True:
            yield pending[-1].doc_id

    num = state.numbers
    num.documents = num.paragraphs = num.bytes_in = num.emptied = 0
    top: List[Tuple[int, int, Any]] = []
    for position, result in enumerate(Deduplicator(cfg).iter_dedupe(texts(), ids())):
        rec = pending.popleft()
        _count_result(state, rec.text, result)
        if result.removed:
            _push_top(top, len(result.removed), position, rec.doc_id)
        keep = sample is None or position < sample
        chosen = doc is not None and state.shown is None and same_id(rec.doc_id, doc)
        if keep or chosen:
            starts = np.array([s for s, _ in result.paragraphs], dtype=np.int64)
            ends = np.array([e for _, e in result.paragraphs], dtype=np.int64)
            d = _Doc(rec.doc_id, rec.text, starts, ends, list(result.removed))
            if keep:
                state.analysed.append(d)
            if chosen:
                state.shown = d
    state.top = _top_list(top)
    state.finish_reading(sample, doc, "was not found in the input")
    _find_matches(state, corpus)
    return state


def _count_result(state: _State, text: str, result: Any) -> None:
    """A document run here, in the totals: its units, bytes and removals."""
    state.count_document(text, len(result.paragraphs))
    for r in result.removed:
        state.add_removal(r.similarity, r.reason, utf8_len(text[r.start:r.end]))
    if result.removed:
        state.numbers.changed += 1
        whole = sum(r.reason != INNER for r in result.removed)
        state.numbers.emptied = (state.numbers.emptied or 0) + emptied(whole, len(result.paragraphs))


def _find_matches(state: _State, corpus: Corpus) -> None:
    """The texts the analysed and shown documents' removals repeat: in those documents, or found
    by reading the input again (matches lie in earlier documents)."""
    state.want_matches()
    for d in state.analysed + ([state.shown] if state.shown is not None else []):
        state.lookup.offer(d.doc_id, d.text, d.starts, d.ends)
    if state.lookup.missing:
        for rec in corpus.records():
            starts, ends = split_units(rec.text, state.cfg.granularity)
            state.lookup.offer(rec.doc_id, rec.text, starts, ends)
            if not state.lookup.missing:
                break


# -- report mode -------------------------------------------------------------------------

def _from_report(reports: List[str], scan: ReportScan, corpus: Optional[Corpus], cfg: DedupConfig,
                 sample: Optional[int], doc: Any) -> _State:
    given = corpus.describe() if corpus else "(not given: totals, near misses and the what-if table need it)"
    state = _State("report", cfg, [("report", describe(reports)), ("input", given)])
    state.sims = scan.sims
    state.reasons.update(scan.reasons)
    state.clusters = scan.clusters
    state.numbers.removed = len(scan.sims)
    state.numbers.removed_bytes = scan.removed_bytes
    state.numbers.changed = len(scan.per_doc)
    state.top = heapq.nlargest(_TOP_DOCUMENTS, scan.per_doc.items(), key=lambda x: x[1])
    if scan.below_threshold:
        state.notes.append(f"{scan.below_threshold:,} near removals in the report have a similarity below the "
                           f"threshold {cfg.threshold:g}: the run used a lower one; pass its --threshold.")
    if corpus is None:
        state.what_if_missing = ("Needs the run's input (--input): the report lists only the removed "
                                 "paragraphs, not the kept ones and how close they came.")
        state.fallback_above = scan.closest()
        return state
    _read_input(state, scan, corpus, sample, doc)
    return state


def _read_input(state: _State, scan: ReportScan, corpus: Corpus, sample: Optional[int], doc: Any) -> None:
    """The one pass over the run's input: totals, the analysed and shown documents with their
    removals, and the texts those removals repeat."""
    num = state.numbers
    num.documents = num.paragraphs = num.bytes_in = num.emptied = 0
    found = bad_index = 0
    first_input_id: Any = None
    for removals in list(scan.kept.values()) + [scan.shown]:
        state.lookup.want(removals)
    for position, rec in enumerate(corpus.records(count_skipped=True)):
        starts, ends = split_units(rec.text, state.cfg.granularity)
        key = hashable(rec.doc_id)
        first_input_id = rec.doc_id if position == 0 else first_input_id
        state.count_document(rec.text, len(starts))
        if key in scan.per_doc:
            found += 1
            num.emptied += emptied(scan.whole(key), len(starts))
        if sample is None or position < sample:
            listed = scan.kept.get(key, [])
            removals = sorted((r for r in listed if 0 <= r.index < len(starts)), key=lambda r: r.index)
            bad_index += len(listed) - len(removals)
            state.analysed.append(_Doc(rec.doc_id, rec.text, starts, ends, removals))
        if scan.shown and state.shown is None and same_id(rec.doc_id, doc):
            state.shown = _Doc(rec.doc_id, rec.text, starts, ends, sorted(scan.shown, key=lambda r: r.index))
        state.lookup.offer(rec.doc_id, rec.text, starts, ends)
    if scan.per_doc and not found:
        raise _no_document_found(corpus, scan, first_input_id)
    missing = len(scan.per_doc) - found
    if missing > 0:
        state.notes.append(f"{missing:,} documents named in the report are not in the input: is the input the "
                           f"run's input, and --id-field the field the run used?")
    if bad_index:
        state.notes.append(f"{bad_index:,} report lines name a paragraph index their document does not have "
                           f"in the input: the input is not the run's input (they are left out)")
    state.finish_reading(sample, doc, "has no removals in the report or is not in the input")


def _no_document_found(corpus: Corpus, scan: ReportScan, first_input_id: Any) -> InputDataError:
    """The error of an input that holds none of the report's documents, naming the field that
    holds the report's ids when one does (the wrong ``--id-field``)."""
    field_name = _field_holding(corpus, scan.first_id)
    hint = (f"the input's field {field_name!r} holds the report's ids: give --id-field {field_name}"
            if field_name else "is it the run's input, and --id-field the field the run used?")
    return InputDataError(corpus.describe(), None, (
        f"none of the {len(scan.per_doc):,} documents the report names is in the input (the report names "
        f"{scan.first_id!r}, the input's first record is {first_input_id!r}): {hint}"))


# -- small helpers -------------------------------------------------------------------------

#: Records looked through for the field that holds a report's ids (on the error path only).
_ID_SEARCH = 100_000


def _field_holding(corpus: Corpus, doc_id: Any) -> Optional[str]:
    """The field of the input's records whose value is ``doc_id`` (the id field the run used)."""
    for rec in itertools.islice(corpus.records(), _ID_SEARCH):
        if isinstance(rec.record, dict):
            for name, value in rec.record.items():
                if name != corpus.text_field and not isinstance(value, (dict, list)) and same_id(value, doc_id):
                    return str(name)
    return None

def _push_top(top: list, count: int, position: int, doc_id: Any) -> None:
    item = (count, -position, doc_id)
    if len(top) < _TOP_DOCUMENTS:
        heapq.heappush(top, item)
    elif item[:2] > top[0][:2]:
        heapq.heapreplace(top, item)


def _top_list(top: list) -> List[Tuple[Any, int]]:
    return [(d, c) for c, _, d in sorted(top, key=lambda x: (-x[0], -x[1]))]


def _write_page(path: str, html: bytes) -> None:
    """The page appears under its name only once it is written whole (:class:`AtomicOutput`)."""
    out = AtomicOutput(path, compress=False)
    try:
        out.write(html)
    except BaseException:
        out.abort()
        raise
    out.commit()
