"""dedup: remove repeated and near-repeated paragraphs; keep the first occurrence byte for byte.

>>> import dedup
>>> dedup.dedupe_text("Same paragraph here, long enough to count for sure.\\n"
...                   "Same paragraph here, long enough to count for sure.\\n")
'Same paragraph here, long enough to count for sure.\\n'

The library logs through the ``dedup`` logger (a background kernel build, a wait for an
index's write lock) and adds no handler of its own beyond a ``NullHandler``.
"""

import logging

from dedup.audit import AuditSummary, write_audit
from dedup.boilerplate import Boilerplate
from dedup.check import CheckResult, Hit, Reference
from dedup.columnar import dedupe_arrow
from dedup.config import DedupConfig
from dedup.contamination import Contamination, ItemReport
from dedup.decide.boilerplate import BoilerplateCounts
from dedup.deduplicator import Deduplicator, dedupe_text, explain
from dedup.errors import (ConfigError, DamagedInputError, DedupError, IndexAccessError, IndexBusyError,
                          IndexMismatchError, InputDataError, InputTypeError,
                          MissingDependencyError, RecordError)
from dedup.fingerprint.lsh import LshLayout, choose_layout
from dedup.fingerprint.minhash import from_minhash, signatures, to_lean_minhash
from dedup.fingerprint.shingles import ShingleSets, shingle_sets
from dedup.index import Index, Location, MemoryIndex, RedisIndex, SqliteIndex, open_index
from dedup.io.report import apply_removals
from dedup.results import DedupResult, Removal, Stats
from dedup.stream import StreamResult, dedupe_stream
from dedup.text.assemble import removal_cuts
from dedup.text.split import register_tokenizer, split_paragraphs
from dedup.version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AuditSummary", "Boilerplate", "BoilerplateCounts", "CheckResult", "ConfigError", "Contamination", "DamagedInputError", "DedupConfig", "DedupError", "DedupResult", "Deduplicator", "Hit", "Index",
    "IndexAccessError", "IndexBusyError", "IndexMismatchError", "InputDataError", "InputTypeError", "ItemReport", "Location", "LshLayout",
    "MemoryIndex", "MissingDependencyError", "RecordError", "RedisIndex", "Reference", "Removal", "ShingleSets", "SqliteIndex",
    "Stats", "StreamResult", "__version__", "apply_removals", "choose_layout", "dedupe_arrow", "dedupe_stream",
    "dedupe_text", "explain", "from_minhash", "open_index", "register_tokenizer", "removal_cuts", "shingle_sets", "signatures",
    "split_paragraphs", "to_lean_minhash", "write_audit",
]
