"""Doc ids as text for persistent indexes, decoded back to what the caller gave.

JSON keeps ``str``, ``int``, ``float``, ``bool`` and ``None`` apart (``"1"`` vs ``1``);
tuples (of those, nested) are tagged so they come back as tuples. Anything else cannot be
stored faithfully and is refused with a message naming the type.
"""

from __future__ import annotations

import json
import numbers
from typing import Any

from dedup.errors import InputTypeError

_TUPLE = "__tuple__"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {_TUPLE: [_plain(v) for v in value]}
    raise InputTypeError(
        f"doc_id {value!r} of type {type(value).__name__} cannot be stored in a persistent index; "
        "use a str, int, float, bool, None or a tuple of those"
    )


def encode_doc_id(doc_id: Any) -> str:
    """Canonical text of a doc id (equal ids of one type give equal text)."""
    return json.dumps(_plain(doc_id), separators=(",", ":"), ensure_ascii=False)


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and _TUPLE in value:
        return tuple(_unplain(v) for v in value[_TUPLE])
    return value


def decode_doc_id(text: str) -> Any:
    return _unplain(json.loads(text))
