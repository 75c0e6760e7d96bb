"""Optional compiled kernels: numba when it is installed, the numpy path otherwise.

numba is imported on first use, never by ``import dedup`` (it costs ~0.25 s to import).
Both paths give bit-identical arrays; ``tests/test_speed_paths.py`` holds them to it.
Set ``DEDUP_JIT=0`` in the environment (or call :func:`use_jit`) to force the numpy path.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

_kernels = None  # the dedup._kernels module once imported, False when unavailable
_forced: Optional[bool] = None


def kernels():
    """The compiled kernels module, or None when numba is missing or disabled."""
    global _kernels
    if _forced is False:
        return None
    if _kernels is None:
        if os.environ.get("DEDUP_JIT", "1").strip().lower() in ("0", "false", "no", "off"):
            _kernels = False
        else:
            try:
                from dedup import _kernels as module
            except ImportError:  # numba not installed: the numpy path does the same work
                module = False
            _kernels = module
    return _kernels or None


def jit_available() -> bool:
    """True when the compiled kernels will be used."""
    return kernels() is not None


@contextmanager
def use_jit(enabled: bool) -> Iterator[None]:
    """Force the compiled (``True``) or numpy (``False``) path inside the block."""
    global _forced
    previous = _forced
    _forced = enabled
    try:
        if enabled and kernels() is None:
            raise RuntimeError("numba is not available: pip install numba (or paradedup[fast])")
        yield
    finally:
        _forced = previous
