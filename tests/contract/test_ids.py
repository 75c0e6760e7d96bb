"""Document ids: stable defaults (a rerun after a crash is safe), one identity on every backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from helpers import command_env

PARAS = [f"Paragraph {i} of the crawl tells its own story, with words enough to count as one." for i in range(30)]


def _corpus(path: Path) -> None:
    with open(path, "w") as f:
        for i in range(60):  # each document: two paragraphs of its own, one shared with an earlier one
            text = "\n\n".join([PARAS[i % 30], f"Document {i} alone says this, in a sentence long enough to count.",
                                f"And document {i} closes with a line of its own that is long enough too."])
            f.write(json.dumps({"text": text}) + "\n")


def _run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dedup", *args], cwd=cwd, capture_output=True, text=True,
                          env=command_env())


def test_a_rerun_from_elsewhere_with_an_absolute_path_gives_the_same_output(tmp_path):
    # Without --id-field, ids used to be "<path as typed>:<line>": a rerun with another spelling
    # of the path made new ids, and every committed document then counted as seen (emptied).
    work = tmp_path / "work"
    work.mkdir()
    _corpus(work / "in.jsonl")
    first = _run(["in.jsonl", "-o", "out1.jsonl", "--index", "seen.dedup"], cwd=work)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("warning: --index without --id-field") == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = _run([str(work / "in.jsonl"), "-o", "out2.jsonl", "--index", str(work / "seen.dedup"), "-q"],
                  cwd=elsewhere)
    assert second.returncode == 0, second.stderr
    assert (elsewhere / "out2.jsonl").read_bytes() == (work / "out1.jsonl").read_bytes()
    assert second.stderr == ""  # -q: not even the warning


@pytest.mark.parametrize("option", ["--index", "-o", "--report"])
def test_an_empty_path_is_a_usage_error(option, tmp_path):
    _corpus(tmp_path / "in.jsonl")
    proc = _run(["in.jsonl", option, ""], cwd=tmp_path)
    assert proc.returncode == 2
    assert "the path is empty" in proc.stderr and proc.stderr.count("\n") == 1


def test_one_identity_for_ids_on_every_backend(tmp_path):
    from dedup.index.doc_ids import encode_doc_id
    assert encode_doc_id(1) == encode_doc_id(True) == encode_doc_id(1.0) != encode_doc_id("1")
    assert encode_doc_id(1.5) != encode_doc_id(1)
    docs = [(1, PARAS[0]), (True, PARAS[0] + "\n\n" + PARAS[1]), (1.0, PARAS[2]), ("1", PARAS[0])]
    outputs = []
    for index in (None, dedup.SqliteIndex(tmp_path / "ids.dedup")):
        d = dedup.Deduplicator(index=index)
        outputs.append([d.dedupe(text, doc_id=doc_id).text for doc_id, text in docs])
        if index is not None:
            index.close()
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_ids_are_refused_by_a_persistent_index(bad, tmp_path):
    with dedup.SqliteIndex(tmp_path / "x.dedup") as index:
        d = dedup.Deduplicator(index=index)
        with pytest.raises(dedup.InputTypeError, match="finite"):
            d.dedupe(PARAS[0], doc_id=bad)


def test_a_lone_surrogate_id_works_with_an_sqlite_index(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "\\ud800", "text": "%s"}\n{"id": "b\\udfff", "text": "%s"}\n' % (PARAS[0], PARAS[0]))
    for run in range(2):
        proc = _run(["in.jsonl", "--id-field", "id", "--index", "x.dedup", "-o", f"out{run}.jsonl",
                     "--report", f"r{run}.jsonl"], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out0.jsonl").read_bytes() == (tmp_path / "out1.jsonl").read_bytes()  # a rerun replays


def test_bad_id_values_and_huge_integers_are_rejected_records(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = ['{"id": NaN, "text": "x"}', '{"id": Infinity, "text": "x"}', '{"id": 1, "n": %s, "text": "x"}' % ("7" * 5000),
             '{"id": 2, "text": "fine"}']
    src.write_text("\n".join(lines) + "\n")
    proc = _run(["in.jsonl", "--id-field", "id", "--on-error", "skip", "--rejects", "rej.jsonl", "-o", "out.jsonl",
                 "--stats"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len((tmp_path / "rej.jsonl").read_text().splitlines()) == 3
    assert (tmp_path / "out.jsonl").read_text() == '{"id": 2, "text": "fine"}\n'
    stop = _run(["in.jsonl", "--id-field", "id", "-o", "out2.jsonl"], cwd=tmp_path)
    assert stop.returncode == 1 and stop.stderr.count("\n") == 1 and "in.jsonl:1:" in stop.stderr


def test_crlf_input_keeps_crlf_on_changed_records(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"text": PARAS[0]}, {"text": PARAS[0] + "\n\n" + PARAS[1]}, {"text": PARAS[2]}]
    src.write_bytes(b"".join(json.dumps(r).encode() + b"\r\n" for r in rows))
    proc = _run(["in.jsonl", "-o", "out.jsonl", "-q"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = (tmp_path / "out.jsonl").read_bytes()
    assert out.count(b"\r\n") == 3 and out.count(b"\n") == 3
    assert json.loads(out.splitlines()[1])["text"] == PARAS[1]


def test_a_known_id_replays_only_with_the_same_text_and_replays_are_counted(tmp_path):
    d = dedup.Deduplicator()
    page = PARAS[0] + "\n\n" + PARAS[1]
    assert d.dedupe(page, doc_id="https://a").text == page
    assert d.dedupe(page, doc_id="https://a").text == page  # a rerun: the first run's decisions
    assert d.stats.documents_replayed == 1
    edited = PARAS[0] + "\n\n" + PARAS[2]  # a new version under the same id: deduplicated against all
    assert d.dedupe(edited, doc_id="https://a").text == PARAS[2]
    assert d.stats.documents_replayed == 1
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"url": "u", "text": page}) + "\n" for _ in range(2)))
    proc = _run(["in.jsonl", "--id-field", "url", "-o", "out.jsonl", "--stats"], cwd=tmp_path)
    assert proc.returncode == 0
    assert "warning: 1 documents came again under an id already in the index" in proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1])["documents_replayed"] == 1
