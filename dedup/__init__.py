"""dedup: remove repeated and near-repeated paragraphs; keep the first occurrence byte for byte.

>>> import dedup
>>> dedup.dedupe_text("Same paragraph here, long enough to count for sure.\\n"
...                   "Same paragraph here, long enough to count for sure.\\n")
'Same paragraph here, long enough to count for sure.\\n'

The library logs through the ``dedup`` logger (a background kernel build, a wait for an
index's write lock) and adds no handler of its own beyond a ``NullHandler``.

The names below are imported when first used (PEP 562), so ``import dedup.cli`` costs
milliseconds: the ``dedup`` command starts its Ctrl-C handling before numpy and the pipeline
load (a Ctrl-C while they did used to print a long traceback).
"""

import importlib
import importlib.util
import logging
from typing import TYPE_CHECKING, Any, List

if TYPE_CHECKING:  # what the names are, for type checkers; at run time :func:`__getattr__` imports them
    from dedup.audit import AuditSummary, write_audit
    from dedup.boilerplate import Boilerplate
    from dedup.check import CheckResult, Hit, Reference
    from dedup.columnar import dedupe_arrow
    from dedup.config import PRESETS, DedupConfig, NoisyRules
    from dedup.contamination import Contamination, ItemReport
    from dedup.decide.boilerplate import BoilerplateCounts
    from dedup.deduplicator import Deduplicator, dedupe_text, explain
    from dedup.errors import (ConfigError, DamagedInputError, DedupError, IndexAccessError, IndexBusyError,
                              IndexMismatchError, InputDataError, InputTypeError,
                              MissingDependencyError, RecordError)
    from dedup.fingerprint.chars import noisy_similarity
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

#: Public name -> the module it lives in (one line per module, as the imports above).
_HOMES = {name: module for module, names in {
    "dedup.audit": "AuditSummary write_audit",
    "dedup.boilerplate": "Boilerplate",
    "dedup.check": "CheckResult Hit Reference",
    "dedup.columnar": "dedupe_arrow",
    "dedup.config": "DedupConfig NoisyRules PRESETS",
    "dedup.contamination": "Contamination ItemReport",
    "dedup.decide.boilerplate": "BoilerplateCounts",
    "dedup.deduplicator": "Deduplicator dedupe_text explain",
    "dedup.errors": "ConfigError DamagedInputError DedupError IndexAccessError IndexBusyError IndexMismatchError "
                    "InputDataError InputTypeError MissingDependencyError RecordError",
    "dedup.fingerprint.chars": "noisy_similarity",
    "dedup.fingerprint.lsh": "LshLayout choose_layout",
    "dedup.fingerprint.minhash": "from_minhash signatures to_lean_minhash",
    "dedup.fingerprint.shingles": "ShingleSets shingle_sets",
    "dedup.index": "Index Location MemoryIndex RedisIndex SqliteIndex open_index",
    "dedup.io.report": "apply_removals",
    "dedup.results": "DedupResult Removal Stats",
    "dedup.stream": "StreamResult dedupe_stream",
    "dedup.text.assemble": "removal_cuts",
    "dedup.text.split": "register_tokenizer split_paragraphs",
    "dedup.version": "__version__",  # importlib.metadata: ~30 ms
}.items() for name in names.split()}

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AuditSummary", "Boilerplate", "BoilerplateCounts", "CheckResult", "ConfigError", "Contamination",
    "DamagedInputError", "DedupConfig", "DedupError", "DedupResult", "Deduplicator", "Hit", "Index",
    "IndexAccessError", "IndexBusyError", "IndexMismatchError", "InputDataError", "InputTypeError", "ItemReport", "Location", "LshLayout",
    "MemoryIndex", "MissingDependencyError", "NoisyRules", "PRESETS", "RecordError", "RedisIndex", "Reference", "Removal", "ShingleSets", "SqliteIndex",
    "Stats", "StreamResult", "__version__", "apply_removals", "choose_layout", "dedupe_arrow", "dedupe_stream",
    "dedupe_text", "explain", "from_minhash", "noisy_similarity", "open_index", "register_tokenizer", "removal_cuts", "shingle_sets", "signatures",
    "split_paragraphs", "to_lean_minhash", "write_audit",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use; a sub-package (``dedup.audit``) too."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
