"""One place that turns a storage failure of a persistent index into :class:`IndexAccessError`.

SQLite (missing directory, read-only or corrupted file, full disk) and Redis (refused or
reset connection, bad URL, WRONGTYPE) raise their own exception types from deep inside a
run; a user should see one line naming the index, not a traceback.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator, Optional

from dedup.errors import DedupError, IndexAccessError


def access_problem(exc: BaseException) -> Optional[str]:
    """What went wrong with the index's storage, or None when ``exc`` is something else."""
    if isinstance(exc, sqlite3.Error):
        return str(exc)
    if type(exc).__module__.split(".")[0] == "redis":
        return f"{exc}" if str(exc) else type(exc).__name__
    return None


@contextmanager
def index_access(where: str) -> Iterator[None]:
    """Inside: a storage failure of the index at ``where`` raises :class:`IndexAccessError`."""
    try:
        yield
    except DedupError:
        raise
    except Exception as exc:
        problem = access_problem(exc)
        if problem is None:
            raise
        raise IndexAccessError(f"{where}: {problem}") from exc
