"""``dedup audit``: the audit page from the command line (a thin client of :func:`dedup.write_audit`).

    dedup audit removed.jsonl --input corpus.jsonl -o audit.html     # from a run's report
    dedup audit removed/*.jsonl.gz --input part-*.jsonl.gz           # a run over shards
    dedup audit corpus.jsonl -o audit.html --sample 5000             # or straight from data

Also runnable as ``python -m dedup.cli.audit``. Exit codes: 0 written, 1 data error,
2 usage error; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from dedup.cli.options import UsageError, counted, run_command, run_settings, shared_options
from dedup.io.files import target_problem
from dedup.io.report import looks_like_report

PROG = "dedup audit"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, parents=[shared_options()],
        description="Write one self-contained HTML page showing what a run removed, the similarity of "
                    "removals and near misses, and how many paragraphs other thresholds would remove.",
        epilog="examples:\n"
               "  dedup audit removed.jsonl --input corpus.jsonl -o audit.html   # a run's --report\n"
               "  dedup audit removed.jsonl --input part-*.jsonl.gz --on-error skip   # a run over shards\n"
               "  dedup audit corpus.jsonl -o audit.html --sample 5000           # run here, from data",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a run's --report (JSONL, one line per removed paragraph; the files of --report DIR/, "
                        "in input order), or a corpus (records or text files, compressed or not) to run on here")
    p.add_argument("--input", metavar="CORPUS", nargs="+", default=None,
                   help="the run's input, when FILE is a report (its files in the run's order, as dedup takes "
                        "them): totals, near misses, what-if table, examples with the text they repeat, "
                        "per-document view")
    p.add_argument("--on-error", choices=["stop", "skip"], default="stop",
                   help="a bad input record: stop with its file and line (default), or set it aside as the "
                        "run's --on-error skip did (counted in a note)")
    p.add_argument("-o", "--output", metavar="HTML", default="audit.html",
                   help="where to write the page (default: audit.html)")
    p.add_argument("--kind", choices=["auto", "report", "data"], default="auto",
                   help="what FILE is (default: auto; a report when --input is given, else from its "
                        "first line)")
    p.add_argument("--sample", metavar="N", default="5000",
                   help="documents analysed for the what-if table, near misses and examples: the first N "
                        "(default: 5000; 'all' for every document)")
    p.add_argument("--limit", metavar="N", type=int, default=None,
                   help="from data: read only the first N documents (default: all)")
    p.add_argument("--doc", metavar="ID", default=None,
                   help="document to show in the per-document view (default: the analysed document "
                        "with the most removals that keeps something)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``dedup audit``; returns the exit code."""
    return run_command(PROG, build_parser(), _run, argv, interrupted="interrupted; no page written")


def _run(args: argparse.Namespace) -> int:
    from dedup.audit import write_audit as audit

    inputs = args.input or []
    for path in args.files + inputs:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such file")
    if args.output == "":
        raise UsageError("-o: the path is empty")
    problem = target_problem([("page", args.output)], args.files + inputs)
    if problem:
        raise UsageError(problem)
    sample = _sample(args.sample)
    kind = args.kind
    if kind == "auto":
        kind = "report" if inputs or looks_like_report(args.files[0]) else "data"
    if kind == "data" and inputs:
        raise UsageError("--input goes with a report; from data, FILE is the corpus")
    overrides = run_settings(args)
    if args.limit is not None and kind == "report":
        raise UsageError("--limit applies to a run made here (from data), not to a report")
    summary = audit(args.files if kind == "report" else None, inputs if kind == "report" else args.files,
                    args.output, sample=sample, limit=args.limit, text_field=args.text_field,
                    id_field=args.id_field, doc=args.doc, on_error=args.on_error, **overrides)
    if not args.quiet:
        docs = "? documents" if summary.documents is None else counted(summary.documents, "document")
        print(f"{PROG}: wrote {summary.output} ({summary.page_bytes / 1e6:.2f} MB, {summary.seconds:.1f}s): "
              f"{counted(summary.removed, 'paragraph')} removed in {docs}; what-if on "
              f"{counted(summary.analysed_documents, 'document')}", file=sys.stderr)
        for note in summary.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    return 0


def _sample(value: str) -> Optional[int]:
    if value.strip().lower() == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--sample must be a number of documents or 'all', got {value!r}") from None
    if n < 0:
        raise UsageError(f"--sample must be >= 0, got {n}")
    return n


if __name__ == "__main__":
    sys.exit(main())
