"""What the benchmarks share: where the repository and the evaluation corpora are, reading a
corpus file, the environment of a child process, and a process's memory from ``/proc``.

Every benchmark runs from the repository's root as a module (``python -m benchmarks.NAME``), so
``dedup`` and ``benchmarks`` import without editing ``sys.path``.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
from pathlib import Path
from typing import Dict, List, Optional, Union

ROOT = Path(__file__).resolve().parents[1]
#: the evaluation corpora laid beside the clone (``../shared/data``)
DATA = ROOT.parent / "shared" / "data"


def read_docs(name: Union[str, Path]) -> List[dict]:
    """The records of a gzipped JSON Lines corpus: a file name in :data:`DATA`, or a path."""
    path = name if isinstance(name, Path) else DATA / name
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def child_env(**extra: str) -> Dict[str, str]:
    """The environment of a child process that imports ``dedup`` and ``benchmarks`` from this tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def status_kb(field: str) -> Optional[int]:
    """A ``kB`` field of ``/proc/self/status`` (``VmHWM``, ``RssAnon``...), None where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak RSS of this process: VmHWM where Linux has it (ru_maxrss of a process started by exec
    carries over the parent's peak: a test runner's own gigabytes showed up there)."""
    peak = status_kb("VmHWM")
    return peak / 1024 if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
