"""Optional dependencies: one way to import them, one pip hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from dedup.errors import MissingDependencyError


def pip_hint(extra: str) -> str:
    """The command that installs an extra, from a clone or from an index."""
    return f"pip install 'paradedup[{extra}]'"


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingDependencyError` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{what} needs the {module!r} package: {pip_hint(extra)}") from None
