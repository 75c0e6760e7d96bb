"""A cleaning step between "extract" and "train": JSONL in, cleaned JSONL and an audit report out.

    python examples/pipeline_jsonl.py [INPUT.jsonl[.gz] [OUTPUT_DIR [ID_FIELD]]]

Without arguments it writes a small demo corpus to a temporary directory and cleans that.
Records stream through ``dedup.dedupe_stream`` one batch at a time, so the input can be
larger than memory; every field of every record is kept, only ``text`` changes.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

import dedup

LICENCE = ("Permission is hereby granted, free of charge, to any person obtaining a copy of this "
           "software and associated documentation files, to deal in the Software without restriction.")
DEMO = [
    {"id": "pkg/a", "lang": "en", "text": f"Package a parses dates and times.\n\n{LICENCE}\n"},
    {"id": "pkg/b", "lang": "en", "text": f"Package b draws charts from tables of numbers.\n\n{LICENCE}\n"},
    {"id": "pkg/c", "lang": "en", "text": "Package c reads time zones from the system database.\n\n"
                                          "Package c reads time zones from the system database.\n"},
    {"id": "pkg/d", "lang": "en", "text": LICENCE.replace("restriction", "limitation") + "\n"},
]


def read_jsonl(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="dedup-demo-"))
    id_field = argv[2] if len(argv) > 2 else "id"
    out_dir.mkdir(parents=True, exist_ok=True)
    if argv:
        source = Path(argv[0])
    else:
        source = out_dir / "demo.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in DEMO), encoding="utf-8")

    records_in = records_out = removed = 0
    with open(out_dir / "clean.jsonl", "w", encoding="utf-8") as out, \
            open(out_dir / "removed.jsonl", "w", encoding="utf-8") as report:
        # Corpus scope is the default for streams: a paragraph seen in an earlier record goes.
        for item in dedup.dedupe_stream(read_jsonl(source), text_field="text", id_field=id_field):
            records_in += 1
            for r in item.removed:
                report.write(json.dumps({"doc_id": item.doc_id, **r.to_dict(),
                                         "text": item.removed_text(r)}, ensure_ascii=False) + "\n")
                removed += 1
            out.write(json.dumps(item.record, ensure_ascii=False) + "\n")
            records_out += 1

    print(f"{records_in} records in, {records_out} out, {removed} paragraphs removed -> {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
