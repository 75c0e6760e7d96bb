"""A crafted report or corpus cannot put markup into the audit page.

Every value read from a report is checked (types, ranges, known reasons) with a one-line
error naming file:line, and every value written to the page is escaped, whatever its source:
hostile ids and texts come out as text, never as tags.
"""

from __future__ import annotations

import html
import json

import pytest

import dedup
from dedup.cli import main as cli_main

HOSTILE = '<meta http-equiv="refresh" content="0;url=http://evil"><a href="http://evil">x</a><form><script>1</script>'
PARA = "A paragraph long enough to count as one, which the second document repeats word for word."


def _corpus_and_report(tmp_path, doc_a, doc_b, text):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": doc_a, "text": f"{text}\n\n{PARA}"}, {"id": doc_b, "text": f"{text}\n\n{PARA}\n\nown words {HOSTILE}"}]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = tmp_path / "removed.jsonl"
    assert cli_main([str(corpus), "--id-field", "id", "-o", str(tmp_path / "out.jsonl"),
                           "--report", str(report), "-q"]) == 0
    return corpus, report


def test_hostile_ids_and_texts_are_escaped_everywhere(tmp_path):
    pytest.importorskip("matplotlib")
    corpus, report = _corpus_and_report(tmp_path, HOSTILE, HOSTILE + "2", f"Title {HOSTILE} with words enough to count")
    for kwargs in ({"report": str(report), "input": str(corpus)}, {"input": str(corpus)}):
        out = tmp_path / "page.html"
        dedup.write_audit(output=str(out), id_field="id", **kwargs)
        page = out.read_text()
        assert html.escape(HOSTILE, quote=True) in page  # shown, as text
        assert 'href="http://evil"' not in page and "<script>" not in page and "<form>" not in page
        assert 'http-equiv="refresh"' not in page and "<a href" not in page.replace('<a href="#', "")


@pytest.mark.parametrize("field,value,message", [
    ("matched_index", HOSTILE, "matched_index must be a non-negative integer"),
    ("index", -1, "index must be a non-negative integer"),
    ("similarity", 7, "similarity must be a number in [0, 1]"),
    ("reason", HOSTILE, "reason must be one of"),
    ("doc_id", {"x": 1}, "doc_id must be a string or an integer"),
    ("matched_doc_id", [HOSTILE], "matched_doc_id must be a string or an integer"),
    ("text", 5, "text must be a string"),
    ("start", "0", "start must be a non-negative integer"),
])
def test_every_report_field_is_checked_with_file_and_line(field, value, message, tmp_path):
    corpus, report = _corpus_and_report(tmp_path, "a", "b", "Title with words enough to count, plain")
    lines = [json.loads(x) for x in report.read_text().splitlines()]
    lines[0][field] = value
    report.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(dedup.InputDataError) as info:
        dedup.write_audit(str(report), str(corpus), str(tmp_path / "p.html"), id_field="id")
    assert str(info.value).startswith(f"{report}:1: {message}")
    assert "\n" not in str(info.value)


def test_lone_surrogates_in_ids_and_texts_are_shown_escaped(tmp_path):
    """Legal in JSON, not in UTF-8: the page shows ``\\udc01`` instead of failing to be written."""
    para = "hello there friend, this is a paragraph long enough to count here \udc02"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": para}) + "\n" for i in ("a\udc00", "b\udc01")))
    report = tmp_path / "report.jsonl"
    assert cli_main([str(src), "--id-field", "id", "-o", str(tmp_path / "out.jsonl"), "--report", str(report),
                     "-q"]) == 0
    summary = dedup.write_audit(str(report), str(src), str(tmp_path / "a.html"), id_field="id", doc="b\udc01")
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "b\\udc01" in page and "a\\udc00" in page and "count here \\udc02" in page
    assert summary.doc_id == "b\udc01"
