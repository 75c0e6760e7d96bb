"""The ``dedup`` command as a step of a pipeline (issue 25), run as a user runs it: the
installed console script in a real process."""

from __future__ import annotations

import gzip
import json
import re
import subprocess

from helpers import command_env, dedup_exe, write_jsonl

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."


# -- a closed pipe ------------------------------------------------------------------------------

def test_a_closed_pipe_ends_the_run_quietly_with_141(tmp_path):
    """`dedup big.jsonl.gz | head -c 10`: nothing on stderr, the status of a process killed by
    SIGPIPE (141), which scripts can tell from an error (1); no report is published."""
    src = write_jsonl(tmp_path / "big.jsonl.gz", [{"id": i, "text": f"Document {i} has words of its own, "
                                                   f"enough of them to make a paragraph. {P1}"} for i in range(20_000)])
    proc = subprocess.Popen([dedup_exe(), str(src), "--report", str(tmp_path / "r.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env())
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert err == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl.gz"]


def test_a_closed_pipe_in_a_shell_pipeline(tmp_path):
    src = write_jsonl(tmp_path / "big.jsonl", [{"text": f"{P1} {i}\n\n{P2} {i}"} for i in range(20_000)])
    done = subprocess.run(["bash", "-c", f"'{dedup_exe()}' '{src}' | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.stdout.strip() == "141" and done.stderr == ""


# -- what the library says: log levels, the first run's kernel build ----------------------------

def _kernel_cache_built() -> bool:
    from dedup.accel import jit

    return jit.jit_available() and jit.cache_built()


def test_log_level_shows_the_library_messages(tmp_path):
    from dedup.accel import native

    if native.core() is None:  # no compiled engine: numba's kernels say they loaded instead
        import pytest

        if not _kernel_cache_built():
            pytest.skip("needs the compiled engine or numba's kernel cache built (python -m dedup.warmup)")
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P2}])
    env = {"DEDUP_JIT": "1"}  # the engine (or numba's kernels) load at the first batch, and say so at debug level
    quiet = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "a.jsonl")], capture_output=True,
                           text=True, env=command_env(env), timeout=300)
    assert quiet.returncode == 0 and "debug" not in quiet.stderr
    loud = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "b.jsonl"), "--log-level", "debug"],
                          capture_output=True, text=True, env=command_env(env), timeout=300)
    assert loud.returncode == 0
    assert ("dedup: debug: compiled engine loaded" if native.core() else "dedup: debug: compiled kernels loaded") \
        in loud.stderr
    bad = subprocess.run([dedup_exe(), str(src), "--log-level", "loud"], capture_output=True, text=True,
                         env=command_env(), timeout=300)
    assert bad.returncode == 2 and "--log-level" in bad.stderr


def test_a_first_run_says_it_builds_the_kernels_in_the_background(tmp_path):
    """On the numba path (no compiled engine), with an empty kernel cache, the run that starts the
    background build says so in one line (and how to build ahead); -q keeps it quiet."""
    import os
    import signal

    import pytest
    from dedup.accel import jit

    if not jit.jit_available():
        pytest.skip("numba not installed")
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "\n\n".join(f"Paragraph {i}.{k} says its own thing "
                                                                    f"in words {i} {k}." for k in range(30))}
                                              for i in range(800)])  # 24,000 paragraphs: past the warm-up
    for quiet, cache in ((False, tmp_path / "cache-a"), (True, tmp_path / "cache-b")):
        cache.mkdir()
        env = {k: v for k, v in command_env().items() if k != "DEDUP_JIT"}
        env["NUMBA_CACHE_DIR"] = str(cache)
        env["DEDUP_NATIVE"] = "0"  # the compiled engine needs no kernels: numba is the fallback's
        try:
            done = subprocess.run([dedup_exe(), str(src), "-o", os.devnull] + (["-q"] if quiet else []),
                                  capture_output=True, text=True, env=env, timeout=300)
        finally:
            for lock in cache.rglob("dedup-kernels.building"):  # stop the build this run started
                try:
                    os.killpg(int(lock.read_text() or "0"), signal.SIGKILL)
                except (ValueError, ProcessLookupError, PermissionError):
                    pass
        assert done.returncode == 0, done.stderr
        notes = [line for line in done.stderr.splitlines() if "in the background" in line]
        if quiet:
            assert notes == []
        else:
            assert len(notes) == 1 and notes[0].startswith("dedup: info: first run: building the compiled kernels")
            assert "python -m dedup.warmup" in notes[0]


