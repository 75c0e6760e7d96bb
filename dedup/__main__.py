"""``python -m dedup``: the same command as the ``dedup`` console script."""

import sys

from dedup.cli import main

if __name__ == "__main__":
    sys.exit(main())
