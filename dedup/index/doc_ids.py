"""Doc ids as text for persistent indexes: one identity for every backend.

Two ids are the same document when Python says they are equal, as in the in-memory index
(a dict): ``1``, ``1.0`` and ``True`` are one id, ``"1"`` another. So the text is that of a
canonical value: a bool or an integral float is written as the int it equals. ``str``, ``int``,
``float``, ``bool`` and ``None`` are kept apart as JSON keeps them; tuples (of those, nested)
are tagged so they come back as tuples. NaN and infinities (never equal to anything, not
even themselves; not strict JSON) and any other type are refused with a message naming them.
A lone surrogate in a ``str`` id (legal in JSON, not in UTF-8) is written as a JSON escape (ensure_ascii).
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from dedup.errors import InputTypeError

_TUPLE = "__tuple__"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):  # bool included: True == 1
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise InputTypeError(f"doc_id {value!r} is not a finite number; it cannot name a document")
        return int(number) if number.is_integer() else number
    if isinstance(value, tuple):
        return {_TUPLE: [_plain(v) for v in value]}
    raise InputTypeError(
        f"doc_id {value!r} of type {type(value).__name__} cannot be stored in a persistent index; "
        "use a str, int, float, bool, None or a tuple of those"
    )


def encode_doc_id(doc_id: Any) -> str:
    """Canonical text of a doc id (equal ids of one type give equal text)."""
    text = json.dumps(_plain(doc_id), separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped (the same id always gives the same text)
        text = json.dumps(_plain(doc_id), separators=(",", ":"), ensure_ascii=True)
    return text


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and _TUPLE in value:
        return tuple(_unplain(v) for v in value[_TUPLE])
    return value


def decode_doc_id(text: str) -> Any:
    return _unplain(json.loads(text))
