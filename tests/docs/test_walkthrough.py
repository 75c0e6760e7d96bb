"""A new user follows the README, step by step, and each step does what the README says.

The commands are the README's own (found by what they do, so an edit of the README is an edit of
this walk), run with the installed ``dedup`` on a small crawl in shards that has what real
crawls have: boilerplate on every page, a page fetched twice, a near copy, a bad line. Steps: a
crawl in shards with an index and a report; a rerun after a crash and next month's crawl; the
audit; a pandas column; a decontamination. Each step's output is checked before the next runs.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from snippets import blocks, run_python, run_shell, shell_commands

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [c for lang, code in blocks(README) if lang == "bash" for c in shell_commands(code)]
PYTHON = [code for lang, code in blocks(README) if lang == "python"]

FOOTER = "Every article on this site is published under the terms stated on its licence page, all rights reserved."
STORY = ("The harbour road was closed at dawn after waves broke over the sea wall, and the council said it "
         "would stay shut until the evening tide had turned and engineers had checked the barrier.")
QUESTION = "Which river flows through the capital city of the northern province, and where does it meet the sea?"


def _command(*needles: str) -> str:
    """The README command holding every needle."""
    found = [c for c in COMMANDS if all(n in c for n in needles)]
    assert len(found) == 1, f"the README has {len(found)} commands with {needles}"
    return found[0]


def _run(command: str, cwd: Path):
    done = run_shell(command, cwd)
    assert done.returncode == 0, f"{command!r} failed: {done.stderr[-2000:]}"
    return done


def _page(i: int, extra: str = "") -> dict:
    return {"url": f"https://news.example/{i}", "text": f"Story {i}: a report of its own about topic {i}, "
                                                        f"in words no other page uses.{extra}\n\n{FOOTER}"}


def _read(path: Path) -> list:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write(path: Path, records, bad: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
        f.write(bad)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    """crawl/part-0..2.jsonl.gz: a footer on every page, the story in part 0 and again (near) in part 2,
    one page fetched twice, one bad line; crawl-next/: next month's pages."""
    tmp = tmp_path_factory.mktemp("walk")
    _write(tmp / "crawl" / "part-0.jsonl.gz", [_page(0, f"\n\n{STORY}"), _page(1), _page(2)])
    _write(tmp / "crawl" / "part-1.jsonl.gz", [_page(3), _page(1) | {"url": "https://news.example/1?ref=rss"}],
           bad='{"url": "https://news.example/9", "text": \n')
    _write(tmp / "crawl" / "part-2.jsonl.gz", [_page(4, f"\n\n{STORY.replace('barrier.', 'barriers.')}"), _page(5)])
    _write(tmp / "crawl-next" / "part-0.jsonl.gz", [_page(6), _page(7, f"\n\n{STORY}")])
    return tmp


@pytest.fixture(scope="module")
def first_run(crawl):
    """Step 1, whichever step's test runs first."""
    return _run(_command("crawl/part-*", "--index seen.dedup", "--report removed/"), crawl)


def test_1_a_crawl_in_shards_with_an_index_and_a_report(crawl, first_run):
    done = first_run
    assert sorted(p.name for p in (crawl / "clean").iterdir()) == ["part-0.jsonl.gz", "part-1.jsonl.gz",
                                                                   "part-2.jsonl.gz"]
    out = {p.name: _read(p) for p in (crawl / "clean").iterdir()}
    texts = [r["text"] for name in sorted(out) for r in out[name]]
    assert sum(FOOTER in t for t in texts) == 1 and sum("sea wall" in t for t in texts) == 1  # once, first kept
    assert out["part-1.jsonl.gz"][1]["text"] == ""  # the page fetched twice: emptied, kept as a record
    assert (crawl / "rejects.jsonl").read_text().startswith('{"url": "https://news.example/9"')
    summary, stats = done.stderr.strip().splitlines()[-2:]
    stats = json.loads(stats)
    assert (stats["records_in"], stats["records_out"], stats["records_rejected"]) == (8, 7, 1)
    assert stats["removed_by_reason"] == {"exact": 7, "near": 1, "run": 0, "inner": 0, "contained": 0}
    assert "7 documents, 16 paragraphs: 8 paragraphs removed (50.0%: 7 exact, 1 near)" in summary
    reports = {p.name: _read(p) for p in (crawl / "removed").iterdir()}
    assert sorted(reports) == sorted(out) and sum(map(len, reports.values())) == 8
    near = next(line for line in reports["part-2.jsonl.gz"] if line["reason"] == "near")
    assert near["matched_doc_id"] == "https://news.example/0" and 0.8 <= near["similarity"] < 1
    info = _run("dedup index info seen.dedup --json", crawl)
    assert json.loads(info.stdout)["paragraphs"] == stats["paragraphs"] == 16


