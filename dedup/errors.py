"""Exceptions raised by dedup.

Every error the library raises on purpose derives from :class:`DedupError`, and also from
the builtin a caller would naturally catch (``ValueError``, ``TypeError``), so both
``except dedup.DedupError`` and ``except ValueError`` work.
"""

from __future__ import annotations

from typing import Optional


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class ConfigError(DedupError, ValueError):
    """A setting has a value that cannot work (names the setting and the value)."""


class InputTypeError(DedupError, TypeError):
    """Text of the wrong type was given (bytes, None, a number...)."""


class IndexMismatchError(DedupError, ValueError):
    """An index was built with other settings than the ones now in use."""


class MissingDependencyError(DedupError, ImportError):
    """An optional extra is needed; the message names the pip command."""


class IndexBusyError(DedupError, RuntimeError):
    """A persistent index could not be written: another writer holds it or changed it mid-batch."""


class InputDataError(DedupError, ValueError):
    """Bad input data at a known place: ``str()`` is ``<file>:<line>: <what is wrong>``."""

    def __init__(self, source: str, line: Optional[int], message: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.message = message


class DamagedInputError(DedupError, ValueError):
    """A compressed input is truncated or corrupt: the records past the damage cannot be read,
    so the run stops rather than silently giving fewer records. Names the file."""


class IndexAccessError(DedupError, RuntimeError):
    """A persistent index cannot be opened, read or written (its file or server); names it."""


class RecordError(DedupError, ValueError):
    """A record cannot be deduplicated (missing field, wrong shape); names where it is."""

    def __init__(self, message: str, position: Optional[int] = None, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.position = position
        self.field = field
