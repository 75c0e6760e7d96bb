"""Decontamination: which documents of a training corpus contain items of a benchmark's test split?

The benchmark is indexed once (a `dedup.check.Reference`, or a persistent index opened
read-only); each corpus document is checked against it without adding anything. A hit names
the benchmark item, its Jaccard similarity with the paragraph, and the containment (the share
of the item's word 5-grams found in the paragraph): a question pasted into a longer forum post
has a low Jaccard but a containment near 1.

    python examples/decontaminate.py            # uses examples/data/benchmark_test.jsonl

The same from the command line:

    dedup check corpus.jsonl --against examples/data/benchmark_test.jsonl \\
        --against-text-field question --against-id-field id -o clean.jsonl --hits hits.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

from dedup.check import Reference

BENCHMARK = Path(__file__).parent / "data" / "benchmark_test.jsonl"

CORPUS = [
    ("forum/1", "Pub quiz night was fun. One question stumped us all:\n\n"
                "Which river flows through the old market town of Ashford Vale before it reaches the estuary at "
                "Kellmouth? Nobody at our table knew the answer, and the barman would not tell."),
    ("news/2", "The ferry company announced a new timetable today, with crossings every forty minutes in summer "
               "and a late boat on Fridays for people coming home from the city."),
    ("homework/3", "A lighthouse keeper climbs 112 steps four times a day for a whole leap year: how many steps "
                   "does he climb in total?"),
]


def main() -> None:
    items = [json.loads(line) for line in BENCHMARK.read_text().splitlines()]
    reference = Reference([item["question"] for item in items], ids=[item["id"] for item in items])
    contaminated = 0
    for doc_id, text in CORPUS:
        result = reference.check(text, doc_id)
        for hit in result.hits:
            print(f"{doc_id} paragraph {hit.index}: {hit.ref_doc_id} "
                  f"(similarity {hit.similarity:.2f}, containment {hit.containment:.2f})")
        contaminated += bool(result.hits)
    print(f"{contaminated} of {len(CORPUS)} documents contain benchmark items")


if __name__ == "__main__":
    main()
