"""An input of a run: its path, the name used in messages and ids, its format, and its records.

:func:`open_source` decides the format (the suffix, ``--format``, or the first bytes of stdin);
:func:`read_source` yields, in input order, an :class:`Item` for each good record and a
:class:`Reject` for each bad one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, NamedTuple, Optional, Sequence, Tuple

from dedup.errors import DamagedInputError, DedupError
from dedup.io.delimited import DELIMITERS, read_delimited
from dedup.io.files import STDIO, display, open_input, strip_compression
from dedup.io.jsonl import read_jsonl
from dedup.io.parquet import read_parquet
from dedup.io.plain import read_text
from dedup.io.records import FORMATS, TEXT_SUFFIXES, Item, Read, Reject, format_for_name
from dedup.io.remote import is_url


@dataclass
class Source:
    """One input: its path as given, the name used in messages and ids, and its format."""

    path: str
    name: str
    format: str
    stream: Optional[BinaryIO] = None  #: already open (stdin, after sniffing its format)
    #: What default document ids are made from: the resolved path (``<stdin>`` for stdin), so
    #: a rerun from another directory or with another spelling of the path gives the same ids.
    id_name: str = ""
    #: Bytes of a local file (as stored: compressed), for a progress total; None when unknown.
    size: Optional[int] = None
    #: Bytes of the file read so far (as stored), counted as :func:`read_source` reads.
    bytes_read: int = 0
    #: What the user should know about this input (its content contradicts its suffix).
    warnings: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        local = self.path != STDIO and not is_url(self.path)
        if not self.id_name:
            self.id_name = os.path.realpath(self.path) if local else self.name
        if self.size is None and local:
            try:
                self.size = os.path.getsize(self.path)
            except OSError:  # gone since: reading says so
                pass

    def count(self, n: int) -> None:
        """``n`` more bytes of the file read."""
        self.bytes_read += n


def open_source(path: str, fmt: str = "auto") -> Source:
    """Describe an input; ``auto`` picks the format from the suffix (after any compression
    suffix): ``.jsonl``/``.ndjson``/``.json`` -> jsonl, ``.parquet``/``.pq`` -> parquet,
    ``.csv`` -> csv, ``.tsv``/``.tab`` -> tsv, anything else -> text. A local file read as text
    whose first bytes say otherwise (JSON lines, Parquet, binary) or whose suffix is unknown
    gets a warning naming ``--format`` (:attr:`Source.warnings`). On stdin ``auto`` looks at
    the first bytes instead: ``PAR1`` -> parquet, ``{`` -> jsonl, otherwise text."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected auto, {', '.join(FORMATS)}")
    if path == STDIO:
        stream = open_input(STDIO)
        if fmt == "auto":
            fmt = _sniff(stream)
        return Source(path, display(path), fmt, stream)
    if fmt == "auto":
        fmt = format_for_name(strip_compression(path)[0]) or "text"
        warning = _read_as_text_warning(path) if fmt == "text" and not is_url(path) else None
        return Source(path, display(path), fmt, warnings=(warning,) if warning else ())
    return Source(path, display(path), fmt)


#: Bytes looked at to tell what a file holds.
_HEAD = 4096


def _read_as_text_warning(path: str) -> Optional[str]:
    """Why a file that its suffix makes one text document may be something else, or None."""
    try:
        with open_input(path) as stream:
            head = stream.peek(_HEAD)[:_HEAD]  # type: ignore[attr-defined]
    except (OSError, DedupError):  # reading it will say what is wrong
        return None
    name, suffix = display(path), os.path.splitext(strip_compression(path)[0])[1].lower()
    why = f"its suffix {suffix} names no format of records" if suffix else "it has no suffix"
    if head.startswith(b"PAR1"):
        return f"{name}: read as one text document ({why}), but it is Parquet: give --format parquet"
    if b"\0" in head or not _utf8_start(head):
        return (f"{name}: read as one text document ({why}), but it is not UTF-8 text: give --format "
                f"jsonl, parquet, csv or tsv if it holds records of one")
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0].rstrip()
    if first.startswith(b"{") and (first.endswith(b"}") or len(first) == len(head)) and b'":' in first:
        return (f"{name}: read as one text document ({why}), but its lines look like JSON Lines: "
                f"give --format jsonl to read them as records")
    if suffix and suffix not in TEXT_SUFFIXES:
        return (f"{name}: read as one text document (its suffix {suffix} is not one dedup knows); "
                f"give --format text to say so, or the format of its records")
    return None


def _utf8_start(head: bytes) -> bool:
    """Whether ``head`` is UTF-8, but for a character cut at its end."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
    return True


def _sniff(stream: BinaryIO) -> str:
    head = stream.peek(4096)  # type: ignore[attr-defined]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    return "text"


def read_source(source: Source, text_field: str = "text", id_field: Optional[str] = None) -> Iterator[Read]:
    """Items and rejects of one input, in order."""
    if source.format == "parquet" and source.stream is None and not is_url(source.path) \
            and is_plain_parquet(source.path):
        yield from read_parquet(source.path, None, source.name, text_field, id_field, source.id_name,
                                count=source.count)
        return
    stream = source.stream if source.stream is not None else open_input(source.path, count=source.count)
    count = 0
    try:
        if source.format == "jsonl":
            reads = read_jsonl(stream, source.name, text_field, id_field, source.id_name)
        elif source.format == "parquet":
            reads = read_parquet(source.path, stream, source.name, text_field, id_field, source.id_name)
        elif source.format in DELIMITERS:
            reads = read_delimited(stream, source.name, text_field, id_field, source.id_name, source.format)
        else:
            reads = read_text(stream, source.name, source.id_name)
        for read in reads:
            yield read
            count += 1
    except DamagedInputError as exc:  # say how far the input was good
        raise DamagedInputError(f"{exc} after {count:,} record{'' if count == 1 else 's'}") from None
    finally:
        if source.path != STDIO:
            stream.close()


class Record(NamedTuple):
    """A good record, the input (shard) it came from, and how far the inputs had been read then."""

    shard: int
    item: Item
    position: int  #: bytes of the inputs read when this record was (compressed bytes, as on disk)


def read_records(sources: Sequence[Source], text_field: str = "text", id_field: Optional[str] = None,
                 on_reject: Optional[Callable[[Reject], None]] = None) -> Iterator[Record]:
    """Good records of every input, in order: what every command reads. A bad record raises its
    :class:`InputDataError`, or goes to ``on_reject`` (which may count it, keep it or raise)."""
    before = 0  # bytes of the inputs already read whole
    for shard, source in enumerate(sources):
        for read in read_source(source, text_field, id_field):
            if isinstance(read, Item):
                yield Record(shard, read, before + source.bytes_read)
            elif on_reject is None:
                raise read.error()
            else:
                on_reject(read)
        before += source.bytes_read


def read_items(source: Source, text_field: str = "text", id_field: Optional[str] = None) -> Iterator[Item]:
    """Good records of one input, in order; the first bad one raises its :class:`InputDataError`."""
    return (record.item for record in read_records([source], text_field, id_field))


def is_plain_parquet(path: str) -> bool:
    """Whether ``path`` is an uncompressed Parquet file (read in place, its schema known)."""
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"
