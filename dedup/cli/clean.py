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
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence

from dedup.cli import commands_help
from dedup.cli.options import UsageError, run_command, run_settings, shared_options
from dedup.config import DedupConfig, make_config
from dedup.deduplicator import Deduplicator
from dedup.errors import DedupError
from dedup.io import (STDIO, AtomicOutput, InputDataError, Item, ParquetWriter, Reject, Source, Writer,
                      format_for_name, is_plain_parquet, open_source, open_writer, read_source, strip_compression)
from dedup.io.files import all_or_none, is_directory_target, target_problem
from dedup.index.guard import index_access
from dedup.io.remote import exists as url_exists, expand as expand_url, is_url
from dedup.io.records import dumps_record
from dedup.io.report import ReportWriter
from dedup.stream import pair_results

PROG = "dedup"
#: Rejected records named one by one on stderr before only counting them.
MAX_REJECT_WARNINGS = 10


#: Records through the command, as named in the summary: in = out + dropped + rejected.
RECORD_COUNTS = ("records_in", "records_out", "records_rejected", "records_dropped")


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
                   help="output file (default: stdout); compressed by its suffix; a .jsonl/.parquet name "
                        "converts records; a directory for several text inputs")
    p.add_argument("--format", choices=["auto", "text", "jsonl", "parquet"], default="auto",
                   help="input format (default: auto, from the file suffix; on stdin from the first bytes)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="threads: the next batch is fingerprinted on N - 1 of them while this one is decided "
                        "(the same output for every N; default: the cores this process may use)")
    p.add_argument("--clusters", default=None, metavar="FILE",
                   help="one JSON line per unit that took part in a removal: doc_id, index and cluster "
                        "([doc_id, index] of the cluster's first member); the --report gets a cluster field")
    p.add_argument("--exact-only", action="store_true",
                   help="exact repeats only (identical word 5-gram sets), no near-duplicates: a few bytes of "
                        "memory per paragraph, for first passes at web scale")
    p.add_argument("--index", default=None, metavar="PATH",
                   help="persistent corpus index (SQLite file, DIR/ for the memory-mapped compact index, or "
                        "redis://...): paragraphs of earlier runs "
                        "count as earlier; needs --scope corpus")
    p.add_argument("--report", default=None, metavar="FILE",
                   help="write one JSON line per removed paragraph (doc id, span, what it repeats, "
                        "similarity, reason, text)")
    p.add_argument("--drop-empty", action="store_true",
                   help="leave out records that deduplication emptied (every paragraph removed)")
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

@dataclass
class _Plan:
    sources: List[Source]
    output: str
    out_format: str
    directory: bool


#: Options naming a file; an empty value (``--index "$IDX"`` with IDX unset) is a usage error.
_PATH_OPTIONS = ("output", "report", "rejects", "index", "clusters")


def _plan(args: argparse.Namespace) -> _Plan:
    for name in _PATH_OPTIONS:
        if getattr(args, name, None) == "":
            raise UsageError(f"--{name}: the path is empty")
    if "" in args.inputs:
        raise UsageError("an input path is empty")
    args.inputs = [url for path in args.inputs for url in (expand_url(path) if is_url(path) else [path])]
    if not args.inputs:
        raise UsageError("the input URLs match no object")
    if args.inputs.count(STDIO) > 1:
        raise UsageError("- (stdin) can be given only once")
    for path in args.inputs:
        if is_url(path):
            if not url_exists(path):
                raise InputDataError(path, None, "no such file")
        elif path != STDIO:
            if os.path.isdir(path):
                raise UsageError(f"{path}: is a directory; give the files in it")
            if not os.path.exists(path):
                raise InputDataError(path, None, "no such file")
    if args.rejects and args.on_error != "skip":
        raise UsageError("--rejects needs --on-error skip")
    if args.index and args.scope == "document":
        raise UsageError("--index needs --scope corpus")
    sources = [open_source(path, args.format) for path in args.inputs]
    text_inputs = [s for s in sources if s.format == "text"]
    if text_inputs and len(text_inputs) != len(sources):
        raise UsageError("cannot mix text files with JSONL/Parquet inputs in one run")
    output = args.output or STDIO
    directory = is_directory_target(args.output)
    named = format_for_name(strip_compression(output)[0]) if output != STDIO and not directory else None
    if text_inputs:
        out_format = named or "text"
        if out_format == "text" and len(sources) > 1 and not directory:
            raise UsageError("several text inputs need -o DIRECTORY (one output file each) "
                             "or -o FILE.jsonl (one record each)")
        if directory and any(s.path == STDIO for s in sources):
            raise UsageError("text from stdin cannot go to an output directory; give -o FILE")
    else:
        if directory:
            raise UsageError(f"{args.output}: is a directory; records go to one output file")
        out_format = named or sources[0].format
    directory = directory and out_format == "text"
    _check_targets(args, sources, output, directory)
    return _Plan(sources, output, out_format, directory)


