"""The audit page: exact what-if counts, its numbers, escaping, size, the CLI, and a real browser."""

from __future__ import annotations

import gzip
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import dedup
from dedup.audit.gather import THRESHOLDS
from dedup.cli.audit import main as audit_main
from dedup.io.report import ReportWriter
from dedup.audit.similarity import best_matches, inner_repeats_at, removed_at

from helpers import EXAMPLE_DATA, command_env, shared_data, write_jsonl

if not os.environ.get("CI"):  # in CI the audit extra is installed and everything runs
    pytest.importorskip("matplotlib", reason="the audit page needs matplotlib: pip install -e '.[audit]'")

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = "docs_debian_copyright.jsonl.gz"  # in ../shared/data: shared_data(DEBIAN)
SCRIPT = "<script>document.body.setAttribute('data-pwned', '1')</script>"


# -- helpers ---------------------------------------------------------------------------------

def flat(texts, with_starts=False):
    paragraphs, sizes, starts = [], [], []
    for t in texts:
        s, e = dedup.split_paragraphs(t)
        sizes.append(len(s))
        starts += s.tolist()
        paragraphs += [t[a:b] for a, b in zip(s.tolist(), e.tolist())]
    return (paragraphs, np.array(sizes), np.array(starts)) if with_starts else (paragraphs, np.array(sizes))


def run_removed(texts, ids, **settings):
    """Flat mask of the paragraphs a real Deduplicator run removes (spans inside kept ones aside)."""
    return run_removals(texts, ids, **settings)[0]


def run_removals(texts, ids, **settings):
    """(flat mask of removed paragraphs, {(row, start, end)} of spans removed inside kept ones)."""
    results = dedup.Deduplicator(**settings).dedupe_many(texts, ids)
    sizes = np.array([len(r.paragraphs) for r in results])
    first = np.cumsum(sizes) - sizes
    mask = np.zeros(int(sizes.sum()), dtype=bool)
    inner = set()
    for k, r in enumerate(results):
        for x in r.removed:
            if x.reason == "inner":
                inner.add((int(first[k]) + x.index, x.start, x.end))
            else:
                mask[first[k] + x.index] = True
    return mask, inner


def what_if(paragraphs, starts, sizes, bm, threshold, config=None):
    """(removed paragraphs mask, inner spans) the analysis says a run at ``threshold`` removes."""
    config = config or dedup.DedupConfig(scope="corpus")
    mask = removed_at(bm.best, bm.n_tokens, sizes, threshold, config.min_tokens, bm.contained_at(threshold))
    inner = {(row, int(starts[row]) + r.start, int(starts[row]) + r.end)
             for row, r in inner_repeats_at(paragraphs, mask, bm, config, threshold)}
    return mask, inner


def write_report(path, texts, ids, **settings):
    """What ``dedup --report`` writes: one line per removed paragraph."""
    d = dedup.Deduplicator(**settings)
    writer = ReportWriter(str(path))
    for text, r in zip(texts, d.dedupe_many(texts, ids)):
        writer.write(r.doc_id, text, r.removed)
    writer.commit()
    return d.stats


class _Dom(HTMLParser):
    """Text by element id, what-if rows, and every tag seen (enough to check a page's DOM)."""

    def __init__(self):
        super().__init__()
        self.by_id, self.rows, self.tags = {}, [], []
        self._open = []  # (id, parts)
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a and tag not in ("br", "img"):
            self._open.append((a["id"], tag, []))
        if tag == "tr" and "data-threshold" in a:
            self._row = [a["data-threshold"]]
        if tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if self._open and self._open[-1][1] == tag:
            ident, _, parts = self._open.pop()
            self.by_id[ident] = "".join(parts)
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)
        if self._row is not None and len(self._row) > 1:
            self._row[-1] += data


def parse(page: str) -> _Dom:
    dom = _Dom()
    dom.feed(page)
    return dom


def what_if_rows(dom):
    """{threshold: removed} from the table as shown."""
    return {float(r[0]): int(r[2].replace(",", "")) for r in dom.rows}


def words(rng, vocab, n):
    return [rng.choice(vocab) for _ in range(n)]


