"""open_index: an index from a spec string, as the CLI and ``Deduplicator(index=...)`` take it."""

from __future__ import annotations

import os
from typing import Optional, Union
from urllib.parse import parse_qs, urlsplit

from dedup.config import DedupConfig, preset_hint
from dedup.errors import ConfigError, IndexMismatchError
from dedup.index.base import Index, as_index
from dedup.index.guard import index_access
from dedup.io.remote import INDEX_SCHEMES

REDIS_SCHEMES = tuple(f"{scheme}://" for scheme in INDEX_SCHEMES)
_SQLITE_HEADER = b"SQLite format 3\x00"


def open_index(spec: Union[str, os.PathLike, Index], config: Optional[DedupConfig] = None, *,
               read_only: bool = False) -> Index:
    """A path -> :class:`SqliteIndex`; a directory (or a path ending in ``/``) -> the memory-mapped
    :class:`~dedup.index.compact.CompactIndex`; ``redis://host:port/db[?prefix=news:]`` -> :class:`RedisIndex`
    (:func:`index_kind` tells them apart).

    An index object is returned as it is. With ``config``, the index is bound to its
    settings at once (raising IndexMismatchError if it was built with others; an index
    opened here is closed first). ``read_only``: the index is only queried, never written
    (SQLite is opened ``mode=ro``; it must exist and hold settings).
    """
    if isinstance(spec, (str, os.PathLike)):
        where = os.fspath(spec)
        with index_access(str(where)):
            index, opened = _open_spec(where, read_only), True
    else:
        index, opened = as_index(spec), False
        where = repr(index)
    if config is not None:
        try:
            with index_access(str(where)):
                bind_index(index, config)
        except BaseException:
            if opened:  # ours to close; an index passed in stays the caller's
                try:
                    index.close()
                except Exception:  # the error being raised says what is wrong
                    pass
            raise
    return index


def bind_index(index: Index, config: DedupConfig) -> None:
    """``index.bind`` to ``config``'s settings; an IndexMismatchError names the preset the index was
    built under when its settings are one's (an index of dedup 0.1: ``"strict"``)."""
    try:
        index.bind(config.fingerprint(), config.fingerprint_settings())
    except IndexMismatchError as exc:
        try:
            stored = index.info().get("settings")
        except Exception:  # the mismatch is the error to report
            stored = None
        hint = preset_hint(stored, config)
        if not hint:
            raise
        raise IndexMismatchError(f"{exc}{hint}") from None


def index_kind(spec: str, *, only_existing: bool = False) -> Optional[str]:
    """The kind of persistent index ``spec`` names: ``"redis"`` (a ``redis://``, ``rediss://`` or
    ``unix://`` URL), ``"compact"`` (a directory, or a path ending in ``/``), ``"sqlite"`` (any
    other path; with ``only_existing``, only an existing file that starts with SQLite's header),
    or None. The one place a spec is told apart: every command and :func:`open_index` ask here
    (``dedup check --against`` with ``only_existing``, to tell an index from a file of records)."""
    if spec.startswith(REDIS_SCHEMES):
        return "redis"
    if "://" in spec or not spec:
        return None
    if spec.endswith(("/", os.sep)) or os.path.isdir(spec):
        return "compact"
    if not only_existing:
        return "sqlite"
    try:
        with open(spec, "rb") as f:
            return "sqlite" if f.read(16) == _SQLITE_HEADER else None
    except OSError:
        return None


def _open_spec(text: Union[str, bytes], read_only: bool = False) -> Index:
    if isinstance(text, bytes):
        raise ConfigError(f"index path must be text, got bytes {text!r}")
    kind = index_kind(text)
    if kind == "redis":
        return _open_redis(text, read_only)
    if kind == "compact":  # a directory: the memory-mapped compact index
        from dedup.index.compact import CompactIndex
        return CompactIndex(text, read_only=read_only)
    if kind == "sqlite":
        from dedup.index.sqlite import SqliteIndex
        return SqliteIndex(text, read_only=read_only)
    if not text:
        raise ConfigError("index spec is empty; give a file path, DIR/ or redis://host:port/db")
    raise ConfigError(f"index spec {text!r}: unknown scheme; give a file path, DIR/ or redis://host:port/db")


def _open_redis(url: str, read_only: bool = False) -> Index:
    from dedup.index.redis import RedisIndex, import_redis
    redis = import_redis()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    prefix = query.pop("prefix", ["dedup:"])[-1]
    rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    clean = parts._replace(query=rest).geturl()
    try:
        client = redis.Redis.from_url(clean)
    except ValueError as exc:  # a bad port or database number
        raise ConfigError(f"{url}: {exc}") from None
    return RedisIndex(client, prefix=prefix, read_only=read_only)
