"""The Spark backend takes the local Deduplicator's decisions, paragraph for paragraph.

Runs in ``local[2]`` mode with one session for the whole file. Without pyspark the Spark
tests are skipped, except in CI (``CI`` set), where a missing pyspark is a failure.
"""

from __future__ import annotations

import os
import random
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup import DedupConfig, Deduplicator
from dedup.errors import ConfigError, DedupError, InputTypeError, MissingDependencyError
from helpers import command_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pyspark is not installed; CI must install the spark extra: pip install -e '.[spark]'")
        pytest.skip("pyspark is not installed (pip install -e '.[spark]'); Spark tests skipped")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers must run this interpreter
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    session = (SparkSession.builder.master("local[2]").appName("dedup-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "3")
               .config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def partitions(spark):
    """Set the shuffle partitions for one test, then restore them."""
    before = spark.conf.get("spark.sql.shuffle.partitions")
    yield lambda n: spark.conf.set("spark.sql.shuffle.partitions", str(n))
    spark.conf.set("spark.sql.shuffle.partitions", before)


def local_removals(docs, config: DedupConfig, **kw):
    """{doc_id: (canonical text, sorted removals)} from the local Deduplicator, in order."""
    d = Deduplicator(config, **kw)
    results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    return {r.doc_id: (r.text, sorted(_key(x.to_dict()) for x in r.removed)) for r in results}


def spark_removals(out, report, id_col="doc_id"):
    rows = {r[id_col]: r for r in out.collect()}
    removed = {doc_id: [] for doc_id in rows}
    for r in report.collect():
        d = r.asDict()
        removed[d.pop(id_col)].append(_key(d))
    result = {}
    for doc_id, row in rows.items():
        assert row["removed_paragraphs"] == len(removed[doc_id])
        result[doc_id] = (row["text"], sorted(removed[doc_id]))
    return result


def _key(d: dict):
    return (d["index"], d["start"], d["end"], d["matched_doc_id"], d["matched_index"], d["matched_start"],
            d["matched_end"], d["similarity"], d["reason"])


def assert_same(local: dict, remote: dict) -> None:
    assert remote.keys() == local.keys()
    differ = [k for k in local if local[k] != remote[k]]
    assert not differ, f"{len(differ)} documents differ, e.g. {differ[0]!r}: local {local[differ[0]]!r} " \
                       f"spark {remote[differ[0]]!r}"


def frame(spark, docs, n_partitions=None):
    rows = [(d["doc_id"], i, d["text"]) for i, d in enumerate(docs)]
    df = spark.createDataFrame(rows, "doc_id string, pos long, text string")
    return df.repartition(n_partitions) if n_partitions else df


# -- the real corpora -------------------------------------------------------------------


@pytest.fixture(scope="module")
def debian_local(debian_docs):
    return local_removals(debian_docs, None, scope="corpus")


@pytest.mark.parametrize("n", [1, 3, 8])
def test_debian_same_decisions_as_local_for_any_partitioning(spark, partitions, debian_docs, debian_local, n):
    from dedup.spark import dedupe_dataframe

    partitions(n)
    out, report = dedupe_dataframe(frame(spark, debian_docs, n), order_col="pos", report=True)
    remote = spark_removals(out, report)
    assert sum(len(v[1]) for v in remote.values()) > 2000  # the set has 2,109 repeats
    assert_same(debian_local, remote)


def test_report_cuts_replay_the_output(spark, debian_docs):
    """The report's cut_start/cut_end, as locally: deleting them from the input gives the output."""
    import dedup
    from dedup.spark import dedupe_dataframe

    docs = debian_docs[:600]
    text = " ".join(["The same sentence, long enough to be copied, and then some more words after it."] * 8)
    docs = docs + [{"doc_id": "zz-inner", "text": text}]  # a span repeated inside a paragraph: reason inner
    out, report = dedupe_dataframe(frame(spark, docs, 3), order_col="pos", report=True)
    lines: dict = {}
    for row in report.collect():
        lines.setdefault(row["doc_id"], []).append(row.asDict())
    assert any(r["reason"] == "inner" for r in lines.get("zz-inner", []))
    texts = {d["doc_id"]: d["text"] for d in docs}
    cleaned = {r["doc_id"]: r["text"] for r in out.collect()}
    assert sum(map(len, lines.values())) > 100
    for doc_id, text in texts.items():
        assert dedup.apply_removals(text, lines.get(doc_id, [])) == cleaned[doc_id], doc_id


def test_kjv_same_decisions_as_local_ordered_by_id(spark, kjv_docs):
    """No order column: "earlier" is the order of the ids (code point order, as in Python)."""
    from dedup.spark import dedupe_dataframe

    ordered = sorted(kjv_docs, key=lambda d: d["doc_id"])
    assert ordered != kjv_docs  # the file is not in id order: the order rule is exercised
    out, report = dedupe_dataframe(frame(spark, kjv_docs, 4), report=True)
    remote = spark_removals(out, report)
    local = local_removals(ordered, None, scope="corpus")
    assert sum(len(v[1]) for v in local.values()) > 200
    assert_same(local, remote)


# -- the rule's corners ------------------------------------------------------------------

WORDS = ("river stone light garden window paper orange silver market winter engine forest "
         "letter bridge candle valley harbor pencil mirror ladder castle meadow thunder velvet").split()


def synthetic_docs(seed=7, n=160):
    """One 60-word paragraph in n variants (one word changed: Jaccard ~0.7 to each other, so
    they crowd the same LSH buckets without being repeats), every eighth followed by its own
    near copy (one word added: Jaccard ~0.98) that the bucket cap can hide; plus boilerplate
    repeated exactly, a recurring heading, doubled articles with a title, and unique text."""
    rng = random.Random(seed)
    base = [rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(60)]
    licence = " ".join(rng.choice(WORDS) for _ in range(30))
    docs = []
    for i in range(n):
        variant = list(base)
        variant[rng.randrange(len(variant))] = f"changed{rng.randrange(10 ** 6)}"
        parts = ["Features:", " ".join(variant)]
        if i % 8 == 7:
            parts.append(" ".join(variant + ["extra"]))
        parts.append(" ".join(rng.choice(WORDS) for _ in range(25)) + f" number {i}")
        if i % 3 == 0:
            parts.append(licence)
        if i % 10 == 0:
            parts = parts + ["Title", "By someone"] + parts[1:3]  # a doubled article, with a title
        docs.append({"doc_id": f"d{i:03d}", "text": "\n\n".join(parts) + "\n"})
    return docs


def test_bucket_cap_is_the_local_rule(spark):
    """With max_bucket_candidates=2 most candidates are cut off; the cut is the local one."""
    from dedup.spark import dedupe_dataframe

    docs = synthetic_docs()
    capped = local_removals(docs, None, scope="corpus", max_bucket_candidates=2)
    full = local_removals(docs, None, scope="corpus")
    assert capped != full  # the cap changes decisions here, so the test can tell
    out, report = dedupe_dataframe(frame(spark, docs, 3), order_col="pos", report=True, max_bucket_candidates=2)
    assert_same(capped, spark_removals(out, report))


def test_document_scope_sentences_and_inner_repeats(spark, seed_text):
    """Document scope, sentence granularity and repeats inside one paragraph match too."""
    from dedup.spark import dedupe_dataframe

    article = seed_text.split("\n")[0]
    docs = synthetic_docs(seed=3)[:40]
    docs.append({"doc_id": "inner", "text": "Heading\n\n" + article + " " + article + "\n"})
    docs.append({"doc_id": "inner2", "text": article + "\n"})
    df = frame(spark, docs, 2)
    for settings in ({"scope": "document"}, {"scope": "corpus", "granularity": "sentence"}, {"scope": "corpus"}):
        local = local_removals(docs, DedupConfig(**settings))
        out, report = dedupe_dataframe(df, order_col="pos", report=True, config=DedupConfig(**settings))
        remote = spark_removals(out, report)
        assert_same(local, remote)
        if settings == {"scope": "corpus"}:
            assert any(r[-1] == "inner" for r in remote["inner"][1])
            assert remote["inner2"][0] == ""  # the whole article repeats the first copy in "inner"


def test_order_column_ties_are_broken_by_id(spark):
    from dedup.spark import dedupe_dataframe

    text = "The same paragraph appears in two documents with the same order value.\n"
    df = spark.createDataFrame([("b", 1, text), ("a", 1, text), ("c", 0, "Something else entirely here.\n")],
                               "doc_id string, pos int, text string")
    out = {r.doc_id: r for r in dedupe_dataframe(df, order_col="pos").collect()}
    assert out["a"].text == text and out["a"].removed_paragraphs == 0
    assert out["b"].text == "" and out["b"].removed_paragraphs == 1


def test_output_keeps_rows_and_columns_and_report_schema(spark):
    from dedup.spark import dedupe_dataframe

    text = "A paragraph long enough to count as a repeat of itself.\n\nA paragraph long enough to count as a repeat of itself.\n"
    df = spark.createDataFrame([(7, "x", text, 1.5), (3, "y", "", 2.5), (5, "z", "   \n", 0.0)],
                               "id long, tag string, body string, score double")
    out, report = dedupe_dataframe(df, text_col="body", id_col="id", report=True)
    assert out.columns == ["id", "tag", "body", "score", "removed_paragraphs"]
    rows = {r.id: r for r in out.collect()}
    assert rows[7].body == "A paragraph long enough to count as a repeat of itself.\n"
    assert (rows[7].tag, rows[7].score, rows[7].removed_paragraphs) == ("x", 1.5, 1)
    assert (rows[3].body, rows[5].body) == ("", "   \n")  # empty and blank text unchanged
    types = dict(report.dtypes)
    assert types == {"id": "bigint", "index": "int", "start": "bigint", "end": "bigint",
                     "matched_doc_id": "bigint", "matched_index": "int", "matched_start": "bigint",
                     "matched_end": "bigint", "similarity": "double", "reason": "string",
                     "cut_start": "bigint", "cut_end": "bigint"}
    (r,) = report.collect()
    assert (r["id"], r["index"], r["matched_doc_id"], r["matched_index"], r["similarity"], r["reason"]) == \
        (7, 1, 7, 0, 1.0, "exact")


def test_empty_dataframe(spark):
    from dedup.spark import dedupe_dataframe

    df = spark.createDataFrame([], "doc_id string, text string")
    out, report = dedupe_dataframe(df, report=True)
    assert out.columns == ["doc_id", "text", "removed_paragraphs"]
    assert out.count() == 0 and report.count() == 0


@pytest.mark.parametrize("rows, error, words", [
    ([(None, "some text")], DedupError, "null"),
    ([("a", "some text"), ("a", "other text")], DedupError, "duplicate"),
    ([("a", None)], InputTypeError, "null"),
])
def test_bad_ids_and_texts_are_rejected(spark, rows, error, words):
    from dedup.spark import dedupe_dataframe

    df = spark.createDataFrame(rows, "doc_id string, text string")
    with pytest.raises(error, match=words):
        dedupe_dataframe(df)


def test_bad_columns_are_rejected(spark):
    from dedup.spark import dedupe_dataframe

    df = spark.createDataFrame([("a", "t")], "doc_id string, text string")
    with pytest.raises(ConfigError, match="'body' is not a column"):
        dedupe_dataframe(df, text_col="body")
    with pytest.raises(ConfigError, match="removed_paragraphs"):
        dedupe_dataframe(df.withColumn("removed_paragraphs", df.text))
    with pytest.raises(InputTypeError, match="decode it first"):
        dedupe_dataframe(spark.createDataFrame([("a", bytearray(b"t"))], "doc_id string, text binary"))
    with pytest.raises(ConfigError, match="threshold"):
        dedupe_dataframe(df, threshold=1.5)


def test_example_job_writes_parquet_and_report(spark, tmp_path):
    import json

    docs = synthetic_docs(seed=5)[:30]
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({**d, "pos": i}) + "\n" for i, d in enumerate(docs)), encoding="utf-8")
    ns = runpy.run_path(str(EXAMPLES / "spark_job.py"))
    counts = ns["main"]([str(src), str(tmp_path / "out"), "--order-col", "pos", "--report",
                         str(tmp_path / "report")], spark=spark)
    local = local_removals(docs, None, scope="corpus")
    assert counts["documents"] == 30
    assert counts["removed"] == sum(len(v[1]) for v in local.values()) > 0
    written = {r.doc_id: r.text for r in spark.read.parquet(str(tmp_path / "out")).collect()}
    assert written == {k: v[0] for k, v in local.items()}
    assert spark.read.parquet(str(tmp_path / "report")).count() == counts["removed"]