def synthetic(n_docs, paras_per_doc=8, families=None, seed=0):
    """A corpus whose right decisions are known by construction, and the report of them.

    Families of 20-word paragraphs: the base, variants with the last word changed
    (J = 15/17 to the base and to each other: repeats), with the 19th word changed
    (J = 14/18 = 0.78: kept, near misses) and with the 11th (J = 11/21: kept). A base or
    last-word variant is removed iff such a member of its family came earlier.
    Yields ("doc", record) and ("removal", report line) in order.
    """
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxy"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 6))) for _ in range(5000)]
    families = families or max(20, n_docs // 8)
    bases = [words(rng, vocab, 20) for _ in range(families)]
    first_member = {}  # family -> location of its first base / last-word variant
    first_base = {}
    unique = 0
    for d in range(n_docs):
        doc_id = f"doc-{d}"
        paras, kinds = [], []
        for _ in range(paras_per_doc):
            f = rng.randrange(families)
            kind = rng.choices(["base", "c1", "c2", "mid"], [55, 25, 10, 10])[0]
            w = list(bases[f])
            unique += 1
            if kind == "c1":
                w[19] = f"zq{unique}"
            elif kind == "c2":
                w[18] = f"zq{unique}"
            elif kind == "mid":
                w[10] = f"zq{unique}"
            paras.append(" ".join(w))
            kinds.append((f, kind))
        text = "\n\n".join(paras) + "\n"
        yield "doc", {"id": doc_id, "text": text}
        pos = 0
        for i, (p, (f, kind)) in enumerate(zip(paras, kinds)):
            loc = (doc_id, i, pos, pos + len(p))
            if kind in ("base", "c1"):
                if kind == "base" and f in first_base:
                    m, sim, reason = first_base[f], 1.0, "exact"
                elif f in first_member:
                    m, sim, reason = first_member[f], round(15 / 17, 6), "near"
                else:
                    m = None
                if m is not None:
                    yield "removal", {"doc_id": doc_id, "index": i, "start": loc[2], "end": loc[3],
                                      "matched_doc_id": m[0], "matched_index": m[1], "matched_start": m[2],
                                      "matched_end": m[3], "similarity": sim, "reason": reason, "text": p}
                first_member.setdefault(f, loc)
                if kind == "base":
                    first_base.setdefault(f, loc)
            pos += len(p) + 2


def write_synthetic(directory, n_docs, **kw):
    corpus, report = Path(directory) / "corpus.jsonl", Path(directory) / "removed.jsonl"
    removed = 0
    with open(corpus, "w", encoding="utf-8") as fc, open(report, "w", encoding="utf-8") as fr:
        for kind, row in synthetic(n_docs, **kw):
            if kind == "doc":
                fc.write(json.dumps(row) + "\n")
            else:
                fr.write(json.dumps(row) + "\n")
                removed += 1
    return str(corpus), str(report), removed


# -- the what-if numbers are exact -------------------------------------------------------------

@pytest.fixture(scope="module")
def debian_flat(debian_docs):
    texts = [d["text"] for d in debian_docs]
    ids = [d["doc_id"] for d in debian_docs]
    paragraphs, sizes, starts = flat(texts, with_starts=True)
    bm = best_matches(paragraphs, sizes, dedup.DedupConfig(scope="corpus"), thresholds=THRESHOLDS)
    return texts, ids, sizes, bm, paragraphs, starts


@pytest.mark.parametrize("threshold", [0.6, 0.8, 0.9])
def test_what_if_equals_a_real_run_on_debian(debian_flat, threshold):
    """One analysis at the default settings gives, at each threshold, exactly the run's removals
    (whole paragraphs, and the repeated spans it cuts from inside kept paragraphs)."""
    texts, ids, sizes, bm, paragraphs, starts = debian_flat
    real, real_inner = run_removals(texts, ids, threshold=threshold)
    mask, inner = what_if(paragraphs, starts, sizes, bm, threshold)
    assert real.sum() > 0 and real_inner
    assert np.array_equal(mask, real) and inner == real_inner


@pytest.mark.slow
@pytest.mark.parametrize("name", ["docs_debian_copyright.jsonl.gz", "docs_kjv_chapters.jsonl.gz"])
def test_what_if_equals_real_runs_at_every_threshold(name):
    docs = [json.loads(line) for line in gzip.open(shared_data(name), "rt", encoding="utf-8")]
    texts, ids = [d["text"] for d in docs], [d["doc_id"] for d in docs]
    paragraphs, sizes, starts = flat(texts, with_starts=True)
    bm = best_matches(paragraphs, sizes, dedup.DedupConfig(scope="corpus"), thresholds=THRESHOLDS)
    for t in THRESHOLDS:
        mask, inner = what_if(paragraphs, starts, sizes, bm, t)
        real, real_inner = run_removals(texts, ids, threshold=t)
        assert np.array_equal(mask, real) and inner == real_inner, t


def test_best_similarity_matches_exhaustive_ground_truth(debian_docs, debian_flat):
    """Against every pair with J >= 0.5 (found exhaustively, without line-end de-hyphenation: the
    labels' normalization): the same repeats at every threshold."""
    sizes, paragraphs = debian_flat[2], debian_flat[4]
    bm = best_matches(paragraphs, sizes, dedup.DedupConfig(scope="corpus", normalization="nfkc_casefold"))
    first = np.cumsum(sizes) - sizes
    gt = np.zeros(int(sizes.sum()))
    with gzip.open(shared_data("corpus_debian_copyright_paragraphs.gt_pairs.jsonl.gz"), "rt") as f:
        for line in f:
            x = json.loads(line)
            rows = sorted(first[int(p.split(":")[1])] + int(p.split(":")[2]) for p in (x["a"], x["b"]))
            gt[rows[1]] = max(gt[rows[1]], x["jaccard5"])
    long_enough = np.array([p["n_tokens"] >= 8 for d in debian_docs for p in d["paragraphs"]])
    for t in THRESHOLDS:
        assert np.array_equal((bm.best >= t) & long_enough, (gt >= t) & long_enough), t


def test_what_if_follows_chains_and_the_short_paragraph_rule():
    """Chains (v2 near only the removed v1) and short paragraphs inside removed runs, at several thresholds."""
    w = [f"w{i}" for i in range(80)]
    base = " ".join(w)
    v1 = " ".join(w[:40] + ["x40"] + w[41:])
    v2 = " ".join(w[:10] + ["x10"] + w[11:40] + ["x40"] + w[41:])
    title = "A Title"
    texts = [f"{title}\n\n{base}\n\nTail words here.", f"{title}\n\n{v1}\n\nTail words here.", f"{title}\n\n{v2}",
             "Tail words here.\n\nSomething else entirely, with enough words to count as long."]
    ids = ["a", "b", "c", "d"]
    paragraphs, sizes = flat(texts)
    for t in (0.7, 0.8, 0.85, 0.9):
        bm = best_matches(paragraphs, sizes, dedup.DedupConfig(scope="corpus", threshold=t), thresholds=(0.7, 0.8, 0.85, 0.9))
        for u in (0.7, 0.8, 0.85, 0.9):
            assert np.array_equal(removed_at(bm.best, bm.n_tokens, sizes, u, 8, bm.contained_at(u)),
                                  run_removed(texts, ids, threshold=u)), (t, u)


def test_document_scope_what_if():
    p = "the same paragraph of words that is long enough to count here"
    texts = [f"{p}\n\n{p}", f"{p}\n\nother words entirely that do not repeat anything at all"]
    paragraphs, sizes = flat(texts)
    bm = best_matches(paragraphs, sizes, dedup.DedupConfig(scope="document"))
    assert removed_at(bm.best, bm.n_tokens, sizes, 0.8, 8).tolist() == [False, True, False, False]


def test_synthetic_corpus_decisions_are_what_a_run_decides(tmp_path):
    """The generator used for big reports is right: its report equals a real run's removals."""
    corpus, report, removed = write_synthetic(tmp_path, 300)
    rows = [json.loads(line) for line in open(corpus)]
    real = run_removed([r["text"] for r in rows], [r["id"] for r in rows])
    lines = [json.loads(line) for line in open(report)]
    first = {r["id"]: k for k, r in enumerate(rows)}
    _, sizes = flat([r["text"] for r in rows])
    starts = np.cumsum(sizes) - sizes
    mine = np.zeros(len(real), dtype=bool)
    for x in lines:
        mine[starts[first[x["doc_id"]]] + x["index"]] = True
    assert removed == real.sum() and np.array_equal(mine, real)


# -- the page ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def debian_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "debian.html"
    summary = dedup.write_audit(input=str(shared_data(DEBIAN)), output=str(out), id_field="doc_id")
    return summary, out.read_text(encoding="utf-8")


def test_debian_page_numbers(debian_page, debian_docs):
    summary, page = debian_page
    d = dedup.Deduplicator()
    results = d.dedupe_many([x["text"] for x in debian_docs], [x["doc_id"] for x in debian_docs])
    st = d.stats
    removed_bytes = sum(len(x["text"][r.start:r.end].encode()) for x, res in zip(debian_docs, results)
                        for r in res.removed)
    assert (summary.documents, summary.paragraphs, summary.removed, summary.emptied) == \
        (st.documents, st.paragraphs, st.removed, st.documents_emptied)
    assert summary.removed_bytes == removed_bytes
    dom = parse(page)
    assert dom.by_id["n-documents"] == f"{st.documents:,}"
    assert dom.by_id["n-paragraphs"] == f"{st.paragraphs:,}"
    assert dom.by_id["n-removed"] == f"{st.removed:,}"
    assert dom.by_id["n-removed-bytes"] == f"{removed_bytes:,}"
    assert dom.by_id["n-emptied"] == f"{st.documents_emptied:,}"


def test_debian_page_what_if_table(debian_page, debian_flat):
    summary, page = debian_page
    texts, ids, sizes, bm, paragraphs, starts = debian_flat
    table = what_if_rows(parse(page))
    assert sorted(table) == list(THRESHOLDS)
    assert table[0.8] == summary.removed == summary.run_removed_analysed  # the run itself, exactly
    assert summary.lsh_misses == 0 and summary.notes == []
    for t in THRESHOLDS:
        mask, inner = what_if(paragraphs, starts, sizes, bm, t)
        assert table[t] == int(mask.sum()) + len(inner)
    counts = [table[t] for t in THRESHOLDS]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert {r["threshold"]: r["removed"] for r in summary.what_if} == table


def test_debian_page_examples_and_document_view(debian_page):
    summary, page = debian_page
    assert page.count('class="example above"') > 0 and page.count('class="example below"') > 0
    sims = [float(s) for s in re.findall(r'<div class="example above".*?<b>([0-9.]+)</b>', page)]
    assert sims and all(0.8 <= s < 1.0 for s in sims) and sims == sorted(sims)
    kept = [float(s) for s in re.findall(r'<div class="example below".*?<b>([0-9.]+)</b>', page)]
    assert kept and all(0.5 <= s < 0.8 for s in kept) and kept == sorted(kept, reverse=True)
    assert '<mark class="d">' in page and '<mark class="i">' in page  # differing words highlighted
    assert summary.doc_id is not None
    view = page[page.index('id="doc-text"'):]
    assert view.count('<del class="removed"') > 0
    for href in re.findall(r'<a class="ref" href="#([^"]+)"', view):  # every removal links to its match
        assert f'id="{href}"' in page


def test_page_is_self_contained(debian_page):
    _, page = debian_page
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(?!#|data:)', page)  # no external resource, only anchors and data: URIs
    assert "http-equiv=\"Content-Security-Policy\"" in page


@pytest.fixture()
def hostile_corpus(tmp_path):
    """Markup in text and ids: a repeated <script> paragraph (removed), a near miss, a removed near one."""
    w = [f"word{i}" for i in range(30)]
    hostile = SCRIPT + " " + " ".join(w)
    near = SCRIPT + " " + " ".join(w[:-1] + ["changed"])  # J = 30/32 >= 0.8
    miss = SCRIPT + " " + " ".join(w[:12] + ["<marquee>bold</marquee>"] + w[13:])  # J about 0.7: kept, a near miss
    rows = [{"id": 'first "<doc>" & co', "text": hostile},
            {"id": "second", "text": f"Some other opening paragraph with enough words to stay.\n\n{hostile}"},
            {"id": "third", "text": f"{near}\n\nIntro <img src=x onerror=alert(1)> text of sufficient length to "
                                    f"be kept here.\n\n{miss}"}]
    path = tmp_path / "hostile.jsonl"
    write_jsonl(path, rows)
    return path


def test_markup_in_the_data_is_escaped(hostile_corpus, tmp_path):
    out = tmp_path / "hostile.html"
    summary = dedup.write_audit(input=str(hostile_corpus), output=str(out), doc="third")
    page = out.read_text(encoding="utf-8")
    assert summary.removed == 2 and summary.doc_id == "third"
    assert "<script" not in page and "<img src=x" not in page and "<marquee" not in page
    assert html.escape(SCRIPT) in page  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;marquee&gt;bold&lt;/marquee&gt;" in page
    assert 'first &quot;&lt;doc&gt;&quot; &amp; co' in page  # a document id, escaped too
    dom = parse(page)
    assert {t for t, _ in dom.tags}.isdisjoint({"script", "marquee"})
    assert all(a.get("src", "").startswith("data:") for t, a in dom.tags if t == "img")


# -- report mode ------------------------------------------------------------------------------

def test_report_mode_equals_data_mode(debian_docs, debian_page, tmp_path):
    summary_data, _ = debian_page
    texts, ids = [d["text"] for d in debian_docs], [d["doc_id"] for d in debian_docs]
    report = tmp_path / "removed.jsonl"
    write_report(report, texts, ids)
    out = tmp_path / "from_report.html"
    s = dedup.write_audit(str(report), str(shared_data(DEBIAN)), str(out), id_field="doc_id")
    assert s.mode == "report" and s.report_mismatch == 0 and s.notes == summary_data.notes
    for name in ("documents", "paragraphs", "removed", "removed_bytes", "emptied", "what_if", "lsh_misses"):
        assert getattr(s, name) == getattr(summary_data, name), name
    assert what_if_rows(parse(out.read_text()))[0.8] == s.removed


def test_report_mode_with_line_ids_and_a_sample(tmp_path):
    """A report made without an id field names documents <file>:<line>; a sample analyses a prefix."""
    corpus, report, removed = write_synthetic(tmp_path, 400)
    rows = [json.loads(line) for line in open(corpus)]
    for r in rows:
        del r["id"]
    plain = tmp_path / "plain.jsonl"
    write_jsonl(plain, rows)
    line_report = tmp_path / "line_ids.jsonl"
    with open(report) as f, open(line_report, "w") as g:
        for line in f:
            x = json.loads(line)
            x["doc_id"] = f"/somewhere/else/plain.jsonl:{int(x['doc_id'].split('-')[1]) + 1}"
            x["matched_doc_id"] = f"/somewhere/else/plain.jsonl:{int(x['matched_doc_id'].split('-')[1]) + 1}"
            g.write(json.dumps(x) + "\n")
    s = dedup.write_audit(str(line_report), str(plain), str(tmp_path / "a.html"), sample=100)
    assert s.removed == removed and s.documents == 400 and s.paragraphs == 3200
    (tmp_path / "ids").mkdir()
    same_name = shutil.copy(corpus, tmp_path / "ids" / "plain.jsonl")  # the same records, with an "id" field
    with_ids = dedup.write_audit(str(line_report), str(same_name), str(tmp_path / "b.html"), sample=100)
    assert with_ids.what_if == s.what_if and with_ids.emptied == s.emptied and with_ids.notes == []
    assert s.analysed_documents == 100 and s.report_mismatch == 0 and s.lsh_misses == 0
    assert not any("not in the input" in n for n in s.notes)
    row = {r["threshold"]: r for r in s.what_if}
    assert row[0.8]["removed"] == s.run_removed_analysed < s.removed
    assert row[0.75]["removed"] > row[0.8]["removed"]  # the 0.78 variants come in below 0.8


def test_report_from_other_settings_is_flagged(tmp_path, debian_docs):
    docs = debian_docs[:120]
    report = tmp_path / "r.jsonl"
    write_report(report, [d["text"] for d in docs], [d["doc_id"] for d in docs], threshold=0.7)
    corpus = tmp_path / "c.jsonl"
    write_jsonl(corpus, docs)
    s = dedup.write_audit(str(report), str(corpus), str(tmp_path / "o.html"), id_field="doc_id")  # audited as 0.8
    assert s.report_mismatch > 0
    assert any("lower one" in n for n in s.notes) and any("other settings" in n for n in s.notes)


def test_report_without_input(tmp_path):
    corpus, report, removed = write_synthetic(tmp_path, 200)
    out = tmp_path / "r.html"
    s = dedup.write_audit(report, output=str(out))
    page = out.read_text()
    assert s.removed == removed and s.documents is None and s.what_if == []
    assert parse(page).by_id["n-removed"] == f"{removed:,}" and "Needs the run&#x27;s input (--input)" in page


@pytest.mark.parametrize("mode", ["data", "report"])
def test_chosen_document_outside_the_sample(mode, debian_docs, tmp_path):
    """--doc names a document past the analysed ones: shown, each removal linked to its match's text."""
    wanted = "debian/copyright/nodejs"
    position = next(k for k, d in enumerate(debian_docs) if d["doc_id"] == wanted)
    report = None
    if mode == "report":
        report = tmp_path / "r.jsonl"
        write_report(report, [d["text"] for d in debian_docs], [d["doc_id"] for d in debian_docs])
    out = tmp_path / "v.html"
    s = dedup.write_audit(report and str(report), str(shared_data(DEBIAN)), str(out), id_field="doc_id", sample=position // 2,
                    doc=wanted)
    page = out.read_text()
    assert s.doc_id == wanted and s.analysed_documents == position // 2 < position
    view = page[page.index('id="doc-text"'):]
    refs = re.findall(r'<a class="ref" href="#([^"]+)"', view)
    assert len(refs) >= 100 and all(f'id="{r}"' in page for r in refs)
    assert "(text not available)" not in view


# -- size and speed -------------------------------------------------------------------------

def test_page_size_does_not_grow_with_the_report(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "b").mkdir()
    small = write_synthetic(tmp_path / "s", 300)
    big = write_synthetic(tmp_path / "b", 6000)
    sizes = []
    for corpus, report, removed in (small, big):
        s = dedup.write_audit(report, corpus, str(tmp_path / "p.html"), sample=300)
        assert s.removed == removed and s.report_mismatch == 0
        sizes.append(s.page_bytes)
    assert big[2] > 15 * small[2]
    assert sizes[1] < 1.5 * sizes[0] and sizes[1] < 2_000_000


@pytest.mark.slow
def test_million_paragraph_report_renders_in_seconds(tmp_path):
    corpus, report, removed = write_synthetic(tmp_path, 170_000, families=20_000)
    assert removed >= 1_000_000
    started = time.perf_counter()
    s = dedup.write_audit(report, corpus, str(tmp_path / "big.html"))
    elapsed = time.perf_counter() - started
    print(f"\n1M-line report: {removed:,} removals, page {s.page_bytes / 1e6:.2f} MB in {elapsed:.1f}s")
    assert s.removed == removed and s.report_mismatch == 0 and s.documents == 170_000
    assert s.page_bytes < 10_000_000
    assert elapsed < 120  # seconds on a shared 2-core machine; the figure is printed above


# -- the command --------------------------------------------------------------------------

def test_cli_from_data_and_from_report(tmp_path, capsys):
    corpus, report, removed = write_synthetic(tmp_path, 150)
    out1, out2 = tmp_path / "data.html", tmp_path / "report.html"
    assert audit_main([corpus, "-o", str(out1), "--sample", "100"]) == 0
    assert audit_main([report, "--input", corpus, "-o", str(out2), "--sample", "all"]) == 1  # ids by line: none found
    assert "the input's field 'id' holds the report's ids: give --id-field id" in capsys.readouterr().err
    assert not out2.exists()
    assert audit_main([report, "--input", corpus, "-o", str(out2), "--sample", "all", "--id-field", "id"]) == 0
    err = capsys.readouterr().err
    assert f"{removed:,} paragraphs removed in 150 documents" in err
    assert parse(out1.read_text()).by_id["n-removed"] == parse(out2.read_text()).by_id["n-removed"] == f"{removed:,}"
    assert audit_main([report, "-o", str(tmp_path / "auto.html")]) == 0  # a report, detected


def test_cli_errors(tmp_path, capsys):
    assert audit_main([str(tmp_path / "missing.jsonl")]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "a", "index": 0, "similarity": 1.0, "matched_doc_id": "b"}\n{not json\n')
    corpus = tmp_path / "c.jsonl"
    write_jsonl(corpus, [{"id": "a", "text": "x"}])
    assert audit_main([str(bad), "--input", str(corpus), "-o", str(tmp_path / "o.html")]) == 1
    assert f"{bad}:2: malformed JSON" in capsys.readouterr().err
    assert audit_main([str(corpus), "--threshold", "2", "-o", str(tmp_path / "o.html")]) == 2
    assert audit_main([str(corpus), "--sample", "some"]) == 2
    with pytest.raises(dedup.InputDataError, match=r"c2.jsonl:1: no field 'body'"):
        write_jsonl(tmp_path / "c2.jsonl", [{"id": "a", "text": "x"}])
        dedup.write_audit(input=str(tmp_path / "c2.jsonl"), output=str(tmp_path / "o.html"), text_field="body")


def test_cli_ids_are_the_dedup_commands(tmp_path, capsys):
    """No --id-field on either command: the report and the audit both name documents <file>:<line>."""
    from dedup.cli import main as dedup_main

    corpus, _, _ = write_synthetic(tmp_path, 120)
    report = tmp_path / "run.jsonl"
    assert dedup_main([corpus, "-o", str(tmp_path / "clean.jsonl"), "--report", str(report), "-q"]) == 0
    out = tmp_path / "a.html"
    assert dedup_main(["audit", str(report), "--input", corpus, "-o", str(out), "--sample", "all"]) == 0
    err = capsys.readouterr().err
    assert "note:" not in err and "120 documents" in err
    assert dedup_main(["audit", corpus, "-o", str(out), "--granularity", "sentence", "-q"]) == 0
    assert "sentence" in out.read_text()


def test_cli_as_a_module(tmp_path):
    corpus, _, _ = write_synthetic(tmp_path, 50)
    out = tmp_path / "m.html"
    env = command_env()
    proc = subprocess.run([sys.executable, "-m", "dedup.cli.audit", corpus, "-o", str(out), "-q"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000 and proc.stderr == ""


def test_plain_text_input(tmp_path):
    seed = EXAMPLE_DATA / "news_pasted_twice.txt"
    s = dedup.write_audit(input=str(seed), output=str(tmp_path / "seed.html"))
    assert s.documents == 1 and s.removed == dedup.explain(seed.read_text()).removed.__len__() > 0


def test_audit_and_write_audit():
    """``import dedup.audit`` is the module, ``dedup.write_audit`` the function; the old call still works."""
    import dedup.audit
    from dedup.audit.gather import write_audit

    assert isinstance(dedup.audit, types.ModuleType) and dedup.write_audit is write_audit
    with pytest.warns(DeprecationWarning, match="dedup.write_audit"):
        with pytest.raises(ValueError, match="needs a report, an input corpus, or both"):
            dedup.audit()


# -- a real browser ---------------------------------------------------------------------------

def chromium_or_skip():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
    return exe


def chromium(exe, tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_page_in_a_real_browser(debian_page, hostile_corpus, tmp_path):
    exe = chromium_or_skip()
    summary, page = debian_page
    page_path = tmp_path / "debian.html"
    page_path.write_text(page, encoding="utf-8")
    dom = parse(chromium(exe, tmp_path, "--dump-dom", page_path.as_uri()))
    assert dom.by_id["n-removed"] == f"{summary.removed:,}"
    assert dom.by_id["n-documents"] == f"{summary.documents:,}"
    assert what_if_rows(dom) == {r["threshold"]: r["removed"] for r in summary.what_if}

    shot = tmp_path / "debian.png"
    chromium(exe, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page_path.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    from PIL import Image
    with Image.open(shot) as im:
        assert im.size == (1280, 1600)
        assert len(im.convert("L").getcolors(1 << 16) or [0] * 99) > 20  # drawn, not blank

    out = tmp_path / "hostile.html"
    dedup.write_audit(input=str(hostile_corpus), output=str(out), doc="third")
    raw = chromium(exe, tmp_path, "--dump-dom", out.as_uri())
    dom = parse(raw)
    tags = {t for t, _ in dom.tags}
    assert "script" not in tags and "marquee" not in tags  # nothing from the data became an element
    body = next(a for t, a in dom.tags if t == "body")
    assert "data-pwned" not in body  # the script did not run
    assert SCRIPT in html.unescape(raw)  # the sample is there, as text
    assert "&lt;script&gt;document.body.setAttribute" in raw


def test_default_document_view_is_the_one_with_the_most_removals(tmp_path):
    """--help promises the document with the most removals: many exact ones beat a single near one."""
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi".split()
    paras = [" ".join(words[k:] + words[:k]) + f" paragraph {k}." for k in range(6)]
    near = paras[0].replace("paragraph 0.", "paragraph 0 too.")
    rows = [{"id": "source", "text": "\n\n".join(paras)},
            {"id": "one-near", "text": f"Its own opening words here, nothing shared at all.\n\n{near}"},
            {"id": "many-exact", "text": "A kept line that is its own, long enough to count.\n\n" + "\n\n".join(paras[1:])}]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    s = dedup.write_audit(input=str(corpus), output=str(tmp_path / "a.html"), id_field="id")
    assert s.doc_id == "many-exact"
