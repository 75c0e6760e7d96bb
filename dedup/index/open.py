"""open_index: an index from a spec string, as the CLI and ``Deduplicator(index=...)`` take it."""

from __future__ import annotations

import os
from typing import Any, Optional, Union
from urllib.parse import parse_qs, urlsplit

from dedup.config import DedupConfig
from dedup.errors import ConfigError

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_index(spec: Union[str, os.PathLike, Any], config: Optional[DedupConfig] = None) -> Any:
    """A path -> :class:`SqliteIndex`; ``redis://host:port/db[?prefix=news:]`` -> :class:`RedisIndex`.

    An index object is returned as it is. With ``config``, the index is bound to its
    settings at once (raising IndexMismatchError if it was built with others).
    """
    if isinstance(spec, os.PathLike) or isinstance(spec, str):
        text = os.fspath(spec)
        if isinstance(text, bytes):
            raise ConfigError(f"index path must be text, got bytes {text!r}")
        if text.startswith(REDIS_SCHEMES):
            index = _open_redis(text)
        elif "://" in text:
            raise ConfigError(f"index spec {text!r}: unknown scheme; give a file path or redis://host:port/db")
        elif not text:
            raise ConfigError("index spec is empty; give a file path or redis://host:port/db")
        else:
            from dedup.index.sqlite import SqliteIndex
            index = SqliteIndex(text)
    else:
        index = spec
    if config is not None:
        index.bind(config.fingerprint(), config.fingerprint_settings())
    return index


def _open_redis(url: str) -> Any:
    from dedup.index.redis import RedisIndex, import_redis
    redis = import_redis()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    prefix = query.pop("prefix", ["dedup:"])[-1]
    rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    clean = parts._replace(query=rest).geturl()
    return RedisIndex(redis.Redis.from_url(clean), prefix=prefix)
