"""Clean a pandas text column: one cleaned value per row, in order.

    pip install -e '.[pandas]'      # pandas and pyarrow are not dependencies of dedup
    python examples/pandas_column.py

The column goes through Arrow: ``dedup.dedupe_arrow`` takes it as one array and gives back
the cleaned array and the removals as one Arrow table (no record per row is built on the
way); a missing value (``None``/``NaN``) stays missing. ``dedupe_stream`` over the Series
works too (one result object per row), shown for document scope at the end.
"""

from __future__ import annotations

import sys

import dedup

try:
    import pandas as pd
    import pyarrow as pa
except ImportError:
    sys.exit("examples/pandas_column.py needs pandas and pyarrow: pip install -e '.[pandas]'")

CAVEAT = "Prices include tax and shipping to any address in the country, unless stated otherwise."

df = pd.DataFrame({
    "sku": ["A-1", "A-2", "B-7", "C-3"],
    "description": [
        f"A steel kettle that boils a litre of water in two minutes.\n\n{CAVEAT}",
        f"A glass kettle with a blue light that shows the water boiling.\n\n{CAVEAT}",
        "A toaster with four slots.",
        None,
    ],
})

# Corpus scope (the default): the caveat stays in the first row only.
cleaned, removals = dedup.dedupe_arrow(pa.array(df["description"], from_pandas=True))
df["clean"] = cleaned.to_pandas()
removed_per_row = removals.to_pandas()["row"].value_counts()
df["paragraphs_removed"] = [int(removed_per_row.get(i, 0)) for i in range(len(df))]

# Document scope, row by row: only repeats inside each description go (a missing value stays missing).
df["clean_per_row"] = [r.text for r in dedup.dedupe_stream(df["description"], scope="document")]

print(df[["sku", "clean", "paragraphs_removed"]].to_string())