# -- what the run says ---------------------------------------------------------------------------

def test_the_first_thing_a_newcomer_sees_matches_the_output():
    """The README's first command: one article pasted twice into one line. The summary says a
    repeated span was cut inside the one paragraph, not that the paragraph went; one unit of bytes."""
    from helpers import ROOT

    done = subprocess.run([dedup_exe(), "examples/data/news_pasted_twice.txt"], cwd=ROOT, capture_output=True,
                          text=True, env=command_env(), timeout=300)
    assert done.returncode == 0
    (summary,) = done.stderr.splitlines()
    assert summary.startswith("dedup: 1 document, 1 paragraph: 0 paragraphs removed, 1 repeated span cut inside "
                              "paragraphs kept; 1,636 of 3,272 bytes of text removed (50.0%); ")
    assert "documents/s" in summary  # a rate: "111 documents/s" is no "1 documents"
    assert not re.search(r"(?<![\d,])1 (documents|paragraphs)\b(?!/)", summary), summary


def test_removals_are_counted_by_reason_and_stats_give_the_index_size(tmp_path):
    long = " ".join(f"word{i}" for i in range(60))
    records = [{"text": f"Features:\n\n{P1}\n\n{P2}\n\n{long}"}, {"text": f"Features:\n\n{P1}\n\n{P2}"},
               {"text": long.replace("word30", "changed")}, {"text": "Alone."}]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    done = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "out.jsonl"), "--stats", "--threshold", "0.7"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    summary, stats_line = done.stderr.splitlines()
    stats = json.loads(stats_line)
    assert stats["removed_by_reason"] == {"exact": 2, "near": 1, "run": 1, "inner": 0, "contained": 0}
    assert stats["index_entries"] == 9 and stats["index_bytes"] > 0
    assert "4 documents, 9 paragraphs: 4 paragraphs removed (44.4%: 2 exact, 1 near, 1 short in a removed run)" in summary
    assert "; 2 documents emptied;" in summary
    kb = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "out2.jsonl")] * 1, capture_output=True,
                        text=True, env=command_env(), timeout=300).stderr
    assert " of " in kb and "bytes of text removed" in kb and "MB of" not in kb  # one unit for both numbers


# -- one output per input shard ------------------------------------------------------------------

SHARED = "Every package in this archive is shipped under the terms stated in its own licence file."


def _crawl(directory, shards=3, per_shard=3):
    """``part-K.jsonl.gz`` shards of pages that share a licence paragraph."""
    directory.mkdir(exist_ok=True)
    for k in range(shards):
        write_jsonl(directory / f"part-{k}.jsonl.gz",
                    [{"url": f"https://example.org/{k}/{i}", "text": f"Page {k}.{i} opens with words of its own "
                      f"about topic {k} {i}.\n\n{SHARED}"} for i in range(per_shard)])
    return sorted(directory.iterdir())


