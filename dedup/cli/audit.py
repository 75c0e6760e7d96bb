"""``dedup audit``: the audit page from the command line (a thin client of :func:`dedup.write_audit`).

    dedup audit removed.jsonl --input corpus.jsonl -o audit.html     # from a run's report
    dedup audit corpus.jsonl -o audit.html --sample 5000             # or straight from data

Also runnable as ``python -m dedup.cli.audit``. Exit codes: 0 written, 1 data error,
2 usage error; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from dedup.audit.inputs import looks_like_report
from dedup.errors import ConfigError, DedupError

PROG = "dedup audit"


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Write one self-contained HTML page showing what a run removed, the similarity of "
                    "removals and near misses, and how many paragraphs other thresholds would remove.",
        epilog="examples:\n"
               "  dedup audit removed.jsonl --input corpus.jsonl -o audit.html   # a run's --report\n"
               "  dedup audit corpus.jsonl -o audit.html --sample 5000           # run here, from data",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE",
                   help="a run's --report (JSONL, one line per removed paragraph), or a corpus "
                        "(JSONL records or a text file; .gz/.bz2/.xz/.zst by suffix) to run on here")
    p.add_argument("--input", metavar="CORPUS", default=None,
                   help="the run's input, when FILE is a report: totals, near misses, what-if table, "
                        "examples with the text they repeat, per-document view")
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
                        "with the most removals)")
    p.add_argument("--text-field", default="text", metavar="NAME",
                   help="field holding the text of a JSONL record (default: text)")
    p.add_argument("--id-field", default="id", metavar="NAME",
                   help="field holding a document id (default: id; records without it are "
                        "<file>:<line>, as in the dedup command)")
    p.add_argument("--threshold", type=float, default=None, metavar="J",
                   help="the run's threshold (default: 0.8); a report does not record it")
    p.add_argument("--num-perm", type=int, default=None, metavar="N", help="the run's MinHash permutations")
    p.add_argument("--min-tokens", type=int, default=None, metavar="N",
                   help="the run's min_tokens (shorter paragraphs go only inside a removed run)")
    p.add_argument("--scope", choices=["document", "corpus"], default="corpus",
                   help="the run's scope (default: corpus)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``dedup audit``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args)
    except (_UsageError, ConfigError) as exc:
        return _fail(str(exc), 2)
    except (DedupError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            return _fail(f"{exc.filename}: {exc.strerror}", 1)
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted; no page written", 130)


def _run(args: argparse.Namespace) -> int:
    from dedup.audit import write_audit as audit

    for path in [args.file] + ([args.input] if args.input else []):
        if not os.path.isfile(path):
            raise _UsageError(f"{path}: no such file")
    sample = _sample(args.sample)
    kind = args.kind
    if kind == "auto":
        kind = "report" if args.input or looks_like_report(args.file) else "data"
    if kind == "data" and args.input:
        raise _UsageError("--input goes with a report; from data, FILE is the corpus")
    overrides = {"scope": args.scope}
    for name in ("threshold", "num_perm", "min_tokens"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.limit is not None and kind == "report":
        raise _UsageError("--limit applies to a run made here (from data), not to a report")
    summary = audit(args.file if kind == "report" else None,
                    args.input if kind == "report" else args.file,
                    args.output, sample=sample, limit=args.limit, text_field=args.text_field,
                    id_field=args.id_field, doc=args.doc, **overrides)
    if not args.quiet:
        docs = "?" if summary.documents is None else f"{summary.documents:,}"
        print(f"{PROG}: wrote {summary.output} ({summary.page_bytes / 1e6:.2f} MB, {summary.seconds:.1f}s): "
              f"{summary.removed:,} paragraphs removed in {docs} documents; what-if on "
              f"{summary.analysed_documents:,} documents", file=sys.stderr)
        for note in summary.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    return 0


def _sample(value: str) -> Optional[int]:
    if value.strip().lower() == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise _UsageError(f"--sample must be a number of documents or 'all', got {value!r}") from None
    if n < 0:
        raise _UsageError(f"--sample must be >= 0, got {n}")
    return n


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
