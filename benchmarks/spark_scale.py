#!/usr/bin/env python3
"""The anchor of docs/scale.md: the Spark backend on local[N] over the scaled corpus, with the
shuffle bytes and task time per paragraph that the internet-scale arithmetic multiplies.

    python -m benchmarks.spark_scale [--paragraphs 300000] [--master local[2]] [--partitions 8]

One run of ``dedupe_dataframe`` (written to the ``noop`` sink, its validation job included),
and one local ``Deduplicator`` run over the same documents in the same order, checked to remove
the same number of paragraphs. From Spark's event log: shuffle bytes written, task time (CPU
of the executors), and the task time per kind of stage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.corpus import scaled_documents
from benchmarks.spark_vs_local import run_local, run_spark


def event_totals(log_dir: str) -> dict:
    """Shuffle bytes written and read, executor run time (ms), over every task of the log."""
    totals: Counter = Counter()
    logs = sorted(Path(log_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    for line in logs[-1].open():
        e = json.loads(line)
        if e["Event"] != "SparkListenerTaskEnd" or not e.get("Task Metrics"):
            continue
        m = e["Task Metrics"]
        totals["shuffle_write_bytes"] += m["Shuffle Write Metrics"]["Shuffle Bytes Written"]
        totals["shuffle_read_bytes"] += (m["Shuffle Read Metrics"]["Remote Bytes Read"]
                                         + m["Shuffle Read Metrics"]["Local Bytes Read"])
        totals["task_ms"] += m["Executor Run Time"]
        totals["peak_execution_memory"] = max(totals["peak_execution_memory"], m.get("Peak Execution Memory", 0))
    return dict(totals)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--paragraphs", type=int, default=300_000)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--partitions", type=int, default=8)
    args = p.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    docs = [{"doc_id": d["doc_id"], "text": d["text"]} for d in scaled_documents(args.paragraphs, labels=False)]
    log_dir = tempfile.mkdtemp(prefix="dedup-spark-scale-")
    spark = (SparkSession.builder.master(args.master).appName("dedup-scale")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .config("spark.driver.memory", "6g")
             .config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", log_dir)
             .config("spark.eventLog.compress", "false").config("spark.eventLog.rolling.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.createDataFrame([(d["doc_id"], i, d["text"]) for i, d in enumerate(docs)],
                               "doc_id string, pos long, text string").repartition(args.partitions).cache()
    df.count()
    time.sleep(1)
    before = event_totals(log_dir)
    spark_s, removed_spark = run_spark(df)
    time.sleep(2)  # the event log is flushed
    after = event_totals(log_dir)
    local_s, removed_local, paragraphs = run_local(docs)
    assert removed_local == removed_spark, (removed_local, removed_spark)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in ("shuffle_write_bytes", "shuffle_read_bytes", "task_ms")}
    print(json.dumps({
        "paragraphs": paragraphs, "documents": len(docs), "removed": removed_local, "master": args.master,
        "spark_s": round(spark_s, 1), "local_s": round(local_s, 1),
        "shuffle_write_bytes_per_paragraph": round(delta["shuffle_write_bytes"] / paragraphs),
        "shuffle_read_bytes_per_paragraph": round(delta["shuffle_read_bytes"] / paragraphs),
        "task_ms_per_1000_paragraphs": round(1000 * delta["task_ms"] / paragraphs, 2),
        "peak_execution_memory_bytes": after.get("peak_execution_memory", 0),
    }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
