"""dedupe_arrow: a column of texts in, the cleaned column and a removals table out.

For pipelines that hold columns (Parquet, pandas/polars via Arrow, Spark's Arrow batches):
no record dicts, no per-document result objects handed back; the account of what was
removed is one Arrow table, one row per removal.
"""

from __future__ import annotations

from typing import Any, Hashable, List, Optional, Sequence, Tuple, Union

from dedup._optional import require
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError, InputTypeError
from dedup.results import Removal

#: Columns of the removals table, in order (``row`` is the position in the input column,
#: ``doc_id`` the id of that row: as given in ``ids``, or the deduplicator's number).
REMOVAL_COLUMNS = ("row", "doc_id") + Removal._fields


def dedupe_arrow(array: Any, ids: Optional[Union[Sequence[Hashable], Any]] = None,
                 deduplicator: Optional[Deduplicator] = None, **overrides: Any) -> Tuple[Any, Any]:
    """Deduplicate a string column; returns ``(cleaned, removals)``.

    ``array``: a ``pyarrow`` ``StringArray``/``LargeStringArray`` or a ``ChunkedArray`` of
    one (anything ``pyarrow.array`` accepts, e.g. a list of str, works too). Rows are
    documents, in order; a null row stays null and is not deduplicated. ``ids``: one
    document id per row (a sequence or Arrow array; nulls not allowed), as a report or a
    persistent index names documents; without it, documents are numbered by the
    deduplicator. ``deduplicator`` continues an existing :class:`Deduplicator` (its index and
    stats); otherwise one is made from ``overrides`` (corpus scope by default).

    ``cleaned`` is an Arrow array of the input's string type, row for row. ``removals`` is
    an Arrow table with :data:`REMOVAL_COLUMNS`: ``row`` (position in ``array``), ``doc_id``
    (that row's id, as for ``matched_doc_id``) and the fields of :class:`~dedup.results.Removal` (character offsets into that row's text;
    ``matched_doc_id`` as the ids were given, or the deduplicator's numbers).
    """
    pa = require("pyarrow", "parquet", "dedupe_arrow")
    if deduplicator is not None and overrides:
        raise ConfigError("pass either deduplicator= or settings, not both")
    dd = deduplicator if deduplicator is not None else Deduplicator(**overrides)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    elif not isinstance(array, pa.Array):
        array = pa.array(array)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise InputTypeError(f"dedupe_arrow: the column must hold strings, got {array.type}")
    n = len(array)
    id_list = _ids(pa, ids, n)
    texts = array.to_pylist()
    rows = [i for i, t in enumerate(texts) if t is not None] if array.null_count else range(n)
    cleaned: List[Optional[str]] = [None] * n if array.null_count else texts
    columns: List[list] = [[] for _ in REMOVAL_COLUMNS]
    results = dd.iter_dedupe((texts[i] for i in rows), (id_list[i] for i in rows) if id_list is not None else None)
    for i, result in zip(rows, results):
        cleaned[i] = result.text
        if result.removed:
            columns[0].extend([i] * len(result.removed))
            columns[1].extend([result.doc_id] * len(result.removed))
            for column, values in zip(columns[2:], zip(*result.removed)):
                column.extend(values)
    out = pa.array(cleaned, type=array.type)
    return out, pa.table(_removal_arrays(pa, columns), names=list(REMOVAL_COLUMNS))


def _ids(pa: Any, ids: Any, n: int) -> Optional[list]:
    if ids is None:
        return None
    if isinstance(ids, (pa.Array, pa.ChunkedArray)):
        ids = ids.to_pylist()
    ids = list(ids)
    if len(ids) != n:
        raise ConfigError(f"dedupe_arrow: {len(ids)} ids for {n} rows")
    if any(i is None for i in ids):
        raise ConfigError(f"dedupe_arrow: id of row {ids.index(None)} is null")
    return ids


def _removal_arrays(pa: Any, columns: List[list]) -> list:
    types = {"row": pa.int64(), "index": pa.int64(), "start": pa.int64(), "end": pa.int64(),
             "matched_index": pa.int64(), "matched_start": pa.int64(), "matched_end": pa.int64(),
             "similarity": pa.float64(), "reason": pa.string()}
    arrays = []
    for name, values in zip(REMOVAL_COLUMNS, columns):
        if name in types:
            arrays.append(pa.array(values, type=types[name]))
        else:  # doc_id, matched_doc_id: the ids' own type when they share one, else their text
            try:
                arrays.append(pa.array(values))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arrays.append(pa.array([None if v is None else str(v) for v in values], type=pa.string()))
    return arrays
