"""Plain text: one document per file, bytes kept exactly (line endings, byte-order mark)."""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional

from dedup.io.files import AtomicOutput
from dedup.io.records import Item, Read, Reject, InputDataError


def read_text(stream: BinaryIO, source: str, id_source: Optional[str] = None) -> Iterator[Read]:
    """The whole stream as one document, its id ``id_source`` (the resolved path; default
    ``source``); invalid UTF-8 is a Reject."""
    data = stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        yield Reject(source, line, data, f"invalid UTF-8 at byte {column} of the line (read as one text "
                                         "document; --format names the format of a file of records)")
        return
    del data
    yield Item(text, text, source if id_source is None else id_source, source, 1, None)


class TextWriter:
    """Writes one document as a text file (``-``: stdout), its bytes as the text has them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.out = AtomicOutput(path)
        self._written = 0

    def write(self, item: Item, text: str, changed: bool) -> None:
        if self._written:
            raise InputDataError(item.source, None, "several text documents cannot go to one "
                                 "text output; give -o a directory")
        self.out.write(text.encode("utf-8", "surrogatepass"))
        self._written += 1

    def finish(self) -> None:
        """Written whole and closed under its temporary name (see :class:`AtomicOutput`)."""
        self.out.finish()

    def commit(self) -> None:
        self.out.commit()

    def abort(self) -> None:
        self.out.abort()