# -- without Spark -----------------------------------------------------------------------


def test_missing_pyspark_names_the_pip_command(monkeypatch):
    from dedup.spark import dedupe_dataframe

    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(MissingDependencyError, match=r"pip install -e '\.\[spark\]'"):
        dedupe_dataframe(object())
    assert issubclass(MissingDependencyError, ImportError)


def test_fingerprints_are_the_library_arrays():
    """The Arrow step emits the very shingle sets and band keys of the local pipeline."""
    pa = pytest.importorskip("pyarrow")
    import numpy as np

    from dedup.fingerprint.lsh import band_keys
    from dedup.fingerprint.minhash import signatures
    from dedup.spark.batches import fingerprint_batches, shingle_arrays
    from dedup.text.split import split_paragraphs

    cfg = DedupConfig(batch_paragraphs=3)  # several chunks inside one Arrow batch
    texts = [d["text"] for d in synthetic_docs()[:12]]
    batch = pa.RecordBatch.from_pydict({"id": list(range(12)), "text": texts})
    names = {k: k for k in ("para", "start", "end", "tokens", "set_key", "shingles", "bands", "inner")}
    out = pa.Table.from_batches(list(fingerprint_batches([batch], config=cfg, text_col="text", keep=["id"],
                                                         names=names)))
    paragraphs = [t[s:e] for t in texts for s, e in zip(*(a.tolist() for a in split_paragraphs(t)))]
    sets = dedup.shingle_sets(paragraphs)
    keys = band_keys(signatures(sets.hashes, sets.offsets), cfg.layout)
    assert out.num_rows == len(paragraphs)
    assert np.array_equal(out.column("set_key").to_numpy().view(np.uint64), sets.set_keys)
    values, offsets = shingle_arrays(out.column("shingles"))
    assert np.array_equal(values, sets.hashes) and np.array_equal(offsets, sets.offsets)
    assert np.array_equal(out.column("bands").combine_chunks().values.to_numpy().view(np.uint64), keys.ravel())
    assert out.column("id").to_pylist() == [d for d, t in enumerate(texts) for _ in split_paragraphs(t)[0]]