def _check_targets(args: argparse.Namespace, sources: List[Source], output: str, directory: bool) -> None:
    """Never write over an input, and never two outputs to one place."""
    targets = [("output", output)] if not directory else [
        ("output", os.path.join(output, os.path.basename(s.path))) for s in sources]
    targets += [(name, path) for name, path in (("--report", args.report), ("--rejects", args.rejects),
                                                ("--clusters", args.clusters)) if path]
    problem = target_problem(targets, [s.path for s in sources], made_here=["output"] if directory else [])
    if problem:
        raise UsageError(problem)


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
    return make_config(default_scope="corpus", **run_settings(args), exact_only=args.exact_only)


def _open_index(spec: str, config: DedupConfig) -> Any:
    """The persistent index named by ``--index`` (SQLite path or ``redis://``), if this build has one."""
    try:
        from dedup.index import open_index  # type: ignore[attr-defined]
    except ImportError:
        try:
            from dedup import open_index  # type: ignore[attr-defined,no-redef]
        except ImportError:
            raise DedupError("--index: persistent indexes are not available in this build") from None
    return open_index(spec, config)


# -- the run -----------------------------------------------------------------------------

def _run(args: argparse.Namespace) -> int:
    plan = _plan(args)
    config = _config(args)
    index = _open_index(args.index, config) if args.index else None
    if index is not None and args.id_field is None and not args.quiet:
        print(f"{PROG}: warning: --index without --id-field: documents are named <resolved path>:<line>, "
              "so a file moved, renamed or read from stdin counts as new documents; give --id-field "
              "for ids that survive that", file=sys.stderr)
    try:
        dd = Deduplicator(config, index=index, clusters=bool(args.clusters), workers=_workers(args.workers))
        started = time.perf_counter()
        with index_access(args.index or "index"):  # a failing index file or server: one line naming it
            counts = _clean(args, plan, dd)
    finally:
        if index is not None:
            index.close()
    summary = _summary(dd, counts, time.perf_counter() - started, config)
    if not args.quiet:
        if summary["documents_replayed"]:
            print(f"{PROG}: warning: {summary['documents_replayed']:,} documents came again under an id already "
                  "in the index with the same text, and got the decisions of their first run (kept as then); "
                  "if they are re-fetches rather than a rerun, give each fetch its own id", file=sys.stderr)
        print(_summary_line(summary), file=sys.stderr)
    if args.stats:
        print(json.dumps(summary), file=sys.stderr)
    return 0


def _clean(args: argparse.Namespace, plan: _Plan, dd: Deduplicator) -> Counter[str]:
    """Every input through ``dd``; the output, report and rejects appear only if all goes well."""
    with all_or_none() as outputs:
        writer = open_writer(plan.output, plan.out_format, args.text_field, args.id_field, plan.directory)
        outputs.append(writer)
        first = plan.sources[0] if plan.sources else None
        if isinstance(writer, ParquetWriter) and first is not None and first.format == "parquet" \
                and first.path != STDIO and not is_url(first.path) and is_plain_parquet(first.path):
            writer.schema_from(first.path)
        report = ReportWriter(args.report) if args.report else None
        rejects = AtomicOutput(args.rejects) if args.rejects else None
        clusters = AtomicOutput(args.clusters) if args.clusters else None
        outputs += [o for o in (report, rejects, clusters) if o is not None]
        counts: Counter[str] = Counter()
        _write_results(args, dd, _items(plan.sources, args, counts, rejects), writer, report, counts)
        if clusters is not None:
            for (doc_id, index), (first_doc, first_index) in dd.clusters().items():
                clusters.write(dumps_record({"doc_id": doc_id, "index": index, "cluster": [first_doc, first_index]}))
    return counts


