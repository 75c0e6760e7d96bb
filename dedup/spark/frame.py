"""dedupe_dataframe: the Deduplicator's decisions, computed as one Spark DataFrame plan.

Only the DataFrame API and Arrow (``mapInArrow``, pandas UDFs) are used, no RDD and no
SparkContext, so the same code runs under ``spark-submit``, in a notebook and through
Spark Connect. The plan, step by step (the local rule of :mod:`dedup.deduplicator`, made global):

1. ``mapInArrow``: split each document, fingerprint its paragraphs with the library's
   batch code (shingle set, set key, band keys). A paragraph's place in the global order
   is ``(order_col, id_col, paragraph index)`` (``(id_col, paragraph index)`` without an
   order column): Spark compares the struct, so no dense row number (and no single-
   partition window) is needed.
2. Exact stage: a window over the set key; a paragraph whose set equals the set of the
   first paragraph with its key is an exact repeat of that first one. Exact repeats never
   enter an LSH bucket, so boilerplate repeated 100,000 times costs one shuffle row each.
3. Near stage, for the other paragraphs: band keys exploded, each bucket ordered by the
   global order; a member at position p has as candidates the members at positions
   < min(p, max_bucket_candidates), which are the earliest ones (a bucket of n members
   yields at most n * max_bucket_candidates pairs, never n**2). Shared bands are counted
   per (query, candidate) pair, every pair is verified on the exact Jaccard similarity,
   and the match is the first verified candidate by (shared bands desc, order asc).
4. Per document, the short-paragraph run rule, then (with the text) repeats inside a kept
   paragraph and the canonical text.

"Paragraph" above stands for the unit of ``config.granularity`` (sentences, if asked).

In document scope the document id is added to every grouping key (exact sets and
buckets), which is what the local Deduplicator does by salting keys per document.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Hashable, Optional, Sequence, get_type_hints

from dedup.config import DedupConfig, make_config
from dedup._optional import pip_hint
from dedup.errors import ConfigError, DedupError, InputTypeError, MissingDependencyError
from dedup.results import Removal
from dedup.spark import batches

REMOVED_COL = "removed_paragraphs"

# Internal column names: prefixed so they never clash with a user's columns.
_P = "__dedup_"
ID, ORD, TEXT = _P + "id", _P + "ord", _P + "text"
PARA, START, END, TOKENS = _P + "para", _P + "start", _P + "end", _P + "tokens"
SET_KEY, SHINGLES, BANDS = _P + "set_key", _P + "shingles", _P + "bands"
#: a unit's place in the global order: the struct (order, id, unit index), compared as a whole
ORDER = _P + "order"
FIRST, EXACT, KEY, POS = _P + "first", _P + "exact", _P + "key", _P + "pos"
SHARED, SIM, MEMBERS, HEADS = _P + "shared", _P + "sim", _P + "members", _P + "heads"
# A candidate pair: the query unit (later in the order) and the candidate it may repeat.
QUERY_START, QUERY_END, QUERY_TOKENS, QUERY_SHINGLES = (_P + "query_start", _P + "query_end", _P + "query_tokens",
                                                        _P + "query_shingles")
CAND_ORDER, CAND_ID, CAND_PARA = _P + "cand_order", _P + "cand_id", _P + "cand_para"
CAND_START, CAND_END, CAND_SHINGLES = _P + "cand_start", _P + "cand_end", _P + "cand_shingles"
BEST, REPS, REMOVALS, OUT, INNER = _P + "best", _P + "reps", _P + "removals", _P + "out", _P + "inner"
M_ID, M_PARA, M_START, M_END = _P + "m_id", _P + "m_para", _P + "m_start", _P + "m_end"
#: a pair verified as a shortened copy (the containment rule), not by its Jaccard similarity
CONTAINED = _P + "contained"

# pyspark's functions, types and Window, for every helper below: set by :func:`_load_pyspark`
# when the Spark backend is used (`import dedup.spark` needs no pyspark).
F: Any = None
T: Any = None
Window: Any = None


def _load_pyspark() -> None:
    """Import pyspark (and the pyarrow and pandas it needs on the driver) into :data:`F`, :data:`T`
    and :data:`Window`; after the first call the imports are lookups in ``sys.modules``, and a
    pyspark gone from them still fails here, naming the pip command."""
    global F, T, Window
    try:
        import pyarrow  # noqa: F401  (mapInArrow needs it on the driver too)
        import pandas  # noqa: F401
        from pyspark.sql import Window as window, functions, types
    except ImportError as exc:
        raise MissingDependencyError(
            f"the Spark backend needs pyspark, pyarrow and pandas ({exc.name or exc} is missing): "
            f"{pip_hint('spark')}"
        ) from exc
    F, T, Window = functions, types, window


def dedupe_dataframe(df, text_col: str = "text", id_col: str = "doc_id", order_col: Optional[str] = None,
                     threshold: Optional[float] = None, scope: Optional[str] = None, report: bool = False,
                     config: Optional[DedupConfig] = None, **overrides: Any):
    """``df`` with repeated paragraphs removed from ``text_col``; the local decisions, on Spark.

    Returns the input rows and columns with ``text_col`` replaced by the canonical text and
    ``removed_paragraphs``, the number of removals (``len(DedupResult.removed)`` locally);
    with ``report=True``, ``(out_df, report_df)`` where ``report_df`` has one row per
    removal (``id_col``, ``index``, ``start``, ``end``, ``matched_doc_id``,
    ``matched_index``, ``matched_start``, ``matched_end``, ``similarity``, ``reason``), as
    :meth:`dedup.Removal.to_dict`, then ``cut_start``, ``cut_end``: the span of the input
    that went with the removal, as the local report gives it (``dedup.apply_removals``
    replays them).

    "Earlier" is the order of ``order_col`` (ties broken by ``id_col``), else of
    ``id_col``; ids must be unique and non-null (a stable column, never
    ``monotonically_increasing_id``, whose values change with partitioning). Settings come
    from ``config`` and keyword ``overrides`` as for :class:`dedup.Deduplicator`;
    ``threshold`` defaults to 0.8 and ``scope`` to ``"corpus"`` (unless the config names one).
    The decisions equal ``Deduplicator(scope=...)`` run over the documents in that order,
    for any number of partitions. Lazy apart from one validation job over the ids; the
    table of fingerprinted paragraphs is checkpointed locally (in the executors) when first
    computed, so the output and the report share it, and released with them.
    """
    _load_pyspark()
    cfg = _config(config, threshold, scope, overrides)
    _check_schema(df, text_col, id_col, order_col)
    _check_values(df, text_col, id_col, order_col)
    units = _units(df, cfg, text_col, id_col, order_col)
    removals = _removals(units, cfg, df.schema[id_col].dataType)
    inner = units.filter(F.col(INNER)).groupBy(ID).agg(F.collect_list(PARA).alias(INNER))
    per_doc = removals.join(inner, on=ID, how="full").withColumnRenamed(ID, id_col)
    full = _canonical(df, per_doc, cfg, text_col, id_col)
    columns = [F.col(f"{OUT}.text").alias(text_col) if c == text_col else F.col(f"`{c}`") for c in df.columns]
    count = F.size(F.coalesce(F.col(REMOVALS), F.array())) + F.size(F.col(f"{OUT}.inner"))
    out = full.select(*columns, count.cast(T.IntegerType()).alias(REMOVED_COL))
    if not report:
        return out
    cut_names = ("cut_start", "cut_end")
    listed = full.select(F.col(f"`{id_col}`"), F.arrays_zip(F.col(REMOVALS).alias("r"),
                                                            F.col(f"{OUT}.cuts").alias("c")).alias(OUT))
    listed = listed.select(F.col(f"`{id_col}`"), F.explode(OUT).alias(OUT)).select(
        F.col(f"`{id_col}`"), *[F.col(f"{OUT}.r.{name}").alias(name) for name in batches.REMOVAL_FIELDS],
        *[F.col(f"{OUT}.c.{name}").alias(name) for name in cut_names])
    inner_rows = full.select(F.col(f"`{id_col}`"), F.explode(f"{OUT}.inner").alias(OUT)).select(
        F.col(f"`{id_col}`"), *[F.col(f"`{id_col}`").alias(name) if name == "matched_doc_id"
                                else F.lit("inner").alias(name) if name == "reason"
                                else F.col(f"{OUT}.{name}").alias(name)
                                for name in batches.REMOVAL_FIELDS + cut_names])
    return out, listed.unionByName(inner_rows)


def _config(config: Optional[DedupConfig], threshold: Optional[float], scope: Optional[str],
            overrides: dict) -> DedupConfig:
    if threshold is not None:
        overrides["threshold"] = threshold
    cfg = make_config(config, default_scope="corpus", scope=scope, **overrides)
    if cfg.noisy_rules is not None:  # refused, never silently ignored
        raise ConfigError("noisy_rules (preset 'noisy') are not on the Spark backend yet: run them with "
                          "Deduplicator (in memory or SQLite), or use preset 'default' or 'strict' here")
    if cfg.exact_substrings is not None:  # not silently ignored
        raise ConfigError("exact_substrings is not available on Spark yet: run dedupe_stream or the dedup command")
    return cfg


def _check_schema(df, text_col: str, id_col: str, order_col: Optional[str]) -> None:
    fields = {f.name: f for f in df.schema.fields}
    for role, name in (("text_col", text_col), ("id_col", id_col), ("order_col", order_col)):
        if name is not None and name not in fields:
            raise ConfigError(f"{role}={name!r} is not a column of the DataFrame; columns: {sorted(fields)}")
    kind = fields[text_col].dataType
    if isinstance(kind, T.BinaryType):
        raise InputTypeError(f"column {text_col!r} is binary: decode it first, e.g. "
                             f"F.decode(F.col({text_col!r}), 'UTF-8')")
    if not isinstance(kind, T.StringType):
        raise InputTypeError(f"column {text_col!r} must be a string column, got {kind.simpleString()}")
    if text_col == id_col or text_col == order_col:
        raise ConfigError(f"text_col {text_col!r} cannot also be the id or order column")
    if REMOVED_COL in fields:
        raise ConfigError(f"the DataFrame already has a column {REMOVED_COL!r}, which the output adds; "
                          f"rename it first")
    for name in fields:
        if name.startswith(_P):
            raise ConfigError(f"column {name!r} uses the prefix {_P!r}, reserved for dedup's own columns")


def _check_values(df, text_col: str, id_col: str, order_col: Optional[str]) -> None:
    """One job: ids present and unique, order and text present (else a clear error)."""
    aggs = [F.count(F.lit(1)).alias("rows"), F.count(F.col(id_col)).alias("ids"),
            F.countDistinct(F.col(id_col)).alias("distinct"), F.count(F.col(text_col)).alias("texts")]
    if order_col is not None:
        aggs.append(F.count(F.col(order_col)).alias("orders"))
    row = df.agg(*aggs).collect()[0]
    if row["ids"] != row["rows"]:
        raise DedupError(f"id column {id_col!r} has {row['rows'] - row['ids']} null value(s); every row "
                         f"needs a stable, unique id (never monotonically_increasing_id)")
    if row["distinct"] != row["ids"]:
        dups = (df.groupBy(id_col).count().filter(F.col("count") > 1).orderBy(id_col).limit(5)
                .collect())
        shown = ", ".join(repr(r[id_col]) for r in dups)
        raise DedupError(f"id column {id_col!r} has {row['ids'] - row['distinct']} duplicate value(s) "
                         f"(e.g. {shown}); ids must be unique")
    if row["texts"] != row["rows"]:
        raise InputTypeError(f"text column {text_col!r} has {row['rows'] - row['texts']} null value(s); "
                             f"fill or drop them first")
    if order_col is not None and row["orders"] != row["rows"]:
        raise DedupError(f"order column {order_col!r} has {row['rows'] - row['orders']} null value(s)")


def _units(df, cfg: DedupConfig, text_col: str, id_col: str, order_col: Optional[str]):
    """One row per unit (paragraph) with its fingerprints, its place ``ORDER`` in the global
    order (the struct (order, id, unit index)) and the outcome of the exact stage;
    computed once, read by every later step."""
    fields = {f.name: f for f in df.schema.fields}
    cols = [F.col(f"`{id_col}`").alias(ID)]
    keep = [T.StructField(ID, fields[id_col].dataType, False)]
    if order_col is not None:
        cols.append(F.col(f"`{order_col}`").alias(ORD))
        keep.append(T.StructField(ORD, fields[order_col].dataType, False))
    cols.append(F.col(f"`{text_col}`").alias(TEXT))
    schema = T.StructType(keep + [
        T.StructField(PARA, T.IntegerType(), False),
        T.StructField(START, T.LongType(), False),
        T.StructField(END, T.LongType(), False),
        T.StructField(TOKENS, T.IntegerType(), False),
        T.StructField(SET_KEY, T.LongType(), False),
        T.StructField(SHINGLES, T.BinaryType(), False),
        T.StructField(BANDS, T.ArrayType(T.LongType(), False), False),
        T.StructField(INNER, T.BooleanType(), False),
    ])
    names = {"para": PARA, "start": START, "end": END, "tokens": TOKENS, "set_key": SET_KEY,
             "shingles": SHINGLES, "bands": BANDS, "inner": INNER}
    fn = partial(batches.fingerprint_batches, config=cfg, text_col=TEXT, keep=[f.name for f in keep],
                 names=names)
    units = df.select(*cols).mapInArrow(fn, schema)
    order = ([ORD] if order_col is not None else []) + [ID, PARA]
    units = units.withColumn(ORDER, F.struct(*order))

    # Exact stage: the first unit (in order) of each set key; a later one with the same
    # set repeats it. (Document scope: the first in the same document.)
    within = [ID] if cfg.scope == "document" else []
    by_set = Window.partitionBy(*within, SET_KEY).orderBy(ORDER)
    first = F.first(F.struct(ORDER, ID, PARA, START, END, SHINGLES)).over(by_set)
    units = (units.withColumn(FIRST, first)
             .withColumn(EXACT, (F.col(f"{FIRST}.{ORDER}") != F.col(ORDER))
                         & (F.col(f"{FIRST}.{SHINGLES}") == F.col(SHINGLES)))
             .withColumn(FIRST, F.col(FIRST).dropFields(SHINGLES)))
    # Computed when first needed and kept while the result lives; without it Spark would
    # fingerprint the corpus again for every branch of the plan that reads it.
    return units.localCheckpoint(eager=False)


def _removals(units, cfg: DedupConfig, id_type):
    """Per document with removals: ``ID`` and a list of removals (run rule applied)."""
    within = [ID] if cfg.scope == "document" else []  # document scope: keys never meet across documents
    exact_rows = units.filter(F.col(EXACT)).select(
        F.col(ID), F.col(PARA), F.col(START), F.col(END), F.col(TOKENS),
        F.col(f"{FIRST}.{ID}").alias(M_ID), F.col(f"{FIRST}.{PARA}").alias(M_PARA),
        F.col(f"{FIRST}.{START}").alias(M_START), F.col(f"{FIRST}.{END}").alias(M_END),
        F.lit(1.0).alias(SIM), F.lit(True).alias(EXACT), F.lit(False).alias(CONTAINED))
    near_rows = _near_rows(units.filter(~F.col(EXACT)), cfg, within)
    return _run_rule(exact_rows.unionByName(near_rows), cfg, id_type)


def _near_rows(stored, cfg: DedupConfig, within: list):
    """The near repeats among the ``stored`` units (not exact repeats), with their matches."""
    # Near stage: LSH buckets of the units that are not exact repeats, each sorted in the
    # global order. A member at position p gets as candidates the members at positions
    # < min(p, max_bucket_candidates): the earliest ones, at most that many.
    limit = cfg.max_bucket_candidates
    buckets = (stored.select(*within, ORDER, F.explode(BANDS).alias(KEY))
               .groupBy(*within, KEY).agg(F.array_sort(F.collect_list(ORDER)).alias(MEMBERS))
               .filter(F.size(MEMBERS) > 1))
    members = buckets.select(F.slice(MEMBERS, 1, limit).alias(HEADS),
                             F.posexplode(MEMBERS).alias(POS, ORDER)).filter(F.col(POS) > 0)
    pairs = (members.select(ORDER, F.explode(F.slice(HEADS, F.lit(1), F.least(F.col(POS), F.lit(limit))))
                            .alias(CAND_ORDER))
             .filter(F.col(CAND_ORDER) < F.col(ORDER))  # a unit listed twice in one bucket
             .groupBy(ORDER, CAND_ORDER).agg(F.count(F.lit(1)).alias(SHARED)))
    queries = stored.select(ORDER, ID, PARA, F.col(START).alias(QUERY_START), F.col(END).alias(QUERY_END),
                            F.col(TOKENS).alias(QUERY_TOKENS), F.col(SHINGLES).alias(QUERY_SHINGLES))
    cands = stored.select(F.col(ORDER).alias(CAND_ORDER), F.col(ID).alias(CAND_ID), F.col(PARA).alias(CAND_PARA),
                          F.col(START).alias(CAND_START), F.col(END).alias(CAND_END),
                          F.col(SHINGLES).alias(CAND_SHINGLES))
    pairs = pairs.join(queries, on=ORDER).join(cands, on=CAND_ORDER)
    verified_schema = T.StructType([f for f in pairs.schema.fields
                                    if f.name not in (QUERY_SHINGLES, CAND_SHINGLES)]
                                   + [T.StructField(SIM, T.DoubleType(), False),
                                      T.StructField(CONTAINED, T.BooleanType(), False)])
    verified = pairs.mapInArrow(partial(batches.verify_batches, config=cfg, query_col=QUERY_SHINGLES,
                                        cand_col=CAND_SHINGLES, tokens_col=QUERY_TOKENS, sim_col=SIM,
                                        contained_col=CONTAINED), verified_schema)
    # The match: the first verified candidate by (shared bands desc, order asc); a near repeat
    # before a shortened copy.
    best = verified.groupBy(ORDER, ID, PARA, QUERY_START, QUERY_END, QUERY_TOKENS).agg(F.min(F.struct(
        F.col(CONTAINED), (-F.col(SHARED)).alias("neg_shared"), F.col(CAND_ORDER), F.col(SIM), F.col(CAND_ID),
        F.col(CAND_PARA), F.col(CAND_START), F.col(CAND_END))).alias(BEST))
    near_rows = best.select(
        F.col(ID), F.col(PARA), F.col(QUERY_START).alias(START), F.col(QUERY_END).alias(END),
        F.col(QUERY_TOKENS).alias(TOKENS),
        F.col(f"{BEST}.{CAND_ID}").alias(M_ID), F.col(f"{BEST}.{CAND_PARA}").alias(M_PARA),
        F.col(f"{BEST}.{CAND_START}").alias(M_START), F.col(f"{BEST}.{CAND_END}").alias(M_END),
        F.col(f"{BEST}.{SIM}").alias(SIM), F.lit(False).alias(EXACT), F.col(f"{BEST}.{CONTAINED}").alias(CONTAINED))
    return near_rows


def _run_rule(repeats, cfg: DedupConfig, id_type):
    """Per document: the run rule over its repeats, giving ``ID`` and its list of removals."""
    fields = [PARA, START, END, TOKENS, M_ID, M_PARA, M_START, M_END, SIM, EXACT, CONTAINED]
    per_doc = repeats.groupBy(ID).agg(F.collect_list(F.struct(*fields)).alias(REPS))
    removal_type = _removal_type(batches.REMOVAL_FIELDS, id_type)
    schema = T.StructType([T.StructField(ID, id_type, False),
                           T.StructField(REMOVALS, T.ArrayType(removal_type, False), False)])
    names = {"para": PARA, "start": START, "end": END, "tokens": TOKENS, "m_id": M_ID, "m_para": M_PARA,
             "m_start": M_START, "m_end": M_END, "sim": SIM, "exact": EXACT, "contained": CONTAINED}
    fn = partial(batches.run_rule_batches, min_tokens=cfg.min_tokens, id_col=ID, reps_col=REPS,
                 out_col=REMOVALS, fields=names)
    return per_doc.mapInArrow(fn, schema)


def _canonical(df, per_doc, cfg: DedupConfig, text_col: str, id_col: str):
    """The input rows plus ``REMOVALS`` and ``OUT`` = (canonical text, inner removals)."""
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    def canonical(texts, removed, inner):
        return batches.canonical_frame(texts, removed, inner, cfg)

    canonical.__annotations__ = {"texts": pd.Series, "removed": pd.Series, "inner": pd.Series,
                                 "return": pd.DataFrame}
    cut_fields = [T.StructField("cut_start", T.LongType(), False), T.StructField("cut_end", T.LongType(), False)]
    inner_type = T.StructType(_removal_type(batches.INNER_FIELDS).fields + cut_fields)
    result_type = T.StructType([T.StructField("text", T.StringType()),
                                T.StructField("inner", T.ArrayType(inner_type, False)),
                                T.StructField("cuts", T.ArrayType(T.StructType(cut_fields), False))])
    udf = pandas_udf(canonical, result_type)  # type: ignore[call-overload]  # hints set at run time, above
    joined = df.join(per_doc, on=id_col, how="left")
    removed = F.transform(F.col(REMOVALS), lambda r: r["index"])
    return joined.withColumn(OUT, udf(F.col(f"`{text_col}`"), removed, F.col(INNER)))


def _removal_type(names: Sequence[str], id_type=None):
    """The Spark struct of :class:`dedup.Removal`'s fields ``names``, typed from its annotations.

    Paragraph indexes are ints (as the units' index column), other ints longs; the matched
    document id has the id column's type.
    """
    hints = get_type_hints(Removal)
    by_kind = {int: T.LongType(), float: T.DoubleType(), str: T.StringType(), Optional[Hashable]: id_type}

    def spark_type(name: str):
        if hints[name] is int and name.endswith("index"):
            return T.IntegerType()
        return by_kind[hints[name]]  # a KeyError here: a new kind of field needs its Spark type

    return T.StructType([T.StructField(name, spark_type(name), False) for name in names])
