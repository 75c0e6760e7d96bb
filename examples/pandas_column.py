"""Clean a pandas text column: one cleaned value per row, in order.

    pip install -e '.[pandas]'      # pandas is not a dependency of dedup
    python examples/pandas_column.py

``dedupe_stream`` takes any iterable of strings, so a column (a ``Series``) goes straight
in. Missing values (``NaN``/``None``) are not text: fill them first, or dedup names the row
that holds one.
"""

from __future__ import annotations

import sys

import dedup

try:
    import pandas as pd
except ImportError:
    sys.exit("examples/pandas_column.py needs pandas: pip install -e '.[pandas]'")

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

# Corpus scope (the default for streams): the caveat stays in the first row only.
texts = df["description"].fillna("")
results = list(dedup.dedupe_stream(texts))
df["clean"] = [r.text for r in results]
df["paragraphs_removed"] = [len(r.removed) for r in results]

# Document scope: only repeats inside each description go.
df["clean_per_row"] = [r.text for r in dedup.dedupe_stream(texts, scope="document")]

print(df[["sku", "clean", "paragraphs_removed"]].to_string())
