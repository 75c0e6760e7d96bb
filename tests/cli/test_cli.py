"""The dedup command: in-process runs of cli.main, plus real runs of the console script."""

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import dedup
import dedup.cli
from dedup.cli import clean as cli
from dedup.io.report import REASONS
from dedup.io.report import apply_removals
from dedup.text.assemble import assemble
from dedup.text.split import split_paragraphs
from helpers import command_env, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."
P3 = "Third paragraph: the committee will meet again next week to discuss the final budget numbers."


def read_jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def check_report(inputs, outputs, report, id_field="doc_id", text_field="text"):
    """The report accounts for every removed character: input minus reported spans = output."""
    by_doc = {}
    for line in report:
        by_doc.setdefault(line["doc_id"], []).append(line)
    assert set(by_doc) <= {r[id_field] for r in inputs}
    seen = {}
    removed_chars = 0
    exact_pairs = []
    for rec, out in zip(inputs, outputs):
        text = rec[text_field]
        starts, ends = split_paragraphs(text)
        mask = np.zeros(len(starts), dtype=bool)
        cuts = []
        for line in by_doc.get(rec[id_field], []):
            i = line["index"]
            assert text[line["start"]:line["end"]] == line["text"]
            assert line["reason"] in REASONS
            assert line["matched_doc_id"] in seen or line["matched_doc_id"] == rec[id_field]
            if line["reason"] == "inner":  # a repeated span inside kept paragraph i
                assert starts[i] <= line["matched_start"] < line["matched_end"] <= line["start"] < line["end"] <= ends[i]
                cuts.append((line["start"], line["end"]))
                continue
            assert (int(starts[i]), int(ends[i])) == (line["start"], line["end"])
            if line["reason"] == "exact":
                matched = seen.get(line["matched_doc_id"], text)
                exact_pairs.append((matched[line["matched_start"]:line["matched_end"]], line["text"]))
            mask[i] = True
        assert assemble(text, starts, ends, mask, cuts) == out[text_field]
        # the report alone replays the run: input minus every [cut_start, cut_end) = output
        assert apply_removals(text, by_doc.get(rec[id_field], [])) == out[text_field]
        removed_chars += len(text) - len(out[text_field])
        seen[rec[id_field]] = text
    if exact_pairs:  # "exact" means the same shingle set
        a = dedup.shingle_sets([m for m, _ in exact_pairs])
        b = dedup.shingle_sets([t for _, t in exact_pairs])
        assert np.array_equal(a.set_keys, b.set_keys)
    return removed_chars


@pytest.fixture(scope="module")
def debian_jsonl(tmp_path_factory, debian_docs):
    path = tmp_path_factory.mktemp("deb") / "debian.jsonl.gz"
    return write_jsonl(path, [{"doc_id": d["doc_id"], "text": d["text"], "source": d.get("source"),
                               "n": i} for i, d in enumerate(debian_docs[:150])])


def test_jsonl_output_equals_the_api_and_the_report_accounts_for_it(tmp_path, capsys, debian_jsonl):
    out, rep = tmp_path / "out.jsonl", tmp_path / "removed.jsonl"
    code, stdout, err = run([debian_jsonl, "-o", out, "--id-field", "doc_id", "--report", rep, "--stats"], capsys)
    assert code == 0 and stdout == ""
    inputs, outputs = read_jsonl(debian_jsonl), read_jsonl(out)
    api = list(dedup.dedupe_stream(inputs, id_field="doc_id"))
    assert outputs == [r.record for r in api]
    report = read_jsonl(rep)
    not_removal_fields = ("doc_id", "text", "cut_start", "cut_end")
    assert [{k: v for k, v in line.items() if k not in not_removal_fields} for line in report] == \
        [x.to_dict() for r in api for x in r.removed]
    removed_chars = check_report(inputs, outputs, report)
    summary_line, stats_line = err.strip().split("\n")
    stats = json.loads(stats_line)
    whole = stats["paragraphs_removed"] - stats["removed_by_reason"]["inner"]
    assert summary_line.startswith(f"dedup: 150 documents, {stats['paragraphs']:,} paragraphs: "
                                   f"{whole:,} paragraphs removed")
    assert sum(stats["removed_by_reason"].values()) == stats["paragraphs_removed"]
    assert stats["records_in"] == stats["records_out"] == stats["documents"] == 150
    assert stats["paragraphs_removed"] == len(report) > 0
    assert stats["bytes_removed"] == sum(len(i["text"].encode()) - len(o["text"].encode())
                                         for i, o in zip(inputs, outputs))
    assert removed_chars == sum(len(i["text"]) - len(o["text"]) for i, o in zip(inputs, outputs)) > 0
    assert stats["scope"] == "corpus" and stats["documents_per_second"] > 0


