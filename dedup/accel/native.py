"""The compiled engine (``dedup.accel._core``, C built at install), when it is there.

``core()`` is the extension module, or None: not built (no C compiler at install time), or
turned off with ``DEDUP_NATIVE=0``. Callers then take the numba or numpy path, which gives
the same decisions.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from types import ModuleType
from typing import Iterator, Optional

_loaded = False
_core: Optional[ModuleType] = None


def core() -> Optional[ModuleType]:
    """The ``_core`` extension module, or None when it is not built or turned off."""
    global _loaded, _core
    if not _loaded:
        _loaded = True
        if os.environ.get("DEDUP_NATIVE", "").strip().lower() not in ("0", "false", "no", "off"):
            try:
                from dedup.accel import _core as module  # type: ignore[attr-defined]
            except ImportError:
                module = None
            _core = module
    return _core


@contextmanager
def use_native(enabled: bool) -> Iterator[None]:
    """Inside the block, the compiled engine is used (if built) or not: tests of the other paths."""
    global _loaded, _core
    was_loaded, was = _loaded, _core
    if not enabled:
        _loaded, _core = True, None
    else:
        _loaded = False
    try:
        yield
    finally:
        _loaded, _core = was_loaded, was
