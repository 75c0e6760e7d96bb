"""The founding example: a news article pasted twice into one page comes back once.

    python examples/seed_article.py [PATH]
"""

import sys
from pathlib import Path

import dedup

DEFAULT = Path(__file__).resolve().parent / "data" / "news_pasted_twice.txt"


def main(path: Path = DEFAULT) -> str:
    text = path.read_text(encoding="utf-8")
    result = dedup.explain(text)
    for r in result.removed:
        print(f"removed paragraph {r.index} [{r.start}:{r.end}]: repeats paragraph {r.matched_index} "
              f"[{r.matched_start}:{r.matched_end}] (Jaccard {r.similarity:.3f}, {r.reason})", file=sys.stderr)
    print(f"{len(text)} characters in, {len(result.text)} out", file=sys.stderr)
    return result.text


if __name__ == "__main__":
    clean = main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
    sys.stdout.write(clean if clean.endswith("\n") else clean + "\n")
