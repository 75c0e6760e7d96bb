"""CompactIndex: the corpus index in memory-mapped files; the same decisions as in memory."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import dedup
import speed_golden as golden
from dedup.index.compact import CompactIndex


def _as_json(x):
    return json.loads(json.dumps(x))


def _decisions(results) -> list:
    return [[list(r.to_dict().values()) for r in res.removed] for res in results]


@pytest.mark.parametrize("name", list(golden.SETS))
def test_goldens_through_a_compact_index_reopened_halfway(name, tmp_path):
    docs = golden.load_docs(name)
    half = len(docs) // 2
    out = []
    for part in (docs[:half], docs[half:]):
        with CompactIndex(tmp_path / "idx") as index:
            d = dedup.Deduplicator(index=index, batch_paragraphs=997)
            out += _decisions(d.dedupe_many([x["text"] for x in part], [x["doc_id"] for x in part]))
    assert _as_json(out) == golden.load_golden(name)["corpus"]


def test_reopen_replays_and_reads_nothing_past_the_last_batch(tmp_path):
    texts = [f"Paragraph {i} has words enough of its own to count.\n\nShared closing words, long enough." for i in range(50)]
    with CompactIndex(tmp_path / "idx") as index:
        first = [r.text for r in dedup.Deduplicator(index=index).dedupe_many(texts, range(50))]
    meta = (tmp_path / "idx" / "meta.json").read_bytes()
    with CompactIndex(tmp_path / "idx") as index:  # a batch written, then "crash" before its metadata
        index._publish = lambda: None  # type: ignore[method-assign]
        dedup.Deduplicator(index=index).dedupe_many(["Another paragraph, long enough to be kept here."], ["x"])
    assert (tmp_path / "idx" / "meta.json").read_bytes() == meta
    with CompactIndex(tmp_path / "idx") as index:
        assert len(index) == 100 and index.info()["documents"] == 50
        d = dedup.Deduplicator(index=index)
        assert [r.text for r in d.dedupe_many(texts, range(50))] == first and d.stats.documents_replayed == 50
        assert d.dedupe("A new paragraph after the crash, with words enough.", "y").text != ""
    with CompactIndex(tmp_path / "idx") as index:  # the batch after the crash is there, in order
        assert index.info()["documents"] == 51 and index.document("y") == (100, 1) and index.document("x") is None


def test_read_only_changes_no_file_and_open_index_takes_a_directory(tmp_path):
    texts = ["A paragraph with words enough to be indexed here.", "Another one, also long enough to count."]
    index = dedup.open_index(str(tmp_path / "idx") + "/")
    assert isinstance(index, CompactIndex)
    dedup.Deduplicator(index=index).dedupe_many(texts, ["a", "b"])
    index.close()  # one writer at a time: the writer lock goes with it
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "idx").iterdir()}
    q = dedup.Deduplicator(index=str(tmp_path / "idx"), read_only=True)
    assert q.dedupe(texts[0] + "\n\nnew words, long enough to be a paragraph.", "c").removed[0].matched_doc_id == "a"
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "idx").iterdir()} == digests
    with pytest.raises(dedup.IndexMismatchError):
        dedup.Deduplicator(index=str(tmp_path / "idx"), threshold=0.9)


def test_bad_directories_are_clear_errors(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(dedup.DedupError, match="other files"):
        CompactIndex(tmp_path / "other")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text("{not json")
    with pytest.raises(dedup.DedupError, match="unreadable index metadata"):
        CompactIndex(tmp_path / "bad")
    with pytest.raises(dedup.DedupError, match="no index there"):
        CompactIndex(tmp_path / "missing", read_only=True)
    assert not os.path.exists(tmp_path / "missing")


def test_cli_index_directory(tmp_path):
    from dedup.cli import main
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": "The same paragraph in every record, long enough."}) + "\n"
                           for i in range(3)))
    assert main([str(src), "--id-field", "id", "--index", str(tmp_path / "idx") + "/", "-o", str(tmp_path / "o.jsonl"),
                 "-q"]) == 0
    assert [json.loads(x)["text"] for x in (tmp_path / "o.jsonl").read_text().splitlines()] == [
        "The same paragraph in every record, long enough.", "", ""]


def test_index_info_reads_a_compact_index(tmp_path):
    import io
    from dedup.cli.index import main as index_main
    with CompactIndex(tmp_path / "idx") as index:
        dedup.Deduplicator(index=index).dedupe("A paragraph with words enough to be indexed here.", "a")
    out = io.StringIO()
    assert index_main(["info", str(tmp_path / "idx"), "--json"], stdout=out) == 0
    info = json.loads(out.getvalue())
    assert info["paragraphs"] == 1 and info["documents"] == 1


# -- damage, half-created indexes, disk space (issue 23) ------------------------------------

_TEXTS = [f"Paragraph {i} has words enough of its own to count.\n\nShared closing words, long enough to count as one."
          for i in range(40)]


def _built(tmp_path):
    where = tmp_path / "idx"
    with CompactIndex(where) as index:
        dedup.Deduplicator(index=index, batch_paragraphs=16).dedupe_many(_TEXTS, range(len(_TEXTS)))
    return where


def _one_line_refusal(where, *parts):
    """Opening for writing, for reading, ``dedup index info`` and ``dedup`` all refuse in one line."""
    import io
    from dedup.cli.index import main as index_main
    for read_only in (False, True):
        with pytest.raises(dedup.DedupError) as caught:
            CompactIndex(where, read_only=read_only)
        assert all(p in str(caught.value) for p in parts), caught.value
    err = io.StringIO()
    assert index_main(["info", str(where)], stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue().count("\n") == 1 and all(p in err.getvalue() for p in parts), err.getvalue()


@pytest.mark.parametrize("name", ["hashes.bin", "set_keys.bin", "bands.keys", "documents.jsonl"])
def test_a_truncated_data_file_is_refused(tmp_path, name):
    where = _built(tmp_path)
    used = json.loads((where / "meta.json").read_text())["files"][name]  # files are allocated ahead of use
    os.truncate(where / name, used // 3)
    _one_line_refusal(where, name, "truncated")


def test_damaged_metadata_and_documents_are_one_line_errors(tmp_path):
    where = _built(tmp_path)
    meta = json.loads((where / "meta.json").read_text())
    meta["sizes"]["hashes"] -= 1  # a changed number: the checksum no longer matches
    (where / "meta.json").write_text(json.dumps(meta))
    _one_line_refusal(where, "meta.json", "checksum")
    (where / "meta.json").write_text("[1, 2]")
    _one_line_refusal(where, "meta.json", "not a JSON object")

    where = _built(tmp_path / "b")
    (where / "documents.jsonl").unlink()
    _one_line_refusal(where, "documents.jsonl", "missing")

    where = _built(tmp_path / "c")
    lines = (where / "documents.jsonl").read_bytes().split(b"\n")
    lines[3] = b"#" * len(lines[3])  # same length: only the line itself tells
    (where / "documents.jsonl").write_bytes(b"\n".join(lines))
    _one_line_refusal(where, "documents.jsonl:4", "damaged document line")


def test_an_index_whose_creation_was_cut_short_is_created_again(tmp_path):
    where = tmp_path / "idx"
    where.mkdir()
    for name in ("writer.lock", "publish.lock", "hashes.bin"):
        (where / name).write_bytes(b"\0" * 10)
    (where / "meta.json.tmp").write_text('{"format": 2, "gen')  # killed while the first metadata was written
    with CompactIndex(where) as index:
        assert len(index) == 0
        results = dedup.Deduplicator(index=index).dedupe_many(_TEXTS, range(len(_TEXTS)))
    assert [r.text for r in results] == [r.text for r in dedup.Deduplicator().dedupe_many(_TEXTS, range(40))]
    assert not (where / "meta.json.tmp").exists() and CompactIndex(where, read_only=True).info()["documents"] == 40
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    (tmp_path / "mine" / "writer.lock").write_text("")
    with pytest.raises(dedup.DedupError, match="other files \\(notes.txt\\)"):
        CompactIndex(tmp_path / "mine")


def test_index_info_counts_stored_sets_as_sqlite_does(tmp_path):
    texts = _TEXTS + _TEXTS[:5]  # exact repeats store no set of their own
    infos = {}
    for spec in (str(tmp_path / "i.dedup"), str(tmp_path / "idx") + "/"):
        index = dedup.open_index(spec)
        dedup.Deduplicator(index=index).dedupe_many(texts, range(len(texts)))
        infos[spec] = index.info()
        index.close()
    sqlite, compact = infos.values()
    assert compact["stored_sets"] == sqlite["stored_sets"] == 41 < compact["paragraphs"] == sqlite["paragraphs"] == 90


def test_without_fallocate_the_space_is_taken_by_writing_zeros(tmp_path, monkeypatch):
    import errno

    from dedup.index.durability import reserve

    def unsupported(fd, offset, length):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "posix_fallocate", unsupported)
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    with open(path, "r+b") as f:
        reserve(f.fileno(), 3, 3_000_003, str(path))
    data = path.read_bytes()
    assert data[:3] == b"abc" and len(data) == 3_000_003 and not any(data[3:])
    assert os.stat(path).st_blocks * 512 >= 3_000_000  # allocated, not a sparse hole a map could fault on
    with CompactIndex(tmp_path / "idx") as index:  # and the index works the same
        got = [r.text for r in dedup.Deduplicator(index=index, batch_paragraphs=16).dedupe_many(_TEXTS, range(40))]
    assert got == [r.text for r in dedup.Deduplicator().dedupe_many(_TEXTS, range(40))]


def test_a_second_writer_of_this_process_takes_the_directory_over(tmp_path):
    """One writer per directory: opening it again in the same process (a notebook cell run twice)
    takes the writer lock over, and the first object refuses to add from then on."""
    first = CompactIndex(tmp_path / "idx")
    d = dedup.Deduplicator(index=first)
    d.dedupe_many(_TEXTS[:10], range(10))
    second = CompactIndex(tmp_path / "idx")
    with pytest.raises(dedup.DedupError, match="closed .or another one of this process"):
        d.dedupe_many(_TEXTS[10:], range(10, 40))
    assert len(second) == len(first)  # the refused batch stored nothing
    results = dedup.Deduplicator(index=second).dedupe_many(_TEXTS[10:], range(10, 40))
    second.close()
    assert [r.text for r in results] == [r.text for r in dedup.Deduplicator().dedupe_many(_TEXTS, range(40))][10:]