def test_2_a_rerun_changes_nothing_and_next_month_is_cleaned_against_this_one(crawl, first_run):
    before = {p.name: p.read_bytes() for p in (crawl / "clean").iterdir()}
    rerun = _run(_command("crawl/part-*", "--index seen.dedup", "--report removed/"), crawl)  # after a "crash"
    assert {p.name: p.read_bytes() for p in (crawl / "clean").iterdir()} == before  # the same decisions
    assert "got the decisions of their first run" in rerun.stderr
    _run(_command("crawl-next/part-*", "--index seen.dedup"), crawl)
    (page6, page7) = _read(crawl / "clean-next" / "part-0.jsonl.gz")
    assert FOOTER not in page6["text"] and STORY not in page7["text"]  # seen last month, through the index
    assert page7["text"].startswith("Story 7:")


def test_3_the_audit_of_the_run(crawl, first_run):
    done = _run(_command("dedup audit removed/"), crawl)
    assert "8 paragraphs removed in 7 documents" in done.stderr
    (note,) = [line for line in done.stderr.splitlines() if "note:" in line]
    assert "1 records of the input were set aside as bad" in note  # the line the run set aside too
    page = (crawl / "audit.html").read_text(encoding="utf-8")
    numbers = dict(re.findall(r'id="n-([a-z-]+)"[^>]*>([^<]*)<', page))
    assert numbers["removed"] == "8" and numbers["documents"] == "7"
    assert "sea wall" in page  # the near copy, beside the story it repeats


def test_4_a_pandas_column(tmp_path):
    pytest.importorskip("pandas")
    block = next(code for code in PYTHON if "pd.DataFrame" in code)
    # a missing value prints as None whatever pandas calls it (None in pandas 2, NaN in 3)
    printed = run_python(block + "\nprint([None if pd.isna(x) else x for x in df['clean']])\n", tmp_path, "README.md")
    table, clean = printed.strip().rsplit("\n", 1)
    assert clean == "['Same licence text, long enough to count here.\\n\\nPage a.', 'Page b.', None]"
    assert re.search(r"\bb\s+0\s+a\s+exact\b", table), table


def test_5_a_decontamination(tmp_path):
    records = [{"id": 1, "text": f"A forum post about rivers.\n\nSomeone asked: {QUESTION} Nobody knew."},
               {"id": 2, "text": "A post about something else entirely, with no benchmark text in it."}]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (tmp_path / "test_split.jsonl").write_text(json.dumps({"text": QUESTION}) + "\n", encoding="utf-8")
    hits = _run(next(c for c in COMMANDS if c.startswith("dedup check") and " -o " not in c), tmp_path)
    (hit,) = [json.loads(line) for line in hits.stdout.splitlines()]
    assert hit["index"] == 1 and hit["containment"] == 1.0 and hit["similarity"] < 0.8  # pasted into a longer post
    _run(_command("dedup check", "--ngram 13", "-o decontaminated.jsonl"), tmp_path)
    cleaned = _read(tmp_path / "decontaminated.jsonl")
    assert cleaned == [{"id": 1, "text": "A forum post about rivers."}, records[1]]
