"""Corpus indexes: where corpus scope remembers the paragraphs it has seen.

``RedisIndex`` imports the ``redis`` package only when one is created, so importing
dedup never needs the extra.
"""

from dedup.index.base import Index, IndexBatch, Location
from dedup.index.memory import MemoryIndex
from dedup.index.open import open_index
from dedup.index.redis import RedisIndex
from dedup.index.sqlite import SqliteIndex

__all__ = ["Index", "IndexBatch", "Location", "MemoryIndex", "RedisIndex", "SqliteIndex", "open_index"]
