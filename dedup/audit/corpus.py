"""The run's input as the audit reads it: named as the run named it, and the texts removals repeat."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, Generator, Hashable, Iterable, Optional, Sequence, Set, Tuple

import numpy as np

from dedup.audit.scan import INNER, hashable
from dedup.io import Item, Reject, open_source, read_source
from dedup.results import Removal


@dataclass
class Corpus:
    """The run's input files, read through :mod:`dedup.io` with the ids the ``dedup`` command gave.

    ``names[k]``: the file name the run's ``<file>:<line>`` ids use for ``paths[k]`` when it was
    given under another path (None: its resolved path, as the command names it). ``on_error``:
    ``"stop"`` raises at the first bad record, ``"skip"`` sets bad records aside, as the run did,
    and counts them in :attr:`skipped` (in the last pass that counted them).
    """

    paths: Tuple[str, ...]
    text_field: str
    id_field: Optional[str]
    names: Tuple[Optional[str], ...] = ()
    on_error: str = "stop"
    skipped: int = 0

    @classmethod
    def of(cls, paths: Sequence[str], text_field: str, id_field: Optional[str], line_id_files: Set[str],
           on_error: str = "stop") -> "Corpus":
        """The corpus of ``paths`` as the run named its documents: by line (``<file>:<line>``, when
        the report's ids are such), or by ``id_field`` when the records have it, else by line."""
        names = tuple(_line_id_name(path, line_id_files) for path in paths)
        if line_id_files and any(names) or _named_by_line(paths, line_id_files):
            return cls(tuple(paths), text_field, None, names, on_error)
        if id_field is not None and not cls(tuple(paths), text_field, None, (), on_error).first_has(id_field):
            id_field = None
        return cls(tuple(paths), text_field, id_field, (), on_error)

    def records(self, count_skipped: bool = False) -> Generator[Item, None, None]:
        """Good records of every file in order (bad ones stop the pass, or are skipped)."""
        if count_skipped:
            self.skipped = 0
        for k, path in enumerate(self.paths):
            source = open_source(path)
            name = self.names[k] if k < len(self.names) else None
            if name:
                source = replace(source, name=name, id_name=name)
            for read in read_source(source, self.text_field, self.id_field):
                if isinstance(read, Reject):
                    if self.on_error == "stop":
                        raise read.error()
                    if count_skipped:
                        self.skipped += 1
                    continue
                yield read

    def first_has(self, field_name: str) -> bool:
        records = self.records()
        first = next(records, None)
        records.close()
        return first is None or not isinstance(first.record, dict) or field_name in first.record

    def describe(self) -> str:
        return describe(self.paths)


def describe(paths: Sequence[str]) -> str:
    """Files as the page names them: one, or the first and last of several."""
    return paths[0] if len(paths) == 1 else f"{paths[0]} ... {paths[-1]} ({len(paths)} files)"


def _line_id_name(path: str, line_id_files: Set[str]) -> Optional[str]:
    """The name the report's line ids give ``path``, when it is not its resolved path but a file
    of the same name (the same file, given under another path); else None."""
    if os.path.realpath(path) in line_id_files:
        return None
    same = [name for name in line_id_files if os.path.basename(name) == os.path.basename(path)]
    return same[0] if len(same) == 1 else None


def _named_by_line(paths: Sequence[str], line_id_files: Set[str]) -> bool:
    """Whether the report names these files' records by line (it names them by resolved path)."""
    return any(os.path.realpath(path) in line_id_files for path in paths)


class Lookup:
    """The texts of the units removals repeat, ``(doc id, unit index) -> text``, filled in one place:
    :meth:`want` the matches of some removals, then :meth:`offer` documents as a pass meets them."""

    def __init__(self) -> None:
        self._wanted: Dict[Hashable, Set[int]] = {}
        self._texts: Dict[Tuple[Hashable, int], str] = {}

    def want(self, removals: Iterable[Removal]) -> None:
        for r in removals:
            if r.reason != INNER and isinstance(r.matched_index, int) and r.matched_index >= 0:
                self._wanted.setdefault(hashable(r.matched_doc_id), set()).add(r.matched_index)

    def offer(self, doc_id: Any, text: str, starts: np.ndarray, ends: np.ndarray) -> None:
        key = hashable(doc_id)
        indexes = self._wanted.get(key)
        if not indexes:
            return
        for i in indexes:
            if i < len(starts):
                self._texts[(key, i)] = text[int(starts[i]):int(ends[i])]
        del self._wanted[key]

    @property
    def missing(self) -> bool:
        """Whether some wanted texts were not offered yet."""
        return bool(self._wanted)

    def get(self, doc_id: Any, index: int) -> Optional[str]:
        return self._texts.get((hashable(doc_id), index))
