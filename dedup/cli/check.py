"""``dedup check CORPUS... --against REFERENCE...``: find (and optionally remove) units of a
corpus that are in a reference set, adding nothing to anything (decontamination).

The reference is files of records (a benchmark's test split) or a persistent index (a dedup
SQLite file, a compact index directory, or ``redis://``: :func:`dedup.index.open.index_kind`
tells), opened read-only.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from dedup.check import MIN_CONTAINMENT, Reference
from dedup.cli.options import COMMAND_SCOPE, UsageError, counted, run_command, run_settings, shared_options
from dedup.config import DedupConfig, make_config
from dedup.contamination import Contamination
from dedup.errors import InputDataError
from dedup.index.guard import index_access
from dedup.index.open import index_kind, open_index
from dedup.io import STDIO, AtomicOutput, Record, Source, Writer, open_source, open_writer, read_items, read_records
from dedup.io.files import all_or_none, target_problem
from dedup.io.records import dumps_record

PROG = "dedup check"
#: Records checked together (their units shingled in one call).
_CHUNK = 256


#: The shared settings as check reads them (no corpus scope, no MinHash, no shortened-copy rule:
#: ``--min-containment`` is its containment).
CHECK_HELP = {
    "threshold": "a unit whose word n-gram set (n: --ngram) has at least this Jaccard similarity with a "
                 "reference unit's is a hit (default: %(default)s)",
    "min_tokens": "units (checked or reference) with fewer tokens are never hits (default: %(default)s)",
    "granularity": "the unit compared: paragraphs, sentences inside them, every line, or whole documents; "
                   "the same as the reference index's (default: %(default)s)",
    "preset": "the shingle settings of a preset (default, or strict: nfkc_casefold without line-end "
              "de-hyphenation), to match a reference index built under it; noisy is refused "
              "(default: default)",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, parents=[shared_options(without=("scope", "num_perm", "containment"), helps=CHECK_HELP)],
        description="Find the units (paragraphs by default) of a corpus that are in a reference set: "
                    "near-duplicates (Jaccard >= threshold) or containing a reference unit (containment "
                    ">= --min-containment). Nothing is added to the reference.",
        epilog="examples:\n"
               "  dedup check corpus.jsonl --against test_split.jsonl                  # hits on stdout\n"
               "  dedup check corpus.jsonl --against seen.dedup -o clean.jsonl --hits hits.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="CORPUS", help="files to check (text, JSONL or Parquet; - for stdin)")
    p.add_argument("--against", nargs="+", required=True, metavar="REF",
                   help="the reference: files of records, or a persistent index (SQLite path, DIR/ or redis://...)")
    p.add_argument("--against-id-field", metavar="NAME", default=None,
                   help="field naming a reference document, as hits report it (default: <resolved path>:<line>)")
    p.add_argument("--against-text-field", metavar="NAME", default=None,
                   help="field holding a reference record's text (default: the same as --text-field)")
    p.add_argument("--min-containment", type=float, default=MIN_CONTAINMENT, metavar="C",
                   help="a unit holding at least this share of a reference unit's shingles is a hit, "
                        "whatever its Jaccard similarity (default: %(default)s)")
    p.add_argument("--hits", metavar="FILE", default=None,
                   help="one JSON line per hit (default: stdout when no -o is given)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="the corpus with hit units removed (default: not written)")
    p.add_argument("--items", metavar="FILE", default=None,
                   help="per benchmark item (each --against record): its word n-grams (n: --ngram, default 13 "
                        "here), how many occur in the corpus, whether that reaches --min-shared, and the first "
                        "documents sharing them; one JSON line each, then a summary line")
    p.add_argument("--min-shared", type=int, default=1, metavar="M",
                   help="with --items: an item sharing at least M of its n-grams with the corpus is contaminated "
                        "(default: 1, the GPT-3 rule)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``dedup check``; returns the exit code."""
    return run_command(PROG, build_parser(), _run, argv)


def _run(args: argparse.Namespace) -> int:
    config = _config(args)
    bench = _items(args, config) if args.items else None
    hits_path = args.hits if args.hits is not None else (STDIO if args.output is None and bench is None else None)
    reference = _reference(args, config) if hits_path or args.output else None
    _check_targets(args, hits_path)
    sources = [open_source(path) for path in args.inputs]
    with all_or_none() as outputs:
        items_out = AtomicOutput(args.items) if bench is not None else None
        outputs += [items_out] if items_out is not None else []
        hits_out = AtomicOutput(hits_path) if hits_path else None
        outputs += [hits_out] if hits_out is not None else []
        writer = _open_output(args, sources)
        outputs += [writer] if writer is not None else []
        counts = _check(reference, bench, read_records(sources, args.text_field, args.id_field), hits_out, writer)
        if items_out is not None and bench is not None:
            _write_items(items_out, bench)
    if not args.quiet:
        _print_summary(counts, reference, bench)
    return 0


