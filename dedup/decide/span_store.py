"""The span store: every document's kept tokens, where later text looks for the spans it repeats.

What it holds, per document in input order: the word hashes of the tokens kept after paragraph
decisions (8 bytes a token), each token's character span and unit (12 bytes), and the k-grams
winnowing selected (12 bytes each). All of that lives in files (a directory), read back with
``pread`` when a candidate is verified, so it costs no memory. In memory: the fingerprint table
(fingerprint -> the first ``cap`` positions it was selected at; 9 bytes a slot, about 0.6-1.0
bytes per token at ``exact_substrings=50``), one integer per document (where its tokens start)
and, for documents with ids of their own, the id (to recognise a document given again).

Files are appended document by document, a document's line in ``documents.jsonl`` last, so a
run that stops leaves a store that is whole up to its last line; opening trims what follows.
A store made for one run (no persistent index) lives in a temporary directory removed with it;
document scope keeps one document's tokens in memory and no files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel import spankernels
from dedup.errors import DedupError, IndexMismatchError

#: Stored positions per fingerprint: a k-gram seen in more places is looked up at its first ones.
FINGERPRINT_CAP = 64
STORE_FORMAT = 1

_TOKENS, _SPANS, _FPS, _FPOS, _DOCS, _SETTINGS = ("tokens.u64", "spans.u32", "fingerprints.u32",
                                                  "fingerprints.pos.u64", "documents.jsonl", "settings.json")
_SPAN_FIELDS = 3  # start, end, unit


class PyFpTable:
    """The numpy path's fingerprint table: the same answers as ``_spans.FpTable`` (tests compare
    them), in a dict (about 100 bytes a fingerprint)."""

    def __init__(self, cap: int = FINGERPRINT_CAP) -> None:
        self.cap = cap
        self.table: Dict[int, List[int]] = {}
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return 100 * self.count

    def add(self, fps: np.ndarray, positions: np.ndarray) -> None:
        for fp, p in zip(fps.tolist(), positions.tolist()):
            self._add(fp, p)

    def _add(self, fp: int, p: int) -> None:
        stored = self.table.setdefault(fp, [])
        if len(stored) < self.cap:
            stored.append(p)
            self.count += 1

    def find(self, fp: int) -> List[int]:
        return sorted(self.table.get(fp, ()))

    def match(self, words: np.ndarray, fps: np.ndarray, selected: np.ndarray, base: int, doc_starts: np.ndarray,
              fd: int, flushed: int, pending: np.ndarray, min_len: int, insert: bool) -> bytes:
        """``_spans.FpTable.match``: every maximal run of at least ``min_len`` equal tokens through a
        selected k-gram and a stored place of its fingerprint, as (start, length, source) triples.
        Stored tokens before ``flushed`` are read from ``fd``, the others from ``pending``."""
        source = _Source(fd if fd >= 0 else -1, flushed if fd >= 0 else 0, pending)
        found: List[int] = []
        diag_end: Dict[int, int] = {}
        m = len(words)
        ndocs = len(doc_starts) - 1
        for q in selected.tolist():
            fp = int(fps[q])
            for p in self.find(fp):
                diag = base + q - p
                if diag <= 0 or q < diag_end.get(diag, -1):
                    continue
                if p >= base:  # an earlier place in this document
                    here = p - base
                    back = _run_back(words, q, words, here, here)
                    i, j = q - back, p - back
                    e = q + _run_forward(words, q, words, here, m)
                else:
                    d = int(np.searchsorted(doc_starts[:ndocs + 1], p, side="right")) - 1
                    lo, hi = int(doc_starts[d]), int(doc_starts[d + 1])
                    back = _run_back_stored(words, q, source, p, lo)
                    i, j = q - back, p - back
                    e = q + _run_forward_stored(words, q, source, p, hi)
                diag_end[diag] = e
                if e - i >= min_len:
                    found += [i, e - i, j]
            if insert:
                self._add(fp, base + q)
        return np.array(found, dtype=np.int64).tobytes()


def py_match_batch(table: "PyFpTable", words: np.ndarray, offsets: np.ndarray, docnos: np.ndarray, inserts: np.ndarray,
                   doc_starts: np.ndarray, fd: int, flushed: int, pending: np.ndarray, k: int, w: int,
                   min_len: int) -> Tuple[bytes, bytes, bytes]:
    """``_spans.FpTable.match_batch`` on the numpy path: each document winnowed and matched in turn."""
    from dedup.fingerprint.grams import winnow
    found: List[np.ndarray] = []
    log_fps: List[np.ndarray] = []
    log_pos: List[np.ndarray] = []
    for b in range(len(docnos)):
        seq = words[offsets[b]:offsets[b + 1]]
        if len(seq) < k + w - 1:
            continue
        fps, selected = winnow(seq, k, w)
        d = int(docnos[b])
        base = int(doc_starts[d])
        rows = np.frombuffer(table.match(seq, fps, selected, base, doc_starts[:d + 1], fd, flushed, pending, min_len,
                                         bool(inserts[b])), dtype=np.int64).reshape(-1, 3)
        found.append(np.column_stack([np.full(len(rows), b, dtype=np.int64), rows]))
        if inserts[b]:
            log_fps.append(fps[selected].astype(np.uint32))
            log_pos.append((selected + base).astype(np.uint64))
    return (np.concatenate(found).tobytes() if found else b"", np.concatenate(log_fps).tobytes() if log_fps else b"",
            np.concatenate(log_pos).tobytes() if log_pos else b"")


def _first_difference(a: np.ndarray, b: np.ndarray) -> int:
    diff = np.flatnonzero(a != b)
    return int(diff[0]) if len(diff) else len(a)


def _run_forward(words: np.ndarray, q: int, src: np.ndarray, f: int, m: int) -> int:
    """Equal tokens from ``words[q]`` and ``src[f]`` on (this document: ``f < q``)."""
    return _first_difference(words[q:m], src[f:f + m - q])


def _run_back(words: np.ndarray, q: int, src: np.ndarray, j: int, limit: int) -> int:
    """Equal tokens before ``words[q]`` and ``src[j]`` (at most ``limit``: the source's start)."""
    n = min(q, limit)
    if n <= 0:
        return 0
    return _first_difference(words[q - n:q][::-1], src[j - n:j][::-1])


class _Source:
    """Stored tokens: before ``flushed`` in the file ``fd``, from there on in ``pending``."""

    def __init__(self, fd: int, flushed: int, pending: np.ndarray) -> None:
        self.fd, self.flushed, self.pending = fd, flushed, pending

    def read(self, start: int, count: int) -> np.ndarray:
        parts = []
        if start < self.flushed:
            n = min(count, self.flushed - start)
            data = os.pread(self.fd, n * 8, start * 8)
            if len(data) != n * 8:
                raise OSError("the span store's token file is shorter than its documents")
            parts.append(np.frombuffer(data, dtype=np.uint64))
        if start + count > self.flushed:
            a = max(start, self.flushed) - self.flushed
            parts.append(self.pending[a:start + count - self.flushed])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _run_forward_stored(words: np.ndarray, q: int, source: _Source, p: int, hi: int) -> int:
    run = 0
    while q + run < len(words) and p + run < hi:
        n = min(512, len(words) - q - run, hi - p - run)
        same = _first_difference(words[q + run:q + run + n], source.read(p + run, n))
        run += same
        if same < n:
            break
    return run


def _run_back_stored(words: np.ndarray, q: int, source: _Source, p: int, lo: int) -> int:
    run = 0
    while q - run > 0 and p - run > lo:
        n = min(512, q - run, p - run - lo)
        same = _first_difference(words[q - run - n:q - run][::-1], source.read(p - run - n, n)[::-1])
        run += same
        if same < n:
            break
    return run


def fingerprint_table(cap: int = FINGERPRINT_CAP) -> Any:
    """A fingerprint table: the compiled one when built, else :class:`PyFpTable`."""
    module = spankernels.module()
    return module.FpTable(cap) if module is not None else PyFpTable(cap)


class _Growing:
    """A growable array of rows (amortized doubling): the store's pending tokens and spans."""

    def __init__(self, dtype: Any, width: int = 0) -> None:
        self.shape_tail = (width,) if width else ()
        self.data = np.zeros((1024,) + self.shape_tail, dtype=dtype)
        self.n = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self.n + len(rows)
        if need > len(self.data):
            grown = np.zeros((max(need, 2 * len(self.data)),) + self.shape_tail, dtype=self.data.dtype)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:need] = rows
        self.n = need

    def view(self) -> np.ndarray:
        return self.data[:self.n]


