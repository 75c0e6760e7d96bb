"""Optional dependencies: one way to import them, one pip hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from dedup.errors import MissingDependencyError


#: What each extra of paradedup installs, by the names ``pip`` knows them (a wheel's user installs
#: these; tests/cli/test_cli_pipeline.py holds this table to pyproject.toml's extras).
EXTRA_PACKAGES = {
    "parquet": "pyarrow", "redis": "redis", "spark": "pyspark pyarrow 'pandas<3'", "progress": "tqdm",
    "zstd": "zstandard", "audit": "matplotlib", "datasketch": "datasketch", "pandas": "pandas pyarrow",
    "remote": "fsspec", "jit": "numba", "fast": "numba",
}


def pip_hint(extra: str) -> str:
    """The command that installs what an extra adds, for a wheel's user and a clone's alike."""
    return (f"pip install {EXTRA_PACKAGES.get(extra, extra)} (the {extra!r} extra of paradedup; "
            f"in its clone: pip install -e '.[{extra}]')")


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingDependencyError` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(f"{what} needs the {module!r} package: {pip_hint(extra)}") from None
