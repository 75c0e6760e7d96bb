#!/usr/bin/env python3
"""Throughput of the Spark backend (local[N]) against the local Deduplicator, same data.

    python -m benchmarks.spark_vs_local [--copies 4] [--repeats 3] [--master local[2]]

Sets: Debian copyright files, KJV chapters, and both together repeated ``--copies`` times
under new ids (later copies are exact repeats: the exact stage's workload). Local: one
``Deduplicator(scope="corpus").dedupe_many`` over the documents in order. Spark: the input
cached in Spark, then ``dedupe_dataframe`` (its validation job included) written to the
``noop`` sink; the session start is excluded. Runs alternate, medians are printed as JSON
lines, and both sides are checked to remove the same number of paragraphs. Per-stage task
time of the last Spark run (from the event log) shows what dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks._common import read_docs


def load(name: str):
    return [{"doc_id": d["doc_id"], "text": d["text"]} for d in read_docs(name)]


def run_local(docs):
    from dedup import Deduplicator

    t = time.perf_counter()
    d = Deduplicator(scope="corpus")
    d.dedupe_many([x["text"] for x in docs], [x["doc_id"] for x in docs])
    return time.perf_counter() - t, d.stats.removed, d.stats.paragraphs


def run_spark(df):
    from pyspark.sql import functions as F

    from dedup.spark import dedupe_dataframe

    t = time.perf_counter()
    out = dedupe_dataframe(df, order_col="pos")
    removed = out.agg(F.sum("removed_paragraphs")).collect()[0][0]
    return time.perf_counter() - t, removed


def stage_profile(log_dir: str, after: int = -1, top: int = 8):
    """(task ms per kind of stage, for stages after ``after``; the last stage id): what dominates."""
    logs = sorted(Path(log_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    if not logs:
        return {}, after
    scopes, run = {}, Counter()
    for line in logs[-1].open():
        e = json.loads(line)
        if e["Event"] == "SparkListenerStageCompleted":
            info = e["Stage Info"]
            names = {json.loads(r["Scope"])["name"] for r in info["RDD Info"] if r.get("Scope")}
            key = [n for n in ("MapInArrow", "ArrowEvalPython", "Window", "ObjectHashAggregate",
                               "SortMergeJoin", "InMemoryTableScan") if n in names]
            scopes[info["Stage ID"]] = "+".join(key) or "other"
        elif e["Event"] == "SparkListenerTaskEnd" and e["Stage ID"] > after:
            run[e["Stage ID"]] += e["Task Metrics"]["Executor Run Time"]
    by_kind = Counter()
    for stage, ms in run.items():
        by_kind[scopes.get(stage, "other")] += ms
    return dict(by_kind.most_common(top)), max(scopes, default=after)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--partitions", type=int, default=4)
    args = p.parse_args()

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    log_dir = tempfile.mkdtemp(prefix="dedup-spark-events-")
    spark = (SparkSession.builder.master(args.master).appName("dedup-bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", log_dir)
             .config("spark.eventLog.compress", "false").config("spark.eventLog.rolling.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    debian, kjv = load("docs_debian_copyright.jsonl.gz"), load("docs_kjv_chapters.jsonl.gz")
    both = debian + kjv
    sets = {"debian": debian, "kjv": kjv,
            f"both_x{args.copies}": [{"doc_id": f"{d['doc_id']}#{k}", "text": d["text"]}
                                     for k in range(args.copies) for d in both]}
    for name, docs in sets.items():
        df = spark.createDataFrame([(d["doc_id"], i, d["text"]) for i, d in enumerate(docs)],
                                   "doc_id string, pos long, text string").repartition(args.partitions).cache()
        df.count()
        local_t, spark_t = [], []
        for _ in range(args.repeats):
            t, removed_local, paragraphs = run_local(docs)
            local_t.append(t)
            time.sleep(1)
            _, last = stage_profile(log_dir)
            t, removed_spark = run_spark(df)
            spark_t.append(t)
            assert removed_local == removed_spark, (name, removed_local, removed_spark)
        df.unpersist()
        time.sleep(1)
        profile, _ = stage_profile(log_dir, last)
        lt, st = statistics.median(local_t), statistics.median(spark_t)
        print(json.dumps({"set": name, "documents": len(docs), "paragraphs": paragraphs,
                          "removed": removed_local, "local_s": round(lt, 2), "spark_s": round(st, 2),
                          "local_par_per_s": round(paragraphs / lt), "spark_par_per_s": round(paragraphs / st),
                          "spark_over_local": round(st / lt, 1), "master": args.master,
                          "stage_task_ms": profile}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
