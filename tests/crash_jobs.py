"""The jobs of the crash and concurrency harness, and the process that forks them.

``python tests/crash_jobs.py`` imports dedup once, then reads one JSON request per line on
stdin: ``{"op": "start", "job": NAME, "args": {...}, "env": {...}, "log": FILE}`` forks a child
that runs ``JOBS[NAME](**args)`` with ``env`` added to its environment and its stdout and
stderr in ``log`` (the reply is ``{"pid": N}``); ``{"op": "wait", "pid": N}`` replies
``{"rc": CODE}`` (negative: killed by that signal). A fork costs milliseconds where a fresh
interpreter costs a second, so a test can kill a writer at each of its checkpoints in turn.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional


def dedupe(spec: str, source: str, output: str, info: str, batch: int, settings: Dict[str, Any],
           start_after: Optional[str] = None, ready: Optional[str] = None, fallocate: bool = True,
           pause: float = 0.0) -> int:
    """The library route: records of ``source`` (JSONL with ``id`` and ``text``) through one
    Deduplicator on the index ``spec``; results to ``output`` and, once the index is closed,
    ``dedup index info --json`` to ``info``. ``ready``/``start_after``: files to meet another
    writer at (both start writing together, not while one is still opening). ``fallocate=False``:
    as on a file system without it (``posix_fallocate`` fails with EOPNOTSUPP). ``pause``: seconds
    to wait after each batch is stored (readers get to look between batches)."""
    import dedup
    from dedup.cli.index import main as index_main

    if not fallocate:
        def unsupported(fd: int, offset: int, length: int) -> None:
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        os.posix_fallocate = unsupported  # type: ignore[attr-defined]

    signal.signal(signal.SIGTERM, _interrupt)  # as the CLI does: TERM cleans up like Ctrl-C
    records = [json.loads(line) for line in open(source, encoding="utf-8")]
    try:
        if ready:
            Path(ready).touch()
        if start_after:
            deadline = time.monotonic() + 60
            while not os.path.exists(start_after) and time.monotonic() < deadline:
                time.sleep(0.005)
        d = dedup.Deduplicator(index=spec, batch_paragraphs=batch, **settings)
        if pause:
            add = d.index.add

            def add_then_pause(b: Any) -> None:
                add(b)
                time.sleep(pause)
            d.index.add = add_then_pause  # type: ignore[method-assign]
        lines = [json.dumps([r.doc_id, r.text, [x.to_dict() for x in r.removed]]) + "\n"
                 for r in d.iter_dedupe([x["text"] for x in records], [x["id"] for x in records])]
        d.index.close()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a full disk, a busy index: one line, as the CLI would say it
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    _write(output, "".join(lines))
    with open(info, "w", encoding="utf-8") as f:
        return index_main(["info", spec, "--json"], stdout=f)


def cli(argv: List[str]) -> int:
    """The ``dedup`` command itself (its signal handling, outputs and messages)."""
    from dedup.cli import main
    sys.argv = ["dedup", *argv]
    return main()


def order(spec: str, output: str) -> int:
    """The documents of an index in the order it holds them (JSON list of ids)."""
    import numpy as np

    from dedup.index.open import open_index
    index = open_index(spec, read_only=True)
    doc_ids = index.location_columns(np.arange(len(index), dtype=np.int64))[0]
    seen: List[Any] = []
    for doc_id in doc_ids:
        if not seen or seen[-1] != doc_id:
            seen.append(doc_id)
    index.close()
    _write(output, json.dumps(seen))
    return 0


def hold(spec: str, ready: str, release: str) -> int:
    """Open ``spec`` for writing, say so (``ready``), keep it open until ``release`` exists."""
    from dedup.index.open import open_index
    index = open_index(spec)
    Path(ready).touch()
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)
    index.close()
    return 0


JOBS = {"dedupe": dedupe, "cli": cli, "order": order, "hold": hold}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _write(path: str, text: str) -> None:
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _child(request: Dict[str, Any]) -> None:
    """In the forked child: run the job, exit with its code (never return into the loop)."""
    code = 99
    try:
        os.environ.update(request.get("env", {}))
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        code = int(JOBS[request["job"]](**request["args"]) or 0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    import dedup  # noqa: F401  (imported once here; every child starts with it loaded)
    import dedup.cli.check  # noqa: F401
    import dedup.cli.clean  # noqa: F401
    import dedup.cli.index  # noqa: F401
    import dedup.index.compact  # noqa: F401
    import dedup.index.sqlite  # noqa: F401

    replies = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies on the pipe
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(request)
            reply: Dict[str, Any] = {"pid": pid}
        else:
            _, status = os.waitpid(request["pid"], 0)
            reply = {"rc": os.waitstatus_to_exitcode(status)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
