"""The audit page's data: what a run removed, gathered for one HTML page to see what a run removed and to choose the threshold.

Two ways in:

* from a run's report (``dedup ... --report removed.jsonl``) plus the run's input: the
  numbers and the histogram of removals cover the whole report, exactly;
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
import re
import time
from array import array
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, Set, Tuple

import numpy as np

from dedup.audit.page import DocView, Example, Numbers, Page, ViewRemoval, WhatIfRow, page_bytes, render
from dedup.audit.similarity import FLOOR, best_matches, inner_repeats_at, removed_at
from dedup.config import DedupConfig, make_config
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError, InputDataError
from dedup.io import AtomicOutput, Item, open_source, read_items
from dedup.io.files import target_problem
from dedup.io.report import read_report
from dedup.results import Removal, utf8_len
from dedup.text.split import split_units

#: Thresholds of the what-if table (the run's own is added when it is not one of them).
THRESHOLDS: Tuple[float, ...] = tuple(k / 20 for k in range(10, 21))
#: Examples shown on each side of the threshold.
EXAMPLES_PER_SIDE = 6
_TOP_DOCUMENTS = 10

#: The name this error had before the audit read through :mod:`dedup.io` (kept for one release).
AuditInputError = InputDataError
_LINE_ID = re.compile(r"(.*):(\d+)")

__all__ = ["AuditInputError", "AuditSummary", "THRESHOLDS", "write_audit"]


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


def write_audit(report: Optional[str] = None, input: Optional[str] = None, output: str = "audit.html", *,
          sample: Optional[int] = 5000, limit: Optional[int] = None, text_field: str = "text",
          id_field: Optional[str] = "id", config: Optional[DedupConfig] = None, doc: Any = None,
          **overrides: Any) -> AuditSummary:
    """Write the audit page to ``output`` and return its figures.

    ``report``: a ``--report`` JSONL file of a run (one line per removed paragraph); with
    ``input`` (that run's input) the page also has totals, near misses, the what-if table,
    examples with the text they repeat, and a per-document view. Without ``report``, a
    corpus-scope run over ``input`` is made here (``limit``: read only the first documents).
    ``sample``: documents analysed for the what-if table and examples (the first ones;
    ``None``: all; 0: none). ``config`` / ``overrides`` are the run's settings (a report
    does not record them; scope defaults to ``"corpus"``). ``doc``: id of the document to
    show (default: the analysed document with the most removals that keeps something).
    Raises :class:`~dedup.errors.InputDataError` (file and line) on unreadable input.
    """
    started = time.perf_counter()
    _check_arguments(report, input, sample, limit)
    problem = target_problem([("page", output)], [path for path in (report, input) if path])
    if problem:
        raise ConfigError(problem)
    if config is None and "scope" not in overrides:
        overrides["scope"] = "corpus"
    cfg = make_config(config, **overrides)
    corpus = _Corpus.of(input, text_field, id_field, report) if input else None
    if report is not None:
        state = _from_report(report, corpus, cfg, sample, doc)
    elif corpus is not None:
        state = _from_data(corpus, cfg, sample, limit, doc)
    page = state.page()
    html = page_bytes(render(page))
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


def _check_arguments(report: Optional[str], input: Optional[str], sample: Optional[int],
                     limit: Optional[int]) -> None:
    if report is None and not input:
        raise ValueError("audit needs a report, an input corpus, or both")
    for name, value in (("sample", sample), ("limit", limit)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{name} must be a non-negative integer or None, got {value!r}")
    if limit is not None and report is not None:
        raise ConfigError("limit applies to a run made here (no report), not to a report")


# -- what both modes gather ---------------------------------------------------------------

@dataclass
class _Doc:
    """An analysed (or shown) document with the run's removals in it."""

    doc_id: Any
    text: str
    starts: np.ndarray
    ends: np.ndarray
    removals: List[dict]  # Removal.to_dict()-like: index, matched_doc_id, matched_index, similarity, reason


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
        self.lookup: Dict[Tuple[Any, int], str] = {}  # (doc id, paragraph index) -> text, for matches
        self.top: List[Tuple[Any, int]] = []
        self.notes: List[str] = []
        self.what_if_notes: List[str] = []
        self.what_if_missing = "No documents to analyse: the input is empty."
        self.lsh_misses = 0
        self.report_mismatch: Optional[int] = None
        self.report_prefix: Optional[Set[Tuple[Any, int]]] = None  # removals the report lists for the analysed docs
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
        first = np.cumsum(sizes) - sizes
        unit_start = np.concatenate([d.starts for d in docs]) if docs else np.zeros(0, dtype=np.int64)
        paragraphs = [d.text[s:t] for d in docs for s, t in zip(d.starts.tolist(), d.ends.tolist())]
        n = len(paragraphs)
        nbytes = np.fromiter((utf8_len(p) for p in paragraphs), dtype=np.int64, count=n)
        doc_of = np.repeat(np.arange(len(docs)), sizes)
        bm = best_matches(paragraphs, sizes, cfg)

        run_removed = np.zeros(n, dtype=bool)
        run_inner = set()
        for d, doc in enumerate(docs):
            for r in doc.removals:
                if r.get("reason") == "inner":
                    run_inner.add((int(first[d]) + r["index"], r["start"], r["end"]))
                else:
                    run_removed[first[d] + r["index"]] = True
        thresholds = sorted(set(THRESHOLDS) | {cfg.threshold})
        rows = []
        at_run: Tuple[np.ndarray, Set[Tuple[int, int, int]]] = (np.zeros(n, dtype=bool), set())
        for t in thresholds:
            rem = removed_at(bm.best, bm.n_tokens, sizes, t, cfg.min_tokens)
            inner = {(row, int(unit_start[row]) + rep.start, int(unit_start[row]) + rep.end)
                     for row, rep in inner_repeats_at(paragraphs, rem, bm, cfg, t)}
            inner_bytes = sum(utf8_len(docs[doc_of[row]].text[a:b]) for row, a, b in inner)
            per_doc = np.bincount(doc_of[rem], minlength=len(docs))
            emptied = int(np.count_nonzero((per_doc == sizes) & (sizes > 0)))
            rows.append(WhatIfRow(t, int(rem.sum()) + len(inner), int(nbytes[rem].sum()) + inner_bytes, emptied))
            if t == cfg.threshold:
                at_run = (rem, inner)
        page.what_if = rows
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

        # Near misses and examples.
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
        doc_index = {_hashable(doc.doc_id): d for d, doc in enumerate(docs)}

        def text_of(doc_id: Any, index: int) -> Optional[str]:
            d = doc_index.get(_hashable(doc_id))
            if d is None or not 0 <= index < sizes[d]:
                return None
            return paragraphs[int(first[d]) + index]

        cands = [(r["similarity"], d, r) for d, doc in enumerate(docs) for r in doc.removals
                 if r["similarity"] < 1.0]
        for sim, d, r in heapq.nsmallest(EXAMPLES_PER_SIDE, cands,
                                         key=lambda x: (x[0], x[1], x[2]["index"], x[2].get("start", 0))):
            doc = docs[d]
            text: Optional[str]
            m_text: Optional[str]
            if r.get("reason") == "inner":  # a span of a paragraph repeating an earlier span of it
                text, m_text = doc.text[r["start"]:r["end"]], doc.text[r["matched_start"]:r["matched_end"]]
            else:
                text, m_text = paragraphs[first[d] + r["index"]], text_of(r["matched_doc_id"], r["matched_index"])
            page.above.append(Example(float(sim), doc.doc_id, r["index"], text, r["matched_doc_id"],
                                      r["matched_index"], m_text, r.get("reason", "near")))
        for doc in docs:  # texts the default document view may need
            for r in doc.removals:
                m_text = text_of(r["matched_doc_id"], r["matched_index"])
                if m_text is not None:
                    self.lookup[(_hashable(r["matched_doc_id"]), r["matched_index"])] = m_text

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
        first = np.cumsum(sizes) - sizes
        mask = np.zeros(int(sizes.sum()), dtype=bool)
        inner = set()
        dd = Deduplicator(self.cfg)
        results = dd.iter_dedupe((d.text for d in docs), (d.doc_id for d in docs))
        for k, result in enumerate(results):
            for r in result.removed:
                if r.reason == "inner":
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
            whole = len({r["index"] for r in doc.removals if r.get("reason") != "inner"})
            if k == 0 or whole >= len(doc.starts):
                continue
            s = (k, any(r["similarity"] < 1.0 for r in doc.removals))
            if score is None or s > score:
                best, score = doc, s
        return best

    def _view(self, doc: _Doc) -> DocView:
        removals = []
        for r in doc.removals:
            inner = r.get("reason") == "inner"
            m_text = (doc.text[r["matched_start"]:r["matched_end"]] if inner else
                      self.lookup.get((_hashable(r["matched_doc_id"]), r["matched_index"])))
            start = r["start"] if inner else int(doc.starts[r["index"]])
            end = r["end"] if inner else int(doc.ends[r["index"]])
            removals.append(ViewRemoval(r["index"], r["matched_doc_id"], r["matched_index"], m_text,
                                        float(r["similarity"]), r.get("reason", "near"), start, end))
        return DocView(doc.doc_id, doc.text, list(zip(doc.starts.tolist(), doc.ends.tolist())), removals)


