"""A Hugging Face ``datasets`` cleaning step: ``Dataset.map(batched=True)`` with dedup.

    pip install datasets
    python examples/hf_datasets_map.py

One :class:`dedup.Deduplicator` carries the corpus index from batch to batch, so a
paragraph is removed when it repeats one from *any* earlier row, not only from its own
batch. Corpus scope means "earlier", which needs one ordered pass in the process that made
the Deduplicator: leave ``num_proc`` unset (datasets 5 runs even ``num_proc=1`` in a worker
process). For speed, give the Deduplicator ``workers=N``: N - 1 threads fingerprint the next
batch while this one is decided, with the same result as one pass. With ``num_proc=2`` each
process would deduplicate only its own share of the rows, so the Deduplicator refuses
(``DedupError``) rather than silently giving other results. The row index is the document id
(``with_indices=True``), so if ``map`` ever feeds a batch twice the rows get the decisions of
their first pass instead of being taken as repeats of themselves. For repeats inside each
row only, use ``scope="document"`` (then any ``num_proc`` works).
"""

from __future__ import annotations

from datasets import Dataset

import dedup

NOTICE = ("This article was produced by the newsroom and may not be reproduced, distributed or "
          "published without the written permission of the copyright holder.")
ROWS = [
    {"url": "https://example.org/1", "text": f"Rain is expected across the north on Monday morning.\n\n{NOTICE}\n"},
    {"url": "https://example.org/2",
     "text": f"The city council approved the new budget late on Tuesday night.\n\n{NOTICE}\n"},
    {"url": "https://example.org/3", "text": "A new bridge opens to traffic next week after three years of work.\n\n"
                                              "A new bridge opens to traffic next week after three years of work.\n"},
    {"url": "https://example.org/4", "text": "Rain is expected across the north on Monday morning.\n"},
]


def make_cleaner(deduplicator: dedup.Deduplicator):
    """A batched ``map`` function: cleaned text plus how many paragraphs went."""

    def clean(batch: dict, indices: list) -> dict:
        records = ({"text": t, "row": i} for t, i in zip(batch["text"], indices))
        results = list(dedup.dedupe_stream(records, id_field="row", deduplicator=deduplicator))
        return {"text": [r.text for r in results],
                "paragraphs_removed": [len(r.removed) for r in results]}

    return clean


def main() -> None:
    ds = Dataset.from_list(ROWS)
    deduplicator = dedup.Deduplicator(workers=2)  # corpus scope, in-memory index, fingerprints on a thread
    cleaned = ds.map(make_cleaner(deduplicator), batched=True, batch_size=2, with_indices=True,
                     load_from_cache_file=False, desc="dedup")
    for row in cleaned:
        print(repr(row["text"]), row["paragraphs_removed"])
    print(f"{deduplicator.stats.removed} of {deduplicator.stats.paragraphs} paragraphs removed")


if __name__ == "__main__":
    main()
