"""The compiled engine (``dedup.accel._core``, C built at install), when it is there.

``core()`` is the extension module, or None: not built (no C compiler at install time), or
turned off with ``DEDUP_NATIVE=0``. Callers then take the numba or numpy path, which gives
the same decisions.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from types import ModuleType
from typing import Iterator, Optional, Tuple

import numpy as np

from dedup.chardata import engine_tables

log = logging.getLogger(__name__)

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
                log.debug("compiled engine not built: the numba or numpy path serves")
            else:
                log.debug("compiled engine loaded (%s)", module.__file__)
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


def sentence_spans(text: str) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(starts, ends) of ``text``'s sentences (:func:`dedup.text.split.sentence_spans`), or None
    without the compiled engine."""
    module = core()
    if module is None:
        return None
    space = None if text.isascii() else engine_tables()[2]
    starts, ends = module.sentence_spans(text, space)
    return np.frombuffer(starts, dtype=np.int64), np.frombuffer(ends, dtype=np.int64)


def count_tokens(text: str, starts: np.ndarray, ends: np.ndarray, case_fold: bool,
                 unspaced: str) -> Optional[np.ndarray]:
    """Tokens in each span of ``text`` as the engine counts them; None without the compiled engine
    or when a span holds a character Python must normalize."""
    module = core()
    if module is None:
        return None
    fold, word = (None, None) if text.isascii() else engine_tables(unspaced, case_fold)[:2]
    counts = module.count_tokens(text, np.ascontiguousarray(starts, dtype=np.int64),
                                 np.ascontiguousarray(ends, dtype=np.int64), fold, word, case_fold)
    return None if counts is None else np.frombuffer(counts, dtype=np.int64)


def tokens(text: str, case_fold: bool = True, unspaced: str = "chars"
           ) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(word hashes, token starts, token ends) of ``text`` as the engine tokenizes a unit (the hashes
    :func:`dedup.fingerprint.shingles.word_hashes` gives, with each token's character span), or
    None: no compiled engine, or a character Python must normalize (no span maps through it)."""
    module = core()
    if module is None:
        return None
    fold, word = (None, None) if text.isascii() else engine_tables(unspaced, case_fold)[:2]
    found = module.tokens(text, fold, word, case_fold)
    if found is None:
        return None
    hashes, starts, ends = found
    return (np.frombuffer(hashes, dtype=np.uint64), np.frombuffer(starts, dtype=np.int64),
            np.frombuffer(ends, dtype=np.int64))
