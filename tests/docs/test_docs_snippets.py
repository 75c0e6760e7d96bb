"""The snippets of docs/api.md, docs/indexes.md and docs/audit.md run as written, like the README's.

Each file's blocks run in order in one directory that holds the files they name (a Parquet table
with urls, a crawl in shards, a run's report and input), so a later block may use what an earlier
one wrote, as a reader following the page would. Redis snippets run against a real redis-server
(their ``localhost:6379`` pointed at it), skipped without one outside CI.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from index_support import redis_url  # noqa: F401  (a fixture)
from snippets import blocks, is_install, run_python, run_shell, shell_commands

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHARED = "Every package in this archive is shipped under the terms stated in its own licence file."


def _workspace(tmp: Path) -> Path:
    """The files the docs' snippets name."""
    pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test group")
    import pyarrow.parquet as pq

    docs = [{"url": f"https://example.org/{i}", "doc_id": f"d{i}",
             "text": f"Page {i} opens with words of its own about topic {i}.\n\n{SHARED}"} for i in range(6)]
    pq.write_table(pa.table({"url": [d["url"] for d in docs], "text": [d["text"] for d in docs]}),
                   tmp / "docs.parquet")
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    (tmp / "crawl").mkdir()
    for part in range(2):
        with gzip.open(tmp / "crawl" / f"part-{part}.jsonl.gz", "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(d) + "\n" for d in docs[part * 3:part * 3 + 3])
    for command in ("dedup corpus.jsonl -o clean.jsonl --id-field doc_id --report removed.jsonl -q",
                    "dedup crawl/part-*.jsonl.gz -o clean/ --id-field url --report removed/ -q"):
        done = run_shell(command, tmp)
        assert done.returncode == 0, done.stderr
    return tmp


def _snippets(name: str):
    return [(lang, code) for lang, code in blocks((DOCS / name).read_text(encoding="utf-8")) if lang in ("python", "bash")]


@pytest.mark.parametrize("name", ["api.md", "indexes.md", "audit.md"])
def test_every_snippet_of_the_page_runs(name, tmp_path, request):
    snippets = _snippets(name)
    assert snippets, f"docs/{name} has no snippets"
    _workspace(tmp_path)
    printed = []
    for lang, code in snippets:
        if "redis" in code and "localhost:6379" in code:
            url = request.getfixturevalue("redis_url")  # skip (outside CI) or fail without a server
            host_port = url.split("//", 1)[1].split("/", 1)[0]
            host, port = host_port.split(":")
            code = code.replace("localhost:6379", host_port).replace('host="localhost", port=6379',
                                                                    f'host="{host}", port={port}')
        if lang == "python":
            printed.append(run_python(code, tmp_path, f"docs/{name}"))
            continue
        for command in shell_commands(code):
            if is_install(command):
                continue
            done = run_shell(command, tmp_path)
            assert done.returncode == 0, f"{command!r} failed: {done.stderr[-2000:]}"
    if name == "indexes.md":
        assert printed[0] == "'Package b does another.'\n"  # the second day saw the first through the file
    if name == "audit.md":
        assert (tmp_path / "audit.html").stat().st_size > 1000 and printed[0].startswith("{'threshold': 0.5")
    if name == "api.md":
        assert len((tmp_path / "clean.parquet").read_bytes()) > 0
        removed = [json.loads(line) for line in open(tmp_path / "removed.jsonl")]
        assert [r["doc_id"] for r in removed] == ["https://example.org/b"]