def test_unchanged_records_are_written_back_byte_for_byte(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "%s",  "n": 1.50}\n{"n": 2, "text": "%s"}\n' % (P1.encode(), P1.encode()))
    code, _, _ = run([src, "-o", tmp_path / "out.jsonl", "-q"], capsys)
    lines = (tmp_path / "out.jsonl").read_bytes().split(b"\n")
    assert code == 0 and lines[0] == src.read_bytes().split(b"\n")[0]
    assert json.loads(lines[1]) == {"n": 2, "text": ""}


def test_default_doc_ids_are_file_and_line(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P2}, {"text": f"{P3}\n\n{P1}"}])
    code, _, _ = run([src, "-o", tmp_path / "o.jsonl", "--report", tmp_path / "r.jsonl", "-q"], capsys)
    (line,) = read_jsonl(tmp_path / "r.jsonl")
    assert code == 0 and (line["doc_id"], line["matched_doc_id"]) == (f"{src}:3", f"{src}:1")
    assert line["text"] == P1 and (line["index"], line["matched_index"]) == (1, 0)


def test_scope_threshold_num_perm_reach_the_config(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P1}])
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--scope", "document", "--threshold", "0.9",
                        "--num-perm", "64", "--stats", "-q"], capsys)
    stats = json.loads(err)
    assert code == 0 and (stats["scope"], stats["threshold"], stats["num_perm"]) == ("document", 0.9, 64)
    assert stats["bands"] * stats["rows"] <= 64
    assert [r["text"] for r in read_jsonl(tmp_path / "o.jsonl")] == [P1, P1]
    run([src, "-o", tmp_path / "o.jsonl", "-q"], capsys)
    assert [r["text"] for r in read_jsonl(tmp_path / "o.jsonl")] == [P1, ""]


def test_min_tokens_and_granularity_reach_the_config(tmp_path, capsys):
    s1 = "The board approved the annual budget after a long debate on Tuesday evening."
    s2 = "Members also discussed the new library opening hours for the winter season."
    text = f"{s1} {s2}\n\nIn other news, {s2[0].lower()}{s2[1:]} {s1}\n"
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": text}])
    code, _, _ = run([src, "-o", tmp_path / "o.jsonl", "--granularity", "sentence", "-q"], capsys)
    assert code == 0
    assert [r["text"] for r in read_jsonl(tmp_path / "o.jsonl")] == [
        f"{s1} {s2}\n\nIn other news, {s2[0].lower()}{s2[1:]}\n"]
    run([src, "-o", tmp_path / "o.jsonl", "--granularity", "sentence", "--min-tokens", "100", "-q"], capsys)
    assert [r["text"] for r in read_jsonl(tmp_path / "o.jsonl")] == [text]  # sentences too short alone
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--min-tokens", "-1"], capsys)
    assert code != 0 and "min_tokens" in err


def test_text_file_to_stdout_keeps_bytes(tmp_path, capsysbinary, seed_text):
    src = tmp_path / "seed.txt"
    src.write_bytes(seed_text.encode())
    assert cli.main([str(src), "-q"]) == 0
    out = capsysbinary.readouterr().out
    assert out.decode() == dedup.Deduplicator().dedupe(seed_text).text
    assert out.decode().rstrip("\n") == seed_text.split("\n")[0]
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(f"{P1}\r\n\r\n{P2}\r\n\r\n{P1}\r\n".encode())
    assert cli.main([str(crlf), "-q"]) == 0
    assert capsysbinary.readouterr().out == f"{P1}\r\n\r\n{P2}\r\n".encode()


