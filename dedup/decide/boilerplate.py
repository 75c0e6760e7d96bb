"""Boilerplate: a unit found in at least K documents goes from every one of them, first included.

A unit *occurs* in its own document and in every document holding a unit removed as a repeat of
it: the documents of the removals that name it as the unit they repeat (``matched_doc_id``,
``matched_index``). Counts do not chain: a unit removed as a repeat of a repeat counts for the
unit it names, not for the first unit of its cluster. :class:`BoilerplateCounts` gathers the
counts from a run's results (the first pass); :meth:`BoilerplateCounts.apply` then amends a
result of the same decisions (the second pass): a kept unit counted in at least K documents is
removed with reason ``"boilerplate"`` (naming itself), and a removal naming such a unit is
relabelled ``"boilerplate"``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Hashable, Iterator, List, Optional, Tuple

from dedup.decide.amend import rebuild, removed_units, unit_arrays
from dedup.errors import DedupError
from dedup.results import DedupResult, Removal, Stats
from dedup.text.assemble import is_cut

REASON = "boilerplate"
#: Removals of a whole unit as a repeat of an earlier one: the edges that count.
REPEAT_REASONS = ("exact", "near", "run", "contained", "noisy", "noisy-contained")

Unit = Tuple[Hashable, int]  # (doc_id, unit index)


class BoilerplateCounts:
    """Per unit some removal names as the unit it repeats: the distinct documents it occurs in."""

    def __init__(self) -> None:
        self._counts: Dict[Unit, List[Any]] = {}  # unit -> [documents, the last document counted]

    def add(self, result: DedupResult) -> None:
        """Count the removals of the next result (results in input order)."""
        for r in result.removed:
            if r.reason not in REPEAT_REASONS:
                continue
            key = (_hashable(r.matched_doc_id), r.matched_index)
            entry = self._counts.get(key)
            if entry is None:
                entry = self._counts[key] = [1, key[0]]  # its own document
            if entry[1] != result.doc_id:
                entry[0] += 1
                entry[1] = result.doc_id

    def count(self, doc_id: Hashable, index: int) -> int:
        """The documents a unit occurs in (1: only its own)."""
        entry = self._counts.get((_hashable(doc_id), index))
        return entry[0] if entry is not None else 1

    def __getitem__(self, unit: Unit) -> int:
        return self.count(*unit)

    def __len__(self) -> int:
        return len(self._counts)

    def items(self) -> Iterator[Tuple[Unit, int]]:
        """(unit, documents) of every unit a removal named."""
        return ((unit, entry[0]) for unit, entry in self._counts.items())

    def apply(self, text: str, result: DedupResult, min_documents: int, stats: Optional[Stats] = None) -> DedupResult:
        """``result`` (of input ``text``, decided as when counted) with the units counted in at
        least ``min_documents`` documents removed, and the removals naming them relabelled."""
        units = unit_arrays(result)
        removed = removed_units(result, units)
        gone = [i for i in range(len(units)) if not removed[i] and self.count(result.doc_id, i) >= min_documents]
        relabel = [r.reason in REPEAT_REASONS and self.count(r.matched_doc_id, r.matched_index) >= min_documents
                   for r in result.removed]
        if not gone and not any(relabel):
            return result
        inside = set(gone)
        removals = [r._replace(reason=REASON) if change else r for r, change in zip(result.removed, relabel)
                    if not (r.index in inside and is_cut(r, units[r.index]))]  # a cut inside a unit that goes whole
        for i in gone:
            start, end = units[i]
            removals.append(Removal(i, start, end, result.doc_id, i, start, end, 1.0, REASON))
        return rebuild(text, result, removals, stats if stats is not None else Stats())

    def save(self, path: str) -> None:
        """Write the counts of units found in more than one document (one JSON line each:
        ``[doc_id, unit index, documents]``), replacing ``path`` whole."""
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                for (doc_id, index), (n, _) in self._counts.items():
                    if n > 1:
                        try:
                            f.write(json.dumps([doc_id, index, n]) + "\n")
                        except TypeError:
                            raise DedupError(f"document id {doc_id!r}: boilerplate counts are stored as JSON "
                                             "(give str or int ids)") from None
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @classmethod
    def load(cls, path: str) -> "BoilerplateCounts":
        counts = cls()
        with open(path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                try:
                    doc_id, index, n = json.loads(line)
                except (ValueError, TypeError):
                    raise DedupError(f"{path}:{line_no}: not a line of boilerplate counts") from None
                counts._counts[(_hashable(doc_id), int(index))] = [int(n), None]
        return counts


def _hashable(doc_id: Any) -> Hashable:
    return tuple(doc_id) if isinstance(doc_id, list) else doc_id
