"""Bytes <-> numpy for the persistent indexes: every stored number is little-endian.

One copy of the packing rules, so a file written on one machine reads the same on any
other, and SQLite and Redis store shingle sets and id lists alike.
"""

from __future__ import annotations

from typing import Iterable, List, Sequence

import numpy as np

I64 = np.dtype("<i8")
U64 = np.dtype("<u8")
U32 = np.dtype("<u4")


def pack(values: np.ndarray, dtype: np.dtype) -> bytes:
    """``values`` as little-endian bytes of ``dtype``."""
    return np.ascontiguousarray(values, dtype=dtype).tobytes()


def unpack(raw: bytes, dtype: np.dtype) -> np.ndarray:
    """The array ``raw`` holds (read-only: a view of the bytes)."""
    return np.frombuffer(raw, dtype)


def unpack_all(raws: Iterable[bytes], dtype: np.dtype) -> np.ndarray:
    """Blobs of one dtype read as one array, in native byte order."""
    parts = [unpack(raw, dtype) for raw in raws]
    native = dtype.newbyteorder("=")
    return np.concatenate(parts).astype(native) if parts else np.zeros(0, dtype=native)


def key_fields(keys: np.ndarray) -> List[bytes]:
    """uint64 keys as 8-byte names (bytes, not numpy ``S8``, which drops trailing NULs)."""
    raw = pack(keys, U64)
    return [raw[i:i + 8] for i in range(0, len(raw), 8)]


def set_blobs(hashes: np.ndarray, offsets: np.ndarray, rows: Sequence[int]) -> List[bytes]:
    """The shingle set of each of ``rows`` (``hashes[offsets[r]:offsets[r + 1]]``) as bytes."""
    blob = pack(hashes, U32)
    at = (np.asarray(offsets, dtype=np.int64) * U32.itemsize).tolist()
    return [blob[at[r]:at[r + 1]] for r in rows]


def shingle_set(raw: bytes) -> np.ndarray:
    """A stored shingle set as a read-only native uint32 array (safe to cache and share)."""
    out = unpack(raw, U32).astype(np.uint32)
    out.flags.writeable = False
    return out