def test_several_text_files_go_to_a_directory_or_to_jsonl(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    a, b = tmp_path / "in" / "a.txt", tmp_path / "in" / "b.md"
    a.write_text(f"{P1}\n\n{P2}\n")
    b.write_text(f"{P3}\n\n{P1}\n")
    code, _, _ = run([a, b, "-o", f"{tmp_path / 'out'}/", "-q"], capsys)
    assert code == 0 and sorted(os.listdir(tmp_path / "out")) == ["a.txt", "b.md"]
    assert (tmp_path / "out" / "b.md").read_text() == f"{P3}\n"
    code, _, _ = run([a, b, "-o", tmp_path / "docs.jsonl", "-q"], capsys)
    assert code == 0 and read_jsonl(tmp_path / "docs.jsonl") == [
        {"id": str(a), "text": f"{P1}\n\n{P2}\n"}, {"id": str(b), "text": f"{P3}\n"}]
    code, _, err = run([a, b], capsys)
    assert code == 2 and "several text inputs need -o DIRECTORY" in err


def test_gzip_in_and_out(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl.gz", [{"text": P1}, {"text": P1}])
    code, _, _ = run([src, "-o", tmp_path / "o.jsonl.gz", "-q"], capsys)
    assert code == 0 and read_jsonl(tmp_path / "o.jsonl.gz") == [{"text": P1}, {"text": ""}]


def test_parquet_in_and_out(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": pa.array([1, 2], pa.int16()), "body": [P1, f"{P2}\n\n{P1}"]})
    pq.write_table(table, tmp_path / "in.parquet")
    code, _, _ = run([tmp_path / "in.parquet", "-o", tmp_path / "out.parquet", "--text-field", "body",
                      "--id-field", "id", "--report", tmp_path / "r.jsonl", "-q"], capsys)
    back = pq.read_table(tmp_path / "out.parquet")
    assert code == 0 and back.schema.equals(table.schema)
    assert back.to_pylist() == [{"id": 1, "body": P1}, {"id": 2, "body": P2}]
    assert read_jsonl(tmp_path / "r.jsonl")[0]["matched_doc_id"] == 1
    code, _, _ = run([tmp_path / "in.parquet", "-o", tmp_path / "out.jsonl", "--text-field", "body", "-q"], capsys)
    assert code == 0 and read_jsonl(tmp_path / "out.jsonl") == [{"id": 1, "body": P1}, {"id": 2, "body": P2}]


def test_format_option_overrides_the_suffix(tmp_path, capsys):
    src = write_jsonl(tmp_path / "records.txt", [{"text": P1}, {"text": P1}])
    code, _, _ = run([src, "--format", "jsonl", "-o", tmp_path / "o.jsonl", "-q"], capsys)
    assert code == 0 and read_jsonl(tmp_path / "o.jsonl") == [{"text": P1}, {"text": ""}]


def test_drop_empty_leaves_out_emptied_records(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P1}, {"text": ""}, {"text": P2}])
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--drop-empty", "--stats", "-q"], capsys)
    stats = json.loads(err)
    assert code == 0 and read_jsonl(tmp_path / "o.jsonl") == [{"text": P1}, {"text": ""}, {"text": P2}]
    assert (stats["records_in"], stats["records_out"], stats["records_dropped"], stats["documents_emptied"]) == \
        (4, 3, 1, 1)


BAD_LINES = [
    (b'{"text": "unterminated', "malformed JSON at column 23: Invalid control character"),
    (b'{"body": "no text field"}', "no field 'text' (fields: 'body'; name the text field with --text-field)"),
    (b'{"text": null}', "field 'text' must be a string, got null"),
    (b'{"text": 42}', "field 'text' must be a string, got number"),
    (b'{"text": ["a", "list"]}', "field 'text' must be a string, got array"),
    (b'{"text": "caf\xe9"}', "invalid UTF-8 at byte 14 of the line"),
]


@pytest.mark.parametrize("bad, message", BAD_LINES)
def test_bad_record_stops_with_file_and_line(tmp_path, capsys, bad, message):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "fine"}\n\n' + bad + b'\n{"text": "fine too"}\n')
    out = tmp_path / "out.jsonl"
    code, _, err = run([src, "-o", out, "--report", tmp_path / "r.jsonl"], capsys)
    assert code == 1
    assert err == f"dedup: error: {src}:3: {message}\n"
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]  # no output, no report, no temp file left