def _read(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_shards_in_give_shards_out_with_their_names_and_reports(tmp_path):
    shards = _crawl(tmp_path / "crawl")
    done = subprocess.run([dedup_exe(), *shards, "-o", f"{tmp_path / 'clean'}/", "--report", f"{tmp_path / 'removed'}/",
                           "--id-field", "url", "-q"], capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["part-0.jsonl.gz", "part-1.jsonl.gz",
                                                                     "part-2.jsonl.gz"]
    with gzip.open(tmp_path / "clean" / "part-0.jsonl.gz", "rb") as f:  # compression kept
        first = [json.loads(line) for line in f]
    assert first[0]["text"].endswith(SHARED) and not first[1]["text"].endswith(SHARED)
    later = _read(tmp_path / "clean" / "part-2.jsonl.gz")
    assert [r["url"] for r in later] == [f"https://example.org/2/{i}" for i in range(3)]
    assert all(SHARED not in r["text"] for r in later)  # across shards: the first shard's copy counts
    reports = {p.name: _read(p) for p in (tmp_path / "removed").iterdir()}
    assert sorted(reports) == ["part-0.jsonl.gz", "part-1.jsonl.gz", "part-2.jsonl.gz"]
    assert [line["doc_id"] for line in reports["part-0.jsonl.gz"]] == ["https://example.org/0/1",
                                                                       "https://example.org/0/2"]
    assert len(reports["part-2.jsonl.gz"]) == 3


def test_shards_compression_can_be_set_and_parquet_and_empty_shards_keep_theirs(tmp_path):
    import pytest

    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    shards = _crawl(tmp_path / "crawl", shards=2)
    (tmp_path / "crawl" / "part-9.jsonl").write_text("")  # an empty shard still gets its output shard
    pq.write_table(pa.table({"text": [f"Other words.\n\n{SHARED}"]}), tmp_path / "crawl" / "z.parquet")
    inputs = shards + [tmp_path / "crawl" / "part-9.jsonl", tmp_path / "crawl" / "z.parquet"]
    done = subprocess.run([dedup_exe(), *inputs, "-o", f"{tmp_path / 'clean'}/", "--compression", "zstd", "-q"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == [
        "part-0.jsonl.zst", "part-1.jsonl.zst", "part-9.jsonl.zst", "z.parquet"]
    assert (tmp_path / "clean" / "part-0.jsonl.zst").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    assert pq.read_table(tmp_path / "clean" / "z.parquet").column("text").to_pylist() == ["Other words."]


def test_a_failed_run_adds_no_shard_and_leaves_the_existing_ones(tmp_path):
    shards = _crawl(tmp_path / "crawl")
    with gzip.open(shards[2], "at") as f:
        f.write("{not json\n")
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "part-0.jsonl.gz").write_bytes(b"yesterday's")
    (tmp_path / "clean" / "notes.txt").write_text("mine")
    done = subprocess.run([dedup_exe(), *shards, "-o", f"{tmp_path / 'clean'}/", "--report", f"{tmp_path / 'removed'}/"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 1 and "part-2.jsonl.gz:4: malformed JSON" in done.stderr
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["notes.txt", "part-0.jsonl.gz"]
    assert (tmp_path / "clean" / "part-0.jsonl.gz").read_bytes() == b"yesterday's"
    assert not (tmp_path / "removed").exists()  # the report directory it would have made is not left
    again = subprocess.run([dedup_exe(), *shards[:2], "-o", f"{tmp_path / 'clean'}/", "-q"], capture_output=True,
                           text=True, env=command_env(), timeout=300)
    assert again.returncode == 0  # files of those names are replaced (together); others stay
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["notes.txt", "part-0.jsonl.gz", "part-1.jsonl.gz"]
    assert _read(tmp_path / "clean" / "part-0.jsonl.gz")[0]["url"] == "https://example.org/0/0"


def test_two_inputs_of_one_name_are_refused_before_anything_is_read(tmp_path):
    for sub in ("a", "b"):
        _crawl(tmp_path / sub, shards=1)
    done = subprocess.run([dedup_exe(), tmp_path / "a" / "part-0.jsonl.gz", tmp_path / "b" / "part-0.jsonl.gz",
                           "-o", f"{tmp_path / 'clean'}/"], capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 2
    assert "would both write the output" in done.stderr and "distinct file names" in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "clean").exists()
    stdin = subprocess.run([dedup_exe(), "-", "-o", f"{tmp_path / 'clean'}/"], input="{}", capture_output=True,
                           text=True, env=command_env(), timeout=300)
    assert stdin.returncode == 2 and "stdin cannot go to an output directory" in stdin.stderr
    file_compression = subprocess.run([dedup_exe(), tmp_path / "a" / "part-0.jsonl.gz", "-o", tmp_path / "x.jsonl",
                                       "--compression", "gzip"], capture_output=True, text=True,
                                      env=command_env(), timeout=300)
    assert file_compression.returncode == 2 and "--compression applies to files written into a directory" \
        in file_compression.stderr


# -- progress on a terminal ----------------------------------------------------------------------

def _on_a_terminal(args, columns=0, rows=0, stdin=None):
    """Run ``dedup ARGS`` with stderr a terminal of ``columns`` x ``rows`` (0 x 0: one that
    reports no size, as some containers' do); what the terminal showed."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    with open(stdin or "/dev/null", "rb") as source:
        proc = subprocess.Popen([dedup_exe(), *map(str, args)], stdin=source, stdout=subprocess.DEVNULL,
                                stderr=slave, env=command_env())
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(timeout=300) == 0
    return shown.decode("utf-8", "replace")


def test_progress_has_a_total_percentage_and_eta_on_a_terminal_that_reports_no_size(tmp_path):
    src = write_jsonl(tmp_path / "crawl.jsonl.gz", [{"text": f"Page {i} opens with words of its own.\n\n{SHARED}"}
                                                    for i in range(3000)])
    size = src.stat().st_size
    for columns, rows in ((0, 0), (120, 40)):
        shown = _on_a_terminal([src, "-o", tmp_path / "out.jsonl"], columns, rows)
        assert "100%|" in shown, shown
        assert f"/{size / 1e3:.2f}kB [" in shown  # the total: the inputs' size on disk
        assert "<00:00" in shown  # elapsed < remaining: an ETA
        assert "3,000 docs, 50.0% removed" in shown  # and the removal rate beside it
        assert "dedup: 3,000 documents" in shown
    piped = _on_a_terminal(["-", "-o", tmp_path / "out.jsonl"], 120, 40, stdin=src)  # no size: documents counted
    assert "docs/s, 3,000 docs, 50.0% removed]" in piped and "%|" not in piped


def test_import_dedup_does_not_import_tqdm():
    done = subprocess.run(["python", "-c", "import sys, dedup; dedup.dedupe_text('x'); print('tqdm' in sys.modules)"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.stdout.strip() == "False", done.stderr


# -- emptied records -----------------------------------------------------------------------------

def test_document_granularity_drops_a_removed_document_unless_asked_to_keep_it(tmp_path):
    docs = [{"id": i, "text": f"Page {i} opens with words of its own about topic {i}.\n\n{SHARED}"} for i in range(3)]
    src = write_jsonl(tmp_path / "crawl.jsonl", docs + [dict(docs[0], id="copy")])
    out = tmp_path / "docs.jsonl"
    done = subprocess.run([dedup_exe(), src, "--granularity", "document", "-o", out, "--stats"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in _read(out)] == [0, 1, 2]  # the copy is gone, not left as "text": ""
    summary, stats = done.stderr.splitlines()
    stats = json.loads(stats)
    assert (stats["records_in"], stats["records_out"], stats["records_dropped"]) == (4, 3, 1)
    assert "1 document removed" in summary and "1 record dropped" in summary
    kept = subprocess.run([dedup_exe(), src, "--granularity", "document", "-o", out, "--keep-empty", "-q"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert kept.returncode == 0 and [r["text"] for r in _read(out)][3] == ""
    paragraphs = subprocess.run([dedup_exe(), src, "-o", out, "-q"], capture_output=True, text=True,
                                env=command_env(), timeout=300)
    assert paragraphs.returncode == 0 and len(_read(out)) == 4  # paragraph units: emptied records stay
    both = subprocess.run([dedup_exe(), src, "-o", out, "--drop-empty", "--keep-empty"], capture_output=True,
                          text=True, env=command_env(), timeout=300)
    assert both.returncode == 2 and "contradict" in both.stderr


# -- input formats: the suffix decides, --format overrides, contradictions are named ------------

def _dedup(args, **kwargs):
    return subprocess.run([dedup_exe(), *map(str, args)], capture_output=True, text=True, env=command_env(),
                          timeout=300, **kwargs)


def test_json_lines_in_a_txt_file_get_a_warning_naming_format(tmp_path):
    src = write_jsonl(tmp_path / "recs.txt", [{"url": "a", "text": P1}, {"url": "b", "text": P1}])
    done = _dedup([src, "-o", tmp_path / "out.txt"])
    assert done.returncode == 0
    warning = done.stderr.splitlines()[0]
    assert warning == (f"dedup: warning: {src}: read as one text document (its suffix .txt names no format of "
                       "records), but its lines look like JSON Lines: give --format jsonl to read them as records")
    overridden = _dedup([src, "--format", "jsonl", "-o", tmp_path / "out.jsonl"])
    assert overridden.returncode == 0 and "warning" not in overridden.stderr
    assert [json.loads(x)["text"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == [P1, ""]
    assert _dedup([src, "-q", "-o", tmp_path / "out.txt"]).stderr == ""


def test_a_binary_or_unknown_file_is_named_as_read_as_text(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    done = _dedup([binary])
    assert done.returncode == 1
    warning, error = done.stderr.splitlines()
    assert warning.startswith(f"dedup: warning: {binary}: read as one text document (its suffix .bin names no "
                              "format of records), but it is not UTF-8 text: give --format")
    assert error.startswith(f"dedup: error: {binary}:2: invalid UTF-8") and "read as one text document" in error
    parquet = tmp_path / "table.data"
    parquet.write_bytes(b"PAR1" + b"\0" * 64)
    assert "but it is Parquet: give --format parquet" in _dedup([parquet, "-o", tmp_path / "o"]).stderr
    unknown = tmp_path / "notes.dat"
    unknown.write_text(f"{P1}\n\n{P1}\n")
    done = _dedup([unknown])
    assert done.returncode == 0 and done.stdout == P1 + "\n"
    assert "its suffix .dat is not one dedup knows); give --format text to say so" in done.stderr
    plain = tmp_path / "notes.md"
    plain.write_text(f"{P1}\n")
    assert "warning" not in _dedup([plain]).stderr  # a text suffix: nothing to say


def test_csv_and_tsv_are_records_with_a_text_field(tmp_path):
    src = tmp_path / "pages.csv"
    src.write_text(f'url,body\nu1,"{P1}\n\n{P2}"\nu2,"{P2}"\nu3,"only, one\nvalue",extra\n', encoding="utf-8")
    done = _dedup([src, "--text-field", "body", "--id-field", "url", "-o", tmp_path / "clean.csv",
                   "--on-error", "skip", "--report", tmp_path / "r.jsonl"])
    assert done.returncode == 0, done.stderr
    assert f"{src}:6: 3 values for the 2 fields of the header (skipped)" in done.stderr
    import csv

    with open(tmp_path / "clean.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"url": "u1", "body": f"{P1}\n\n{P2}"}, {"url": "u2", "body": ""}]
    assert json.loads((tmp_path / "r.jsonl").read_text())["doc_id"] == "u2"
    tsv = tmp_path / "pages.tsv.gz"
    with gzip.open(tsv, "wt", encoding="utf-8") as f:
        f.write(f"id\ttext\na\t{P1}\nb\t{P1}\n")
    done = _dedup([tsv, "-o", tmp_path / "clean.jsonl", "-q"])
    assert done.returncode == 0, done.stderr
    assert [json.loads(x) for x in (tmp_path / "clean.jsonl").read_text().splitlines()] == [
        {"id": "a", "text": P1}, {"id": "b", "text": ""}]
    missing = _dedup([src, "-o", tmp_path / "x.csv"])
    assert missing.returncode == 1 and f"{src}:2: no field 'text' (fields: 'url', 'body'; name the text field " \
        "with --text-field)" in missing.stderr


# -- the audit on a real run ---------------------------------------------------------------------

def _audit_numbers(page: str) -> dict:
    import re

    return {name: value for name, value in re.findall(r'id="n-([a-z-]+)"[^>]*>([^<]*)<', page)}


def test_the_audit_takes_a_run_over_shards(tmp_path):
    shards = _crawl(tmp_path / "crawl", shards=3, per_shard=4)
    run = _dedup([*shards, "-o", f"{tmp_path / 'clean'}/", "--id-field", "url", "--report", f"{tmp_path / 'removed'}/",
                  "-q"])  # a report per shard
    assert run.returncode == 0, run.stderr
    one = _dedup([*shards, "-o", tmp_path / "all.jsonl", "--id-field", "url", "--report", tmp_path / "removed.jsonl",
                  "-q"])
    assert one.returncode == 0
    page_one, page_shards = tmp_path / "one.html", tmp_path / "shards.html"
    audit = _dedup(["audit", tmp_path / "removed.jsonl", "--input", *shards, "--id-field", "url", "-o", page_one])
    assert audit.returncode == 0, audit.stderr
    assert "11 paragraphs removed in 12 documents" in audit.stderr and "note:" not in audit.stderr
    reports = sorted((tmp_path / "removed").iterdir())
    audit = _dedup(["audit", *reports, "--input", *shards, "--id-field", "url", "-o", page_shards])
    assert audit.returncode == 0, audit.stderr
    numbers = _audit_numbers(page_one.read_text())
    assert numbers["removed"] == "11" and numbers == _audit_numbers(page_shards.read_text())


def test_the_audit_skips_the_bad_records_the_run_skipped(tmp_path):
    shards = _crawl(tmp_path / "crawl", shards=2)
    with gzip.open(shards[1], "at") as f:
        f.write("{not json\n")
    run = _dedup([*shards, "-o", tmp_path / "clean.jsonl", "--id-field", "url", "--report", tmp_path / "r.jsonl",
                  "--on-error", "skip", "-q"])
    assert run.returncode == 0
    stop = _dedup(["audit", tmp_path / "r.jsonl", "--input", *shards, "--id-field", "url", "-o", tmp_path / "a.html"])
    assert stop.returncode == 1 and f"{shards[1]}:4: malformed JSON" in stop.stderr
    assert not (tmp_path / "a.html").exists()
    skip = _dedup(["audit", tmp_path / "r.jsonl", "--input", *shards, "--id-field", "url", "-o", tmp_path / "a.html",
                   "--on-error", "skip"])
    assert skip.returncode == 0, skip.stderr
    assert "note: 1 records of the input were set aside as bad" in skip.stderr
    assert _audit_numbers((tmp_path / "a.html").read_text())["documents"] == "6"


def test_the_audit_refuses_a_report_none_of_whose_documents_is_in_the_input(tmp_path):
    shards = _crawl(tmp_path / "crawl", shards=1, per_shard=4)
    run = _dedup([*shards, "-o", tmp_path / "clean.jsonl", "--id-field", "url", "--report", tmp_path / "r.jsonl", "-q"])
    assert run.returncode == 0
    wrong = _dedup(["audit", tmp_path / "r.jsonl", "--input", *shards, "-o", tmp_path / "a.html"])  # no --id-field
    assert wrong.returncode == 1 and not (tmp_path / "a.html").exists()
    (line,) = wrong.stderr.splitlines()
    assert line.startswith(f"dedup audit: error: {shards[0]}: none of the 3 documents the report names is in "
                           "the input (the report names 'https://example.org/0/1'")
    assert line.endswith("the input's field 'url' holds the report's ids: give --id-field url")


def test_the_audit_without_matplotlib_writes_the_page_and_says_how_to_get_the_histogram(tmp_path):
    blocker = tmp_path / "blocked" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is not installed here')\n")
    shards = _crawl(tmp_path / "crawl", shards=1, per_shard=4)
    env = command_env()
    env["PYTHONPATH"] = f"{tmp_path / 'blocked'}:{env['PYTHONPATH']}"
    done = subprocess.run([dedup_exe(), "audit", *shards, "-o", tmp_path / "a.html"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    hint = "pip install matplotlib (the 'audit' extra of paradedup; in its clone: pip install -e '.[audit]')"
    assert f"note: The histogram needs matplotlib, which is not installed: {hint}" in done.stderr
    page = (tmp_path / "a.html").read_text()
    assert "pip install matplotlib" in page and "<img" not in page and _audit_numbers(page)["removed"] == "3"


def test_every_extra_has_its_pip_hint():
    import tomllib

    from helpers import ROOT
    from dedup._optional import EXTRA_PACKAGES

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRA_PACKAGES) == set(extras)
    for extra, requirements in extras.items():
        names = {r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip() for r in requirements}
        assert names == {p.strip("'").split("<")[0] for p in EXTRA_PACKAGES[extra].split()}, extra
