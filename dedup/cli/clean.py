"""The ``dedup`` command: files in, cleaned files out, and an account of every removal.

A thin client of the API: readers from :mod:`dedup.io` feed :func:`dedup.stream.pair_results`
(one :class:`Deduplicator`, corpus scope by default), writers put every record back with
only its text changed. Exit codes: 0 success, 1 runtime or data error, 2 usage error.
Errors are one line on stderr: ``dedup: error: <file>:<line>: <what is wrong>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from typing import Any, Iterator, NamedTuple, Optional, Sequence, Tuple

from dedup.cli import commands_help
from dedup.cli.options import COMMAND_SCOPE, UsageError, counted, run_command, run_settings, shared_options
from dedup.cli.progress import Progress
from dedup.config import DedupConfig, make_config
from dedup.decide.boilerplate import BoilerplateCounts
from dedup.deduplicator import Deduplicator
from dedup.index.guard import index_access
from dedup.index.open import index_kind, open_index
from dedup.io import STDIO, AtomicOutput, ParquetWriter, Record, Reject, Source, Writer, is_plain_parquet, \
    open_writer, read_records
from dedup.io.files import all_or_none
from dedup.io.plan import COMPRESSIONS, RunPlan, plan_run
from dedup.io.records import FORMATS, dumps_record
from dedup.io.remote import is_url
from dedup.decide.rules import reasons_of
from dedup.io.report import ReportWriter
from dedup.io.shards import NewDirectories, ShardOutputs
from dedup.stream import pair_results

PROG = "dedup"
#: Rejected records named one by one on stderr before only counting them.
MAX_REJECT_WARNINGS = 10


#: Records through the command, as named in the summary: in = out + dropped + rejected.
RECORD_COUNTS = ("records_in", "records_out", "records_rejected", "records_dropped")
#: Removals counted by reason under ``REASON_PREFIX + reason`` (the report's ``reason`` field).
REASON_PREFIX = "removed:"
#: How the summary line names each reason; a reason not listed is named as it is.
REASON_WORDS = {"exact": "exact", "near": "near", "run": "short in a removed run", "contained": "shortened",
                "noisy": "noisy", "noisy-contained": "noisy and shortened", "boilerplate": "boilerplate"}
#: The reason of a span cut inside a kept unit (not a removed unit).
INNER = "inner"
#: The reason of a run of tokens repeating earlier text (``--exact-substrings``): cut, or a unit it covers whole.
SUBSTRING = "substring"


def build_parser() -> argparse.ArgumentParser:
    from dedup.version import __version__

    p = argparse.ArgumentParser(
        prog=PROG, parents=[shared_options()],
        description="Remove repeated and near-repeated paragraphs from text files, JSONL or Parquet "
                    "records; keep each paragraph's first occurrence byte for byte.",
        epilog=commands_help() + "\n\nexamples:\n"
               "  dedup crawl.jsonl.gz -o clean.jsonl.gz --report removed.jsonl\n"
               "  zcat part-*.jsonl.gz | dedup - --id-field url --index seen.db > clean.jsonl\n"
               "  dedup index info seen.dedup      (what a persistent index holds)\n"
               "  dedup audit removed.jsonl --input crawl.jsonl.gz -o audit.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="text file (one document), JSONL (.jsonl/.ndjson/.json, optionally .gz/.zst/.bz2/.xz), "
                        "Parquet (.parquet), or - for stdin")
    p.add_argument("-o", "--output", metavar="OUTPUT", default=None,
                   help="output file (default: stdout), compressed by its suffix; a .jsonl/.parquet name "
                        "converts records; or a directory (DIR/): one output per input, under the input's "
                        "name, all written or none")
    p.add_argument("--compression", choices=list(COMPRESSIONS), default=None,
                   help="compression of the files written into a directory (-o DIR/, --report DIR/), "
                        "instead of each input's own (default: kept)")
    p.add_argument("--format", choices=("auto",) + FORMATS, default="auto",
                   help="input format (default: auto, from the file suffix; on stdin from the first bytes); "
                        "a file whose content contradicts its suffix gets a warning")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="threads: the next batch is fingerprinted on N - 1 of them while this one is decided "
                        "(the same output for every N; default: the cores this process may use)")
    p.add_argument("--clusters", default=None, metavar="FILE",
                   help="one JSON line per unit that took part in a removal: doc_id, index and cluster "
                        "([doc_id, index] of the cluster's first member); the --report gets a cluster field")
    p.add_argument("--exact-only", action="store_true",
                   help="exact repeats only (identical word n-gram sets), no near-duplicates: a few bytes of "
                        "memory per paragraph, for first passes at web scale")
    p.add_argument("--exact-substrings", type=int, default=None, metavar="N",
                   help="also cut every run of at least N tokens that occurred earlier (in an earlier document or "
                        "earlier in this one), wherever it stands; the first occurrence stays (e.g. 50)")
    p.add_argument("--boilerplate", type=int, default=None, metavar="K",
                   help="also remove every unit found in at least K documents from all of them, first occurrence "
                        "included (navigation, banners, licences): the inputs are read twice, count then clean; "
                        "stdin only with --index holding the counts of such a run")
    p.add_argument("--index", default=None, metavar="PATH",
                   help="persistent corpus index (SQLite file, DIR/ for the memory-mapped compact index, or "
                        "redis://...): paragraphs of earlier runs "
                        "count as earlier; needs --scope corpus")
    p.add_argument("--report", default=None, metavar="FILE",
                   help="write one JSON line per removed paragraph (doc id, span, what it repeats, "
                        "similarity, reason, text); a directory (DIR/): one report per input, NAME.jsonl")
    p.add_argument("--drop-empty", action="store_true",
                   help="leave out records that deduplication emptied (every paragraph removed); the default "
                        "with --granularity document")
    p.add_argument("--keep-empty", action="store_true",
                   help="keep records that deduplication emptied, with an empty text (the default, except "
                        "with --granularity document)")
    p.add_argument("--stats", action="store_true",
                   help="print the run's statistics as one JSON object on stderr")
    p.add_argument("--on-error", choices=["stop", "skip"], default="stop",
                   help="bad record (malformed JSON, missing field, non-string text, invalid UTF-8): "
                        "stop with its file and line (default), or skip it")
    p.add_argument("--rejects", default=None, metavar="FILE",
                   help="with --on-error skip: write each rejected line, as read, to FILE")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    return run_command(PROG, build_parser(), _run, argv)


# -- planning: inputs, outputs, settings --------------------------------------------------

def _plan(args: argparse.Namespace) -> RunPlan:
    """The run's files (:func:`dedup.io.plan.plan_run`), after the checks of option pairs."""
    if args.index == "":
        raise UsageError("--index: the path is empty")
    if args.rejects and args.on_error != "skip":
        raise UsageError("--rejects needs --on-error skip")
    if args.drop_empty and args.keep_empty:
        raise UsageError("--drop-empty and --keep-empty contradict each other; give one")
    if args.index and args.scope == "document":
        raise UsageError("--index needs --scope corpus")
    if args.boilerplate is not None:
        _check_boilerplate(args)
    return plan_run(args.inputs, args.output, fmt=args.format, report=args.report, rejects=args.rejects,
                    clusters=args.clusters, compression=args.compression)