def test_skip_writes_raw_rejects_and_counts_add_up(tmp_path, capsys):
    good = [json.dumps({"text": t}).encode() for t in (P1, P2, P1, P3)]
    lines = [good[0], BAD_LINES[0][0], good[1], BAD_LINES[5][0], BAD_LINES[2][0], good[2], good[3]]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--on-error", "skip", "--rejects", tmp_path / "rej.jsonl",
                        "--stats"], capsys)
    assert code == 0
    assert (tmp_path / "rej.jsonl").read_bytes() == b"".join(x + b"\n" for x in lines[1:5] if x not in good)
    stats = json.loads(err.strip().split("\n")[-1])
    out = read_jsonl(tmp_path / "o.jsonl")
    assert (stats["records_in"], stats["records_out"], stats["records_rejected"]) == (7, 4, 3)
    assert stats["records_in"] == len(out) + stats["records_rejected"]
    assert [r["text"] for r in out] == [P1, P2, "", P3]
    assert f"dedup: warning: {src}:2: malformed JSON at column 23" in err and "3 records rejected" in err


def test_skip_warnings_are_capped(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"not json\n" * 25 + b'{"text": "ok"}\n')
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--on-error", "skip"], capsys)
    assert code == 0 and err.count("dedup: warning:") == cli.MAX_REJECT_WARNINGS + 1 and "25 records rejected" in err


@pytest.mark.parametrize("argv, message", [
    (["--threshold", "1.5"], "threshold must be <= 1.0, got 1.5"),
    (["--num-perm", "1"], "num_perm must be >= 2"),
    (["--scope", "everything"], "argument --scope: invalid choice"),
    (["--on-error", "ignore"], "argument --on-error: invalid choice"),
    (["--rejects", "r.jsonl"], "--rejects needs --on-error skip"),
    (["--index", "x.db", "--scope", "document"], "--index needs --scope corpus"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_usage_errors_exit_2(tmp_path, capsys, argv, message):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}])
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", *argv], capsys)
    assert code == 2 and message in err and "dedup: error:" in err
    assert not (tmp_path / "o.jsonl").exists()


def test_refuses_to_write_over_an_input(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}])
    before = src.read_bytes()
    for argv in (["-o", src], ["-o", tmp_path / "." / "in.jsonl"], ["-o", tmp_path / "o.jsonl", "--report", src]):
        code, _, err = run([src, *argv], capsys)
        assert code == 2 and "refusing to write the" in err and "over the input" in err
    os.symlink(src, tmp_path / "link.jsonl")
    code, _, err = run([src, "-o", tmp_path / "link.jsonl"], capsys)
    assert code == 2 and src.read_bytes() == before
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--report", tmp_path / "o.jsonl"], capsys)
    assert code == 2 and "are the same file" in err


def test_output_in_a_missing_directory(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}])
    code, _, err = run([src, "-o", tmp_path / "nope" / "o.jsonl"], capsys)
    assert code == 2 and "is in a directory that does not exist" in err


def test_interrupted_run_leaves_no_output(tmp_path, capsys, monkeypatch):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": f"{P1} {i}"} for i in range(50)])
    real = cli.pair_results

    def interrupted(*args):
        for n, pair in enumerate(real(*args)):
            if n == 20:
                raise KeyboardInterrupt
            yield pair

    monkeypatch.setattr(cli, "pair_results", interrupted)
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "--report", tmp_path / "r.jsonl"], capsys)
    assert code == 130 and err == "dedup: error: interrupted\n"
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


def test_missing_input_is_a_runtime_error(tmp_path, capsys):
    code, _, err = run([tmp_path / "nope.jsonl"], capsys)
    assert code == 1 and err == f"dedup: error: {tmp_path / 'nope.jsonl'}: no such file\n"


