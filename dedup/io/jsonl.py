"""JSONL: one JSON object per line; every field and the line order kept."""

from __future__ import annotations

import json
from typing import BinaryIO, Iterator, Mapping, Optional

from dedup.io.files import AtomicOutput
from dedup.io.records import Item, Read, Reject, check_record, dumps_record

_BOM = b"\xef\xbb\xbf"


def read_jsonl(stream: BinaryIO, source: str, text_field: str, id_field: Optional[str]) -> Iterator[Read]:
    """Records of a JSONL stream in order; a bad line becomes a :class:`Reject` with its line number.

    Blank lines are not records and are skipped. A UTF-8 byte-order mark on the first line
    is ignored.
    """
    for line_no, raw in enumerate(stream, 1):
        if line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if not raw or raw.isspace():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Reject(source, line_no, raw, f"invalid UTF-8 at byte {exc.start + 1} of the line")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            column = min(exc.pos, len(line.rstrip("\r\n"))) + 1  # the newline is not a column
            yield Reject(source, line_no, raw, f"malformed JSON at column {column}: {exc.msg.removesuffix(' at')}")
            continue
        except RecursionError:
            yield Reject(source, line_no, raw, "malformed JSON: nested too deeply")
            continue
        del line
        problem = check_record(record, text_field, id_field)
        if problem:
            yield Reject(source, line_no, raw, problem)
            continue
        doc_id = record[id_field] if id_field is not None else f"{source}:{line_no}"
        yield Item(record, record[text_field], doc_id, source, line_no, raw)


def output_record(item: Item, text: str, text_field: str, id_field: Optional[str]) -> dict:
    """The record to write: the input record with the text replaced (a text file becomes
    ``{id_field or "id": file name, text_field: text}``)."""
    if isinstance(item.record, Mapping):
        return {**item.record, text_field: text}
    return {id_field or "id": item.doc_id, text_field: text}


class JsonlWriter:
    """Writes records as JSONL; a record nothing was removed from is written back byte for byte."""

    def __init__(self, path: str, text_field: str, id_field: Optional[str]) -> None:
        self.out = AtomicOutput(path)
        self.text_field = text_field
        self.id_field = id_field

    def write(self, item: Item, text: str, changed: bool) -> None:
        raw = item.raw
        if not changed and raw is not None:
            self.out.write(raw if raw.endswith(b"\n") else raw + b"\n")
        else:
            self.out.write(dumps_record(output_record(item, text, self.text_field, self.id_field)))

    def commit(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.abort()


def write_json_line(out: AtomicOutput, value: object) -> None:
    """One JSON value as a line (reports)."""
    out.write(dumps_record(value) if isinstance(value, Mapping) else (json.dumps(value) + "\n").encode())