# -- the input, named as the run named it -------------------------------------------------

@dataclass(frozen=True)
class _Corpus:
    """The run's input, read through :mod:`dedup.io` with the ids the ``dedup`` command gave it."""

    path: str
    text_field: str
    id_field: Optional[str]
    name: Optional[str] = None  #: the file name the run's ``<file>:<line>`` ids use

    @classmethod
    def of(cls, path: str, text_field: str, id_field: Optional[str], report: Optional[str]) -> "_Corpus":
        """The run named documents ``<file>:<line>`` (the report says so), or by ``id_field``
        when the records have it, or by line when they do not."""
        name = _line_id_file(report, path) if report else None
        if name is not None:
            return cls(path, text_field, None, name)
        if id_field is not None and not _first_record_has(cls(path, text_field, None), id_field):
            id_field = None
        return cls(path, text_field, id_field)

    def records(self) -> Generator[Item, None, None]:
        source = open_source(self.path)
        yield from read_items(replace(source, name=self.name, id_name=self.name) if self.name else source,
                              self.text_field,
                              self.id_field)


def _line_id_file(report: str, input: str) -> Optional[str]:
    """The file name in the report's first ``"<file>:<line>"`` id, when it is ``input``'s file
    name (the same file, given under another path); else ``None``."""
    lines = read_report(report)
    first = next(lines, None)
    lines.close()
    doc_id = first["doc_id"] if first else None
    m = _LINE_ID.fullmatch(doc_id) if isinstance(doc_id, str) else None
    return m.group(1) if m and os.path.basename(m.group(1)) == os.path.basename(input) else None