def test_empty_and_blank_inputs(tmp_path, capsys):
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "b.jsonl").write_bytes(b"\n \n\t\n")
    (tmp_path / "e.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_bytes(b"\n\n   \n")
    for name, expected in (("e.jsonl", b""), ("b.jsonl", b""), ("e.txt", b""), ("b.txt", b"\n\n   \n")):
        out = tmp_path / f"out-{name}"
        code, _, err = run([tmp_path / name, "-o", out, "--stats", "-q"], capsys)
        assert code == 0 and out.read_bytes() == expected
        assert json.loads(err)["records_rejected"] == 0


def test_quiet_is_silent_and_default_prints_one_summary(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P1}])
    code, _, err = run([src, "-o", tmp_path / "o.jsonl", "-q"], capsys)
    assert code == 0 and err == ""
    code, _, err = run([src, "-o", tmp_path / "o.jsonl"], capsys)
    assert err.count("\n") == 1 and "2 documents, 2 paragraphs: 1 paragraph removed (50.0%: 1 exact)" in err
    assert "; 1 document emptied;" in err and "rejected" not in err and "documents/s" in err and "MB/s" in err


def test_progress_bar_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}] * 3)

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert cli.main([str(src), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert "3 docs, 66.7% removed" in tty.getvalue() and "100%|" in tty.getvalue()
    tty.seek(0), tty.truncate()
    assert cli.main([str(src), "-o", str(tmp_path / "o.jsonl"), "--quiet"]) == 0
    assert tty.getvalue() == ""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # not installed: no bar, still a summary
    assert cli.main([str(src), "-o", str(tmp_path / "o.jsonl")]) == 0
    assert "documents/s" in tty.getvalue() and "%|" not in tty.getvalue() and "\r" not in tty.getvalue()


def test_index_option_opens_the_named_index(tmp_path, capsys, monkeypatch):
    calls = []
    shared = dedup.MemoryIndex()

    def fake_open_index(spec, config):
        calls.append((spec, config.scope))
        return shared

    monkeypatch.setattr(cli, "open_index", fake_open_index)
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": P1}])
    src2 = write_jsonl(tmp_path / "in2.jsonl", [{"id": "b", "text": f"{P2}\n\n{P1}"}])
    assert run([src, "-o", tmp_path / "o.jsonl", "--id-field", "id", "--index", "seen.db", "-q"], capsys)[0] == 0
    assert run([src2, "-o", tmp_path / "o2.jsonl", "--id-field", "id", "--index", "seen.db", "-q"], capsys)[0] == 0
    assert calls == [("seen.db", "corpus")] * 2
    assert read_jsonl(tmp_path / "o2.jsonl") == [{"id": "b", "text": P2}]  # P1 was seen in the earlier run


def test_persistent_index_two_runs_equal_one(tmp_path, capsys, debian_jsonl):
    if not hasattr(dedup.index, "open_index"):
        pytest.skip("this build has no persistent indexes")
    records = read_jsonl(debian_jsonl)
    first, second = write_jsonl(tmp_path / "a.jsonl", records[:80]), write_jsonl(tmp_path / "b.jsonl", records[80:])
    index = tmp_path / "seen.dedup"
    for src, out in ((first, "oa.jsonl"), (second, "ob.jsonl")):
        assert run([src, "-o", tmp_path / out, "--id-field", "doc_id", "--index", index, "-q"], capsys)[0] == 0
    assert run([debian_jsonl, "-o", tmp_path / "all.jsonl", "--id-field", "doc_id", "-q"], capsys)[0] == 0
    assert read_jsonl(tmp_path / "oa.jsonl") + read_jsonl(tmp_path / "ob.jsonl") == read_jsonl(tmp_path / "all.jsonl")
    # the same input again: the index replays its decisions (output unchanged)
    assert run([first, "-o", tmp_path / "oa2.jsonl", "--id-field", "doc_id", "--index", index, "-q"], capsys)[0] == 0
    assert (tmp_path / "oa2.jsonl").read_bytes() == (tmp_path / "oa.jsonl").read_bytes()
    code, _, err = run([first, "-o", tmp_path / "oa3.jsonl", "--index", index, "--threshold", "0.9"], capsys)
    assert code == 1 and err.count("\n") == 1 and "built with" in err and "now bands=12, rows=10, threshold=0.9" in err


SUBCOMMANDS = sorted((name, module) for name, (module, _) in dedup.cli.COMMANDS.items())


@pytest.mark.parametrize("name, module", SUBCOMMANDS)
def test_subcommands_are_dispatched(capsys, monkeypatch, name, module):
    seen = []
    fake = types.ModuleType(module)
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, module, fake)
    assert dedup.cli.main([name, "info", "x.db"]) == 3 and seen == [["info", "x.db"]]


def test_clean_is_the_default_command(monkeypatch):
    seen = []
    fake = types.ModuleType("dedup.cli.clean")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "dedup.cli.clean", fake)
    assert dedup.cli.main(["in.jsonl", "-q"]) == 0 and dedup.cli.main(["clean", "x"]) == 0
    assert seen == [["in.jsonl", "-q"], ["x"]]


