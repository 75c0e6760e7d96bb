"""The Python side of the Spark backend: functions over Arrow record batches.

Each function here runs inside a Spark worker (``mapInArrow`` or a pandas UDF) and calls
the library's own batch code, so a paragraph's shingle set, signature and band keys are
the very arrays the local :class:`dedup.Deduplicator` computes. They import pyarrow and
numpy only (never pyspark), so they can be tested without a JVM.

Column names are passed in by :mod:`dedup.spark.frame`; unsigned hashes travel through
Spark bit-cast to signed integers of the same width (Spark has no unsigned types).
"""

from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.arrays import exclusive_cumsum, row_of
from dedup.config import DedupConfig
from dedup.decide.inner import find_inner_repeats
from dedup.decide.rules import apply_run_rule, inner_removals, inner_search_mask, removal_reasons, shortened_copy
from dedup.decide.verify import overlap_rows
from dedup.fingerprint.lsh import band_keys
from dedup.fingerprint.minhash import signatures
from dedup.fingerprint.shingles import shingle_sets
from dedup.results import Removal
from dedup.text.assemble import assemble, cut_spans
from dedup.text.split import check_text, split_units

#: Names of the fields of a removal (the report), as in :meth:`dedup.Removal.to_dict`.
REMOVAL_FIELDS = Removal._fields
#: Fields of an inner removal as the canonical-text UDF returns it (the matched document is
#: the document itself and the reason "inner"; Spark fills those in).
INNER_FIELDS = tuple(name for name in REMOVAL_FIELDS if name not in ("matched_doc_id", "reason"))


def fingerprint_batches(batches: Iterable, *, config: DedupConfig, text_col: str, keep: Sequence[str],
                        names: dict) -> Iterator:
    """Documents in, one row per unit out: span, tokens, set key, shingle set, band keys.

    Units are paragraphs (or sentences, per ``config.granularity``). ``keep`` columns (the
    document id and order) are repeated on each of the document's units. ``names`` maps
    "para", "start", "end", "tokens", "set_key", "shingles", "bands", "inner" to output
    column names ("inner": worth a search for a repeat inside the unit). The shingle set
    travels as bytes (its sorted uint32 values), which Spark copies in one piece. Units are
    fingerprinted ``batch_paragraphs`` at a time, one output batch each; every array is
    per unit, so the cut never changes a value.
    """
    import pyarrow as pa

    out_names = list(keep) + [names[k] for k in ("para", "start", "end", "tokens", "set_key", "shingles",
                                                 "bands", "inner")]
    step = config.batch_paragraphs
    for batch in batches:
        pieces, starts, ends = _split_batch(batch.column(text_col).to_pylist(), config, text_col)
        if not pieces:
            continue
        sizes = np.array([len(s) for s in starts], dtype=np.int64)
        doc_all = row_of(sizes)
        para_all = (np.arange(len(doc_all), dtype=np.int64) - exclusive_cumsum(sizes)[doc_all]).astype(np.int32)
        start_all, end_all = np.concatenate(starts), np.concatenate(ends)
        for lo in range(0, len(pieces), step):
            hi = min(len(pieces), lo + step)
            columns = [batch.column(c).take(pa.array(doc_all[lo:hi])) for c in keep]
            columns += [pa.array(para_all[lo:hi]), pa.array(start_all[lo:hi]), pa.array(end_all[lo:hi])]
            columns += _fingerprint_columns(pieces[lo:hi], config)
            yield pa.RecordBatch.from_arrays(columns, names=out_names)


def _fingerprint_columns(pieces: List[str], config: DedupConfig) -> list:
    """Arrow columns of the units' tokens, set keys, shingle sets (bytes), band keys, inner flag."""
    import pyarrow as pa

    sets = shingle_sets(pieces, config.ngram, config.normalization, config.unspaced_scripts)
    keys = band_keys(signatures(sets.hashes, sets.offsets, config.num_perm, config.seed), config.layout)
    n, bands = len(pieces), config.layout.bands
    byte_offsets = (sets.offsets * 4).astype(np.int32)
    shingles = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(byte_offsets),
                                                       pa.py_buffer(np.ascontiguousarray(sets.hashes))])
    band_offsets = np.arange(0, n * bands + 1, bands, dtype=np.int32)
    return [
        pa.array(sets.n_tokens.astype(np.int32)),
        pa.array(sets.set_keys.view(np.int64)),
        shingles,
        pa.ListArray.from_arrays(pa.array(band_offsets), pa.array(keys.ravel().view(np.int64))),
        pa.array(inner_search_mask(config, sets.n_tokens.astype(np.int64), np.diff(sets.offsets))),
    ]


