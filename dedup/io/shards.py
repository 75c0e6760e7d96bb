"""Outputs chosen by input shard: one file per input shard in a directory, or one file for all.

A pipeline step writes ``out/part-0.jsonl.gz`` for ``in/part-0.jsonl.gz``, all or none: every
shard is staged under a temporary name beside its target and published together when the run
succeeds (:func:`dedup.io.files.all_or_none`), so a failed run leaves no new shard. A shard is
finished (written whole, closed) when the stream moves past it: a run over 10,000 shards keeps
one file open at a time, not 10,000.
"""

from __future__ import annotations

import os
from typing import Callable, Generic, List, Optional, Protocol, Sequence, TypeVar


class Staged(Protocol):
    """A writer whose file appears only at commit (:class:`dedup.io.files.AtomicOutput` and the
    writers over it)."""

    def finish(self) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


W = TypeVar("W", bound=Staged)


class ShardOutputs(Generic[W]):
    """``for_shard(k)``: the writer of input shard ``k``; shards come in increasing order.

    ``per_shard``: one writer per shard, opened by ``open_one(k)`` when the stream reaches the
    shard and finished when it moves on; a shard passed without a record still gets its (empty)
    file when ``every_shard`` (a record shard has an output shard, even an empty one), none
    otherwise (a text file that was rejected or dropped). Else one writer, opened now, for all.
    """

    def __init__(self, shards: int, open_one: Callable[[int], W], per_shard: bool, every_shard: bool = True) -> None:
        self._open_one = open_one
        self._shards = shards
        self._per_shard = per_shard
        self._every_shard = every_shard
        self._writers: List[W] = []
        self._current: Optional[W] = None
        self._next = 0  # the first shard not yet reached
        if not per_shard:
            self._current = self._open(0)

    def _open(self, shard: int) -> W:
        writer = self._open_one(shard)
        self._writers.append(writer)
        return writer

    def for_shard(self, shard: int) -> W:
        if not self._per_shard:
            assert self._current is not None
            return self._current
        if shard >= self._next:
            self._move_to(shard)
            self._current = self._open(shard)
            self._next = shard + 1
        assert self._current is not None
        return self._current

    def _move_to(self, shard: int) -> None:
        """Finish the shard written so far and the empty ones before ``shard``."""
        if self._current is not None:
            self._current.finish()
            self._current = None
        for skipped in range(self._next, shard):
            if self._every_shard:
                self._open(skipped).finish()

    def commit(self) -> None:
        if self._per_shard:
            self._move_to(self._shards)
            self._next = self._shards
        for writer in self._writers:
            writer.commit()

    def abort(self) -> None:
        for writer in reversed(self._writers):
            writer.abort()


class NewDirectories:
    """Output directories a run creates: made at once, removed again on :meth:`abort` if they
    are still empty (a failed run leaves no new directory either)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._made: List[str] = []
        for path in paths:
            if not os.path.isdir(path):
                os.makedirs(path)
                self._made.append(path)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        for path in reversed(self._made):
            try:
                os.rmdir(path)
            except OSError:  # not empty (someone else's file), or gone: leave it
                pass
