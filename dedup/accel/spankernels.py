"""The span kernels (``dedup.accel._spans``, C built at install), when they are there.

``module()`` is the extension module, or None: not built (no C compiler at install time), or
turned off with ``DEDUP_NATIVE=0`` as the compiled engine is. Callers then take their numpy
path (:mod:`dedup.fingerprint.grams`, :mod:`dedup.decide.span_store`), which gives the same
results.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from types import ModuleType
from typing import Iterator, Optional

_loaded = False
_module: Optional[ModuleType] = None


def module() -> Optional[ModuleType]:
    """The ``_spans`` extension module, or None when it is not built or turned off."""
    global _loaded, _module
    if not _loaded:
        _loaded = True
        _module = None
        if os.environ.get("DEDUP_NATIVE", "").strip().lower() not in ("0", "false", "no", "off"):
            try:
                from dedup.accel import _spans  # type: ignore[attr-defined]
            except ImportError:
                pass
            else:
                _module = _spans
    return _module


@contextmanager
def use_compiled(enabled: bool) -> Iterator[None]:
    """Inside the block the span kernels are used (if built) or not: tests of the numpy path."""
    global _loaded, _module
    was_loaded, was = _loaded, _module
    if enabled:
        _loaded = False
    else:
        _loaded, _module = True, None
    try:
        yield
    finally:
        _loaded, _module = was_loaded, was