def _first_record_has(corpus: _Corpus, field_name: str) -> bool:
    records = corpus.records()
    first = next(records, None)
    records.close()
    return first is None or not isinstance(first.record, dict) or field_name in first.record


# -- data mode: run here -------------------------------------------------------------------

def _from_data(corpus: _Corpus, cfg: DedupConfig, sample: Optional[int], limit: Optional[int],
               doc: Any) -> _State:
    state = _State("data", cfg, [("input", corpus.path), ("mode", "run here (no report given)")])
    records: Iterable[Item] = corpus.records()
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
    dd = Deduplicator(cfg)
    wanted: Set[Tuple[Any, int]] = set()
    for position, result in enumerate(dd.iter_dedupe(texts(), ids())):
        rec = pending.popleft()
        text = rec.text
        starts = np.array([s for s, _ in result.paragraphs], dtype=np.int64)
        ends = np.array([t for _, t in result.paragraphs], dtype=np.int64)
        num.documents += 1
        num.paragraphs += len(starts)
        num.bytes_in += utf8_len(text)
        for r in result.removed:
            state.add_removal(r.similarity, r.reason, utf8_len(text[r.start:r.end]))
        k = len(result.removed)
        if k:
            num.changed += 1
            # emptied: every unit removed (inner removals cut spans of kept units)
            num.emptied += k - sum(r.reason == "inner" for r in result.removed) == len(starts)
            _push_top(top, k, position, rec.doc_id)
        keep = sample is None or position < sample
        chosen = doc is not None and state.shown is None and _same_id(rec.doc_id, doc)
        if keep or chosen:
            d = _Doc(rec.doc_id, text, starts, ends, [_removal_dict(r) for r in result.removed])
            if keep:
                state.analysed.append(d)
            if chosen:
                state.shown = d
                wanted = {(r["matched_doc_id"], r["matched_index"]) for r in d.removals}
    state.analysis_complete = sample is None or num.documents <= sample
    if sample == 0:
        state.what_if_missing = "Not computed: --sample 0 analyses no documents."
    state.top = _top_list(top)
    if doc is not None and state.shown is None:
        state.notes.append(f"document {doc!r} was not found in the input")
    _fill_lookup(state, wanted, corpus.records)
    return state


