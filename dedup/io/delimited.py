"""CSV and TSV: a header row of field names, then one record per row (values are strings).

Read and written with the standard library's :mod:`csv` (quoted values may hold new lines, as
texts do). A row with another number of values than the header is a bad record named by its
line. Written back with the input's delimiter, minimal quoting and ``\\n`` line ends: the values
are the same, the quoting may differ.
"""

from __future__ import annotations

import csv
import io
import sys
from typing import BinaryIO, Iterator, List, Optional

from dedup.io.files import AtomicOutput
from dedup.io.jsonl import output_record
from dedup.io.records import InputDataError, Item, Read, Reject, check_record

#: Format name -> delimiter.
DELIMITERS = {"csv": ",", "tsv": "\t"}


def _no_field_limit() -> None:
    """The csv module refuses fields over 128 KiB by default; a document can be longer. (The
    limit is the process's: raised once, for good.)"""
    if csv.field_size_limit() < sys.maxsize // 2:
        csv.field_size_limit(sys.maxsize // 2)


def read_delimited(stream: BinaryIO, source: str, text_field: str, id_field: Optional[str],
                   id_source: Optional[str] = None, fmt: str = "csv") -> Iterator[Read]:
    """Records of a CSV/TSV stream in order; without ``id_field`` a record's id is
    ``<id_source>:<line>`` (the line its row starts on)."""
    _no_field_limit()
    id_source = source if id_source is None else id_source
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    rows = csv.reader(text, delimiter=DELIMITERS[fmt])
    try:
        header = next(rows)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputDataError(source, 1, f"unreadable {fmt.upper()} header ({exc})") from None
    if _has_surrogates(header):
        raise InputDataError(source, 1, "invalid UTF-8 in the header")
    if len(set(header)) != len(header):
        raise InputDataError(source, 1, f"the header names a field twice: {header}")
    line = rows.line_num + 1  # where the next row starts
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputDataError(source, line, f"unreadable {fmt.upper()} ({exc})") from None
        start, line = line, rows.line_num + 1
        if not values:  # a blank line
            continue
        raw = _raw(values, fmt)
        if _has_surrogates(values):
            yield Reject(source, start, raw, "invalid UTF-8 in the row")
            continue
        if len(values) != len(header):
            yield Reject(source, start, raw, f"{len(values)} values for the {len(header)} fields of the header")
            continue
        record = dict(zip(header, values))
        problem = check_record(record, text_field, id_field)
        if problem:
            yield Reject(source, start, raw, problem)
            continue
        doc_id = record[id_field] if id_field is not None else f"{id_source}:{start}"
        yield Item(record, record[text_field], doc_id, source, start, None)


def _has_surrogates(values: List[str]) -> bool:
    """Whether a value holds bytes that were not UTF-8 (decoded as lone surrogates)."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _raw(values: List[str], fmt: str) -> bytes:
    """The row as a line of the rejects file (its bytes, invalid ones as they were)."""
    out = io.StringIO()
    csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8", "surrogateescape")


class DelimitedWriter:
    """Writes records as CSV/TSV: the first record's fields make the header."""

    def __init__(self, path: str, fmt: str, text_field: str, id_field: Optional[str]) -> None:
        self.out = AtomicOutput(path)
        self.text_field = text_field
        self.id_field = id_field
        self._line = io.StringIO()
        self._rows = csv.writer(self._line, delimiter=DELIMITERS[fmt], lineterminator="\n")
        self._fields: Optional[List[str]] = None
        self._first: Optional[str] = None

    def write(self, item: Item, text: str, changed: bool) -> None:
        record = output_record(item, text, self.text_field, self.id_field)
        if self._fields is None:
            self._fields, self._first = list(record), item.source
            self._row(self._fields)
        elif list(record) != self._fields:
            raise InputDataError(item.source, item.line, f"fields {list(record)} differ from those of "
                                 f"{self._first} ({self._fields}); one CSV output needs one header")
        self._row(["" if v is None else v for v in record.values()])

    def _row(self, values: list) -> None:
        self._line.seek(0)
        self._line.truncate()
        self._rows.writerow(values)
        self.out.write(self._line.getvalue().encode("utf-8", "surrogatepass"))

    def finish(self) -> None:
        self.out.finish()

    def commit(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.abort()