def _check_targets(args: argparse.Namespace, hits_path: Optional[str]) -> None:
    """No output may be an input or another output."""
    targets = [(name, path) for name, path in (("output", args.output), ("--hits", hits_path),
                                               ("--items", args.items)) if path]
    problem = target_problem(targets, [p for p in args.inputs] + [p for p in args.against if "://" not in p])
    if problem:
        raise UsageError(problem)


def _open_output(args: argparse.Namespace, sources: Sequence[Source]) -> Optional[Writer]:
    """The writer of ``-o`` (the corpus without its hits), in the first input's format (JSONL for text)."""
    if not args.output:
        return None
    return open_writer(args.output, sources[0].format if sources[0].format != "text" else "jsonl",
                       args.text_field, args.id_field)


def _config(args: argparse.Namespace) -> DedupConfig:
    config = make_config(default_scope=COMMAND_SCOPE, **run_settings(args))
    if config.noisy_rules is not None:
        raise UsageError("--preset noisy: the noisy rules are not part of check yet (it compares word shingle sets "
                         "exactly); use --preset default or strict")
    return config


def _print_summary(counts: Dict[str, int], reference: Optional[Reference], bench: Optional[Contamination]) -> None:
    """The summary lines on stderr: the hits against the reference, the contaminated items."""
    if reference is not None:
        print(f"{PROG}: {counted(counts['documents'], 'document')} checked against "
              f"{counted(len(reference), 'reference unit')}: {counted(counts['hits'], 'hit')} in "
              f"{counted(counts['documents_with_hits'], 'document')}", file=sys.stderr)
    if bench is not None:
        summary = bench.summary()
        print(f"{PROG}: {counted(summary['documents'], 'document')} scanned for "
              f"{counted(summary['items'], 'benchmark item')}: {summary['contaminated']:,} contaminated "
              f"(sharing >= {bench.min_shared:,} of their {bench.ngram}-grams)", file=sys.stderr)


def _check(reference: Optional[Reference], bench: Optional[Contamination], records: Iterator[Record],
           hits_out: Optional[AtomicOutput], writer: Optional[Writer]) -> Dict[str, int]:
    """Every record checked a chunk at a time: scanned for the benchmark items (``bench``), its
    hits to ``hits_out``, the record without them to ``writer``; the counts of the summary line."""
    counts = {"documents": 0, "hits": 0, "documents_with_hits": 0}
    items = (record.item for record in records)
    for chunk in iter(lambda: list(itertools.islice(items, _CHUNK)), []):
        texts, ids = [r.text for r in chunk], [r.doc_id for r in chunk]
        if bench is not None:
            bench.scan(texts, ids)
        if reference is None:
            counts["documents"] += len(chunk)
            continue
        for read, result in zip(chunk, reference.check_many(texts, ids)):
            counts["documents"] += 1
            counts["hits"] += len(result.hits)
            counts["documents_with_hits"] += bool(result.hits)
            if hits_out is not None:
                for hit in result.hits:
                    hits_out.write(dumps_record({"doc_id": read.doc_id, **hit.to_dict()}))
            if writer is not None:
                writer.write(read, result.text, bool(result.hits))
    return counts


def _items(args: argparse.Namespace, config: DedupConfig) -> Contamination:
    """The benchmark items of ``--items``: the records of the ``--against`` files."""
    if len(args.against) == 1 and index_kind(args.against[0], only_existing=True) is not None:
        raise UsageError("--items needs the benchmark's records (files), not an index: an index keeps no text")
    texts, ids = _against_records(args)
    return Contamination(texts, ids, ngram=args.ngram if args.ngram is not None else 13, min_shared=args.min_shared,
                         normalization=config.normalization, unspaced_scripts=config.unspaced_scripts)


def _write_items(out: AtomicOutput, items: Contamination) -> None:
    """One line per item, in benchmark order, then ``{"summary": {...}}``."""
    for report in items.reports():
        out.write(dumps_record(report.to_dict()))
    out.write(dumps_record({"summary": items.summary()}))


def _reference(args: argparse.Namespace, config: DedupConfig) -> Reference:
    """The reference: one persistent index, or the records of files."""
    if len(args.against) == 1 and index_kind(args.against[0], only_existing=True) is not None:
        spec = args.against[0]
        with index_access(spec):
            index = open_index(spec, read_only=True)
            try:
                return Reference.from_index(index, config, min_containment=args.min_containment)
            finally:
                index.close()
    texts, ids = _against_records(args)
    return Reference(texts, ids, config, min_containment=args.min_containment)


def _against_records(args: argparse.Namespace) -> Tuple[List[str], List[Any]]:
    """The texts and ids of the records of the ``--against`` files."""
    texts, ids = [], []
    try:
        for path in args.against:
            for item in read_items(open_source(path), args.against_text_field or args.text_field,
                                   args.against_id_field):
                texts.append(item.text)
                ids.append(item.doc_id)
    except InputDataError as exc:  # the reference's fields have options of their own
        message = exc.message.replace("--text-field", "--against-text-field")
        raise InputDataError(exc.source, exc.line, message) from None
    return texts, ids
