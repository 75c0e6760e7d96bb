"""``dedup index ...``: inspect a persistent corpus index (``python -m dedup.cli.index`` too).

``dedup index info SPEC`` prints what the index holds: its settings, paragraphs,
documents and size (on disk for SQLite, in memory for Redis). ``--json`` prints the same
as one JSON object. The main ``dedup`` CLI dispatches ``dedup index ...`` here.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional, TextIO

from dedup.errors import DedupError
from dedup.index.open import open_index


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dedup index", description="Inspect a persistent corpus index.")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="settings, paragraphs, documents and size of an index")
    info.add_argument("spec", metavar="PATH", help="index file, DIR/, or redis://host:port/db[?prefix=P]")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def format_info(info: dict) -> str:
    """The human-readable report of :func:`main` ``info``."""
    where = info.get("path") or f"redis prefix {info.get('prefix')!r}"
    size_label = "size on disk" if info["kind"] == "sqlite" else "size"
    lines = [f"index        {where} ({info['kind']})"]
    settings = info.get("settings")
    if settings:
        lines.append(f"settings     {', '.join(f'{k}={v}' for k, v in sorted(settings.items()))}")
        lines.append(f"fingerprint  {info['fingerprint']}")
    else:
        lines.append("settings     (none yet: nothing indexed)")
    paragraphs = info["paragraphs"]
    lines.append(f"paragraphs   {paragraphs:,} ({info.get('stored_sets', paragraphs):,} distinct shingle sets stored)")
    lines.append(f"documents    {info['documents']:,} ({info['distinct_doc_ids']:,} distinct doc ids)")
    per = f", {info['size_bytes'] / paragraphs:.0f} B per paragraph" if paragraphs else ""
    lines.append(f"{size_label:<12} {_human(info['size_bytes'])} ({info['size_bytes']:,} bytes{per})")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run ``dedup index ARGS``; returns the exit code (0 ok, 1 error, 2 usage)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage
        return int(exc.code or 0)
    try:
        index = open_index(args.spec, read_only=True)  # never created, never written
        info = index.info()
        index.close()
    except DedupError as exc:
        print(f"dedup index: error: {exc}", file=stderr)
        return 1
    except Exception as exc:  # a server that is down, a file we may not read
        print(f"dedup index: error: {args.spec}: {exc}", file=stderr)
        return 1
    print(json.dumps(info, sort_keys=True) if args.json else format_info(info), file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
