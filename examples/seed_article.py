"""The founding example: a news article pasted twice into one page comes back once.

    python examples/seed_article.py [PATH]
"""

import sys
from pathlib import Path

import dedup

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "seed_news_doubled.txt"


def main(path: Path = DEFAULT) -> str:
    text = path.read_text(encoding="utf-8")
    result = dedup.explain(text)
    for r in result.removed:
        print(f"removed paragraph {r.index} [{r.start}:{r.end}]: repeats paragraph {r.matched_index} "
              f"[{r.matched_start}:{r.matched_end}] (Jaccard {r.similarity:.3f}, {r.reason})", file=sys.stderr)
    print(f"{len(text)} characters in, {len(result.text)} out", file=sys.stderr)
    return result.text


if __name__ == "__main__":
    sys.stdout.write(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
    sys.stdout.write("\n")