class SpanStore:
    """Documents' kept tokens, their spans, and the fingerprint table over them.

    ``SpanStore(settings, directory=None)``: ``directory`` None keeps the tokens in memory
    (document scope: call :meth:`reset` between documents); else the files live there (created,
    or opened and checked against ``settings``), written a batch at a time (:meth:`flush`).
    ``temporary`` removes the directory when the store is closed or collected.
    """

    def __init__(self, settings: Dict[str, Any], directory: Optional[str] = None, *, temporary: bool = False) -> None:
        self.settings = dict(settings, format=STORE_FORMAT)
        self.directory = directory
        #: whether it is opened again later (a temporary store keeps no document lines or log)
        self.persistent = directory is not None and not temporary
        self.table = fingerprint_table()
        self._starts = np.zeros(1024, dtype=np.int64)  # _starts[d]: first token of document d; then the total
        self.documents = 0
        self.flushed = 0  # tokens in the files; those after are pending
        self._ids: List[Any] = []
        self._replays: Dict[Hashable, Tuple[int, str]] = {}  # own id -> (document number, key of its tokens)
        self._fds: Dict[str, int] = {}
        self._words = _Growing(np.uint64)
        self._spans = _Growing(np.uint32, _SPAN_FIELDS)
        self._fps: List[np.ndarray] = []
        self._fpos: List[np.ndarray] = []
        self._lines: List[bytes] = []
        if directory is not None:
            self._open(Path(directory))
            self._finalizer = weakref.finalize(self, _close_files, dict(self._fds),
                                               directory if temporary else None)

    # -- files ----------------------------------------------------------------------------

    def _open(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        settings_path = root / _SETTINGS
        if settings_path.exists():
            stored = json.loads(settings_path.read_text(encoding="utf-8"))
            if stored != self.settings:
                raise IndexMismatchError(f"{root}: a span store made with other settings ({stored}); "
                                         f"this run has {self.settings}")
        else:
            settings_path.write_text(json.dumps(self.settings, sort_keys=True), encoding="utf-8")
        for name in (_TOKENS, _SPANS, _FPS, _FPOS, _DOCS):
            self._fds[name] = os.open(root / name, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        total = 0
        good = 0
        with open(root / _DOCS, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                doc = json.loads(raw)
                total = int(doc["first"]) + int(doc["tokens"])
                self._append_start(int(doc["first"]), total)
                self._ids.append(_id_from_json(doc["id"]))
                if not doc.get("auto"):
                    self._replays[_hashable(self._ids[-1])] = (self.documents - 1, doc["key"])
                good += len(raw)
        os.truncate(root / _DOCS, good)
        os.truncate(root / _TOKENS, total * 8)
        os.truncate(root / _SPANS, total * 4 * _SPAN_FIELDS)
        positions = np.fromfile(root / _FPOS, dtype=np.uint64)
        fps = np.fromfile(root / _FPS, dtype=np.uint32)
        keep = int(np.searchsorted(positions[:len(fps)], np.uint64(total)))  # positions ascend
        os.truncate(root / _FPOS, keep * 8)
        os.truncate(root / _FPS, keep * 4)
        if keep:
            self.table.add(np.ascontiguousarray(fps[:keep]), np.ascontiguousarray(positions[:keep]))
        self.flushed = total

    def flush(self) -> None:
        """Write the pending documents to the files (their lines last: a store cut short by a
        crash is whole up to its last line)."""
        if self.directory is None or (self.total == self.flushed and not self._lines):
            return
        _write(self._fds[_TOKENS], self._words.view())
        _write(self._fds[_SPANS], self._spans.view())
        _write(self._fds[_FPS], np.concatenate(self._fps) if self._fps else np.zeros(0, np.uint32))
        _write(self._fds[_FPOS], np.concatenate(self._fpos) if self._fpos else np.zeros(0, np.uint64))
        _write_bytes(self._fds[_DOCS], b"".join(self._lines))
        self.flushed = self.total
        self._words.n = self._spans.n = 0
        self._fps, self._fpos, self._lines = [], [], []

    def close(self) -> None:
        """Write what is pending and close the files (a temporary store's directory goes too)."""
        if self.directory is not None:
            self.flush()
            self._finalizer()

    def reset(self) -> None:
        """Forget everything (document scope: a fresh store per document)."""
        self.table = fingerprint_table()
        self.documents = 0
        self._starts[:2] = 0
        self._ids = []
        self._words.n = self._spans.n = 0

    # -- documents ------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Tokens stored."""
        return int(self._starts[self.documents])

    def _append_start(self, first: int, end: int) -> None:
        if self.documents + 2 > len(self._starts):
            self._starts = np.concatenate([self._starts, np.zeros(len(self._starts), dtype=np.int64)])
        self._starts[self.documents] = first
        self._starts[self.documents + 1] = end
        self.documents += 1

    def replay_of(self, doc_id: Hashable, words: np.ndarray) -> Optional[int]:
        """The number of the stored document this one is a repeat run of (the same own id, the same
        kept tokens), or None."""
        found = self._replays.get(_hashable(doc_id))
        if found is None or found[1] != tokens_key(words):
            return None
        return found[0]

    def add_many(self, doc_ids: Sequence[Hashable], autos: Sequence[bool], words: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, units: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Store the next documents' kept tokens (document i's: ``[offsets[i], offsets[i + 1])``;
        their k-grams go in the table when they are matched, :meth:`match_batch`); returns their numbers."""
        n = len(doc_ids)
        if len(ends) and int(ends.max()) >= 1 << 32:
            raise DedupError("a document longer than 2**32 characters (exact_substrings stores spans as 32 bits)")
        first = self.total
        while self.documents + n + 1 > len(self._starts):
            self._starts = np.concatenate([self._starts, np.zeros(len(self._starts), dtype=np.int64)])
        self._starts[self.documents:self.documents + n + 1] = first + offsets - offsets[0]
        numbers = np.arange(self.documents, self.documents + n, dtype=np.int64)
        self.documents += n
        self._ids.extend(doc_ids)
        spans = np.empty((len(words), _SPAN_FIELDS), dtype=np.uint32)
        spans[:, 0], spans[:, 1], spans[:, 2] = starts, ends, units
        self._words.extend(np.asarray(words, dtype=np.uint64))
        self._spans.extend(spans)
        for i, (doc_id, auto) in enumerate(zip(doc_ids, autos)):
            a, e = int(offsets[i]), int(offsets[i + 1])
            key = "" if auto else tokens_key(words[a - int(offsets[0]):e - int(offsets[0])])
            if not auto:
                self._replays[_hashable(doc_id)] = (int(numbers[i]), key)
            if self.persistent:
                try:
                    line = json.dumps({"id": doc_id, "first": first + a - int(offsets[0]), "tokens": e - a,
                                       "auto": bool(auto), "key": key})
                except TypeError:
                    raise DedupError(f"document id {doc_id!r}: exact_substrings with a persistent index stores ids "
                                     "as JSON (give str or int ids)") from None
                self._lines.append(line.encode("utf-8") + b"\n")
        return numbers

    def match_batch(self, words: np.ndarray, offsets: np.ndarray, documents: np.ndarray, inserts: np.ndarray,
                    k: int, w: int, min_len: int) -> np.ndarray:
        """(batch position, start, length, source position) rows: for each sequence of the batch
        (``words[offsets[b]:offsets[b + 1]]``, stored as document ``documents[b]``: new, or one
        given again), in order, its runs of at least ``min_len`` tokens equal to earlier stored text.
        The k-grams winnowing selects (windows of ``w`` k-grams of ``k`` tokens) are stored for the
        documents with ``inserts[b]``."""
        from dedup.fingerprint.grams import M_LEN
        from dedup.fingerprint.hashing import multipliers
        args = (np.ascontiguousarray(words, dtype=np.uint64), np.ascontiguousarray(offsets, dtype=np.int64),
                np.asarray(documents, dtype=np.int64), np.asarray(inserts, dtype=np.uint8),
                np.ascontiguousarray(self._starts[:self.documents + 1]), self._fds.get(_TOKENS, -1), self.flushed,
                self._words.view())
        if isinstance(self.table, PyFpTable):
            found, fps, positions = py_match_batch(self.table, *args, k, w, min_len)
        else:
            found, fps, positions = self.table.match_batch(*args, k, w, multipliers(k), M_LEN, min_len)
        if self.persistent and fps:
            self._fps.append(np.frombuffer(fps, dtype=np.uint32))
            self._fpos.append(np.frombuffer(positions, dtype=np.uint64))
        return np.frombuffer(found, dtype=np.int64).reshape(-1, 4)

    def document_of(self, position: int) -> Tuple[int, Any]:
        """(document number, document id) of the stored token at ``position``."""
        d = int(np.searchsorted(self._starts[:self.documents + 1], position, side="right")) - 1
        return d, self._ids[d]

    def spans_at(self, positions: Sequence[int]) -> np.ndarray:
        """(start, end, unit) rows of stored tokens (offsets in their own documents)."""
        rows = []
        width = 4 * _SPAN_FIELDS
        for p in positions:
            if p >= self.flushed:
                rows.append(self._spans.data[p - self.flushed])
            else:
                rows.append(np.frombuffer(os.pread(self._fds[_SPANS], width, int(p) * width), dtype=np.uint32))
        return np.array(rows, dtype=np.uint32).reshape(-1, _SPAN_FIELDS)

    @property
    def nbytes(self) -> int:
        """Memory held for the stored text: the fingerprint table and the document starts (the
        pending batch and the ids not counted)."""
        return int(self.table.nbytes) + self._starts.nbytes


def tokens_key(words: np.ndarray) -> str:
    """A short key of a token sequence (a document given again is recognised by it)."""
    return hashlib.blake2b(np.ascontiguousarray(words, dtype=np.uint64).tobytes(), digest_size=12).hexdigest()


def _write(fd: int, array: np.ndarray) -> None:
    _write_bytes(fd, np.ascontiguousarray(array).tobytes())


def _write_bytes(fd: int, data: Any) -> None:
    data = memoryview(data)
    while len(data):
        written = os.write(fd, data)
        data = data[written:]


def _close_files(fds: Dict[str, int], remove: Optional[str]) -> None:
    for fd in fds.values():
        try:
            os.close(fd)
        except OSError:
            pass
    if remove is not None:
        shutil.rmtree(remove, ignore_errors=True)


def _hashable(doc_id: Any) -> Hashable:
    return tuple(doc_id) if isinstance(doc_id, list) else doc_id


def _id_from_json(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def temporary_directory() -> str:
    """A new directory for a store that lives as long as its run."""
    return tempfile.mkdtemp(prefix="dedup-spans-")
