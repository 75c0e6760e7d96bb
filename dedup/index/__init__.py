"""Corpus indexes: where corpus scope remembers the paragraphs it has seen."""

from dedup.index.base import Index, IndexBatch, Location
from dedup.index.memory import MemoryIndex

__all__ = ["Index", "IndexBatch", "Location", "MemoryIndex"]
