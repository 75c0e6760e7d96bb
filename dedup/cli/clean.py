"""The ``dedup`` command: files in, cleaned files out, and an account of every removal.

A thin client of the API: readers from :mod:`dedup.io` feed :func:`dedup.stream.pair_results`
(one :class:`Deduplicator`, corpus scope by default), writers put every record back with
only its text changed. Exit codes: 0 success, 1 runtime or data error, 2 usage error.
Errors are one line on stderr: ``dedup: error: <file>:<line>: <what is wrong>``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence

from dedup.config import DedupConfig
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError, DedupError
from dedup.io import (STDIO, AtomicOutput, InputDataError, Item, Reject, Source, format_for_name, open_source,
                      open_writer, read_source, same_file, strip_compression)
from dedup.io.files import is_directory_target
from dedup.io.jsonl import write_json_line
from dedup.stream import pair_results

PROG = "dedup"
#: ``dedup NAME ...`` runs ``main(argv)`` of these modules (imported only when asked for).
SUBCOMMANDS = {"index": "dedup.cli.index", "audit": "dedup.cli.audit"}
#: Rejected records named one by one on stderr before only counting them.
MAX_REJECT_WARNINGS = 10


class UsageError(Exception):
    """The command line asks for something that cannot work (exit code 2)."""


@dataclass
class Counts:
    """Records through the command: in = out + dropped + rejected."""

    records_in: int = 0
    records_out: int = 0
    rejected: int = 0
    dropped: int = 0


def build_parser() -> argparse.ArgumentParser:
    from dedup import __version__

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Remove repeated and near-repeated paragraphs from text files, JSONL or Parquet "
                    "records; keep each paragraph's first occurrence byte for byte.",
        epilog="examples:\n"
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
    p.add_argument("--text-field", default="text", metavar="NAME",
                   help="field (column) holding the text of a record (default: text)")
    p.add_argument("--id-field", default=None, metavar="NAME",
                   help="field holding a document id, used in reports and by --index "
                        "(default: <file>:<line> for records, the file name for text files)")
    p.add_argument("--scope", choices=["document", "corpus"], default="corpus",
                   help="repeats inside each document only, or also across documents (default: corpus)")
    p.add_argument("--threshold", type=float, default=None, metavar="J",
                   help="Jaccard similarity of word 5-gram sets at which paragraphs count as repeats "
                        "(default: 0.8)")
    p.add_argument("--num-perm", type=int, default=None, metavar="N",
                   help="MinHash permutations (default: 128)")
    p.add_argument("--min-tokens", type=int, default=None, metavar="N",
                   help="paragraphs with fewer tokens are removed only inside a run of removed repeats "
                        "(default: 8)")
    p.add_argument("--granularity", choices=["paragraph", "sentence"], default=None,
                   help="the unit deduplicated: paragraphs, or sentences inside them (default: paragraph)")
    p.add_argument("--index", default=None, metavar="PATH",
                   help="persistent corpus index (SQLite file, or redis://...): paragraphs of earlier runs "
                        "count as earlier; needs --scope corpus")
    p.add_argument("--report", default=None, metavar="FILE",
                   help="write one JSON line per removed paragraph (doc id, span, what it repeats, "
                        "similarity, reason, text)")
    p.add_argument("--drop-empty", action="store_true",
                   help="leave out records that deduplication emptied (every paragraph removed)")
    p.add_argument("--stats", action="store_true",
                   help="print the run's statistics as one JSON object on stderr")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar, warnings or summary on stderr (errors are still printed)")
    p.add_argument("--on-error", choices=["stop", "skip"], default="stop",
                   help="bad record (malformed JSON, missing field, non-string text, invalid UTF-8): "
                        "stop with its file and line (default), or skip it")
    p.add_argument("--rejects", default=None, metavar="FILE",
                   help="with --on-error skip: write each rejected line, as read, to FILE")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return _subcommand(argv[0], argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with _terminate_as_interrupt():
            return _run(args)
    except BrokenPipeError:  # e.g. `dedup big.jsonl | head`: the reader left; say nothing
        _silence_stdout()
        return 1
    except UsageError as exc:
        return _fail(str(exc), 2)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except (DedupError, OSError) as exc:
        return _fail(_describe(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) cleans up like Ctrl-C: temporary files go."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _subcommand(name: str, argv: List[str]) -> int:
    """``dedup index ...`` / ``dedup audit ...``: handled by their modules when this build has them."""
    module_name = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return _fail(f"the {name!r} sub-command is not available in this build", 2)
    return int(module.main(argv) or 0)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


# -- planning: inputs, outputs, settings --------------------------------------------------

@dataclass
class _Plan:
    sources: List[Source]
    output: str
    out_format: str
    directory: bool


def _plan(args: argparse.Namespace) -> _Plan:
    if args.inputs.count(STDIO) > 1:
        raise UsageError("- (stdin) can be given only once")
    for path in args.inputs:
        if path != STDIO:
            if os.path.isdir(path):
                raise UsageError(f"{path}: is a directory; give the files in it")
            if not os.path.exists(path):
                raise InputDataError(path, None, "no such file")
    if args.rejects and args.on_error != "skip":
        raise UsageError("--rejects needs --on-error skip")
    if args.index and args.scope != "corpus":
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
    targets += [(name, path) for name, path in (("--report", args.report), ("--rejects", args.rejects)) if path]
    for name, path in targets:
        parent = os.path.dirname(os.path.abspath(path))
        if path != STDIO and not (directory and name == "output") and not os.path.isdir(parent):
            raise UsageError(f"the {name} {path} is in a directory that does not exist: {parent}")
    if sum(path == STDIO for _, path in targets) > 1:
        raise UsageError("only one of the output, --report and --rejects can go to stdout")
    for name, path in targets:
        for source in sources:
            if same_file(path, source.path):
                raise UsageError(f"refusing to write the {name} over the input {source.path}")
    for i, (name, path) in enumerate(targets):
        for other, other_path in targets[i + 1:]:
            if path != STDIO and same_file(path, other_path):
                raise UsageError(f"the {name} and the {other} are the same file: {path}")


def _config(args: argparse.Namespace) -> DedupConfig:
    settings: dict = {"scope": args.scope}
    if args.threshold is not None:
        settings["threshold"] = args.threshold
    if args.num_perm is not None:
        settings["num_perm"] = args.num_perm
    if args.min_tokens is not None:
        settings["min_tokens"] = args.min_tokens
    if args.granularity is not None:
        settings["granularity"] = args.granularity
    return DedupConfig(**settings)


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
    outputs: List[Any] = []
    try:
        dd = Deduplicator(config, index=index)
        writer = open_writer(plan.output, plan.out_format, args.text_field, args.id_field, plan.directory)
        outputs.append(writer)
        report = AtomicOutput(args.report) if args.report else None
        rejects = AtomicOutput(args.rejects) if args.rejects else None
        outputs += [o for o in (report, rejects) if o is not None]
        counts = Counts()
        started = time.perf_counter()
        progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
        items = _items(plan.sources, args, counts, rejects)
        try:
            for item, result in pair_results(dd, items, _text_of, _id_of):
                if report is not None:
                    for removal in result.removed:
                        write_json_line(report, {"doc_id": result.doc_id, **removal.to_dict(),
                                                 "text": item.text[removal.start:removal.end]})
                emptied = bool(result.removed) and not result.text.strip()
                if args.drop_empty and emptied:
                    counts.dropped += 1
                else:
                    writer.write(item, result.text, result.changed)
                    counts.records_out += 1
                progress.update(dd)
        finally:
            progress.close()
        for out in outputs:
            out.commit()
        outputs = []
    except BaseException:
        for out in reversed(outputs):
            out.abort()
        raise
    finally:
        close = getattr(index, "close", None)
        if callable(close):
            close()
    elapsed = time.perf_counter() - started
    summary = _summary(dd, counts, elapsed, config)
    if not args.quiet:
        print(_summary_line(summary), file=sys.stderr)
    if args.stats:
        print(json.dumps(summary), file=sys.stderr)
    return 0


def _text_of(item: Item, _position: int) -> str:
    return item.text


def _id_of(item: Item, _position: int) -> Any:
    return item.doc_id


def _items(sources: List[Source], args: argparse.Namespace, counts: Counts,
           rejects: Optional[AtomicOutput]) -> Iterator[Item]:
    """Good records of every input in order; bad ones stop the run or are set aside."""
    for source in sources:
        for read in read_source(source, args.text_field, args.id_field):
            counts.records_in += 1
            if isinstance(read, Item):
                yield read
                continue
            if args.on_error == "stop":
                raise read.error()
            _reject(read, counts, rejects, args.quiet)


def _reject(read: Reject, counts: Counts, rejects: Optional[AtomicOutput], quiet: bool) -> None:
    counts.rejected += 1
    if rejects is not None:
        rejects.write(read.raw if read.raw.endswith(b"\n") else read.raw + b"\n")
    if quiet:
        return
    if counts.rejected <= MAX_REJECT_WARNINGS:
        print(f"{PROG}: warning: {read.source}:{read.line}: {read.message} (skipped)", file=sys.stderr)
    elif counts.rejected == MAX_REJECT_WARNINGS + 1:
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


def _summary(dd: Deduplicator, counts: Counts, elapsed: float, config: DedupConfig) -> dict:
    st = dd.stats
    seconds = max(elapsed, 1e-9)
    return {
        "records_in": counts.records_in,
        "records_out": counts.records_out,
        "records_rejected": counts.rejected,
        "records_dropped": counts.dropped,
        "documents": st.documents,
        "documents_changed": st.documents_changed,
        "documents_emptied": st.documents_emptied,
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
