"""What many tests need, defined once: the shared corpora, writing JSON Lines, and running the
installed ``dedup`` command as a user does (a real process, this tree first on its path).

Outside CI a missing corpus or console script skips the test (``pip install -e .`` makes the
script; CI lays the corpora beside the clone); in CI it fails.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
#: the founding example the repository ships (an article pasted twice, line breaks lost)
EXAMPLE_DATA = ROOT / "examples" / "data"


def shared_data(name: str) -> Path:
    """A file of the evaluation corpora beside the clone (``../shared/data``).

    A user's clone does not have them: the test is skipped, saying what is missing. CI has them,
    so there a missing file fails the test instead of hiding it.
    """
    path = DATA / name
    if not path.exists():
        message = (f"needs {path} (the evaluation corpora that CI lays beside the clone as ../shared/data; "
                   "not shipped with the repository)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_docs(name: str) -> List[dict]:
    """The records of a gzipped JSON Lines file of the shared corpora."""
    with gzip.open(shared_data(name), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_jsonl(path: Any, records: Iterable[Any], ensure_ascii: bool = False) -> Any:
    """``records`` as JSON Lines at ``path`` (gzipped when it ends in .gz); returns ``path``."""
    opener: Any = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=ensure_ascii) + "\n")
    return path


def command_env(extra: Optional[Mapping[str, str]] = None, also_importable: Sequence[Path] = ()) -> dict:
    """The environment of a user's shell, with this tree first on ``PYTHONPATH`` (then the
    folders ``also_importable`` names: a child that imports a test helper); ``extra`` set on top."""
    env = dict(os.environ)
    paths = [str(ROOT), *map(str, also_importable), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
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
