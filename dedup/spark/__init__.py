"""Spark backend: the local Deduplicator's decisions on a Spark DataFrame.

``from dedup.spark import dedupe_dataframe``. Needs the ``spark`` extra
(``pip install -e '.[spark]'``); pyspark is imported only when a function is called.
"""

from dedup.spark.frame import dedupe_dataframe

__all__ = ["dedupe_dataframe"]
