"""The progress bar of a long run on a terminal (tqdm, imported here only: ``import dedup`` stays light).

Progress is bytes of the inputs read (compressed bytes, as on disk), so with the inputs' sizes
known the bar has a total, a percentage and an ETA from the first record; beside it, the
documents done and the share of units removed so far. Without a total (stdin, URLs) it counts
documents. A terminal that reports no size (0 x 0,
as some containers' do) gets 80 x 24 rather than no bar (tqdm hides a bar below a terminal's
last row, and row 0 is below a terminal of 0 rows).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Optional, Tuple

from dedup.results import Stats

#: Seconds between two redraws.
INTERVAL = 0.25
#: Columns and rows when the terminal reports none.
FALLBACK_SIZE = (80, 24)


class Progress:
    """``update(position, stats)`` after each record; ``done`` at a successful end; ``close`` always."""

    def __init__(self, enabled: bool, total: Optional[int]) -> None:
        self.bar: Any = None
        self.bytes = False
        self._shown = 0
        self._next = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:  # a dependency, but a broken install should not stop the run
            return
        columns, rows = _size()
        self.bytes = total is not None
        self.bar = tqdm(total=total, unit="B" if self.bytes else " docs", unit_scale=True, unit_divisor=1000,
                        file=sys.stderr, mininterval=INTERVAL, miniters=1, ncols=columns or FALLBACK_SIZE[0],
                        nrows=rows or FALLBACK_SIZE[1], dynamic_ncols=bool(columns),
                        bar_format=_FORMAT if self.bytes else _FORMAT_NO_TOTAL)

    def update(self, position: int, stats: Stats) -> None:
        if self.bar is None:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + INTERVAL
        self._move(position, stats)

    def done(self, stats: Stats) -> None:
        """The inputs are read whole: the bar ends at its total."""
        if self.bar is not None:
            self._move(self.bar.total if self.bytes else stats.documents, stats)

    def _move(self, position: int, stats: Stats) -> None:
        share = 100.0 * stats.removed / stats.paragraphs if stats.paragraphs else 0.0
        if not self.bytes:
            position = stats.documents
        self.bar.set_postfix_str(f"{stats.documents:,} docs, {share:.1f}% removed", refresh=False)
        self.bar.update(max(0, position - self._shown))
        self._shown = max(position, self._shown)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


_FORMAT = "{percentage:3.0f}%|{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
_FORMAT_NO_TOTAL = "{elapsed} [{rate_fmt}{postfix}]"


def _size() -> Tuple[int, int]:
    """The terminal's columns and rows, 0 where it reports none."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return 0, 0
    return size.columns, size.lines
