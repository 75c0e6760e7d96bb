"""The crash and concurrency harness every persistent index kind must pass.

A new kind plugs in with one line in :data:`KINDS`: how to name an index of that kind in a
directory, which ``dedup index info`` fields depend on file layout rather than on content, and
whether a second writer waits for the first one's whole run or takes turns with it per batch.
``tests/index/test_durability.py`` runs every kind through:

- a kill at each checkpoint of a run in turn (``DEDUP_CRASH_AT``; see
  :mod:`dedup.index.durability`), then a rerun: its output and ``dedup index info`` equal an
  uninterrupted run's;
- two writers at once: the outputs of one serial order;
- a full disk: one line, nothing left behind, the index as before the failing batch.

Jobs run in children forked from one process that imported dedup once (``crash_jobs.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from helpers import command_env, shared_data

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


#: Servers the tests started, by name (``redis``: its URL), for kinds that live in one.
SERVERS: Dict[str, str] = {}


@dataclass(frozen=True)
class Kind:
    """A persistent index kind, as the harness needs to know it."""

    name: str
    spec: Callable[[Path], str]  #: the spec of an index of this kind for a test directory
    volatile: Tuple[str, ...] = ()  #: ``index info`` fields that depend on layout or place, not content
    whole_run_lock: bool = False  #: a second writer waits for the first one's whole run (else: per batch)
    serial_writers: bool = True  #: two writers give the outputs of one serial order (of runs or batches)
    server: Optional[str] = None  #: the server it lives in (:data:`SERVERS`), else files on disk
    #: ``batch_paragraphs`` of the harness's runs: its 100 records (580 paragraphs) in four batches.
    #: The compiled engine (SQLite's) bounds a batch by records, the batch path by paragraphs.
    batch: int = 150


def _redis_spec(where: Path) -> str:
    return f"{SERVERS['redis']}?prefix={zlib.crc32(str(where).encode()):08x}:"  # one index per test directory


KINDS = {kind.name: kind for kind in (
    Kind("sqlite", lambda d: str(d / "index.dedup"), volatile=("size_bytes",), batch=25),
    Kind("compact", lambda d: str(d / "index") + "/", whole_run_lock=True),
    # batches decide against a snapshot (dedup/index/redis.py): overlapping writers may both keep a copy
    Kind("redis", _redis_spec, volatile=("size_bytes", "prefix"), serial_writers=False, server="redis"),
)}

#: Settings a kind is run with: the full index, and exact-only runs (which persist in the same kinds).
SETTINGS = {"full": {}, "exact-only": {"exact_only": True}}
def write_corpus(path: Path, every: int = 1, start: int = 0) -> List[dict]:
    """~100 records of real text with repeats (Debian copyright files: their first two paragraphs
    and last four, where the licence texts recur), as JSONL with ``id`` and ``text``."""
    import gzip

    with gzip.open(shared_data("docs_debian_copyright.jsonl.gz"), "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for _, line in zip(range(100), f)]
    import dedup
    records = []
    for doc in docs:
        starts, ends = dedup.split_paragraphs(doc["text"])
        paragraphs = [doc["text"][a:b] for a, b in zip(starts, ends)]
        records.append({"id": str(doc["doc_id"]), "text": "\n\n".join(paragraphs[:2] + paragraphs[-4:])})
    records = records[start::every]
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    return records


class Zygote:
    """A process that imported dedup once and forks each job (see ``crash_jobs.py``)."""

    def __init__(self) -> None:
        env = command_env(also_importable=[TESTS])
        for name in ("DEDUP_CRASH_AT", "DEDUP_CRASH_LOG", "DEDUP_CRASH_SIGNAL"):
            env.pop(name, None)
        self._proc = subprocess.Popen([sys.executable, str(TESTS / "crash_jobs.py")], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=env)

    def _ask(self, request: Dict[str, Any]) -> Dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        assert line, "the crash harness's process died"
        return json.loads(line)

    def start(self, job: str, log: Path, env: Optional[Dict[str, str]] = None, **args: Any) -> int:
        return self._ask({"op": "start", "job": job, "args": args, "env": env or {}, "log": str(log)})["pid"]

    def wait(self, pid: int) -> int:
        return self._ask({"op": "wait", "pid": pid})["rc"]

    def run(self, job: str, log: Path, env: Optional[Dict[str, str]] = None, **args: Any) -> int:
        return self.wait(self.start(job, log, env, **args))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)


@dataclass
class Outcome:
    rc: int
    output: Optional[str]
    info: Optional[dict]
    log: str


def dedupe(zygote: Zygote, kind: Kind, where: Path, source: Path, settings: Dict[str, Any],
           env: Optional[Dict[str, str]] = None, name: str = "run", files: Optional[Path] = None,
           **job: Any) -> Outcome:
    """One library run (``crash_jobs.dedupe``) on the index of ``kind`` in ``where``; its output,
    ``index info`` and log go to ``files`` (default: ``where``)."""
    where.mkdir(parents=True, exist_ok=True)
    files = files or where
    output, info, log = files / f"{name}.jsonl", files / f"{name}.info.json", files / f"{name}.log"
    rc = zygote.run("dedupe", log, env, spec=kind.spec(where), source=str(source), output=str(output),
                    info=str(info), batch=kind.batch, settings=settings, **job)
    return Outcome(rc, output.read_text(encoding="utf-8") if output.exists() else None,
                   json.loads(info.read_text(encoding="utf-8")) if info.exists() and rc == 0 else None,
                   log.read_text(encoding="utf-8", errors="replace"))


def comparable(kind: Kind, info: Optional[dict]) -> Optional[dict]:
    """``index info`` without what depends on file layout (and on where the index is)."""
    if info is None:
        return None
    return {k: v for k, v in info.items() if k not in kind.volatile and k != "path"}


def checkpoints(log: Path) -> List[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def serial_decisions(records: List[dict], **settings: Any) -> List[list]:
    """What one in-memory run over ``records`` in this order decides, as the jobs write it."""
    import dedup
    results = dedup.Deduplicator(**settings).dedupe_many([r["text"] for r in records], [r["id"] for r in records])
    return json.loads(json.dumps([[r.doc_id, r.text, [x.to_dict() for x in r.removed]] for r in results]))
