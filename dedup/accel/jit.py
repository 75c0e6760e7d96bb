"""Optional compiled kernels: numba when it is installed, the numpy path otherwise.

Both paths give bit-identical arrays (``tests/test_speed_paths.py`` holds them to it), so
which one runs is only a matter of speed. numba is never imported by ``import dedup``:
loading it and its cached machine code costs 1-3 s, more than the numpy path needs for
a few thousand paragraphs. So the first :data:`WARM_UP_PARAGRAPHS` paragraphs of a
process go through numpy (a one-off ``dedupe_text`` stays well under a second) and the
kernels take over after that, when they pay for themselves.

``DEDUP_JIT=0`` forces the numpy path, ``DEDUP_JIT=1`` the kernels from the first call;
:func:`use_jit` does the same inside a block (tests).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

#: Paragraphs the numpy path handles before the kernels are loaded (unless forced).
WARM_UP_PARAGRAPHS = 20_000

_kernels = None  # the dedup.accel._kernels module once imported, False when unavailable
_forced: Optional[bool] = None
_work = 0


_env_read = False
_env_value: Optional[bool] = None


def _env() -> Optional[bool]:
    """``DEDUP_JIT`` (read once)."""
    global _env_read, _env_value
    if not _env_read:
        value = os.environ.get("DEDUP_JIT", "").strip().lower()
        _env_value = False if value in ("0", "false", "no", "off") else True if value in ("1", "true", "yes", "on") else None
        _env_read = True
    return _env_value


def note_work(paragraphs: int) -> None:
    """Count paragraphs going through the hot path (the kernels load past the warm-up)."""
    global _work
    _work += paragraphs


def kernels():
    """The compiled kernels module, or None: numba missing, disabled, or still warming up."""
    global _kernels
    forced = _forced if _forced is not None else _env()
    if forced is False:
        return None
    if _kernels is None and forced is None and _work < WARM_UP_PARAGRAPHS:
        return None
    return _load()


def _load():
    global _kernels
    if _kernels is None:
        try:
            from dedup.accel import _kernels as module
        except ImportError:  # numba not installed: the numpy path does the same work
            module = False
        _kernels = module
    return _kernels or None


def jit_available() -> bool:
    """True when numba is installed and not disabled (the kernels can run)."""
    return _env() is not False and _load() is not None


@contextmanager
def use_jit(enabled: bool) -> Iterator[None]:
    """Force the compiled (``True``) or numpy (``False``) path inside the block."""
    global _forced
    previous = _forced
    _forced = enabled
    try:
        if enabled and _load() is None:
            raise RuntimeError("numba is not available: pip install numba (or paradedup[fast])")
        yield
    finally:
        _forced = previous
