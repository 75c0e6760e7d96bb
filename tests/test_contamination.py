"""Per-item contamination (``dedup.Contamination``, ``dedup check --items``) against brute force."""

from __future__ import annotations

import gzip
import json
import random
import re
import unicodedata

import pytest

import dedup
from helpers import shared_data
from dedup.accel import spankernels
from dedup.accel.native import use_native


def tokens(text: str):
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def brute_force(items, corpus, n, min_shared=1, max_documents=5):
    """The definition, in strings: an item's distinct n-grams (all its tokens when shorter), how
    many occur as consecutive tokens of some corpus document, and the first documents that hold any."""
    corpus_tokens = [tokens(t) for t in corpus]
    lengths = {n} | {len(tokens(i)) for i in items if 0 < len(tokens(i)) < n}
    grams_of_doc = [{L: {tuple(t[i:i + L]) for i in range(len(t) - L + 1)} for L in lengths} for t in corpus_tokens]
    out = []
    for item in items:
        t = tokens(item)
        grams = {tuple(t[i:i + n]) for i in range(len(t) - n + 1)} if len(t) >= n else ({tuple(t)} if t else set())
        L = min(len(t), n)
        shared = {g for g in grams if any(g in d[L] for d in grams_of_doc)}
        docs = [k for k, d in enumerate(grams_of_doc) if grams & d.get(L, set())][:max_documents]
        out.append({"ngrams": len(grams), "shared_ngrams": len(shared),
                    "contaminated": bool(grams) and len(shared) >= min_shared, "documents": docs})
    return out


def benchmark_and_corpus(seed: int):
    with gzip.open(shared_data("docs_kjv_chapters.jsonl.gz"), "rt") as f:
        chapters = [json.loads(line)["text"] for _, line in zip(range(200), f)]
    rng = random.Random(seed)
    verses = [v for c in chapters for v in c.split("\n") if v.strip()]
    items = rng.sample(verses, 60)
    items += [" ".join(v.split()[:rng.randint(3, 20)]) for v in rng.sample(verses, 20)]  # some shorter than n
    items += ["no such words anywhere in the bible at all", "", "!!!"]
    items.append(items[0].upper())  # case folded: the same n-grams
    corpus = chapters[:100] + [f"A forum post quoting: {items[3]} and more." , "ＡＮＤ ｆｕｌｌ ｗｉｄｔｈ"]
    return items, corpus


@pytest.mark.parametrize("n", [13, 5])
def test_item_counts_equal_brute_force(n):
    items, corpus = benchmark_and_corpus(1)
    check = dedup.Contamination(items, ngram=n, min_shared=2)
    check.scan(corpus[:30])
    check.scan(iter(corpus[30:]))  # a corpus streamed in batches
    got = [r.to_dict() for r in check.reports()]
    want = brute_force(items, corpus, n, min_shared=2)
    assert [{k: g[k] for k in want[0]} for g in got] == want
    assert [g["id"] for g in got] == list(range(len(items)))
    assert sum(w["contaminated"] for w in want) > 20 and not all(w["contaminated"] for w in want)
    assert check.summary()["contaminated"] == sum(w["contaminated"] for w in want)


def test_same_counts_on_the_numpy_path():
    items, corpus = benchmark_and_corpus(2)
    want = dedup.Contamination(items)
    want.scan(corpus)
    with use_native(False), spankernels.use_compiled(False):
        other = dedup.Contamination(items)
        other.scan(corpus)
    assert other.reports() == want.reports()


def test_documents_are_the_first_ones_in_corpus_order():
    item = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    corpus = ["nothing here"] + [f"doc {k}: {item}" for k in range(8)]
    check = dedup.Contamination([item, "absent words only"], ["q1", "q2"], max_documents=3)
    check.scan(corpus, [f"c{k}" for k in range(len(corpus))])
    first, second = check.reports()
    assert first == dedup.ItemReport("q1", 2, 2, True, ["c1", "c2", "c3"])
    assert second == dedup.ItemReport("q2", 1, 0, False, [])


def test_bad_settings_and_items_are_refused():
    with pytest.raises(dedup.ConfigError, match="min_shared"):
        dedup.Contamination(["x"], min_shared=0)
    with pytest.raises(dedup.ConfigError, match="ngram"):
        dedup.Contamination(["x"], ngram=0)
    with pytest.raises(TypeError, match="benchmark item 0"):
        dedup.Contamination([b"bytes"])  # type: ignore[list-item]
    with pytest.raises(dedup.ConfigError, match="2 ids for 1"):
        dedup.Contamination(["x"], ["a", "b"])


def test_cli_items_file_per_benchmark_item(tmp_path, capsys):
    from dedup.cli import main as cli_main
    items, corpus = benchmark_and_corpus(3)
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps({"qid": f"q{k}", "question": t}) + "\n"
                                                  for k, t in enumerate(items)))
    (tmp_path / "crawl.jsonl").write_text("".join(json.dumps({"url": f"u{k}", "text": t}) + "\n"
                                                  for k, t in enumerate(corpus)))
    args = ["check", str(tmp_path / "crawl.jsonl"), "--id-field", "url", "--against", str(tmp_path / "bench.jsonl"),
            "--against-text-field", "question", "--against-id-field", "qid", "--ngram", "13",
            "--items", str(tmp_path / "items.jsonl"), "--min-shared", "3"]
    assert cli_main(args) == 0
    out, err = capsys.readouterr()
    assert out == ""  # no --hits: only the items file
    lines = [json.loads(x) for x in (tmp_path / "items.jsonl").read_text().splitlines()]
    want = brute_force(items, corpus, 13, min_shared=3)
    assert [x["id"] for x in lines[:-1]] == [f"q{k}" for k in range(len(items))]
    assert [{k: x[k] for k in ("ngrams", "shared_ngrams", "contaminated")} for x in lines[:-1]] == \
        [{k: w[k] for k in ("ngrams", "shared_ngrams", "contaminated")} for w in want]
    assert [x["documents"] for x in lines[:-1]] == [[f"u{d}" for d in w["documents"]] for w in want]
    contaminated = sum(w["contaminated"] for w in want)
    assert lines[-1] == {"summary": {"items": len(items), "contaminated": contaminated, "documents": len(corpus),
                                     "ngram": 13, "min_shared": 3}}
    assert f"{contaminated} contaminated" in err
    # the per-document hits are still written where --hits asks
    assert cli_main(args + ["--hits", str(tmp_path / "hits.jsonl"), "-q"]) == 0
    assert (tmp_path / "hits.jsonl").read_text().count("\n") > 10
    # an index holds no text to count n-grams of
    with dedup.SqliteIndex(tmp_path / "b.dedup") as index:
        dedup.Deduplicator(index=index).dedupe_many(items[:5])
    assert cli_main(["check", str(tmp_path / "crawl.jsonl"), "--against", str(tmp_path / "b.dedup"),
                     "--items", str(tmp_path / "i2.jsonl")]) == 2
    assert "not an index" in capsys.readouterr().err