def _write_results(args: argparse.Namespace, dd: Deduplicator, items: Iterator[Item], writer: Writer,
                   report: Optional[ReportWriter], counts: Counter[str]) -> None:
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        for item, result in pair_results(dd, items, _text_of, _id_of):
            if report is not None:
                report.write(result.doc_id, item.text, result.removed, result.paragraphs,
                             dd.clusters() if args.clusters else None)
            if args.drop_empty and result.removed and not result.text.strip():
                counts["records_dropped"] += 1
            else:
                writer.write(item, result.text, result.changed)
                counts["records_out"] += 1
            progress.update(dd)
    finally:
        progress.close()


def _text_of(item: Item, _position: int) -> str:
    return item.text


def _id_of(item: Item, _position: int) -> Any:
    return item.doc_id


def _items(sources: List[Source], args: argparse.Namespace, counts: Counter[str],
           rejects: Optional[AtomicOutput]) -> Iterator[Item]:
    """Good records of every input in order; bad ones stop the run or are set aside."""
    for source in sources:
        for read in read_source(source, args.text_field, args.id_field):
            counts["records_in"] += 1
            if isinstance(read, Item):
                yield read
                continue
            if args.on_error == "stop":
                raise read.error()
            _reject(read, counts, rejects, args.quiet)


def _reject(read: Reject, counts: Counter[str], rejects: Optional[AtomicOutput], quiet: bool) -> None:
    counts["records_rejected"] += 1
    if rejects is not None:
        rejects.write(read.raw if read.raw.endswith(b"\n") else read.raw + b"\n")
    if quiet:
        return
    if counts["records_rejected"] <= MAX_REJECT_WARNINGS:
        print(f"{PROG}: warning: {read.source}:{read.line}: {read.message} (skipped)", file=sys.stderr)
    elif counts["records_rejected"] == MAX_REJECT_WARNINGS + 1:
        print(f"{PROG}: warning: more records skipped; the summary counts them", file=sys.stderr)


class _Progress:
    """A tqdm bar on stderr (documents/s and % removed) when wanted and tqdm is installed."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        self._next_postfix = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(unit=" docs", file=sys.stderr, mininterval=0.25, dynamic_ncols=True)

    def update(self, dd: Deduplicator) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.monotonic()
        if now >= self._next_postfix:
            st = dd.stats
            share = 100.0 * st.removed / st.paragraphs if st.paragraphs else 0.0
            self.bar.set_postfix_str(f"{share:.1f}% paragraphs removed", refresh=False)
            self._next_postfix = now + 0.5

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(dd: Deduplicator, counts: Counter[str], elapsed: float, config: DedupConfig) -> dict:
    st = dd.stats
    seconds = max(elapsed, 1e-9)
    return {
        **{name: counts[name] for name in RECORD_COUNTS},
        "documents": st.documents,
        "documents_changed": st.documents_changed,
        "documents_emptied": st.documents_emptied,
        "documents_replayed": st.documents_replayed,
        "paragraphs": st.paragraphs,
        "paragraphs_removed": st.removed,
        "bytes_in": st.bytes_in,
        "bytes_out": st.bytes_out,
        "bytes_removed": st.bytes_in - st.bytes_out,
        "seconds": round(elapsed, 3),
        "documents_per_second": round(st.documents / seconds, 1),
        "mb_per_second": round(st.bytes_in / 1e6 / seconds, 2),
        "scope": config.scope,
        "threshold": config.threshold,
        "num_perm": config.num_perm,
        "bands": config.layout.bands,
        "rows": config.layout.rows,
    }


def _summary_line(s: dict) -> str:
    share = 100.0 * s["paragraphs_removed"] / s["paragraphs"] if s["paragraphs"] else 0.0
    return (f"{PROG}: {s['documents']:,} documents, {s['paragraphs']:,} paragraphs, "
            f"{s['paragraphs_removed']:,} removed ({share:.1f}%, {_mb(s['bytes_removed'])} of {_mb(s['bytes_in'])}), "
            f"{s['documents_emptied']:,} emptied, {s['records_rejected']:,} rejected, "
            f"{s['records_dropped']:,} dropped; {s['seconds']:.2f} s "
            f"({_rate(s['documents_per_second'])} docs/s, {s['mb_per_second']:.2f} MB/s)")


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 10_000 else f"{n:,} bytes"
