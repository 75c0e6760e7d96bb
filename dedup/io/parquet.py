"""Parquet (pyarrow, the ``parquet`` extra): rows as records, read and written in chunks.

Rows are read batch by batch, so memory follows the chunk size, not the file size. The
output keeps the input's schema (column order and types); only the text column changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, BinaryIO, Callable, Iterator, List, Optional

from dedup._optional import require
from dedup.io.files import AtomicOutput
from dedup.io.jsonl import output_record
from dedup.io.records import InputDataError, Item, Read, Reject, check_record, dumps_record

#: Rows per chunk read from / written to a Parquet file.
CHUNK_ROWS = 1024


def _pyarrow(what: str):
    return require("pyarrow", "parquet", what), require("pyarrow.parquet", "parquet", what)


def read_parquet(path: str, stream: Optional[BinaryIO], source: str, text_field: str,
                 id_field: Optional[str], id_source: Optional[str] = None,
                 count: Optional[Callable[[int], None]] = None) -> Iterator[Read]:
    """Rows of a Parquet file in order. ``stream`` (stdin, or decompressed bytes) is spooled
    to a temporary file first, since Parquet is read from its footer. Without ``id_field`` a
    row's id is ``<id_source>:<row>`` (``id_source``: the resolved path; default ``source``).
    ``count(n)``: ``n`` more bytes of the file (``path``) read, in proportion to its rows."""
    id_source = source if id_source is None else id_source
    pa, pq = _pyarrow(f"{source}: reading Parquet")
    spool = None
    try:
        if stream is not None:
            spool = tempfile.TemporaryFile()
            shutil.copyfileobj(stream, spool, 1 << 20)
            spool.seek(0)
        try:
            pf = pq.ParquetFile(spool if spool is not None else path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputDataError(source, None, f"not a readable Parquet file ({exc})") from None
        schema = pf.schema_arrow
        _check_schema(pa, schema, source, text_field, id_field)
        row = 0
        size = os.path.getsize(path) if count is not None and stream is None else 0
        rows_total = max(1, pf.metadata.num_rows)
        counted = 0
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            if count is not None and size:
                now = size * min(rows_total, row + batch.num_rows) // rows_total
                count(now - counted)
                counted = now
            for record in _rows(batch):
                row += 1
                if isinstance(record, _BadRow):
                    yield Reject(source, row, record.raw, "invalid UTF-8 in a string column")
                    continue
                problem = check_record(record, text_field, id_field)
                if problem:
                    yield Reject(source, row, dumps_record(record), problem)
                    continue
                doc_id = record[id_field] if id_field is not None else f"{id_source}:{row}"
                yield Item(record, record[text_field], doc_id, source, row, None, schema)
    finally:
        if spool is not None:
            spool.close()


class _BadRow:
    """A row whose strings are not valid UTF-8; ``raw`` is it as JSON, bad bytes replaced."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


def _rows(batch: Any) -> Iterator[Any]:
    """The rows of a record batch as dicts; a row holding invalid UTF-8 as a :class:`_BadRow`
    (pyarrow reads such strings unchecked and fails only when they become Python objects)."""
    try:
        yield from batch.to_pylist()
        return
    except UnicodeDecodeError:
        pass
    for i in range(batch.num_rows):
        one = batch.slice(i, 1)
        try:
            yield one.to_pylist()[0]
        except UnicodeDecodeError:
            yield _BadRow(dumps_record({name: _lossy(column[0].as_py() if not _is_text(column.type) else
                                                     column.cast(_binary_of(column.type))[0].as_py())
                                        for name, column in zip(one.schema.names, one.columns)}))


def _is_text(kind: Any) -> bool:
    import pyarrow as pa
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _binary_of(kind: Any) -> Any:
    import pyarrow as pa
    return pa.large_binary() if pa.types.is_large_string(kind) else pa.binary()


