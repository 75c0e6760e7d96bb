"""The audit page: what a run removed, near misses on both sides of the threshold, one document.

:func:`write_audit` gathers (:mod:`.gather`) from a run's report or straight from data, scores
near misses (:mod:`.similarity`) and renders one self-contained HTML file (:mod:`.page`).
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

from dedup.audit.gather import THRESHOLDS, AuditSummary, write_audit

__all__ = ["THRESHOLDS", "AuditSummary", "write_audit"]


class _CallableModule(types.ModuleType):
    """``dedup.audit(...)`` was a function before this package existed: keep it for one release."""

    def __call__(self, *args: Any, **kwargs: Any) -> AuditSummary:
        warnings.warn("dedup.audit(...) is deprecated; call dedup.write_audit(...)", DeprecationWarning, stacklevel=2)
        return write_audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