def _split_batch(texts: List[str], config: DedupConfig, text_col: str
                 ) -> Tuple[List[str], List[np.ndarray], List[np.ndarray]]:
    """(unit strings, unit starts per document, unit ends per document) of a batch's texts."""
    pieces: List[str] = []
    starts: List[np.ndarray] = []
    ends: List[np.ndarray] = []
    for d, text in enumerate(texts):
        check_text(text, f"column {text_col!r}, row {d} of a batch")
        s, e = split_units(text, config.granularity)
        starts.append(s)
        ends.append(e)
        pieces.extend(text[a:b] for a, b in zip(s.tolist(), e.tolist()))
    return pieces, starts, ends


def shingle_arrays(column) -> Tuple[np.ndarray, np.ndarray]:
    """(flat uint32 values, offsets into them) of a binary column of shingle sets."""
    import pyarrow as pa

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    wide = pa.types.is_large_binary(column.type)
    _, offsets_buf, data_buf = column.buffers()[:3]
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[column.offset:column.offset + len(column) + 1].astype(np.int64)
    base = int(offsets[0])
    data = np.frombuffer(data_buf, dtype=np.uint8)[base:int(offsets[-1])] if data_buf is not None \
        else np.zeros(0, dtype=np.uint8)
    return data.view(np.uint32), (offsets - base) // 4


def verify_batches(batches: Iterable, *, config: DedupConfig, query_col: str, cand_col: str, tokens_col: str,
                   sim_col: str, contained_col: str) -> Iterator:
    """Candidate pairs in, verified pairs out: exact Jaccard >= ``config.threshold`` (``sim_col``
    the Jaccard), or else the shortened-copy rule (``contained_col`` true, ``sim_col`` the
    containment; ``tokens_col``: the query unit's tokens).

    The two shingle-set columns are dropped from the output; every other column passes.
    """
    import pyarrow as pa

    for batch in batches:
        q_val, q_off = shingle_arrays(batch.column(query_col))
        c_val, c_off = shingle_arrays(batch.column(cand_col))
        la, lb = np.diff(q_off), np.diff(c_off)
        inter = overlap_rows(q_val, q_off[:-1], la, c_val, c_off[:-1], lb)
        sims = inter / (la + lb - inter)
        near = sims >= config.threshold
        tokens = batch.column(tokens_col).to_numpy(zero_copy_only=False)
        contained = ~near & shortened_copy(inter, la, lb, tokens, config)
        ok = np.flatnonzero(near | contained)
        if len(ok) == 0:
            continue
        sims = np.where(contained, inter / np.maximum(la, 1), sims)
        keep = [name for name in batch.schema.names if name not in (query_col, cand_col)]
        take = pa.array(ok)
        columns = [batch.column(name).take(take) for name in keep] + [pa.array(sims[ok]), pa.array(contained[ok])]
        yield pa.RecordBatch.from_arrays(columns, names=keep + [sim_col, contained_col])


def run_rule_batches(batches: Iterable, *, min_tokens: int, id_col: str, reps_col: str,
                     out_col: str, fields: dict) -> Iterator:
    """Per document, its repeat paragraphs in; the removed ones out (the run rule applied).

    ``reps_col`` is a list of structs, one per repeat paragraph, with the fields named by
    ``fields`` ("para", "start", "end", "tokens", "m_id", "m_para", "m_start", "m_end",
    "sim", "exact", "contained"). Out: ``id_col`` and ``out_col``, a list of removals with
    :data:`REMOVAL_FIELDS`, sorted by paragraph index; documents with none are left out.
    """
    import pyarrow as pa

    for batch in batches:
        reps = batch.column(reps_col)
        values = reps.flatten()
        offsets = reps.offsets.to_numpy()
        para = values.field(fields["para"]).to_numpy(zero_copy_only=False).astype(np.int64)
        long_enough = values.field(fields["tokens"]).to_numpy(zero_copy_only=False) >= min_tokens
        take_parts, doc_rows, new_offsets = [], [], [0]
        for d, (lo, hi) in enumerate(zip((offsets[:-1] - offsets[0]).tolist(), (offsets[1:] - offsets[0]).tolist())):
            chosen = _removed_repeats(para, long_enough, lo, hi)
            if len(chosen):
                take_parts.append(chosen)
                doc_rows.append(d)
                new_offsets.append(new_offsets[-1] + len(chosen))
        if not doc_rows:
            continue
        take = np.concatenate(take_parts)
        removals = _removal_structs(values, take, long_enough, fields)
        listed = pa.ListArray.from_arrays(pa.array(new_offsets, type=pa.int32()), removals)
        ids = batch.column(id_col).take(pa.array(doc_rows, type=pa.int64()))
        yield pa.RecordBatch.from_arrays([ids, listed], names=[id_col, out_col])


