"""Corpus scope: each document is cleaned against every document seen before it.

    python examples/corpus_scope.py
"""

import dedup

LICENCE = ("Permission is hereby granted, free of charge, to any person obtaining a copy of this "
           "software, to deal in the Software without restriction, subject to the following conditions.")
DOCS = {
    "pkg-a": f"pkg-a parses configuration files quickly and reports errors with line numbers.\n\n{LICENCE}\n",
    "pkg-b": f"pkg-b renders charts to PNG and SVG from the command line.\n\n{LICENCE.replace('Permission is', 'Permission was')}\n",
    # one word differs in a 12-word paragraph: Jaccard of 5-grams 0.6, not a repeat
    "pkg-c": f"pkg-c renders charts to PNG and SVG from the command line.\n\n{LICENCE}\n",
}


def main() -> dict:
    d = dedup.Deduplicator(scope="corpus", threshold=0.8)
    print(f"LSH layout: {d.config.layout}")
    out = {}
    for doc_id, text in DOCS.items():
        r = d.dedupe(text, doc_id=doc_id)
        out[doc_id] = r.text
        for x in r.removed:
            print(f"{doc_id}: removed paragraph {x.index}, repeats {x.matched_doc_id}#{x.matched_index} "
                  f"(Jaccard {x.similarity:.2f})")
    print(d.stats)
    return out


if __name__ == "__main__":
    main()
