"""Optional dependencies: one way to import them, one pip hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from dedup.errors import MissingDependencyError


def pip_hint(extra: str) -> str:
    """The command that installs an extra (paradedup is installed from its clone, not from PyPI yet)."""
    return f"pip install -e '.[{extra}]' in the paradedup clone"


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingDependencyError` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{what} needs the {module!r} package: {pip_hint(extra)}") from None
