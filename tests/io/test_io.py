"""dedup.io: readers keep every record and name every bad line; writers are atomic and lossless."""

import bz2
import gzip
import io
import json
import lzma
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dedup
from dedup.io import (AtomicOutput, InputDataError, Item, Reject, open_source, open_writer, read_source,
                      same_file)

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."


def _reads(path, fmt="auto", text_field="text", id_field=None):
    return list(read_source(open_source(str(path), fmt), text_field, id_field))


def _jsonl_bytes(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


RECORDS = [
    {"id": 1, "text": "héllo wörld\n\nsecond paragraph", "meta": {"a": [1, 2.5, None, True]}},
    {"text": "", "z": "last field first", "id": "two"},
    {"id": 3, "text": "日本語のテキスト", "big": 12345678901234567890},
]


@pytest.mark.parametrize("suffix, compress", [
    ("", lambda b: b), (".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress),
    (".zst", lambda b: pytest.importorskip("zstandard").ZstdCompressor().compress(b)),
])
def test_jsonl_reads_every_record_in_order_through_any_compression(tmp_path, suffix, compress):
    path = tmp_path / f"in.jsonl{suffix}"
    path.write_bytes(compress(_jsonl_bytes(RECORDS)))
    got = _reads(path)
    assert all(isinstance(g, Item) for g in got)
    assert [g.record for g in got] == RECORDS
    assert [list(g.record) for g in got] == [list(r) for r in RECORDS]
    assert [(g.line, g.doc_id) for g in got] == [(i, f"{path}:{i}") for i in (1, 2, 3)]


def test_jsonl_blank_lines_bom_crlf_and_missing_final_newline(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "a"}\r\n\n   \n{"text": "b"}')
    got = _reads(path)
    assert [(g.line, g.text) for g in got] == [(1, "a"), (4, "b")]


def test_jsonl_bad_lines_become_rejects_with_their_line_numbers(tmp_path):
    lines = [b'{"text": "ok"}', b'{"text": "oops"', b'{"body": "x"}', b'{"text": null}', b'{"text": 3}',
             b'{"text": ["a"]}', b'{"text": "caf\xe9"}', b'[1, 2]', b'{"text": "ok", "id": [1]}', b'{"text": "fine"}']
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    got = _reads(path, id_field=None)
    rejects = [g for g in got if isinstance(g, Reject)]
    assert [g.line for g in got if isinstance(g, Item)] == [1, 9, 10]
    messages = {r.line: r.message for r in rejects}
    assert messages[2] == "malformed JSON at column 16: Expecting ',' delimiter"
    assert messages[3] == "no field 'text' (fields: 'body'; name the text field with --text-field)"
    assert messages[4] == "field 'text' must be a string, got null"
    assert messages[5] == "field 'text' must be a string, got number"
    assert messages[6] == "field 'text' must be a string, got array"
    assert messages[7] == "invalid UTF-8 at byte 14 of the line"
    assert messages[8].startswith("expected a JSON object, got array (input must be JSON Lines")
    assert [r.raw for r in rejects] == [lines[i - 1] + b"\n" for i in (2, 3, 4, 5, 6, 7, 8)]
    with_ids = _reads(path, id_field="id")
    assert {g.line: g.message for g in with_ids if isinstance(g, Reject)}[9] == \
        "id field 'id' must be a string or number, got array"
    err = rejects[0].error()
    assert isinstance(err, InputDataError) and str(err) == f"{path}:2: {messages[2]}"


def test_text_file_is_one_document_bytes_kept(tmp_path):
    data = "\ufeffTitle\r\n\r\nBody line one\r\nline two\r\n".encode()
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    (item,) = _reads(path)
    assert item.text.encode() == data and item.doc_id == str(path) and item.line == 1


def test_text_invalid_utf8_names_line_and_byte(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(b"fine\nalso fine\nbro\xffken\n")
    (rej,) = _reads(path)
    assert isinstance(rej, Reject) and rej.line == 3
    assert rej.message.startswith("invalid UTF-8 at byte 4 of the line (read as one text document; --format")


def test_empty_files(tmp_path):
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n\n  \n")
    (tmp_path / "e.txt").write_bytes(b"")
    assert _reads(tmp_path / "e.jsonl") == [] and _reads(tmp_path / "blank.jsonl") == []
    (item,) = _reads(tmp_path / "e.txt")
    assert item.text == ""


def test_format_by_suffix_and_override(tmp_path):
    assert open_source(str(tmp_path / "a.jsonl.gz")).format == "jsonl"
    assert open_source(str(tmp_path / "a.ndjson")).format == "jsonl"
    assert open_source(str(tmp_path / "a.parquet")).format == "parquet"
    assert open_source(str(tmp_path / "a.txt.zst")).format == "text"
    assert open_source(str(tmp_path / "a.data"), "jsonl").format == "jsonl"


@pytest.mark.parametrize("data, fmt", [(b'  {"text": "a"}\n', "jsonl"), (b"plain words\n", "text"),
                                       (gzip.compress(b'{"text": "a"}\n'), "jsonl"), (b"PAR1....", "parquet")])
def test_stdin_format_is_sniffed(monkeypatch, data, fmt):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    source = open_source("-")
    assert (source.format, source.name) == (fmt, "<stdin>")
    if fmt == "jsonl":
        assert [g.text for g in read_source(source)] == ["a"]


def _item(record, raw=None, text_field="text"):
    return Item(record, record[text_field] if isinstance(record, dict) else record, "x", "in", 1, raw)


def test_jsonl_writer_passes_unchanged_lines_through_byte_for_byte(tmp_path):
    raw = b'{"text":"keep",   "n": 1.50}'  # spacing and number format of the input survive
    out = tmp_path / "out.jsonl"
    w = open_writer(str(out), "jsonl")
    w.write(_item(json.loads(raw), raw), "keep", changed=False)
    w.write(_item({"text": "ab", "n": 2, "s": "\ud800"}), "a", changed=True)
    w.commit()
    lines = out.read_bytes().split(b"\n")
    assert lines[0] == raw and lines[2] == b""
    assert json.loads(lines[1]) == {"text": "a", "n": 2, "s": "\ud800"}  # lone surrogate escaped


@pytest.mark.parametrize("suffix, decompress", [(".gz", gzip.decompress), (".bz2", bz2.decompress),
                                                 (".xz", lzma.decompress)])
def test_output_compressed_by_suffix(tmp_path, suffix, decompress):
    out = tmp_path / f"out.jsonl{suffix}"
    w = open_writer(str(out), "jsonl")
    w.write(_item({"text": "x"}), "y", changed=True)
    w.commit()
    assert json.loads(decompress(out.read_bytes())) == {"text": "y"}


def test_atomic_output_appears_only_on_commit(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    out = AtomicOutput(str(target))
    out.write(b"new\n")
    assert target.read_bytes() == b"old\n"  # still the old file while writing
    out.abort()
    assert target.read_bytes() == b"old\n" and sorted(os.listdir(tmp_path)) == ["out.jsonl"]
    out = AtomicOutput(str(target))
    out.write(b"new\n")
    out.commit()
    assert target.read_bytes() == b"new\n" and sorted(os.listdir(tmp_path)) == ["out.jsonl"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_same_file(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text("")
    assert same_file(str(a), str(tmp_path / "." / "a.jsonl"))
    assert not same_file(str(a), str(tmp_path / "b.jsonl")) and not same_file("-", "-")


def test_shard_outputs_stage_each_shard_and_publish_all_at_the_end(tmp_path):
    from dedup.io.files import all_or_none
    from dedup.io.shards import ShardOutputs

    names = ["one.txt", "two.txt", "three.txt"]
    opened = []

    def open_one(k):
        opened.append(k)
        return open_writer(str(tmp_path / names[k]), "text")

    with all_or_none() as outputs:
        shards = ShardOutputs(3, open_one, per_shard=True, every_shard=False)
        outputs.append(shards)
        shards.for_shard(0).write(Item("x", "x", "a/one.txt", "a/one.txt", 1), "X\r\n", changed=True)
        shards.for_shard(2).write(Item("y", "y", "b/three.txt", "b/three.txt", 1), "Y", changed=False)
        assert all(name.startswith(".") for name in os.listdir(tmp_path))  # staged, not yet visible
    assert opened == [0, 2]  # a text shard without a record gets no file
    assert sorted(os.listdir(tmp_path)) == ["one.txt", "three.txt"]
    assert (tmp_path / "one.txt").read_bytes() == b"X\r\n"


def test_shard_outputs_of_a_failed_run_leave_nothing(tmp_path):
    from dedup.io.files import all_or_none
    from dedup.io.shards import NewDirectories, ShardOutputs

    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        with all_or_none() as outputs:
            outputs.append(NewDirectories([str(out)]))
            shards = ShardOutputs(3, lambda k: open_writer(str(out / f"{k}.jsonl"), "jsonl"), per_shard=True)
            outputs.append(shards)
            shards.for_shard(1).write(Item({"text": "a"}, "a", 1, "x", 1, b'{"text": "a"}\n'), "a", False)
            assert sorted(p.name[:3] for p in out.iterdir()) == [".0.", ".1."]  # shard 0 empty, finished
            raise RuntimeError("the run fails")
    assert not out.exists()


def test_missing_zstandard_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # every import of it fails, as if not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[zstd\]'"):
        AtomicOutput(str(tmp_path / "out.jsonl.zst"))
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 8)
    with pytest.raises(dedup.MissingDependencyError, match=r"pip install -e '\.\[zstd\]'"):
        _reads(path)
    assert not list(tmp_path.glob(".out*"))


# -- Parquet ------------------------------------------------------------------------------

def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    for name in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)  # every import of it fails, as if not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[parquet\]'"):
        open_writer(str(tmp_path / "o.parquet"), "parquet")
    (tmp_path / "i.parquet").write_bytes(b"PAR1")
    with pytest.raises(dedup.MissingDependencyError, match=r"i.parquet: reading Parquet needs"):
        _reads(tmp_path / "i.parquet")


def test_parquet_round_trip_keeps_schema_and_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime

    table = pa.table({
        "id": pa.array([1, 2, 3], pa.int32()),
        "text": pa.array([f"{P1}\n\n{P1}", "b", None], pa.large_string()),
        "when": pa.array([datetime.datetime(2024, 1, d) for d in (1, 2, 3)], pa.timestamp("ms")),
        "tags": pa.array([["x"], [], None], pa.list_(pa.string())),
    })
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    got = _reads(src, id_field="id")
    assert [type(g).__name__ for g in got] == ["Item", "Item", "Reject"]
    assert got[2].line == 3 and got[2].message == "field 'text' must be a string, got null"
    out = tmp_path / "out.parquet"
    w = open_writer(str(out), "parquet")
    w.write(got[0], P1, changed=True)
    w.write(got[1], "b", changed=False)
    w.commit()
    back = pq.read_table(out)
    assert back.schema.equals(table.schema)
    assert back.column("text").to_pylist() == [P1, "b"]
    assert back.column("when").to_pylist() == table.column("when").to_pylist()[:2]


def test_parquet_from_a_compressed_stream(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": ["a", "b"]}), buf)
    (tmp_path / "t.parquet.gz").write_bytes(gzip.compress(buf.getvalue()))
    assert [g.text for g in _reads(tmp_path / "t.parquet.gz")] == ["a", "b"]


def test_parquet_missing_or_wrong_text_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"body": ["x"], "n": [1]}), tmp_path / "a.parquet")
    with pytest.raises(InputDataError, match=r"a.parquet: no column 'text' \(columns: body, n\)"):
        _reads(tmp_path / "a.parquet")
    with pytest.raises(InputDataError, match=r"column 'n' has type int64; it must hold strings"):
        _reads(tmp_path / "a.parquet", text_field="n")


def test_records_convert_to_parquet_and_empty_output(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "o.parquet"
    w = open_writer(str(out), "parquet")
    w.write(_item({"text": "a", "n": 1}), "A", changed=True)
    w.commit()
    assert pq.read_table(out).to_pylist() == [{"text": "A", "n": 1}]
    empty = tmp_path / "e.parquet"
    w = open_writer(str(empty), "parquet")
    w.commit()
    assert pq.read_table(empty).num_rows == 0


# -- round trip property ------------------------------------------------------------------

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                        st.floats(allow_nan=False, allow_infinity=False))
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                          max_leaves=8)
record = st.dictionaries(st.text(max_size=8).filter(lambda k: k != "text"), json_value, max_size=4).flatmap(
    lambda extra: st.text(max_size=60).map(lambda t: {**extra, "text": t}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(record, max_size=6))
def test_jsonl_round_trip_through_reader_and_writer(tmp_path, records):
    src = tmp_path / "rt.jsonl"
    src.write_bytes("".join(json.dumps(r) + "\n" for r in records).encode())
    out = tmp_path / "rt.out.jsonl"
    w = open_writer(str(out), "jsonl")
    items = _reads(src)
    for i, item in enumerate(items):
        w.write(item, item.text, changed=bool(i % 2))  # both the pass-through and the re-encoded path
    w.commit()
    back = [json.loads(line) for line in out.read_bytes().split(b"\n")[:-1]]  # not splitlines: U+2028 is text
    assert back == records


# -- the removal report ---------------------------------------------------------------------

def test_report_lines_round_trip_with_the_removal_fields(tmp_path):
    from dedup.io.report import REPORT_FIELDS, ReportWriter, read_report
    from dedup.results import Removal

    text = "Same paragraph of enough words to count here.\n\nSame paragraph of enough words to count here.\n"
    result = dedup.explain(text)
    path = tmp_path / "removed.jsonl.gz"
    writer = ReportWriter(str(path))
    writer.write("doc-1", text, result.removed, result.paragraphs)
    writer.commit()
    lines = list(read_report(str(path)))
    assert [tuple(line) for line in lines] == [REPORT_FIELDS] * len(result.removed) == [REPORT_FIELDS]
    assert Removal(*(lines[0][f] for f in Removal._fields)) == result.removed[0]
    assert lines[0]["doc_id"] == "doc-1" and lines[0]["text"] == text[result.removed[0].start:result.removed[0].end]


@pytest.mark.parametrize("line, problem", [
    ('[1, 2]', "expected a JSON object, got array"),
    ('{"doc_id": "a", "index": 0}', "no field 'similarity'"),
    ('{"doc_id": "a", "index": 0, "similarity": 1.5}', "similarity must be a number in [0, 1], got 1.5"),
    ('{"doc_id": "a", "index": 0, "similarity": true}', "similarity must be a number in [0, 1], got True"),
    ('{"doc_id": "a", "index": 0, "similarity": "0.9"}', "similarity must be a number"),
    ('{"doc_id": "a", "index": 1.0, "similarity": 0.9}', "index must be a non-negative integer, got 1.0"),
    ('{"doc_id": "a", "index": 0, "similarity": 0.9, "matched_index": "3"}', "matched_index must be a non-negative integer"),
    ('{"doc_id": [1], "index": 0, "similarity": 0.9}', "doc_id must be a string or an integer, got array"),
    ('{"doc_id": "a", "index": 0, "similarity": 0.9, "matched_doc_id": {}}', "matched_doc_id must be a string"),
    ('{"doc_id": "a", "index": 0, "similarity": 0.9, "reason": "inner"}', "an 'inner' removal needs integer"),
    ('{"doc_id": "a", "index": 0,', "malformed JSON at column"),
])
def test_bad_report_lines_name_file_and_line(tmp_path, line, problem):
    from dedup.io.report import read_report

    path = tmp_path / "r.jsonl"
    path.write_text('{"doc_id": 7, "index": 0, "similarity": 1, "matched_doc_id": null}\n\n' + line + "\n")
    with pytest.raises(InputDataError) as info:
        list(read_report(str(path)))
    assert str(info.value).startswith(f"{path}:3: ") and problem in str(info.value)