# -- report mode -------------------------------------------------------------------------

def _from_report(report: str, corpus: Optional[_Corpus], cfg: DedupConfig, sample: Optional[int],
                 doc: Any) -> _State:
    input = corpus.path if corpus else None
    sources = [("report", report), ("input", input or "(not given: totals, near misses and the what-if "
                                                     "table need it)")]
    state = _State("report", cfg, sources)
    records: Iterator[Item] = corpus.records() if corpus else iter(())
    prefix = list(itertools.islice(records, sample)) if (input and sample != 0) else []
    prefix_ids: Dict[Any, int] = {}
    for rec in prefix:
        prefix_ids.setdefault(_hashable(rec.doc_id), len(prefix_ids))
    prefix_lines: Dict[Any, List[dict]] = {}
    shown_lines: List[dict] = []
    per_doc: Dict[Any, int] = {}
    inner_per_doc: Dict[Any, int] = {}  # of those, spans cut inside kept units
    below_threshold = 0
    heap: List[Tuple[float, int, dict]] = []
    threshold = cfg.threshold
    sims = state.sims
    reasons: Dict[str, int] = {}
    removed_bytes: Optional[int] = 0
    last_raw: Any = object()
    key: Any = None
    run = 0  # lines of one document come together: count them as a run, not one dict update each
    for n_line, line in enumerate(read_report(report)):
        raw_id = line["doc_id"]
        if raw_id != last_raw:
            if run:
                per_doc[key] = per_doc.get(key, 0) + run
            last_raw, key, run = raw_id, _hashable(raw_id), 0
        run += 1
        sim = line["similarity"]
        sims.append(sim)
        reason = line.get("reason", "near")
        reasons[reason] = reasons.get(reason, 0) + 1
        cluster = line.get("cluster")
        if type(cluster) is list and len(cluster) == 2:
            state.clusters[(_hashable(cluster[0]), cluster[1])] += 1
        if reason == "inner":
            inner_per_doc[key] = inner_per_doc.get(key, 0) + 1
        text = line.get("text")
        if removed_bytes is not None:
            removed_bytes = removed_bytes + utf8_len(text) if type(text) is str else None
        if sim < threshold and reason == "near":
            below_threshold += 1
        in_prefix = key in prefix_ids
        shown = doc is not None and _same_id(raw_id, doc)
        if in_prefix or shown:
            if in_prefix:
                prefix_lines.setdefault(key, []).append(line)
            if shown:
                shown_lines.append(line)
        if not input and sim < 1.0 and type(text) is str:
            item = (-sim, -n_line, line)
            (heapq.heappush if len(heap) < EXAMPLES_PER_SIDE else heapq.heappushpop)(heap, item)
    if run:
        per_doc[key] = per_doc.get(key, 0) + run
    state.numbers.removed = len(sims)
    state.numbers.removed_bytes = removed_bytes
    state.reasons.update(reasons)
    if below_threshold:
        state.notes.append(f"{below_threshold:,} near removals in the report have a similarity below the "
                           f"threshold {cfg.threshold:g}: the run used a lower one; pass its --threshold.")
    state.numbers.changed = len(per_doc)
    state.top = heapq.nlargest(_TOP_DOCUMENTS, per_doc.items(), key=lambda x: x[1])
    if not input:
        state.what_if_missing = ("Needs the run's input (--input): the report lists only the removed "
                                 "paragraphs, not the kept ones and how close they came.")
        state.fallback_above = [
            Example(line["similarity"], line["doc_id"], line["index"], line["text"], line.get("matched_doc_id"),
                    line.get("matched_index", -1), None, line.get("reason", "near"))
            for _, _, line in sorted(heap, key=lambda x: (-x[0], -x[1]))]
        return state

    # The input: totals, the analysed documents, the shown document and its matches.
    num = state.numbers
    num.documents = num.paragraphs = num.bytes_in = num.emptied = 0
    found = bad_index = 0
    wanted = {(_hashable(line.get("matched_doc_id")), line.get("matched_index")) for line in shown_lines}
    wanted_docs = {d for d, _ in wanted}
    for position, rec in enumerate(itertools.chain(prefix, records)):
        starts, ends = split_units(rec.text, cfg.granularity)
        key = _hashable(rec.doc_id)
        num.documents += 1
        num.paragraphs += len(starts)
        num.bytes_in += utf8_len(rec.text)
        k = per_doc.get(key, 0)
        if k:
            found += 1
            num.emptied += k - inner_per_doc.get(key, 0) >= len(starts) > 0
        if position < len(prefix):
            lines = [x for x in prefix_lines.get(key, []) if 0 <= x["index"] < len(starts)]
            bad_index += len(prefix_lines.get(key, [])) - len(lines)
            state.analysed.append(_Doc(rec.doc_id, rec.text, starts, ends, sorted(lines, key=lambda x: x["index"])))
        if shown_lines and state.shown is None and _same_id(rec.doc_id, doc):
            state.shown = _Doc(rec.doc_id, rec.text, starts, ends, sorted(shown_lines, key=lambda x: x["index"]))
        if key in wanted_docs:
            for (d, i) in wanted:
                if d == key and isinstance(i, int) and 0 <= i < len(starts):
                    state.lookup[(key, i)] = rec.text[starts[i]:ends[i]]
    state.analysis_complete = num.documents <= len(prefix)
    if sample == 0:
        state.what_if_missing = "Not computed: --sample 0 analyses no documents."
    missing = len(per_doc) - found
    if missing > 0:
        state.notes.append(f"{missing:,} documents named in the report are not in the input: is the input the "
                           f"run's input, and --id-field the field the run used?")
    if bad_index:
        state.notes.append(f"{bad_index:,} report lines name a paragraph index their document does not have "
                           f"in the input: the input is not the run's input (they are left out)")
    if doc is not None and state.shown is None:
        state.notes.append(f"document {doc!r} has no removals in the report or is not in the input")
    return state


