"""Parquet at the edges: invalid UTF-8 rows, zero rows, dictionary strings, binary columns."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[1]
PARA = "A paragraph long enough to count, repeated so that the second copy of it goes."


def _dedup(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dedup", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_invalid_utf8_rows_are_rejects_not_a_traceback(tmp_path):
    raw = pa.array([PARA.encode(), b"bad \xff bytes", (PARA + "\n\nmore words here to keep").encode()], pa.binary())
    texts = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())  # written unchecked, as a broken writer would
    pq.write_table(pa.table({"id": [1, 2, 3], "text": texts}), tmp_path / "in.parquet")
    stop = _dedup("in.parquet", "-o", "out.parquet", cwd=tmp_path)
    assert stop.returncode == 1 and "Traceback" not in stop.stderr
    assert stop.stderr.strip() == "dedup: error: in.parquet:2: invalid UTF-8 in a string column"
    skip = _dedup("in.parquet", "-o", "out.parquet", "--on-error", "skip", "--rejects", "rej.jsonl", "-q", cwd=tmp_path)
    assert skip.returncode == 0, skip.stderr
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["id"] for r in out] == [1, 3] and out[1]["text"] == "more words here to keep"
    rejected = json.loads((tmp_path / "rej.jsonl").read_text())
    assert rejected["id"] == 2 and rejected["text"] == "bad \ufffd bytes"


def test_zero_rows_keep_the_schema(tmp_path):
    schema = pa.schema([("id", pa.int64()), ("text", pa.string()), ("lang", pa.string())])
    pq.write_table(schema.empty_table(), tmp_path / "in.parquet")
    proc = _dedup("in.parquet", "-o", "out.parquet", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.num_rows == 0 and out.schema.equals(schema)


def test_dictionary_strings_are_accepted(tmp_path):
    texts = pa.array([PARA, PARA + "\n\nthe rest of the second row stays here"]).dictionary_encode()
    pq.write_table(pa.table({"text": texts}), tmp_path / "in.parquet")
    proc = _dedup("in.parquet", "-o", "out.parquet", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["text"] for r in pq.read_table(tmp_path / "out.parquet").to_pylist()] == [
        PARA, "the rest of the second row stays here"]


def test_binary_values_become_base64_in_jsonl(tmp_path):
    pq.write_table(pa.table({"text": [PARA], "blob": pa.array([b"\x00\xffdata"], pa.binary())}), tmp_path / "in.parquet")
    proc = _dedup("in.parquet", "-o", "out.jsonl", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert base64.b64decode(row["blob"]) == b"\x00\xffdata"


_INTEGER = "an integer outside the 64-bit range Parquet holds"
_SURROGATE = "a lone surrogate in a string (Parquet strings are UTF-8)"


@pytest.mark.parametrize("first, record, why", [
    ({"id": 7, "text": PARA}, {"id": 2 ** 64 - 1, "text": "x"}, _INTEGER),
    ({"id": 7, "text": PARA}, {"id": 1, "text": "bad \udc00 surrogate"}, _SURROGATE),
    ({"id": "doc-7", "text": PARA}, {"id": "doc-\udc00", "text": "x"}, _SURROGATE),
], ids=["integer-2**64-1", "surrogate-in-text", "surrogate-in-id"])
def test_values_parquet_cannot_hold_are_one_line_naming_the_record(tmp_path, first, record, why):
    """Valid JSON that Parquet cannot store: the record's file and line, never a traceback."""
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (first, record)))
    proc = _dedup("in.jsonl", "-o", "out.parquet", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == f"dedup: error: in.jsonl:2: cannot be written to Parquet: {why}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output, no temporary file
