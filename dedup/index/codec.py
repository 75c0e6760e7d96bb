"""Bytes <-> numpy for the persistent indexes: every stored number is little-endian.

One copy of the packing rules, so a file written on one machine reads the same on any
other, and SQLite and Redis store shingle sets and id lists alike.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterable, List, Sequence

import numpy as np

if TYPE_CHECKING:
    from dedup.index.base import IndexBatch

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


#: An IndexBatch's arrays as stored, in this order: (field, dtype).
_BATCH_ARRAYS: "tuple[tuple[str, np.dtype], ...]" = (("set_keys", U64), ("band_keys", U64), ("hashes", U32), ("offsets", I64), ("shingle_ref", I64),
                 ("doc_sizes", I64), ("starts", I64), ("ends", I64))


def batch_bytes(batch: "IndexBatch") -> bytes:
    """An :class:`~dedup.index.base.IndexBatch` as one blob: a JSON header (the document ids as
    :func:`~dedup.index.doc_ids.encode_doc_id` writes them, each array's length, the band count),
    then the arrays, little-endian. ``para_index`` is not stored: it is each unit's place in its
    document, known from ``doc_sizes``; nor are the band keys of exact repeats (never looked up)."""
    from dedup.index.doc_ids import encode_doc_id

    keys = np.asarray(batch.band_keys)
    keys = keys.reshape(len(batch), -1) if len(batch) else keys.reshape(0, keys.shape[-1] if keys.ndim == 2 else 0)
    stored = np.asarray(batch.shingle_ref) < 0  # an exact repeat's band keys are never looked at
    arrays = [pack(keys[stored] if name == "band_keys" else np.asarray(getattr(batch, name)), dtype)
              for name, dtype in _BATCH_ARRAYS]
    head: dict = {"ids": [encode_doc_id(i) for i in batch.doc_ids], "bands": keys.shape[1]}
    if batch.noisy_keys is not None:  # the noisy rules' layer: keys, records and their offsets
        nk = np.asarray(batch.noisy_keys).reshape(len(batch), -1)
        head["noisy_bands"] = nk.shape[1]
        arrays += [pack(nk, U64), bytes(batch.noisy_records or b""), pack(np.asarray(batch.noisy_offsets), I64)]
    head["lengths"] = [len(a) for a in arrays]
    blob = json.dumps(head, separators=(",", ":")).encode("utf-8")
    return b"".join([len(blob).to_bytes(4, "little"), blob] + arrays)


def batch_of(blob: bytes) -> "IndexBatch":
    """The IndexBatch :func:`batch_bytes` wrote (its arrays views of ``blob``, in native order)."""
    from dedup.index.base import IndexBatch
    from dedup.index.doc_ids import decode_doc_id

    size = int.from_bytes(blob[:4], "little")
    head = json.loads(blob[4:4 + size].decode("utf-8"))
    at, fields = 4 + size, {}
    for (name, dtype), length in zip(_BATCH_ARRAYS, head["lengths"]):
        fields[name] = unpack(blob[at:at + length], dtype).astype(dtype.newbyteorder("="), copy=False)
        at += length
    n = len(fields["set_keys"])
    sizes = fields["doc_sizes"]
    para = (np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)) if n else np.zeros(0, np.int64)
    keys = np.zeros((n, head["bands"]), dtype=np.uint64)
    stored = fields["shingle_ref"] < 0
    keys[stored] = fields["band_keys"].reshape(int(np.count_nonzero(stored)), head["bands"])
    noisy: dict = {}
    if "noisy_bands" in head:
        lengths = head["lengths"][len(_BATCH_ARRAYS):]
        nk = unpack(blob[at:at + lengths[0]], U64).astype(U64.newbyteorder("="), copy=False)
        at += lengths[0]
        records = bytes(blob[at:at + lengths[1]])
        at += lengths[1]
        noisy = {"noisy_keys": nk.reshape(n, head["noisy_bands"]), "noisy_records": records,
                 "noisy_offsets": unpack(blob[at:at + lengths[2]], I64).astype(I64.newbyteorder("="), copy=False)}
    return IndexBatch(**noisy, set_keys=fields["set_keys"], band_keys=keys,
                      hashes=fields["hashes"], offsets=fields["offsets"], shingle_ref=fields["shingle_ref"],
                      doc_ids=[decode_doc_id(i) for i in head["ids"]], doc_sizes=sizes, para_index=para,
                      starts=fields["starts"], ends=fields["ends"])