def _removed_repeats(para: np.ndarray, long_enough: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Of one document's repeats (entries ``lo:hi``), the entries the run rule removes, by paragraph."""
    if hi == lo:
        return np.zeros(0, dtype=np.int64)
    order = lo + np.argsort(para[lo:hi], kind="stable")
    p = para[order]
    is_repeat = np.zeros(int(p[-1]) + 1, dtype=bool)
    is_repeat[p] = True
    long_doc = np.ones(len(is_repeat), dtype=bool)
    long_doc[p] = long_enough[order]
    return order[apply_run_rule(is_repeat, long_doc)[p]]


def _removal_structs(values, take: np.ndarray, long_enough: np.ndarray, fields: dict):
    """The removals (structs with :data:`REMOVAL_FIELDS`) of the repeat entries ``take``."""
    import pyarrow as pa

    exact = values.field(fields["exact"]).to_numpy(zero_copy_only=False)
    contained = values.field(fields["contained"]).to_numpy(zero_copy_only=False)
    # Python's round, as the local Removal: numpy's can differ in the last digit
    sim = [round(float(x), 6) for x in values.field(fields["sim"]).to_numpy(zero_copy_only=False)[take]]
    at = pa.array(take)
    children = [values.field(fields[k]).take(at) for k in
                ("para", "start", "end", "m_id", "m_para", "m_start", "m_end")]
    children += [pa.array(sim, type=pa.float64()),
                 pa.array(removal_reasons(long_enough[take], exact[take], contained[take]), type=pa.string())]
    return pa.StructArray.from_arrays(children, names=list(REMOVAL_FIELDS))


def canonical_frame(texts, removed_lists, inner_lists, config: DedupConfig):
    """pandas UDF body: per document the canonical text and its inner removals.

    ``removed_lists``: indices of the removed units (None: none); ``inner_lists``: indices
    of units worth a search for a repeat inside them. A kept one that holds a copied span
    loses the span, as in the local Deduplicator.
    """
    import pandas as pd

    out_text: List[Optional[str]] = []
    out_inner: List[list] = []
    out_cuts: List[list] = []
    for text, removed_idx, inner_idx in zip(texts, removed_lists, inner_lists):
        has_removed = removed_idx is not None and len(removed_idx) > 0
        has_inner = inner_idx is not None and len(inner_idx) > 0
        if not has_removed and not has_inner:
            out_text.append(text)
            out_inner.append([])
            out_cuts.append([])
            continue
        starts, ends = split_units(text, config.granularity)
        removed = np.zeros(len(starts), dtype=bool)
        if has_removed:
            removed[np.asarray(removed_idx, dtype=np.int64)] = True
        inner = _inner_removals(text, starts, ends, removed, inner_idx if has_inner else (), config)
        cuts = [(r.start, r.end) for r in inner]
        out_text.append(assemble(text, starts, ends, removed, cuts))
        # the span each removal cut (the report's cut_start/cut_end), as the local report gives
        spans, inner_spans = cut_spans(text, starts, ends, removed, cuts)
        inner_at = dict(zip(sorted(cuts), inner_spans))
        out_inner.append([{**{name: getattr(r, name) for name in INNER_FIELDS},
                           "cut_start": inner_at[(r.start, r.end)][0], "cut_end": inner_at[(r.start, r.end)][1]}
                          for r in inner])
        out_cuts.append([{"cut_start": spans[int(i)][0], "cut_end": spans[int(i)][1]}
                         for i in (removed_idx if has_removed else [])])
    return pd.DataFrame({"text": out_text, "inner": out_inner, "cuts": out_cuts})


def _inner_removals(text: str, starts: np.ndarray, ends: np.ndarray, removed: np.ndarray, inner_idx,
                    config: DedupConfig) -> List[Removal]:
    """The removals of repeats inside the kept units ``inner_idx`` (the pre-filter's picks), in order."""
    out: List[Removal] = []
    for i in sorted(int(x) for x in inner_idx if not removed[int(x)]):
        start = int(starts[i])
        repeats = find_inner_repeats(text[start:int(ends[i])], ngram=config.ngram, threshold=config.threshold,
                                     min_tokens=config.inner_min_tokens, normalization=config.normalization,
                                     unspaced=config.unspaced_scripts)
        out.extend(inner_removals(None, i, start, repeats))
    return out