def _lossy(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _check_schema(pa: Any, schema: Any, source: str, text_field: str, id_field: Optional[str]) -> None:
    names = schema.names
    for field in (text_field, id_field):
        if field is not None and field not in names:
            raise InputDataError(source, None, f"no column {field!r} (columns: {', '.join(names)})")
    kind = schema.field(text_field).type
    if pa.types.is_dictionary(kind):  # pandas categoricals, Spark: strings behind a dictionary
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or getattr(pa.types, "is_string_view", lambda _: False)(kind)):
        raise InputDataError(source, None, f"column {text_field!r} has type {kind}; it must hold strings")


class ParquetWriter:
    """Writes records to Parquet with the schema of the first Parquet input (or, for records
    from JSONL or text, the schema inferred from the first chunk)."""

    def __init__(self, path: str, text_field: str, id_field: Optional[str]) -> None:
        self._pa, self._pq = _pyarrow(f"{path}: writing Parquet")
        self.out = AtomicOutput(path, compress=False)  # Parquet compresses inside the file
        self.text_field = text_field
        self.id_field = id_field
        self.schema = None
        self._first_source: Optional[str] = None
        self._writer: Any = None
        self._rows: List[dict] = []
        self._sources: List[Item] = []
        self._schema_source: Optional[str] = None
        self._finished = False

    def schema_from(self, path: str) -> None:
        """Take the schema of the Parquet file ``path`` should no row come (a zero-row input
        gives a zero-row output with its columns, not a file without any)."""
        self._schema_source = path

    def write(self, item: Item, text: str, changed: bool) -> None:
        if item.schema is not None:
            if self.schema is None and self._writer is None and not self._rows:
                self.schema, self._first_source = item.schema, item.source
            elif self.schema is not None and not item.schema.equals(self.schema):
                raise InputDataError(item.source, None, f"Parquet schema differs from that of "
                                     f"{self._first_source}; one output needs one schema")
        self._rows.append(output_record(item, text, self.text_field, self.id_field))
        self._sources.append(item)
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        pa = self._pa
        if self.schema is not None:
            names = set(self.schema.names)
            for row, item in zip(self._rows, self._sources):
                extra = set(row) - names
                if extra:
                    raise InputDataError(item.source, item.line, f"fields {sorted(extra)} are not in "
                                         f"the Parquet schema taken from {self._first_source}")
        try:
            table = pa.Table.from_pylist(self._rows, schema=self.schema)
        except (OverflowError, UnicodeEncodeError) as exc:  # values Parquet cannot hold: name the record
            raise self._unwritable(exc) from None
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            first = self._sources[0] if self._sources else None
            where = first.source if first else self.out.path
            raise InputDataError(where, None, f"records do not fit one Parquet schema ({exc})") from None
        if self.schema is None:
            self.schema = table.schema
            self._first_source = self._sources[0].source if self._sources else None
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self.out.stream, self.schema)
        self._writer.write_table(table)
        self._rows, self._sources = [], []

    def _unwritable(self, exc: Exception) -> InputDataError:
        """The first record that cannot be written, and why (found row by row: only on this error)."""
        why = ("a lone surrogate in a string (Parquet strings are UTF-8)" if isinstance(exc, UnicodeEncodeError)
               else "an integer outside the 64-bit range Parquet holds")
        for row, item in zip(self._rows, self._sources):
            try:
                self._pa.Table.from_pylist([row], schema=self.schema)
            except (OverflowError, UnicodeEncodeError):
                return InputDataError(item.source, item.line, f"cannot be written to Parquet: {why}")
            except Exception:  # another problem of this row: the batch as a whole is what failed
                continue
        return InputDataError(self.out.path, None, f"cannot be written to Parquet: {why}")

    def finish(self) -> None:
        """The last rows and the footer written, the file closed under its temporary name."""
        if self._finished:
            return
        if self._rows or self._writer is None:
            if self.schema is None and not self._rows:
                self.schema = (self._pq.read_schema(self._schema_source) if self._schema_source
                               else self._pa.schema([]))
            self._flush()
        self._writer.close()
        self._finished = True
        self.out.finish()

    def commit(self) -> None:
        self.finish()
        self.out.commit()

    def abort(self) -> None:
        if self._writer is not None and not self._finished:
            try:
                self._writer.close()
            except Exception:  # discarding the file anyway
                pass
        self.out.abort()
