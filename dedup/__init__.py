"""dedup: remove repeated and near-repeated paragraphs; keep the first occurrence byte for byte.

>>> import dedup
>>> dedup.dedupe_text("Same paragraph here, long enough to count for sure.\\n"
...                   "Same paragraph here, long enough to count for sure.\\n")
'Same paragraph here, long enough to count for sure.\\n'
"""

from importlib.metadata import PackageNotFoundError, version as _version

from dedup.audit import AuditSummary, write_audit
from dedup.config import DedupConfig
from dedup.deduplicator import Deduplicator, dedupe_text, explain
from dedup.errors import ConfigError, DedupError, IndexMismatchError, InputTypeError, MissingDependencyError
from dedup.errors import IndexBusyError
from dedup.index import Index, Location, MemoryIndex
from dedup.index import RedisIndex, SqliteIndex, open_index
from dedup.fingerprint.lsh import LshLayout, choose_layout
from dedup.fingerprint.minhash import from_minhash, signatures, to_lean_minhash
from dedup.results import DedupResult, Removal, Stats
from dedup.fingerprint.shingles import ShingleSets, shingle_sets
from dedup.stream import RecordError, StreamResult, dedupe_stream
from dedup.text.split import split_paragraphs

try:
    __version__ = _version("paradedup")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AuditSummary", "write_audit", "ConfigError", "DedupConfig", "DedupError", "DedupResult", "Deduplicator", "Index",
    "IndexMismatchError", "InputTypeError", "Location", "LshLayout", "MemoryIndex",
    "MissingDependencyError", "Removal", "ShingleSets", "Stats", "choose_layout", "dedupe_text",
    "explain", "from_minhash", "shingle_sets", "signatures", "split_paragraphs", "to_lean_minhash",
    "__version__",
    "IndexBusyError", "RedisIndex", "SqliteIndex", "open_index",
    "RecordError", "StreamResult", "dedupe_stream",
]
