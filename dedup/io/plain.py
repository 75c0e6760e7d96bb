"""Plain text: one document per file, bytes kept exactly (line endings, byte-order mark)."""

from __future__ import annotations

import os
from typing import BinaryIO, Dict, Iterator, List, Optional

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
        yield Reject(source, line, data, f"invalid UTF-8 at byte {column} of the line")
        return
    del data
    yield Item(text, text, source if id_source is None else id_source, source, 1, None)


class TextWriter:
    """Writes documents as text files: one target file, or one file per input in a directory.

    In directory mode each document goes to ``DIR/<input file name>``; every file is staged
    under a temporary name and all are renamed at :meth:`commit`.
    """

    def __init__(self, path: str, directory: bool = False) -> None:
        self.path = path
        self.directory = directory
        self._outs: List[AtomicOutput] = []
        self._names: Dict[str, str] = {}
        if directory:
            os.makedirs(path, exist_ok=True)
        self._single: Optional[AtomicOutput] = None if directory else AtomicOutput(path)
        self._written = 0

    def target_for(self, source: str) -> str:
        """Where the document read from ``source`` goes."""
        if not self.directory:
            return self.path
        return os.path.join(self.path, os.path.basename(source))

    def write(self, item: Item, text: str, changed: bool) -> None:
        data = text.encode("utf-8", "surrogatepass")
        if self._single is not None:
            if self._written:
                raise InputDataError(item.source, None, "several text documents cannot go to one "
                                     "text output; give -o a directory")
            self._single.write(data)
        else:
            target = self.target_for(item.source)
            if target in self._names:
                raise InputDataError(item.source, None, f"{self._names[target]} already goes to "
                                     f"{target}; text inputs in one directory need distinct names")
            self._names[target] = item.source
            out = AtomicOutput(target)
            self._outs.append(out)
            out.write(data)
        self._written += 1

    def commit(self) -> None:
        for out in self._outs + ([self._single] if self._single else []):
            out.commit()

    def abort(self) -> None:
        for out in self._outs + ([self._single] if self._single else []):
            out.abort()
