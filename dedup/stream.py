"""dedupe_stream: one result per input record, in order, in bounded memory.

The streaming face of :class:`~dedup.deduplicator.Deduplicator`: records go in one at a time,
results come out one at a time in the same order, and at most one batch of records
(``batch_paragraphs`` paragraphs' worth) is held in between. Plain strings and dict
records both work; for a dict the text sits under ``text_field`` and the rest of the
record is carried through untouched.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Hashable, Iterable, Iterator, Mapping, Optional, Tuple, TypeVar

import numpy as np

from dedup.config import DedupConfig
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError, InputTypeError, RecordError
from dedup.index.base import Index
from dedup.io.records import field_list
from dedup.results import DedupResult, Removal, Spans, make_result

T = TypeVar("T")


@dataclass(frozen=True)
class StreamResult:
    """What :func:`dedupe_stream` yields for one input: the cleaned record and the account.

    ``record`` is the cleaned text for a string input, or a shallow copy of a mapping
    input (as a ``dict``) with ``text_field`` replaced by the cleaned text; every other
    field is the same object as in the input. ``result`` is the :class:`DedupResult`
    (spans, removals with what they repeat; spans index ``original_text``). Unpacks as a
    pair: ``for record, result in dedupe_stream(...)``. A null input (``None``, ``NaN``,
    ``pandas.NA``, or a mapping whose text is one) comes back as it was: ``record`` is the
    input, ``text`` and ``original_text`` are ``None``, ``result`` is empty.
    """

    record: Any
    result: DedupResult
    position: int  #: 0-based position of the input in the stream
    original_text: Optional[str] = ""  #: the input text (the same object, not a copy); None: a null

    def removed_text(self, removal: Removal) -> str:
        """The text of one removed paragraph, as it stood in the input."""
        return (self.original_text or "")[removal.start:removal.end]

    @property
    def text(self) -> Optional[str]:
        """The cleaned text; ``None`` for a null input."""
        return None if self.original_text is None else self.result.text

    @property
    def removed(self) -> list[Removal]:
        return self.result.removed

    @property
    def doc_id(self) -> Optional[Hashable]:
        return self.result.doc_id

    @property
    def changed(self) -> bool:
        return self.result.changed

    def __iter__(self) -> Iterator[Any]:
        yield self.record
        yield self.result


def dedupe_stream(records: Iterable[Any], text_field: str = "text", id_field: Optional[str] = None,
                  config: Optional[DedupConfig] = None, *, index: Optional[Index] = None,
                  deduplicator: Optional[Deduplicator] = None, **overrides: Any) -> Iterator[StreamResult]:
    """Deduplicate a stream of records lazily; one :class:`StreamResult` per input, in order.

    ``records`` may hold plain strings or mappings (``text_field`` names the text; with
    ``id_field`` the document id is ``record[id_field]``, which reports and a persistent
    index use; without it, ids are the deduplicator's running numbers in corpus scope).

    Scope: streams default to ``"corpus"`` (a paragraph repeating one from an earlier record
    is removed), like :class:`Deduplicator`; pass ``scope="document"`` for repeats inside each
    record only. A ``config`` that names a scope keeps it. ``index`` is the corpus index to
    use; ``deduplicator`` continues an existing :class:`Deduplicator` (its settings, index and
    stats), e.g. across the batches of a ``datasets.Dataset.map`` call, and excludes
    ``config``, ``index`` and ``overrides``.

    Memory: the generator holds at most one batch (``batch_paragraphs`` paragraphs) of
    records; results for a batch come out once the batch is full or the input ends.

    Nulls stay null, as in :func:`~dedup.columnar.dedupe_arrow`: a record that is ``None``,
    ``NaN`` or ``pandas.NA`` (a pandas Series with missing values), or a mapping whose text is
    one, is passed through unchanged and not deduplicated (it is no document: no id, no stats).

    Raises :class:`InputTypeError` (a ``TypeError``) for a record that is neither ``str`` nor
    a mapping, or whose text is not ``str``, and :class:`RecordError` (a ``ValueError``) for
    a mapping without ``text_field`` / ``id_field``; both name the record's position.
    """
    if not isinstance(text_field, str):
        raise ConfigError(f"text_field must be a str, got {text_field!r}")
    if deduplicator is not None:
        if config is not None or index is not None or overrides:
            raise ConfigError("pass either deduplicator= or config/index/settings, not both")
        dd = deduplicator
    else:
        dd = Deduplicator(config, index=index, **overrides)

    def text_of(record: Any, position: int) -> Optional[str]:
        return record_text(record, position, text_field)

    def id_of(record: Any, position: int) -> Optional[Hashable]:
        if id_field is None or isinstance(record, str):
            return None
        return record_id(record, position, id_field)

    for position, (record, result) in enumerate(pair_results(dd, records, text_of, id_of)):
        if isinstance(record, str):
            yield StreamResult(result.text, result, position, record)
        elif result is NULL_RESULT:
            yield StreamResult(record, result, position, None)
        else:
            yield StreamResult({**record, text_field: result.text}, result, position, record[text_field])


#: What :func:`pair_results` pairs with an item whose text is null: nothing was deduplicated.
NULL_RESULT = make_result("", None, Spans(np.zeros(0, np.int64), np.zeros(0, np.int64)), [], 0)


def is_null(value: Any) -> bool:
    """A missing value as Python, numpy and pandas spell it: ``None``, ``NaN``, ``pandas.NA``."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    pandas = sys.modules.get("pandas")  # pandas.NA exists only if pandas was imported
    return pandas is not None and value is getattr(pandas, "NA", None)


def pair_results(dd: Deduplicator, items: Iterable[T], text_of: Callable[[T, int], Optional[str]],
                 id_of: Callable[[T, int], Optional[Hashable]]) -> Iterator[Tuple[T, DedupResult]]:
    """``(item, result)`` for each item, in order, through ``dd.iter_dedupe``.

    Items wait in a queue while their batch is fingerprinted, so memory is bounded by the
    deduplicator's batch, never by the length of ``items``. The batch closes at
    ``batch_paragraphs`` paragraphs or, at the latest, at as many documents, so a run of
    documents without paragraphs (empty records) cannot pile up either. ``text_of`` /
    ``id_of`` pull the text and document id out of an item (and raise for a bad one); an item
    whose text is ``None`` is not deduplicated and comes back, in its place, with
    :data:`NULL_RESULT`.
    """
    pending: Deque[Tuple[T, bool]] = deque()  # (item, whether it went to the deduplicator)
    ids: Deque[Optional[Hashable]] = deque()
    source = iter(items)
    limit = dd.config.batch_paragraphs
    position = 0
    more = True

    def texts() -> Iterator[str]:
        nonlocal position, more
        taken = 0
        for item in source:
            text = text_of(item, position)
            if text is not None:
                ids.append(id_of(item, position))
            pending.append((item, text is not None))
            position += 1
            taken += 1
            if text is not None:
                yield text
            if taken >= limit:
                return
        more = False

    def doc_ids() -> Iterator[Optional[Hashable]]:
        while True:  # iter_dedupe asks for exactly one id right after each text
            yield ids.popleft()

    while more:
        for result in dd.iter_dedupe(texts(), doc_ids()):
            while not pending[0][1]:  # nulls before this item
                yield pending.popleft()[0], NULL_RESULT
            yield pending.popleft()[0], result
        while pending:  # every text given has its result: what is left are nulls
            yield pending.popleft()[0], NULL_RESULT


def record_text(record: Any, position: int, text_field: str) -> Optional[str]:
    """The text of one record (a str, or ``record[text_field]``), checked to be ``str``;
    ``None`` for a null (:func:`is_null`) record or text."""
    if isinstance(record, str):
        return record
    if is_null(record):
        return None
    if not isinstance(record, Mapping):
        hint = ": decode it first, e.g. data.decode('utf-8')" if isinstance(record, (bytes, bytearray)) else ""
        raise InputTypeError(f"record {position}: must be str or a mapping, got {type(record).__name__}{hint}")
    try:
        text = record[text_field]
    except KeyError:
        raise RecordError(f"record {position}: no field {text_field!r} (fields: {field_list(record)})",
                          position, text_field) from None
    if is_null(text):
        return None
    if not isinstance(text, str):
        raise InputTypeError(f"record {position}: field {text_field!r} must be str, got {type(text).__name__}")
    return text


def record_id(record: Mapping, position: int, id_field: str) -> Hashable:
    """``record[id_field]``, checked to be present and hashable."""
    try:
        value = record[id_field]
    except KeyError:
        raise RecordError(f"record {position}: no id field {id_field!r} (fields: {field_list(record)})",
                          position, id_field) from None
    try:
        hash(value)
    except TypeError:
        raise RecordError(f"record {position}: id field {id_field!r} must be a string or number, "
                          f"got {type(value).__name__}", position, id_field) from None
    return value
