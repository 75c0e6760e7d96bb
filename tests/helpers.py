"""Running the installed ``dedup`` command as a user does: a real process, this tree on its path.

Outside CI a missing console script skips the test (``pip install -e .`` makes it); in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[1]


def command_env(extra: Optional[Mapping[str, str]] = None) -> dict:
    """The environment of a user's shell, with this tree first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra or {})
    return env


def dedup_exe() -> str:
    """The installed console script (skip, or fail in CI, without it)."""
    exe = shutil.which("dedup")
    if exe is None:
        message = "the dedup console script is not installed (pip install -e .)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return exe


def dedup_run(args: Sequence[Any], cwd: Any = None, env: Optional[Mapping[str, str]] = None,
              **kwargs: Any) -> subprocess.CompletedProcess:
    """``dedup ARGS`` in a real process; text stdout and stderr captured."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("timeout", 300)
    if "input" not in kwargs or isinstance(kwargs.get("input"), str):
        kwargs.setdefault("text", True)
    return subprocess.run([dedup_exe()] + [str(a) for a in args], cwd=cwd, env=command_env(env), **kwargs)
