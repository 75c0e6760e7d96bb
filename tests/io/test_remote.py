"""Remote inputs and outputs through fsspec, tested without network (memory:// and file://)."""

from __future__ import annotations

import gzip
import json

import pytest

from dedup.cli import main as cli_main

fsspec = pytest.importorskip("fsspec", reason="the remote extra (fsspec) is in the test group")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SHARED = "Every package in this archive is shipped under the terms stated in its own licence file."


def _records(i: int) -> bytes:
    return b"".join(json.dumps({"id": f"{i}-{k}", "text": f"Part {i} record {k} has words of its own, enough.\n\n{SHARED}"}
                               ).encode() + b"\n" for k in range(3))


@pytest.fixture()
def bucket():
    fs = fsspec.filesystem("memory")
    root = f"/bucket-{id(fs)}"
    for i in range(3):
        with fs.open(f"{root}/part-{i}.jsonl.gz", "wb") as f:
            f.write(gzip.compress(_records(i)))
    yield fs, root
    fs.rm(root, recursive=True)


def test_glob_of_compressed_urls_in_and_a_url_out(bucket, tmp_path):
    fs, root = bucket
    code = cli_main([f"memory://{root}/part-*.jsonl.gz", "-o", f"memory://{root}/clean/out.jsonl.gz",
                     "--report", f"memory://{root}/clean/report.jsonl", "--id-field", "id", "-q"])
    assert code == 0
    out = [json.loads(x) for x in gzip.decompress(fs.cat(f"{root}/clean/out.jsonl.gz")).splitlines()]
    assert [r["id"] for r in out] == [f"{i}-{k}" for i in range(3) for k in range(3)]
    assert SHARED in out[0]["text"] and all(SHARED not in r["text"] for r in out[1:])
    assert len(fs.cat(f"{root}/clean/report.jsonl").splitlines()) == 8


def test_parquet_url_in_and_out(bucket):
    fs, root = bucket
    with fs.open(f"{root}/in.parquet", "wb") as f:
        pq.write_table(pa.table({"id": [1, 2], "text": [SHARED, SHARED + "\n\nmore text of the second row, long enough"]}), f)
    assert cli_main([f"memory://{root}/in.parquet", "-o", f"memory://{root}/out.parquet", "-q"]) == 0
    with fs.open(f"{root}/out.parquet", "rb") as f:
        rows = pq.read_table(f).to_pylist()
    assert rows == [{"id": 1, "text": SHARED}, {"id": 2, "text": "more text of the second row, long enough"}]


def test_a_failed_run_uploads_nothing(bucket):
    fs, root = bucket
    with fs.open(f"{root}/bad.jsonl", "wb") as f:
        f.write(b'{"text": "fine, a record with words enough to count."}\nnot json\n')
    code = cli_main([f"memory://{root}/bad.jsonl", "-o", f"memory://{root}/out.jsonl", "-q"])
    assert code == 1 and not fs.exists(f"{root}/out.jsonl")


def test_missing_url_and_empty_glob_are_one_line_errors(bucket, capsys):
    fs, root = bucket
    assert cli_main([f"memory://{root}/nothing.jsonl", "-q"]) == 1
    assert capsys.readouterr().err.strip() == f"dedup: error: memory://{root}/nothing.jsonl: no such file"
    assert cli_main([f"memory://{root}/none-*.jsonl", "-q"]) == 2


def test_file_urls_work_like_paths(tmp_path):
    (tmp_path / "in.jsonl").write_bytes(_records(0) + _records(0))
    assert cli_main([f"file://{tmp_path}/in.jsonl", "-o", f"file://{tmp_path}/out.jsonl", "-q"]) == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 6


def test_python_readers_take_urls(bucket):
    from dedup.io import open_source, read_items
    fs, root = bucket
    items = list(read_items(open_source(f"memory://{root}/part-0.jsonl.gz")))
    assert len(items) == 3 and items[0].doc_id == f"memory://{root}/part-0.jsonl.gz:1"
