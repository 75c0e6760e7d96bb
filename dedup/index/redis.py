"""RedisIndex: one corpus index shared by workers on several machines (the ``redis`` extra).

Keys (all under ``prefix``, so one server holds many corpora):

- ``{p}settings`` hash: config fingerprint and settings JSON (checked by ``bind``).
- ``{p}next``: the id the next entry gets (ids are handed out in commit order).
- ``{p}entries`` hash: entry id -> packed (set key, shingle ref, doc's first entry,
  paragraph index, start, end).
- ``{p}sets`` hash: entry id -> its sorted uint32 shingle set (stored entries only).
- ``{p}exact`` hash: set key (8 bytes) -> id of the first entry with that set (HSETNX).
- ``{p}bands`` hash: band key (8 bytes) -> the earliest ``max_bucket_candidates`` entry
  ids holding it (packed int64, increasing).
- ``{p}docs`` hash: doc id (JSON) -> (first entry, count) of its first indexing (HSETNX);
  ``{p}docnames`` hash: first entry -> doc id (for reports).

Reads and writes are batched: one HMGET per batch and table, one MULTI/EXEC per ``add``.

Guarantee for several workers. ``add`` is one MULTI/EXEC transaction guarded by WATCH
on ``{p}next``: a batch is stored whole or not at all, and batches get ids in the order
they commit. Another worker's commit in between makes the transaction retry with fresh
ids. So the stored index is always the one a single writer would have built by adding
the batches in commit order. Set keys are written with set-if-absent (HSETNX) in that
order, so the first committed writer of a set wins, and it holds the smallest id.
Each batch decides against a *snapshot*: the entries committed when its
:meth:`batch` began (later ids are hidden from its lookups). Therefore:

- can happen: two workers whose batches overlap in time, each holding a copy of the
  same paragraph (exact or near), both keep their copy, because neither batch sees the
  other. Both copies are stored; every later paragraph is matched to the copy with the
  smaller id (the first committed).
- cannot happen: a lost or half-written batch, two entries with one id, a paragraph
  removed as a repeat of a paragraph that is not stored earlier in the index or in its
  own batch, a duplicate kept when its original was committed before the batch began,
  or a document replayed against an entry of another worker's batch still in flight.

One worker (or batches that do not overlap in time) gives exactly the decisions of
:class:`~dedup.index.memory.MemoryIndex`.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.errors import IndexBusyError, IndexMismatchError, MissingDependencyError
from dedup.index.base import DocId, IndexBatch, Location
from dedup.index.doc_ids import decode_doc_id, encode_doc_id

_ENTRY = np.dtype([("set_key", "<u8"), ("shingle_ref", "<i8"), ("doc_first", "<i8"),
                   ("para", "<i8"), ("start", "<i8"), ("end", "<i8")])
_I64 = np.dtype("<i8")
_U64 = np.dtype("<u8")
_U32 = np.dtype("<u4")
_CHUNK = 20000  # fields per HMGET / HSET command
_RETRIES = 1000


def import_redis():
    """The ``redis`` package, or MissingDependencyError naming the pip command."""
    try:
        import redis  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "the Redis index needs the redis package: pip install 'paradedup[redis]'") from None
    return redis


def _fields(keys: np.ndarray) -> List[bytes]:
    """uint64 keys as 8-byte field names (bytes, not numpy ``S8``, which drops trailing NULs)."""
    raw = np.ascontiguousarray(keys, dtype=_U64).tobytes()
    return [raw[i:i + 8] for i in range(0, len(raw), 8)]


class RedisIndex:
    """Corpus index in Redis, shared by several workers; takes a ``redis.Redis`` client.

    ``RedisIndex(client, prefix="dedup:")``: every key lives under ``prefix`` (one per
    corpus). The client must return bytes (the default, ``decode_responses=False``).
    See the module docstring for what several concurrent workers can and cannot produce.
    """

    def __init__(self, client: Any, prefix: str = "dedup:", *, cache_size: int = 16384) -> None:
        import_redis()
        if getattr(client, "get_encoder", None) and client.get_encoder().decode_responses:
            raise ValueError("RedisIndex needs a client with decode_responses=False (binary values)")
        self.client = client
        self.prefix = prefix
        self._cache_size = cache_size
        k = prefix
        self._k_settings, self._k_next, self._k_entries = f"{k}settings", f"{k}next", f"{k}entries"
        self._k_sets, self._k_exact, self._k_bands = f"{k}sets", f"{k}exact", f"{k}bands"
        self._k_docs, self._k_docnames = f"{k}docs", f"{k}docnames"
        self._settings: Optional[Tuple[str, dict]] = None
        self._cap: Optional[int] = None
        self._snapshot: Optional[int] = None  # entries visible to the batch in progress
        self._last_len = 0
        self._depth = 0
        self._shingles = lru_cache(maxsize=cache_size)(self._load_shingles)
        self._location = lru_cache(maxsize=cache_size)(self._load_location)
        self._band_cache: Tuple[int, Dict[bytes, Optional[bytes]]] = (-1, {})

    def __repr__(self) -> str:
        return f"RedisIndex({self.client!r}, prefix={self.prefix!r})"

    def __getstate__(self) -> dict:
        """Pickled as connection settings (host, port, db, credentials), not as sockets."""
        pool = self.client.connection_pool
        plain = {k: v for k, v in pool.connection_kwargs.items()
                 if isinstance(v, (str, int, float, bool, type(None))) and not k.startswith("orig_")}
        return {"connection": (pool.connection_class, plain), "prefix": self.prefix,
                "cache_size": self._cache_size}

    def __setstate__(self, state: dict) -> None:
        redis = import_redis()
        cls, kwargs = state["connection"]
        client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=cls, **kwargs))
        self.__init__(client, state["prefix"], cache_size=state["cache_size"])

    @property
    def keys(self) -> List[str]:
        """Every Redis key this index uses (e.g. to delete a corpus)."""
        return [self._k_settings, self._k_next, self._k_entries, self._k_sets, self._k_exact,
                self._k_bands, self._k_docs, self._k_docnames]

    # -- the Index protocol ------------------------------------------------------------

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(self._k_settings, "fingerprint", settings_fingerprint)
        pipe.hsetnx(self._k_settings, "settings", json.dumps(settings, sort_keys=True))
        pipe.hmget(self._k_settings, ["fingerprint", "settings"])
        fingerprint, stored = pipe.execute()[2]
        stored_settings = json.loads(stored)
        self._settings = (fingerprint.decode(), stored_settings)
        cap = stored_settings.get("max_bucket_candidates")
        self._cap = int(cap) if isinstance(cap, int) else None
        if self._settings[0] != settings_fingerprint:
            raise IndexMismatchError(
                f"Redis index {self.prefix!r} was built with settings {stored_settings} (fingerprint "
                f"{self._settings[0]}), not {settings} (fingerprint {settings_fingerprint})"
            )

    def _counter(self) -> int:
        value = self.client.get(self._k_next)
        return int(value) if value is not None else 0

    def __len__(self) -> int:
        if self._snapshot is not None:
            return self._snapshot
        self._last_len = self._counter()
        return self._last_len

    def _visible(self) -> int:
        """Entries this batch may see: the snapshot, else the last length reported."""
        return self._snapshot if self._snapshot is not None else self._last_len

    @contextmanager
    def batch(self) -> Iterator["RedisIndex"]:
        """Decide one batch against a snapshot: entries committed when it began."""
        if self._depth == 0:
            self._snapshot = self._counter()
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._snapshot = None

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        raw = self.client.hget(self._k_docs, encode_doc_id(doc_id))
        if raw is None:
            return None
        first, count = np.frombuffer(raw, _I64).tolist()
        if first + count > self._visible():
            return None
        return int(first), int(count)

    def _hmget(self, key: str, fields: Sequence[Any]) -> List[Optional[bytes]]:
        if not fields:
            return []
        pipe = self.client.pipeline(transaction=False)
        for i in range(0, len(fields), _CHUNK):
            pipe.hmget(key, fields[i:i + _CHUNK])
        return [v for part in pipe.execute() for v in part]

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(set_keys, dtype=np.uint64)
        values = self._hmget(self._k_exact, _fields(keys))
        out = np.array([-1 if v is None else int(v) for v in values], dtype=np.int64)
        out[out >= self._visible()] = -1  # the first holder is later than this batch's snapshot
        return out

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        return self._entries(ids)["set_key"].astype(np.uint64)

    def _entries(self, ids: np.ndarray) -> np.ndarray:
        ids_list = np.asarray(ids, dtype=np.int64).tolist()
        values = self._hmget(self._k_entries, ids_list)
        missing = [i for i, v in zip(ids_list, values) if v is None]
        if missing:
            raise KeyError(f"Redis index {self.prefix!r}: no entries {missing[:5]}")
        return np.frombuffer(b"".join(values), _ENTRY) if values else np.zeros(0, _ENTRY)

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        if self._cap is not None and limit > self._cap:
            raise ValueError(f"Redis index {self.prefix!r} keeps {self._cap} entries per band key "
                             f"(max_bucket_candidates it was built with), asked for {limit}")
        flat = np.asarray(band_keys, dtype=np.uint64).ravel()
        uniq, inverse = np.unique(flat, return_inverse=True)
        fields = _fields(uniq)
        values = self._hmget(self._k_bands, fields)
        visible = self._visible()
        # Raw values as of this snapshot: add() reuses them if nobody committed since.
        self._band_cache = (visible, dict(zip(fields, values)))
        counts = np.zeros(len(uniq), dtype=np.int64)
        parts = []
        for u, v in enumerate(values):
            if v is not None:
                ids = np.frombuffer(v, _I64)
                ids = ids[ids < visible][:limit]
                counts[u] = len(ids)
                parts.append(ids)
        empty = np.zeros(0, dtype=np.int64)
        if not parts:
            return empty, empty.copy()
        all_ids = np.concatenate(parts).astype(np.int64)
        starts = np.cumsum(counts) - counts
        c = counts[inverse.ravel()]
        pos = np.repeat(np.arange(len(flat), dtype=np.int64), c)
        rel = np.arange(int(c.sum()), dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
        return pos, all_ids[np.repeat(starts[inverse.ravel()], c) + rel]

    def _load_shingles(self, entry_id: int) -> np.ndarray:
        raw, entry = self.client.pipeline(transaction=False).hget(self._k_sets, entry_id) \
            .hget(self._k_entries, entry_id).execute()
        if entry is None:
            raise KeyError(f"Redis index {self.prefix!r}: no entry {entry_id}")
        if raw is None:
            ref = int(np.frombuffer(entry, _ENTRY)["shingle_ref"][0])
            raw = self.client.hget(self._k_sets, ref)
        out = np.frombuffer(raw, _U32).astype(np.uint32)
        out.flags.writeable = False
        return out

    def shingles(self, entry_id: int) -> np.ndarray:
        return self._shingles(int(entry_id))

    def location(self, entry_id: int) -> Location:
        return self._location(int(entry_id))

    def _load_location(self, entry_id: int) -> Location:
        e = self._entries(np.array([entry_id]))[0]
        name = self.client.hget(self._k_docnames, int(e["doc_first"]))
        return Location(decode_doc_id(name.decode()), int(e["para"]), int(e["start"]), int(e["end"]))

    # -- writing -----------------------------------------------------------------------

    def add(self, batch: IndexBatch) -> None:
        """Store a batch in one transaction; ids are reassigned if others committed meanwhile.

        The caller numbered the batch from the length it saw (``base``); references to
        entries of this batch (``shingle_ref >= base``) move with it.
        """
        n = len(batch)
        if n == 0 and not batch.doc_ids:
            return
        base = self._visible()
        ref = np.asarray(batch.shingle_ref, dtype=np.int64)
        stored = np.flatnonzero(ref < 0)
        sizes = np.asarray(batch.doc_sizes, dtype=np.int64)
        band_keys = np.asarray(batch.band_keys, dtype=np.uint64)[stored]
        # Band keys of the batch grouped: unique key -> its rows (in row order).
        flat = band_keys.ravel()
        flat_row = np.repeat(stored, band_keys.shape[1] if band_keys.ndim == 2 else 0)
        order = np.lexsort((flat_row, flat))
        flat, flat_row = flat[order], flat_row[order]
        starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]]) if len(flat) else np.zeros(0, np.int64)
        uniq_fields = _fields(flat[starts])
        bounds = np.r_[starts, len(flat)].tolist()
        set_fields = _fields(np.asarray(batch.set_keys, dtype=np.uint64)[stored])
        doc_names = [encode_doc_id(d) for d in batch.doc_ids]
        hashes = np.ascontiguousarray(batch.hashes, dtype=_U32).tobytes()
        offsets = (np.asarray(batch.offsets, dtype=np.int64) * 4).tolist()
        cap = self._cap
        for _ in range(_RETRIES):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self._k_next)
                    raw = pipe.get(self._k_next)
                    first = int(raw) if raw is not None else 0
                    current = self._cached_bands(first, uniq_fields)
                    if current is None:
                        current = self._hmget_watched(pipe, self._k_bands, uniq_fields)
                    pipe.multi()
                    self._queue_writes(pipe, batch, first, base, ref, stored, sizes, doc_names,
                                       set_fields, hashes, offsets, uniq_fields, current, bounds,
                                       flat_row, cap)
                    pipe.execute()
                except self._watch_error():
                    continue
            break
        else:
            raise IndexBusyError(f"Redis index {self.prefix!r}: {_RETRIES} commits by other workers "
                                 "in a row; could not store the batch")
        self._last_len = first + n
        self._band_cache = (-1, {})

    @staticmethod
    def _watch_error():
        return import_redis().WatchError

    def _cached_bands(self, first: int, fields: List[bytes]) -> Optional[List[Optional[bytes]]]:
        """Bucket values read by this batch's lookup, if still current (no commit since)."""
        seen, cache = self._band_cache
        if seen != first:
            return None
        out = [cache.get(f, False) for f in fields]
        return None if any(v is False for v in out) else out

    @staticmethod
    def _hmget_watched(pipe: Any, key: str, fields: List[bytes]) -> List[Optional[bytes]]:
        out: List[Optional[bytes]] = []
        for i in range(0, len(fields), _CHUNK):  # immediate mode (after WATCH): one call each
            out += pipe.hmget(key, fields[i:i + _CHUNK])
        return out

    def _queue_writes(self, pipe: Any, batch: IndexBatch, first: int, base: int, ref: np.ndarray,
                      stored: np.ndarray, sizes: np.ndarray, doc_names: List[str],
                      set_fields: List[bytes], hashes: bytes, offsets: List[int],
                      uniq_fields: List[bytes], current: List[Optional[bytes]], bounds: List[int],
                      flat_row: np.ndarray, cap: Optional[int]) -> None:
        n = len(batch)
        shift = first - base
        ids = np.arange(first, first + n, dtype=np.int64)
        new_ref = np.where(ref >= base, ref + shift, ref)
        doc_first = first + np.cumsum(sizes) - sizes
        records = np.zeros(n, dtype=_ENTRY)
        records["set_key"] = np.asarray(batch.set_keys, dtype=np.uint64)
        records["shingle_ref"] = new_ref
        records["doc_first"] = np.repeat(doc_first, sizes)
        records["para"] = batch.para_index
        records["start"] = batch.starts
        records["end"] = batch.ends
        blob = records.tobytes()
        size = _ENTRY.itemsize
        pipe.set(self._k_next, first + n)
        id_list = ids.tolist()
        for lo in range(0, n, _CHUNK):
            pipe.hset(self._k_entries, mapping={
                id_list[i]: blob[i * size:(i + 1) * size] for i in range(lo, min(n, lo + _CHUNK))})
        stored_list = stored.tolist()
        for lo in range(0, len(stored_list), _CHUNK):
            pipe.hset(self._k_sets, mapping={
                first + r: hashes[offsets[r]:offsets[r + 1]] for r in stored_list[lo:lo + _CHUNK]})
        for field, r in zip(set_fields, stored_list):  # first committed writer of a set wins
            pipe.hsetnx(self._k_exact, field, first + r)
        for name, f, size_ in zip(doc_names, doc_first.tolist(), sizes.tolist()):
            pipe.hsetnx(self._k_docs, name, np.array([f, size_], dtype=_I64).tobytes())
            if size_:  # an empty document shares its first id with the next one
                pipe.hset(self._k_docnames, f, name)
        updates: Dict[bytes, bytes] = {}
        rows = (flat_row + first).astype(_I64)
        for u, field in enumerate(uniq_fields):
            old = current[u] or b""
            have = len(old) // 8
            if cap is not None and have >= cap:
                continue  # the bucket already holds its earliest `cap` entries
            take = rows[bounds[u]:bounds[u + 1]]
            if cap is not None:
                take = take[:cap - have]
            updates[field] = old + take.tobytes()
            if len(updates) >= _CHUNK:
                pipe.hset(self._k_bands, mapping=updates)
                updates = {}
        if updates:
            pipe.hset(self._k_bands, mapping=updates)

    # -- inspection --------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        """What the index holds: settings, paragraphs, documents, memory used in Redis."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self._k_settings, ["fingerprint", "settings"])
        pipe.get(self._k_next)
        pipe.hlen(self._k_sets)
        pipe.hlen(self._k_docs)
        pipe.hlen(self._k_docnames)
        for key in self.keys:
            pipe.memory_usage(key, samples=64)
        (fingerprint, settings), nxt, n_sets, n_doc_ids, n_docs, *sizes = pipe.execute()
        return {
            "kind": "redis",
            "prefix": self.prefix,
            "fingerprint": fingerprint.decode() if fingerprint else None,
            "settings": json.loads(settings) if settings else None,
            "paragraphs": int(nxt or 0),
            "stored_sets": int(n_sets),
            "documents": int(n_docs),
            "distinct_doc_ids": int(n_doc_ids),
            "size_bytes": int(sum(s or 0 for s in sizes)),
        }