# -- small helpers -------------------------------------------------------------------------

def _removal_dict(r: Removal) -> dict:
    return r.to_dict()


def _fill_lookup(state: _State, wanted: Set[Tuple[Any, int]], reread) -> None:
    """Texts of the paragraphs the shown document repeats that the analysis did not hold."""
    if state.shown is not None:
        for r in state.shown.removals:  # inside the shown document itself
            if r["matched_doc_id"] == state.shown.doc_id:
                s, t = state.shown.starts[r["matched_index"]], state.shown.ends[r["matched_index"]]
                state.lookup[(_hashable(r["matched_doc_id"]), r["matched_index"])] = state.shown.text[s:t]
    analysed = {_hashable(d.doc_id): d for d in state.analysed}
    missing = set()
    for d, i in wanted:
        if (_hashable(d), i) in state.lookup:
            continue
        a = analysed.get(_hashable(d))
        if a is not None and 0 <= i < len(a.starts):
            state.lookup[(_hashable(d), i)] = a.text[a.starts[i]:a.ends[i]]
        else:
            missing.add((d, i))
    if not missing:
        return
    docs = {_hashable(d) for d, _ in missing}
    for rec in reread():
        key = _hashable(rec.doc_id)
        if key in docs:
            starts, ends = split_units(rec.text, state.cfg.granularity)
            for d, i in missing:
                if _hashable(d) == key and 0 <= i < len(starts):
                    state.lookup[(key, i)] = rec.text[starts[i]:ends[i]]


def _push_top(top: list, count: int, position: int, doc_id: Any) -> None:
    item = (count, -position, doc_id)
    if len(top) < _TOP_DOCUMENTS:
        heapq.heappush(top, item)
    elif item[:2] > top[0][:2]:
        heapq.heapreplace(top, item)


def _top_list(top: list) -> List[Tuple[Any, int]]:
    return [(d, c) for c, _, d in sorted(top, key=lambda x: (-x[0], -x[1]))]


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def _same_id(value: Any, wanted: Any) -> bool:
    """A document id as given on a command line (a string) matches an int id too."""
    return value == wanted or str(value) == str(wanted)


def _write_page(path: str, html: bytes) -> None:
    """The page appears under its name only once it is written whole (:class:`AtomicOutput`)."""
    out = AtomicOutput(path, compress=False)
    try:
        out.write(html)
    except BaseException:
        out.abort()
        raise
    out.commit()
