"""The audit's pass over a run's report: totals, removals per document, and the lines it may show.

One pass over every line of one or more reports (``dedup --report``, one file or one per shard,
in input order), gathering only bounded data besides a count per document: the similarity of
every removal (for the histogram), counts by reason and cluster, and the removals of the
documents the page may show (the first ``keep`` documents the report names, which hold those of
the first ``keep`` documents of the input, since a report lists documents in input order; and
the document asked for). Lean on purpose: a report can hold millions of lines.
"""

from __future__ import annotations

import heapq
import re
from array import array
from collections import Counter
from typing import Any, Dict, Hashable, List, Optional, Sequence, Set, Tuple

from dedup.audit.page import Example
from dedup.io.report import read_report
from dedup.results import Removal, utf8_len

#: Examples kept from a report read without its input.
EXAMPLES = 6
#: "<file>:<line>", the ids ``dedup`` gives records without ``--id-field``.
LINE_ID = re.compile(r"(.*):(\d+)")
#: File names of line ids collected (the run's inputs); more are not looked at.
_MAX_FILES = 1000
INNER = "inner"


def hashable(value: Any) -> Hashable:
    """A document id as a dict key (a JSON list from a hand-made report is one by its text)."""
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def same_id(value: Any, wanted: Any) -> bool:
    """A document id as given on a command line (a string) matches an int id too."""
    return value == wanted or str(value) == str(wanted)


def removal_of(line: dict) -> Removal:
    """A report line as a :class:`Removal` (fields an older or hand-made report lacks: -1, None)."""
    return Removal(line["index"], line.get("start", -1), line.get("end", -1), line.get("matched_doc_id"),
                   line.get("matched_index", -1), line.get("matched_start", -1), line.get("matched_end", -1),
                   float(line["similarity"]), line.get("reason", "near"))


class ReportScan:
    """What :meth:`read` gathers from the reports (every field bounded but the per-document counts)."""

    def __init__(self, threshold: float, keep: Optional[int], doc: Any, examples: bool) -> None:
        self.threshold = threshold
        self.keep = keep  #: documents whose removals are kept (None: all)
        self.doc = doc
        self.examples = examples  #: keep the closest removals as examples (no input to take them from)
        self.sims = array("d")
        self.reasons: Counter = Counter()
        self.clusters: Counter = Counter()  #: first member -> removed members (a report with clusters)
        self.per_doc: Dict[Hashable, int] = {}  #: document -> its report lines
        self.inner_per_doc: Dict[Hashable, int] = {}  #: of those, spans cut inside kept units
        self.kept: Dict[Hashable, List[Removal]] = {}  #: removals of the first ``keep`` documents named
        self.shown: List[Removal] = []  #: removals of ``doc``
        self.removed_bytes: Optional[int] = 0  #: None when a line has no text
        self.below_threshold = 0  #: near removals under ``threshold``: the run used a lower one
        self.line_id_files: Set[str] = set()  #: the file names in "<file>:<line>" ids
        self.first_id: Any = None
        self._heap: List[Tuple[float, int, Example]] = []

    def read(self, paths: Sequence[str]) -> "ReportScan":
        """Every line of ``paths``, in order (raises :class:`InputDataError` at a bad one)."""
        n_line = 0
        for path in paths:
            last: Any = object()
            key: Hashable = None
            run = 0  # lines of one document come together: counted as a run, not one dict update each
            for line in read_report(path):
                raw_id = line["doc_id"]
                if raw_id != last:
                    self._count(key, run)
                    last, key, run = raw_id, self._new_document(raw_id), 0
                run += 1
                self._add(n_line, key, raw_id, line)
                n_line += 1
            self._count(key, run)
        return self

    def _new_document(self, raw_id: Any) -> Hashable:
        if self.first_id is None:
            self.first_id = raw_id
        if isinstance(raw_id, str) and len(self.line_id_files) < _MAX_FILES:
            m = LINE_ID.fullmatch(raw_id)
            if m:
                self.line_id_files.add(m.group(1))
        return hashable(raw_id)

    def _count(self, key: Hashable, run: int) -> None:
        if run:
            self.per_doc[key] = self.per_doc.get(key, 0) + run

    def _add(self, n_line: int, key: Hashable, raw_id: Any, line: dict) -> None:
        sim = line["similarity"]
        self.sims.append(sim)
        reason = line.get("reason", "near")
        self.reasons[reason] += 1
        cluster = line.get("cluster")
        if type(cluster) is list and len(cluster) == 2:
            self.clusters[(hashable(cluster[0]), cluster[1])] += 1
        if reason == INNER:
            self.inner_per_doc[key] = self.inner_per_doc.get(key, 0) + 1
        text = line.get("text")
        if self.removed_bytes is not None:
            self.removed_bytes = self.removed_bytes + utf8_len(text) if type(text) is str else None
        if sim < self.threshold and reason == "near":
            self.below_threshold += 1
        if key in self.kept or self.keep is None or len(self.kept) < self.keep:
            self.kept.setdefault(key, []).append(removal_of(line))
        if self.doc is not None and same_id(raw_id, self.doc):
            self.shown.append(removal_of(line))
        if self.examples and sim < 1.0 and type(text) is str:
            example = Example(sim, raw_id, line["index"], text, line.get("matched_doc_id"),
                              line.get("matched_index", -1), None, reason)
            item = (-sim, -n_line, example)
            (heapq.heappush if len(self._heap) < EXAMPLES else heapq.heappushpop)(self._heap, item)

    def closest(self) -> List[Example]:
        """The removals closest to the threshold (highest similarity under 1), in order."""
        return [example for _, _, example in sorted(self._heap, key=lambda x: (-x[0], -x[1]))]

    def whole(self, key: Hashable) -> int:
        """Units of document ``key`` the report removes whole (its lines but spans cut inside units)."""
        return self.per_doc.get(key, 0) - self.inner_per_doc.get(key, 0)