@pytest.mark.parametrize("name, module", SUBCOMMANDS)
def test_subcommand_when_missing(capsys, monkeypatch, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if absent
    code = dedup.cli.main([name, "info"])
    err = capsys.readouterr().err
    assert code == 2 and f"the '{name}' sub-command is not available in this build" in err


def test_help_lists_the_commands(capsys):
    assert dedup.cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n  {name} " in out for name in dedup.cli.COMMANDS)


def test_help_and_version(capsys):
    assert cli.main(["--help"]) == 0 and "--on-error" in capsys.readouterr().out
    assert cli.main(["--version"]) == 0 and capsys.readouterr().out.startswith("dedup ")
    assert cli.main([]) == 2 and "the following arguments are required: INPUT" in capsys.readouterr().err



# -- real processes -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def both_sets_jsonl(tmp_path_factory, debian_docs, kjv_docs):
    path = tmp_path_factory.mktemp("both") / "docs.jsonl"
    return write_jsonl(path, [{"doc_id": d["doc_id"], "text": d["text"], "is_doc_repeat": d.get("is_doc_repeat")}
                              for d in debian_docs + kjv_docs])


@pytest.fixture(scope="module")
def both_sets_api(both_sets_jsonl):
    inputs = read_jsonl(both_sets_jsonl)
    return inputs, list(dedup.dedupe_stream(inputs, id_field="doc_id"))


@pytest.mark.parametrize("command", ["console-script", "python-m"])
def test_real_process_on_both_document_sets(tmp_path, both_sets_jsonl, both_sets_api, command):
    if command == "console-script":
        exe = shutil.which("dedup")
        if exe is None:
            pytest.skip("the dedup console script is not installed (pip install -e .)")
        prefix = [exe]
    else:
        prefix = [sys.executable, "-m", "dedup"]
    out, rep = tmp_path / "clean.jsonl.gz", tmp_path / "removed.jsonl"
    proc = subprocess.run(prefix + [str(both_sets_jsonl), "-o", str(out), "--id-field", "doc_id",
                                    "--report", str(rep), "--stats"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    inputs, api = both_sets_api
    outputs, report = read_jsonl(out), read_jsonl(rep)
    assert outputs == [r.record for r in api]
    check_report(inputs, outputs, report)
    stats = json.loads(proc.stderr.strip().split("\n")[-1])
    assert stats["records_in"] == stats["records_out"] == len(inputs) == 390 + 1189
    assert stats["paragraphs"] == 7942 + 31102
    assert stats["paragraphs_removed"] == len(report) == sum(len(r.removed) for r in api)
    assert stats["bytes_removed"] == sum(len(i["text"].encode()) - len(o["text"].encode())
                                         for i, o in zip(inputs, outputs))


def test_real_process_stdin_to_stdout_and_errors(tmp_path):
    data = (json.dumps({"text": P1}) + "\n" + json.dumps({"text": f"{P2}\n\n{P1}"}) + "\n").encode()
    proc = subprocess.run([sys.executable, "-m", "dedup", "-", "-q"], input=data, capture_output=True,
                          env=command_env(), timeout=120)
    assert proc.returncode == 0 and proc.stderr == b""
    assert [json.loads(x) for x in proc.stdout.splitlines()] == [{"text": P1}, {"text": P2}]
    proc = subprocess.run([sys.executable, "-m", "dedup", "-"], input=data + b"{oops\n", capture_output=True,
                          env=command_env(), timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("dedup: error: <stdin>:3: malformed JSON")
    proc = subprocess.run([sys.executable, "-m", "dedup", "-", "--threshold", "2"], input=data,
                          capture_output=True, env=command_env(), timeout=120)
    assert proc.returncode == 2 and proc.stderr.decode().count("\n") == 1


def test_real_process_terminated_leaves_no_files(tmp_path):
    """SIGTERM mid-run (blocked on stdin): exit 130, and neither output nor temporary file remains."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "dedup", "-", "-o", str(tmp_path / "out.jsonl"),
                             "--report", str(tmp_path / "r.jsonl")],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env())
    proc.stdin.write((json.dumps({"text": P1}) + "\n").encode() * 3)
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".r.jsonl.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.jsonl.*.tmp")), "the run did not start"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.decode().endswith("dedup: error: interrupted\n")
    assert list(tmp_path.iterdir()) == []


#: The console script as pip writes it, with Ctrl-C arriving as ``module`` is first imported.
_CTRL_C_WHILE_IMPORTING = """
import sys
class CtrlC:
    def __init__(self, module):
        self.module = module
    def find_spec(self, name, path=None, target=None):
        if name == self.module:
            sys.meta_path.remove(self)
            raise KeyboardInterrupt
sys.meta_path.insert(0, CtrlC(sys.argv.pop(1)))
from dedup.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


@pytest.mark.parametrize("module, argv, prog", [
    ("numpy", [], "dedup"), ("dedup.deduplicator", [], "dedup"), ("dedup.cli.clean", [], "dedup"),
    ("dedup.check", ["check"], "dedup check"), ("dedup.index.open", ["index", "info"], "dedup index")])
def test_ctrl_c_while_dedup_is_still_importing_is_one_line_and_exit_130(tmp_path, module, argv, prog):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": P1}) + "\n")
    args = {"dedup": [str(src)], "dedup check": [str(src), "--against", str(src)],
            "dedup index": [str(tmp_path / "x.dedup")]}[prog]
    proc = subprocess.run([sys.executable, "-c", _CTRL_C_WHILE_IMPORTING, module, *argv, *args],
                          capture_output=True, env=command_env(), timeout=120)
    assert proc.returncode == 130 and proc.stderr.decode() == f"{prog}: error: interrupted\n", proc.stderr.decode()


@pytest.mark.slow
def test_a_100_mb_record(tmp_path, kjv_docs):
    """One record of ~100 MB (the KJV 24 times over, a chapter per paragraph): handled, and
    every copy after the first removed."""
    bible = "\n\n".join(d["text"].replace("\n", " ").strip() for d in kjv_docs)
    copies = 100_000_000 // len(bible.encode()) + 1
    text = "\n\n".join([bible] * copies)
    src = tmp_path / "big.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "big", "text": text}) + "\n")
    assert src.stat().st_size >= 100_000_000
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "dedup", str(src), "-o", str(out), "--stats", "-q"],
                          capture_output=True, text=True, env=command_env(), timeout=1200)
    assert proc.returncode == 0, proc.stderr
    (record,) = read_jsonl(out)
    assert record["text"] == dedup.Deduplicator().dedupe(bible).text
    stats = json.loads(proc.stderr)
    assert stats["records_in"] == stats["records_out"] == 1 and stats["paragraphs"] == copies * len(kjv_docs)


def test_a_json_array_file_is_named_as_not_json_lines(tmp_path, capsys):
    src = tmp_path / "export.json"
    src.write_text('[{"text": "a"}, {"text": "b"}]\n', encoding="utf-8")
    code, _, err = run([src], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "export.json:1: expected a JSON object, got array (input must be JSON Lines" in err


def test_ctrl_c_inside_a_compiled_call_is_one_line_and_exit_130(capsys):
    """numba's dispatcher returns with the KeyboardInterrupt a signal set during its call and
    Python raises SystemError from it: still an interruption, not a traceback."""
    import argparse

    from dedup.cli.options import run_command

    def run(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(...) returned a result with an exception set") from exc

    assert run_command("dedup", argparse.ArgumentParser(), run, []) == 130
    assert capsys.readouterr().err == "dedup: error: interrupted\n"

    def broken(args):
        raise SystemError("something else")

    with pytest.raises(SystemError):
        run_command("dedup", argparse.ArgumentParser(), broken, [])