def _workers(given: Optional[int]) -> int:
    """``--workers``, or the cores available to this process."""
    if given is not None:
        if given < 1:
            raise UsageError(f"--workers must be at least 1, got {given}")
        return given
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _config(args: argparse.Namespace) -> DedupConfig:
    return make_config(default_scope=COMMAND_SCOPE, **run_settings(args), exact_only=args.exact_only,
                       exact_substrings=args.exact_substrings)


# -- the run -----------------------------------------------------------------------------

def _run(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if not args.quiet:
        for warning in plan.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
    config = _config(args)
    index = open_index(args.index, config) if args.index else None
    if index is not None and args.id_field is None and not args.quiet:
        print(f"{PROG}: warning: --index without --id-field: documents are named <resolved path>:<line>, "
              "so a file moved, renamed or read from stdin counts as new documents; give --id-field "
              "for ids that survive that", file=sys.stderr)
    try:
        started = time.perf_counter()
        with index_access(args.index or "index"):  # a failing index file or server: one line naming it
            amend = _boilerplate(args, plan, config, index) if args.boilerplate is not None else None
            dd = Deduplicator(config, index=index, clusters=bool(args.clusters), workers=_workers(args.workers))
            counts = _clean(args, plan, dd, amend)
            elapsed = time.perf_counter() - started
            held = _index_size(dd) if args.stats else {}
    finally:
        if index is not None:
            index.close()
    summary = {**_summary(dd, counts, elapsed, boilerplate=args.boilerplate is not None), **held}
    if not args.quiet:
        # (with an index, the second pass of --boilerplate gives every document of the first again)
        if summary["documents_replayed"] and not (args.boilerplate is not None and args.index):
            print(f"{PROG}: warning: {summary['documents_replayed']:,} documents came again under an id already "
                  "in the index with the same text, and got the decisions of their first run (kept as then); "
                  "if they are re-fetches rather than a rerun, give each fetch its own id", file=sys.stderr)
        print(_summary_line(summary), file=sys.stderr)
    if args.stats:
        print(json.dumps(summary), file=sys.stderr)
    return 0


def _clean(args: argparse.Namespace, plan: RunPlan, dd: Deduplicator, amend: Optional["_Amend"] = None) -> Counter[str]:
    """Every input through ``dd``; the outputs, reports and rejects appear only if all goes well."""
    with all_or_none() as outputs:
        outputs.append(NewDirectories(plan.directories))
        records = ShardOutputs(len(plan.sources), lambda k: _open_records(args, plan, k), plan.per_shard,
                               every_shard=plan.formats[0] != "text")
        outputs.append(records)
        reports = (ShardOutputs(len(plan.sources), lambda k: ReportWriter(plan.reports[plan.report_of(k)]),
                                plan.per_shard_reports) if plan.reports else None)
        rejects = AtomicOutput(plan.rejects) if plan.rejects else None
        clusters = AtomicOutput(plan.clusters) if plan.clusters else None
        outputs += [o for o in (reports, rejects, clusters) if o is not None]
        counts: Counter[str] = Counter()
        sizes = [s.size for s in plan.sources]
        total = None if None in sizes else sum(s or 0 for s in sizes)
        _write_results(args, dd, _reads(plan.sources, args, counts, rejects), records, reports, counts, total, amend)
        if clusters is not None:
            for (doc_id, index), (first_doc, first_index) in dd.clusters().items():
                clusters.write(dumps_record({"doc_id": doc_id, "index": index, "cluster": [first_doc, first_index]}))
    return counts


def _open_records(args: argparse.Namespace, plan: RunPlan, shard: int) -> Writer:
    """The writer of the records of input ``shard`` (of every input, with one output)."""
    k = plan.output_of(shard)
    writer = open_writer(plan.outputs[k], plan.formats[k], args.text_field, args.id_field)
    schema = plan.sources[shard]  # a zero-row Parquet input gives a zero-row output with its columns
    if isinstance(writer, ParquetWriter) and schema.format == "parquet" and schema.path != STDIO \
            and not is_url(schema.path) and is_plain_parquet(schema.path):
        writer.schema_from(schema.path)
    return writer


def _write_results(args: argparse.Namespace, dd: Deduplicator, reads: Iterator[Record],
                   records: ShardOutputs[Writer], reports: Optional[ShardOutputs[ReportWriter]],
                   counts: Counter[str], total: Optional[int], amend: Optional["_Amend"] = None) -> None:
    progress = Progress(enabled=not args.quiet and sys.stderr.isatty(), total=total)
    drop_empty = _drop_empty(args, dd.config)
    try:
        for read, result in pair_results(dd, reads, _text_of, _id_of):
            item = read.item
            if amend is not None:
                result = amend.apply(item.text, result, dd.stats)
            for removal in result.removed:
                counts[REASON_PREFIX + removal.reason] += 1
            if reports is not None:
                reports.for_shard(read.shard).write(result.doc_id, item.text, result.removed, result.paragraphs,
                                                    dd.clusters() if args.clusters else None,
                                                    amend.counts.count if amend is not None else None)
            if drop_empty and result.removed and not result.text.strip():
                counts["records_dropped"] += 1
            else:
                records.for_shard(read.shard).write(item, result.text, result.changed)
                counts["records_out"] += 1
            progress.update(read.position, dd.stats)
        progress.done(dd.stats)
    finally:
        progress.close()


class _Amend(NamedTuple):
    """The boilerplate rule the second pass applies to each result."""

    counts: BoilerplateCounts
    min_documents: int

    def apply(self, text: str, result: Any, stats: Any) -> Any:
        return self.counts.apply(text, result, self.min_documents, stats)


def counts_path(index_spec: str) -> str:
    """Where a run with ``--index`` and ``--boilerplate`` keeps its counts: beside the index."""
    return index_spec.rstrip("/" + os.sep) + ".boilerplate.jsonl"


def _check_boilerplate(args: argparse.Namespace) -> None:
    if args.boilerplate < 2:
        raise UsageError(f"--boilerplate must be at least 2, got {args.boilerplate}")
    if args.scope == "document":
        raise UsageError("--boilerplate counts documents: it needs --scope corpus")
    if args.index and index_kind(args.index) == "redis":
        raise UsageError("--boilerplate keeps its counts in a file beside the index: not with a Redis index")
    if STDIO in args.inputs and not (args.index and os.path.exists(counts_path(args.index))):
        raise UsageError("--boilerplate reads the inputs twice (count, then clean): give files, not stdin; or an "
                         "--index whose counts an earlier --boilerplate run over files kept "
                         f"({counts_path(args.index) if args.index else 'PATH.boilerplate.jsonl'})")


def _boilerplate(args: argparse.Namespace, plan: RunPlan, config: DedupConfig, index: Any) -> _Amend:
    """The counts of ``--boilerplate``: from a first pass over the inputs (kept beside ``--index``
    when there is one), or, reading stdin, the counts an earlier run kept beside the index."""
    if STDIO in args.inputs:
        return _Amend(BoilerplateCounts.load(counts_path(args.index)), args.boilerplate)
    counts = BoilerplateCounts()
    first = Deduplicator(config, index=index, workers=_workers(args.workers))
    quiet = argparse.Namespace(**{**vars(args), "quiet": True})  # bad records are named by the second pass
    for _, result in pair_results(first, _reads(plan.sources, quiet, Counter(), None), _text_of, _id_of):
        counts.add(result)
    for source in plan.sources:
        source.bytes_read = 0
    if args.index:
        counts.save(counts_path(args.index))
    return _Amend(counts, args.boilerplate)


def _drop_empty(args: argparse.Namespace, config: DedupConfig) -> bool:
    """Whether records deduplication emptied are left out: ``--drop-empty``, and by default with
    ``--granularity document``, where an emptied record is a removed document (as document-level
    tools drop it); ``--keep-empty`` keeps them."""
    return bool(args.drop_empty) or (config.granularity == "document" and not args.keep_empty)


def _text_of(read: Record, _position: int) -> str:
    return read.item.text


def _id_of(read: Record, _position: int) -> Any:
    return read.item.doc_id


def _reads(sources: Sequence[Source], args: argparse.Namespace, counts: Counter[str],
           rejects: Optional[AtomicOutput]) -> Iterator[Record]:
    """Good records of every input in order, counted; bad ones stop the run or are set aside."""
    def reject(read: Reject) -> None:
        _reject(read, counts, rejects, args.quiet)

    for record in read_records(sources, args.text_field, args.id_field,
                               on_reject=reject if args.on_error == "skip" else None):
        counts["records_in"] += 1
        yield record


def _reject(read: Reject, counts: Counter[str], rejects: Optional[AtomicOutput], quiet: bool) -> None:
    counts["records_in"] += 1
    counts["records_rejected"] += 1
    if rejects is not None:
        rejects.write(read.raw if read.raw.endswith(b"\n") else read.raw + b"\n")
    if quiet:
        return
    if counts["records_rejected"] <= MAX_REJECT_WARNINGS:
        print(f"{PROG}: warning: {read.source}:{read.line}: {read.message} (skipped)", file=sys.stderr)
    elif counts["records_rejected"] == MAX_REJECT_WARNINGS + 1:
        print(f"{PROG}: warning: more records skipped; the summary counts them", file=sys.stderr)


def _summary(dd: Deduplicator, counts: Counter[str], elapsed: float, boilerplate: bool = False) -> dict:
    st = dd.stats
    config = dd.config
    seconds = max(elapsed, 1e-9)
    # the reasons the run's rules can give, then those of the options asked for
    listed = reasons_of(config) + (["boilerplate"] if boilerplate else [])
    reasons = {reason: 0 for reason in listed}
    reasons.update({name[len(REASON_PREFIX):]: n for name, n in sorted(counts.items()) if name.startswith(REASON_PREFIX)})
    return {
        **{name: counts[name] for name in RECORD_COUNTS},
        "documents": st.documents,
        "documents_changed": st.documents_changed,
        "documents_emptied": st.documents_emptied,
        "documents_replayed": st.documents_replayed,
        "paragraphs": st.paragraphs,
        "paragraphs_removed": st.removed,
        "removed_by_reason": reasons,
        "bytes_in": st.bytes_in,
        "bytes_out": st.bytes_out,
        "bytes_removed": st.bytes_in - st.bytes_out,
        "seconds": round(elapsed, 3),
        "documents_per_second": round(st.documents / seconds, 1),
        "mb_per_second": round(st.bytes_in / 1e6 / seconds, 2),
        "scope": config.scope,
        "granularity": config.granularity,
        "threshold": config.threshold,
        "num_perm": config.num_perm,
        "bands": config.layout.bands,
        "rows": config.layout.rows,
        **({"exact_substrings": config.exact_substrings} if config.exact_substrings is not None else {}),
    }


def _index_size(dd: Deduplicator) -> dict:
    """What the corpus index holds at the end of the run: entries and bytes (None when the
    index cannot say), for ``--stats``."""
    info = getattr(dd.index, "info", None)  # every index of this package has it; an Index of your own may not
    size = info().get("size_bytes") if callable(info) else None
    return {"index_entries": len(dd.index), "index_bytes": size}


def _summary_line(s: dict) -> str:
    """One line a person reads: what came in, what went and why, in one unit of bytes."""
    unit = "document" if s["granularity"] == "document" else s["granularity"]
    reasons = s["removed_by_reason"]
    whole = sum(n for reason, n in reasons.items() if reason not in (INNER, SUBSTRING))
    units = "" if unit == "document" else f", {counted(s['paragraphs'], unit)}"
    parts = [f"{counted(s['documents'], 'document')}{units}: {counted(whole, unit)} removed"]
    if whole:
        share = 100.0 * whole / s["paragraphs"] if s["paragraphs"] else 0.0
        kinds = ", ".join(f"{n:,} {REASON_WORDS.get(reason, reason)}" for reason, n in reasons.items()
                          if n and reason not in (INNER, SUBSTRING))
        parts[0] += f" ({share:.1f}%: {kinds})"
    if reasons.get(INNER):
        parts.append(f"{counted(reasons[INNER], 'repeated span')} cut inside {unit}s kept")
    if reasons.get(SUBSTRING):
        parts.append(f"{counted(reasons[SUBSTRING], 'run')} of >= {s['exact_substrings']} tokens repeating earlier text cut")
    removed, total = _bytes_pair(s["bytes_removed"], s["bytes_in"])
    share = 100.0 * s["bytes_removed"] / s["bytes_in"] if s["bytes_in"] else 0.0
    line = ", ".join(parts) + f"; {removed} of {total} of text removed ({share:.1f}%)"
    others = [(s["documents_emptied"], "emptied"), (s["records_rejected"], "rejected"),
              (s["records_dropped"], "dropped")]
    line += "".join(f"; {counted(n, 'record' if what != 'emptied' else 'document')} {what}"
                    for n, what in others if n)
    return (f"{PROG}: {line}; {s['seconds']:.2f} s ({_rate(s['documents_per_second'])} documents/s, "
            f"{s['mb_per_second']:.2f} MB/s)")


def _bytes_pair(part: int, whole: int) -> Tuple[str, str]:
    """``part`` and ``whole`` in one unit, the one that suits ``whole``: ``1,636 of 3,272 bytes``,
    ``0.01 of 5.59 kB`` (never ``5,589 bytes of 0.03 MB``)."""
    for limit, unit, scale in ((10_000, "bytes", 1), (10_000_000, "kB", 1e3), (10_000_000_000, "MB", 1e6)):
        if whole < limit:
            break
    else:
        unit, scale = "GB", 1e9
    if scale == 1:
        return f"{part:,}", f"{whole:,} bytes"
    return f"{part / scale:,.2f}", f"{whole / scale:,.2f} {unit}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"