CONNECT_CHECK = """
import gzip, json, os, sys
sys.path.insert(0, {tests!r})
from pyspark.sql import SparkSession
from test_spark import assert_same, frame, local_removals, spark_removals
from dedup.spark import dedupe_dataframe
with gzip.open({data!r}, "rt", encoding="utf-8") as f:
    docs = [json.loads(line) for line in f][:100]
spark = SparkSession.builder.remote("local[2]").getOrCreate()
out, report = dedupe_dataframe(frame(spark, docs, 2), order_col="pos", report=True)
remote = spark_removals(out, report)
assert_same(local_removals(docs, None, scope="corpus"), remote)
print("same decisions under Spark Connect:", sum(len(v[1]) for v in remote.values()), "removals")
del out, report
spark.stop()
"""


@pytest.mark.slow
def test_runs_under_spark_connect(tmp_path):
    """DataFrame API and Arrow only: the same decisions through Spark Connect (own process:
    a Connect session cannot share a process with the classic one)."""
    pytest.importorskip("pyspark")
    pytest.importorskip("grpc", reason="Spark Connect needs pip install 'pyspark[connect]'")
    from helpers import DATA

    script = CONNECT_CHECK.format(tests=str(Path(__file__).parent),
                                  data=str(DATA / "docs_debian_copyright.jsonl.gz"))
    env = command_env({"PYSPARK_PYTHON": sys.executable})
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same decisions under Spark Connect" in done.stdout


@pytest.mark.parametrize("granularity", ["document", "line"])
def test_document_and_line_units_as_local(spark, kjv_docs, granularity):
    import dedup
    from dedup.spark import dedupe_dataframe

    docs = kjv_docs[:80]
    docs = docs + [{"doc_id": f"copy-{d['doc_id']}", "text": "  " + d["text"].replace("\n\n", "\n") + "\n"}
                   for d in docs[:20]]
    out = {r.doc_id: r.text for r in dedupe_dataframe(frame(spark, docs, 3), order_col="pos",
                                                      granularity=granularity).collect()}
    local = dedup.Deduplicator(granularity=granularity).dedupe_many([d["text"] for d in docs],
                                                                    [d["doc_id"] for d in docs])
    assert [out[d["doc_id"]] for d in docs] == [r.text for r in local]
    if granularity == "document":  # the copies (other white space, the same words) go whole
        assert sum(r.text == "" for r in local) >= 20
