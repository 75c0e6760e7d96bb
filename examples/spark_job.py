"""Deduplicate a corpus on Spark: JSONL or Parquet in, Parquet (or JSONL) out.

    spark-submit examples/spark_job.py docs.jsonl.gz out/ --order-col pos --report out-report/
    spark-submit examples/spark_job.py data/*.parquet out/ --format json

Every row needs a stable unique id (``--id-col``, default ``doc_id``); "earlier" is the
order of ``--order-col`` if given, else of the id. The executors need ``paradedup`` installed
(``pip install -e '.[spark]'`` on each node, or ship it with ``--py-files``).
"""

from __future__ import annotations

import argparse
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("inputs", nargs="+", help="input files or folders (.jsonl[.gz], .json, .parquet)")
    p.add_argument("output", help="output folder")
    p.add_argument("--input-format", choices=("json", "parquet"), help="default: from the file names")
    p.add_argument("--format", choices=("parquet", "json"), default="parquet", help="output format")
    p.add_argument("--text-col", default="text")
    p.add_argument("--id-col", default="doc_id")
    p.add_argument("--order-col", default=None)
    p.add_argument("--threshold", type=float, default=0.8)
    p.add_argument("--scope", choices=("corpus", "document"), default="corpus")
    p.add_argument("--report", default=None, help="also write the removals here")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None, spark=None) -> dict:
    """Run the job; returns counts (documents, documents changed, paragraphs removed)."""
    from pyspark.sql import SparkSession, functions as F

    from dedup.spark import dedupe_dataframe

    args = parse_args(argv)
    spark = spark or SparkSession.builder.appName("dedup").getOrCreate()
    kind = args.input_format or ("parquet" if all(".parquet" in p or "." not in p.rsplit("/", 1)[-1]
                                                  for p in args.inputs) else "json")
    df = spark.read.parquet(*args.inputs) if kind == "parquet" else spark.read.json(list(args.inputs))
    out, report = dedupe_dataframe(df, text_col=args.text_col, id_col=args.id_col, order_col=args.order_col,
                                   threshold=args.threshold, scope=args.scope, report=True)
    out.write.mode("overwrite").format(args.format).save(args.output)
    if args.report:
        report.write.mode("overwrite").format(args.format).save(args.report)
    written = spark.read.format(args.format).load(args.output)
    counts = written.agg(F.count(F.lit(1)).alias("documents"),
                         F.sum((F.col("removed_paragraphs") > 0).cast("int")).alias("documents_changed"),
                         F.sum("removed_paragraphs").alias("removed")).collect()[0].asDict()
    print(f"{counts['documents']} documents, {counts['documents_changed']} changed, "
          f"{counts['removed']} paragraphs removed -> {args.output}")
    return counts


if __name__ == "__main__":
    main()
