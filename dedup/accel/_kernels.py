"""numba kernels for the hot path: one compiled pass per stage, no Python object per word.

Imported only through :mod:`dedup.accel.jit` (numba is optional). Every kernel reproduces
the numpy/Python reference path bit for bit:

* ``tokenize_hash``: ``\\w+`` tokens of UTF-8 text (the ``re`` module's Unicode word
  characters, from a table built with ``re`` itself) hashed with XXH3-64, the same value
  ``xxhash.xxh3_64_intdigest(word.encode("utf-8"))`` gives (words over 128 bytes are
  left to the caller, who hashes them with xxhash);
* ``fold_tokenize``: the same word hashes straight from a document's code points, each
  folded through :func:`dedup.chardata.fold_table` (NFKC + case folding, per character);
* ``paragraph_spans_many``, ``sentence_spans``, ``count_tokens``: the splitters of
  :mod:`dedup.text.split` on code points;
* ``shingle_windows`` / ``unique_sets``: word n-gram hashes, per-paragraph sort + unique, set keys;
* ``minhash_rows`` / ``band_keys``: datasketch ``affine32`` signatures and LSH band keys;
* ``verify_pairs`` / ``equal_pairs``: exact Jaccard of sorted shingle sets.

Compiled with ``cache=True``: the first run in a fresh environment compiles for a few
seconds and stores machine code beside this file (or in ``NUMBA_CACHE_DIR``). ``nogil=True``:
no kernel touches a Python object, so each releases the GIL while it runs, and the worker
threads of ``Deduplicator(workers=N)`` fingerprint in parallel with the decisions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dedup.chardata import COMPLEX as _COMPLEX  # a code point Python must normalize

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)

# XXH3 constants (the algorithm's published primes and the first 128 bytes of its default secret).
_P64_1 = _U64(0x9E3779B185EBCA87)
_P64_2 = _U64(0xC2B2AE3D27D4EB4F)
_P64_3 = _U64(0x165667B19E3779F9)
_PMX1 = _U64(0x165667919E3779F9)
_PMX2 = _U64(0x9FB21C651E98DF25)
_SECRET = bytes([
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
])
_S64 = np.frombuffer(_SECRET, dtype="<u8").astype(np.uint64)  # secret as 16 little-endian words
_BITFLIP_1TO3 = _U64((int(_S64[0]) & 0xFFFFFFFF) ^ (int(_S64[0]) >> 32))
_BITFLIP_4TO8 = _U64(int(_S64[1]) ^ int(_S64[2]))
_BITFLIP_9TO16_LO = _U64(int(_S64[3]) ^ int(_S64[4]))
_BITFLIP_9TO16_HI = _U64(int(_S64[5]) ^ int(_S64[6]))

#: Longest word (in UTF-8 bytes) the kernel hashes itself.
MAX_WORD_BYTES = 128

_GOLDEN = _U64(0x9E3779B97F4A7C15)


# -- integer mixing ---------------------------------------------------------------------

@njit(inline="always")
def _xorshift_multiply(h, shift, mult):
    """One round of the finalizers below: ``(h ^ h >> shift) * mult`` (mod 2**64)."""
    return (h ^ (h >> _U64(shift))) * mult


@njit(inline="always")
def _fmix64(h):
    h = _xorshift_multiply(_xorshift_multiply(h, 33, _U64(0xFF51AFD7ED558CCD)), 33, _U64(0xC4CEB9FE1A85EC53))
    return h ^ (h >> _U64(33))


@njit(inline="always")
def _fmix32(h):
    # h is a uint64 holding a 32-bit value; the arithmetic is done mod 2**32.
    h = _xorshift_multiply(h, 16, _U64(0x85EBCA6B)) & _MASK32
    h = _xorshift_multiply(h, 13, _U64(0xC2B2AE35)) & _MASK32
    return h ^ (h >> _U64(16))


# -- XXH3-64 (seed 0, default secret) for inputs of 1..128 bytes --------------------------

@njit(inline="always")
def _read_le(buf, i, width):
    """``width`` bytes of ``buf`` from ``i`` as a little-endian integer."""
    v = _U64(0)
    for k in range(width):
        v |= _U64(buf[i + k]) << _U64(8 * k)
    return v


@njit(inline="always")
def _mul128_fold64(a, b):
    a_lo = a & _MASK32
    a_hi = a >> _U64(32)
    b_lo = b & _MASK32
    b_hi = b >> _U64(32)
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    cross = (lo_lo >> _U64(32)) + (hi_lo & _MASK32) + lo_hi
    upper = (hi_lo >> _U64(32)) + (cross >> _U64(32)) + hi_hi
    lower = (cross << _U64(32)) | (lo_lo & _MASK32)
    return lower ^ upper


@njit(inline="always")
def _rotl64(x, r):
    return (x << _U64(r)) | (x >> _U64(64 - r))


@njit(inline="always")
def _swap64(x):
    out = _U64(0)
    for k in range(8):
        out = (out << _U64(8)) | ((x >> _U64(8 * k)) & _U64(0xFF))
    return out


@njit(inline="always")
def _xxh64_avalanche(h):
    h = _xorshift_multiply(_xorshift_multiply(h, 33, _P64_2), 29, _P64_3)
    return h ^ (h >> _U64(32))


@njit(inline="always")
def _xxh3_avalanche(h):
    h = _xorshift_multiply(h, 37, _PMX1)
    return h ^ (h >> _U64(32))


@njit(inline="always")
def _mix16(buf, i, s):
    return _mul128_fold64(_read_le(buf, i, 8) ^ _S64[s], _read_le(buf, i + 8, 8) ^ _S64[s + 1])


@njit(cache=True, nogil=True)
def xxh3_64(buf, start, length):
    """XXH3-64 of ``buf[start:start+length]`` for 1 <= length <= 128."""
    n = _U64(length)
    if length <= 3:
        c1 = _U64(buf[start])
        c2 = _U64(buf[start + (length >> 1)])
        c3 = _U64(buf[start + length - 1])
        combined = (c1 << _U64(16)) | (c2 << _U64(24)) | c3 | (n << _U64(8))
        return _xxh64_avalanche(combined ^ _BITFLIP_1TO3)
    if length <= 8:
        in1 = _read_le(buf, start, 4)
        in2 = _read_le(buf, start + length - 4, 4)
        keyed = (in2 + (in1 << _U64(32))) ^ _BITFLIP_4TO8
        h = keyed ^ _rotl64(keyed, 49) ^ _rotl64(keyed, 24)
        h *= _PMX2
        h ^= (h >> _U64(35)) + n
        h *= _PMX2
        h ^= h >> _U64(28)
        return h
    if length <= 16:
        lo = _read_le(buf, start, 8) ^ _BITFLIP_9TO16_LO
        hi = _read_le(buf, start + length - 8, 8) ^ _BITFLIP_9TO16_HI
        acc = n + _swap64(lo) + hi + _mul128_fold64(lo, hi)
        return _xxh3_avalanche(acc)
    acc = n * _P64_1
    end = start + length
    if length > 32:
        if length > 64:
            if length > 96:
                acc += _mix16(buf, start + 48, 12)
                acc += _mix16(buf, end - 64, 14)
            acc += _mix16(buf, start + 32, 8)
            acc += _mix16(buf, end - 48, 10)
        acc += _mix16(buf, start + 16, 4)
        acc += _mix16(buf, end - 32, 6)
    acc += _mix16(buf, start, 0)
    acc += _mix16(buf, end - 16, 2)
    return _xxh3_avalanche(acc)


# -- tokens -----------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def tokenize_hash(buf, table, n_paragraphs):
    """Word hashes of UTF-8 text whose paragraphs are separated by the byte 0x1E.

    ``table[cp]``: 1 for word characters, 2 for characters that are tokens on their own
    (scripts written without spaces), 0 otherwise (code points past its end: 0). Returns
    (hashes, tokens per paragraph, paragraphs seen, long-word positions in the hash
    array, their byte starts, their byte ends): long words (over MAX_WORD_BYTES) get
    hash 0 here; the caller fills them in. A hash of 0 is replaced by 1 (0 marks
    paragraphs in the reference path).
    """
    n = buf.size
    words = np.empty(n // 2 + 1, dtype=np.uint64)
    counts = np.zeros(n_paragraphs, dtype=np.int64)
    n_long_max = n // (MAX_WORD_BYTES + 1) + 1
    long_at = np.empty(n_long_max, dtype=np.int64)
    long_start = np.empty(n_long_max, dtype=np.int64)
    long_end = np.empty(n_long_max, dtype=np.int64)
    table_size = table.size
    nw = 0
    nl = 0
    p = 0
    start = -1
    i = 0
    while i <= n:
        if i < n:
            b = np.int64(buf[i])
            if b < 0x80:
                cp = b
                size = 1
            elif b < 0xE0:
                cp = ((b & 0x1F) << 6) | (np.int64(buf[i + 1]) & 0x3F)
                size = 2
            elif b < 0xF0:
                cp = ((b & 0x0F) << 12) | ((np.int64(buf[i + 1]) & 0x3F) << 6) | (np.int64(buf[i + 2]) & 0x3F)
                size = 3
            else:
                cp = (((b & 0x07) << 18) | ((np.int64(buf[i + 1]) & 0x3F) << 12)
                      | ((np.int64(buf[i + 2]) & 0x3F) << 6) | (np.int64(buf[i + 3]) & 0x3F))
                size = 4
            kind = 0
            if cp < table_size:
                kind = np.int64(table[cp])
        else:
            b = 0
            size = 1
            kind = 0
        if kind == 1:
            if start < 0:
                start = i
        else:
            if start >= 0:
                length = i - start
                if length <= MAX_WORD_BYTES:
                    h = xxh3_64(buf, start, length)
                    if h == _U64(0):
                        h = _U64(1)
                    words[nw] = h
                else:
                    words[nw] = _U64(0)
                    long_at[nl] = nw
                    long_start[nl] = start
                    long_end[nl] = i
                    nl += 1
                nw += 1
                if p < n_paragraphs:
                    counts[p] += 1
                start = -1
            if kind == 2:  # a token of its own (at most 4 bytes: never long)
                h = xxh3_64(buf, i, size)
                if h == _U64(0):
                    h = _U64(1)
                words[nw] = h
                nw += 1
                if p < n_paragraphs:
                    counts[p] += 1
            elif b == 0x1E:
                p += 1
        i += size
    return words[:nw].copy(), counts, p + 1, long_at[:nl].copy(), long_start[:nl].copy(), long_end[:nl].copy()


@njit(cache=True, nogil=True)
def lower_ascii(buf):
    """A-Z to a-z in place (what case-folding does to ASCII)."""
    for i in range(buf.size):
        b = buf[i]
        if 65 <= b <= 90:
            buf[i] = b + 32


# -- shingle sets -----------------------------------------------------------------------

@njit(cache=True, nogil=True)
def shingle_windows(words, counts, ngram, mults, length_mult):
    """Per shingle ``(paragraph << 32) | hash``: sorting these groups and sorts every set at once."""
    n = counts.size
    total = 0
    for p in range(n):
        total += counts[p] - ngram + 1 if counts[p] >= ngram else 1
    out = np.empty(total, dtype=np.uint64)
    pos = 0
    w0 = 0
    for p in range(n):
        c = counts[p]
        owner = _U64(p) << _U64(32)
        if c >= ngram:
            base = _U64(ngram) * length_mult
            for w in range(c - ngram + 1):
                acc = base
                for k in range(ngram):
                    acc += words[w0 + w + k] * mults[k]
                out[pos] = owner | (_fmix64(acc) >> _U64(32))
                pos += 1
        else:
            acc = _U64(c) * length_mult
            for k in range(c):
                acc += words[w0 + k] * mults[k]
            out[pos] = owner | (_fmix64(acc) >> _U64(32))
            pos += 1
        w0 += c
    return out


@njit(cache=True, nogil=True)
def unique_sets(keyed, n, size_mult):
    """From sorted ``(paragraph << 32) | hash``: flat unique hashes, offsets, set keys."""
    out = np.empty(keyed.size, dtype=np.uint32)
    offsets = np.zeros(n + 1, dtype=np.int64)
    keys = np.empty(n, dtype=np.uint64)
    pos = 0
    i = 0
    total = keyed.size
    for p in range(n):
        owner = _U64(p)
        start = pos
        s = _U64(0)
        prev = _U64(0xFFFFFFFFFFFFFFFF)
        while i < total and (keyed[i] >> _U64(32)) == owner:
            v = keyed[i]
            if v != prev:
                h = v & _MASK32
                out[pos] = np.uint32(h)
                s += _fmix64(h + _GOLDEN)
                pos += 1
                prev = v
            i += 1
        keys[p] = _fmix64(s + _U64(pos - start) * size_mult)
        offsets[p + 1] = pos
    return out[:pos].copy(), offsets, keys


# -- signatures and band keys -----------------------------------------------------------

@njit(cache=True, nogil=True)
def minhash_rows(hashes, offsets, rows, a, b):
    """(len(rows), len(a)) uint32 signatures of the sets of ``rows`` (affine32 scheme)."""
    m = rows.size
    k = a.size
    out = np.empty((m, k), dtype=np.uint32)
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    acc = np.empty(k, dtype=np.uint32)
    for i in range(m):
        r = rows[i]
        acc[:] = np.uint32(0xFFFFFFFF)
        for j in range(offsets[r], offsets[r + 1]):
            h = _fmix32(_U64(hashes[j]))
            for p in range(k):
                v = np.uint32((h * a64[p] + b64[p]) & _MASK32)
                if v < acc[p]:
                    acc[p] = v
        out[i, :] = acc
    return out


@njit(cache=True, nogil=True)
def band_keys(sigs, bands, rows, mults, salt_mult):
    """(n, bands) uint64 keys: ``fmix64(salt * m15 + sum(sig[band, i] * m_i))``."""
    n = sigs.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    for i in range(n):
        for band in range(bands):
            acc = _U64(band + 1) * salt_mult
            for r in range(rows):
                acc += _U64(sigs[i, band * rows + r]) * mults[r]
            out[i, band] = _fmix64(acc)
    return out


# -- exact similarity -------------------------------------------------------------------

@njit(inline="always")
def _jaccard_if_reaches(a, a0, a1, b, b0, b1, threshold):
    """Jaccard of the sorted sets ``a[a0:a1]``, ``b[b0:b1]`` when it can reach ``threshold``;
    -1.0 as soon as it provably cannot.

    The intersection can grow by at most what is left of the shorter remainder, and
    J >= t needs inter >= t(|a|+|b|)/(1+t); the margin keeps float rounding out of it.
    """
    la = a1 - a0
    lb = b1 - b0
    if la == 0 or lb == 0:
        return 1.0 if la == lb else 0.0
    need = threshold * (la + lb) / (1.0 + threshold) - 1e-6
    if (la if la < lb else lb) < need:
        return -1.0
    i = a0
    j = b0
    inter = 0
    while i < a1 and j < b1:
        x = a[i]
        y = b[j]
        if x == y:
            inter += 1
            i += 1
            j += 1
        else:
            if x < y:
                i += 1
            else:
                j += 1
            left_a = a1 - i
            left_b = b1 - j
            if inter + (left_a if left_a < left_b else left_b) < need:
                return -1.0
    return inter / (la + lb - inter)


@njit(cache=True, nogil=True)
def verify_pairs(q_rows, cand_ids, from_index, c_start, c_len, hashes, offsets, index_hashes,
                 threshold, match, sim):
    """Walk pairs in order; a query row takes the first candidate with Jaccard >= threshold."""
    for k in range(q_rows.size):
        q = q_rows[k]
        if match[q] >= 0:
            continue
        c0 = c_start[k]
        c1 = c0 + c_len[k]
        if from_index[k]:
            s = _jaccard_if_reaches(hashes, offsets[q], offsets[q + 1], index_hashes, c0, c1, threshold)
        else:
            s = _jaccard_if_reaches(hashes, offsets[q], offsets[q + 1], hashes, c0, c1, threshold)
        if s >= threshold:
            match[q] = cand_ids[k]
            sim[q] = s


@njit(cache=True, nogil=True)
def equal_pairs(q_rows, from_index, c_start, c_len, hashes, offsets, index_hashes):
    """Per pair: is the query row's set equal to the candidate set?"""
    out = np.zeros(q_rows.size, dtype=np.bool_)
    for k in range(q_rows.size):
        q = q_rows[k]
        a0 = offsets[q]
        la = offsets[q + 1] - a0
        if la != c_len[k]:
            continue
        other = index_hashes if from_index[k] else hashes
        c0 = c_start[k]
        same = True
        for j in range(la):
            if hashes[a0 + j] != other[c0 + j]:
                same = False
                break
        out[k] = same
    return out


# -- sorting and the index's sorted runs ------------------------------------------------

@njit(inline="always")
def _run_end(sorted_keys, i):
    """Where the run of keys equal to ``sorted_keys[i]`` ends (the keys are sorted)."""
    j = i + 1
    while j < sorted_keys.size and sorted_keys[j] == sorted_keys[i]:
        j += 1
    return j


@njit(cache=True, nogil=True)
def stabilize_order(sorted_keys, order):
    """Make an argsort stable: sort the positions inside each run of equal keys, in place."""
    n = sorted_keys.size
    i = 0
    while i < n:
        j = _run_end(sorted_keys, i)
        if j - i > 1:
            order[i:j].sort()
        i = j


@njit(cache=True, nogil=True)
def merge_runs(keys, ids, lo, mid, hi):
    """Merge the sorted runs [lo, mid) and [mid, hi) in place; ties keep the older run first.

    The newer run (the smaller) is copied aside and the merge runs from the back.
    """
    b_keys = keys[mid:hi].copy()
    b_ids = ids[mid:hi].copy()
    i = mid - 1
    j = hi - mid - 1
    out = hi - 1
    while j >= 0:
        if i >= lo and keys[i] > b_keys[j]:
            keys[out] = keys[i]
            ids[out] = ids[i]
            i -= 1
        else:
            keys[out] = b_keys[j]
            ids[out] = b_ids[j]
            j -= 1
        out -= 1


@njit(cache=True, nogil=True)
def run_directory(keys, lo, hi, bits):
    """dir[b] = offset (from lo) of the first key of run [lo, hi) whose top ``bits`` bits are >= b."""
    size = 1 << bits
    out = np.empty(size + 1, dtype=np.uint32)
    if bits == 0:
        out[0] = 0
        out[1] = hi - lo
        return out
    shift = _U64(64 - bits)
    b = 0
    for j in range(lo, hi):
        top = np.int64(keys[j] >> shift)
        while b <= top:
            out[b] = j - lo
            b += 1
    while b <= size:
        out[b] = hi - lo
        b += 1
    return out


@njit(cache=True, nogil=True)
def runs_lookup(keys, ids, bounds, run_bits, run_dir, directory, query, query_pos, limit):
    """Per query key, its earliest ``limit`` ids over the runs (oldest run first).

    Each run has a directory over the top ``run_bits[r]`` bits of its keys (at
    ``directory[run_dir[r]:]``), so a lookup is one jump and a short binary search
    (queries given in sorted order walk each run forward, which memory likes).
    ``query_pos[i]`` is the position reported for query i. Returns (positions, ids,
    ids taken per position); the ids of one position are ascending.
    """
    nq = query.size
    n_runs = bounds.size - 1
    taken_i = np.zeros(nq, dtype=np.int64)  # by query order: sequential, unlike positions
    # hits of run r: (query, first, count) at [r, :n_hits[r]]; np.empty leaves the unused
    # (most) of it untouched, so it costs no memory traffic
    hit_i = np.empty((n_runs, nq), dtype=np.int64)
    hit_first = np.empty((n_runs, nq), dtype=np.int64)
    hit_count = np.empty((n_runs, nq), dtype=np.int64)
    n_hits = np.zeros(n_runs, dtype=np.int64)
    total = 0
    for r in range(n_runs):  # pass 1: where each key's ids start in each run, and how many to take
        base = bounds[r]
        if bounds[r + 1] <= base:
            continue
        bits = run_bits[r]
        d0 = run_dir[r]
        shift = _U64(64 - bits) if bits > 0 else _U64(0)
        h = 0
        for i in range(nq):
            room = limit - taken_i[i]
            if room <= 0:
                continue
            k = query[i]
            b = np.int64(k >> shift) if bits > 0 else 0
            left = base + np.int64(directory[d0 + b])
            end = base + np.int64(directory[d0 + b + 1])
            right = end
            while left < right:
                m = (left + right) >> 1
                if keys[m] < k:
                    left = m + 1
                else:
                    right = m
            j = left
            while j < end and keys[j] == k and j - left < room:
                j += 1
            if j > left:
                hit_i[r, h] = i
                hit_first[r, h] = left
                hit_count[r, h] = j - left
                h += 1
                taken_i[i] += j - left
                total += j - left
        n_hits[r] = h
    out_pos = np.empty(total, dtype=np.int64)
    out_id = np.empty(total, dtype=np.int64)
    n_out = 0
    for r in range(n_runs):  # pass 2: copy them out
        for h in range(n_hits[r]):
            slot = query_pos[hit_i[r, h]]
            j0 = hit_first[r, h]
            for u in range(hit_count[r, h]):
                out_pos[n_out] = slot
                out_id[n_out] = ids[j0 + u]
                n_out += 1
    taken = np.empty(nq, dtype=np.int64)
    for i in range(nq):
        taken[query_pos[i]] = taken_i[i]
    return out_pos, out_id, taken


# -- candidates inside a batch ----------------------------------------------------------

@njit(cache=True, nogil=True)
def batch_candidates(sorted_keys, order, query, stored, bands, taken, limit, row_id):
    """Pairs (row, earlier row's id) sharing a band key inside one batch.

    ``sorted_keys`` are the query rows' flat band keys in stable sorted order
    (``order[i]`` = query ordinal * bands + band). Only stored rows (``stored`` per
    query ordinal) are in buckets: a stored row takes the earliest stored rows of its
    bucket, at most ``limit`` minus what the index gave for that (row, band) (``taken``).
    """
    n = sorted_keys.size
    first = np.empty(max(limit, 1), dtype=np.int64)  # ids of the earliest stored members of a bucket
    out_q = np.empty(0, dtype=np.int64)
    out_c = np.empty(0, dtype=np.int64)
    for fill in range(2):  # pass 0 counts, pass 1 writes (growing arrays in the loop is slow)
        n_out = 0
        i = 0
        while i < n:
            j = _run_end(sorted_keys, i)
            if j - i > 1:
                seen = 0
                for t in range(i, j):
                    f = order[t]
                    q = f // bands
                    if not stored[q]:
                        continue
                    budget = limit - taken[f]
                    count = seen if seen < budget else budget
                    if count > 0:
                        if fill:
                            for u in range(count):
                                out_q[n_out + u] = query[q]
                                out_c[n_out + u] = first[u]
                        n_out += count
                    if seen < limit:
                        first[seen] = row_id[query[q]]
                    seen += 1
            i = j
        if not fill:
            out_q = np.empty(n_out, dtype=np.int64)
            out_c = np.empty(n_out, dtype=np.int64)
    return out_q, out_c


@njit(cache=True, nogil=True)
def utf8_length(cps):
    """UTF-8 size of code points (surrogates count 3 bytes, as with "surrogatepass")."""
    n = cps.size
    for i in range(cps.size):
        c = cps[i]
        if c >= 0x80:
            n += 1
            if c >= 0x800:
                n += 1
                if c >= 0x10000:
                    n += 1
    return n


# -- paragraph spans --------------------------------------------------------------------

@njit(inline="always")
def _room_for(starts, ends, joins, k):
    """The line arrays with room for entry k (doubled when full)."""
    if k < starts.size:
        return starts, ends, joins
    grown_s = np.empty(2 * k + 16, dtype=np.int64)
    grown_e = np.empty(2 * k + 16, dtype=np.int64)
    grown_j = np.empty(2 * k + 16, dtype=np.bool_)
    grown_s[:k] = starts[:k]
    grown_e[:k] = ends[:k]
    grown_j[:k] = joins[:k]
    return grown_s, grown_e, grown_j


@njit(inline="always")
def _paragraphs_of(cps, lo, hi, space, starts, ends, joins, k):
    """Append the paragraphs of ``cps[lo:hi]`` (offsets from ``lo``) from k, in one pass.

    Lines end at \\n, \\r\\n or a lone \\r; a line is blank when it holds only white
    space (``space[cp]`` nonzero; a final line only when it is not empty). If some line is
    blank, a paragraph is a maximal run of non-blank lines; else every non-blank line is
    one. A span runs from its first line's start to its last line's end (no \\r, \\n).
    Every non-blank line is written as it ends (``joins``: it follows a non-blank one); runs
    are merged at the end if a blank line turned up. The arrays double when full (so they
    are sized by the lines there are, not by the characters). Returns them and the new k.
    """
    n = hi - lo
    table_size = space.size
    first = k
    has_blank = False
    nonspace = False
    prev_nonblank = False
    skip = False
    start = 0
    for i in range(n):
        if skip:  # the \\n of a \\r\\n
            skip = False
            start = i + 1
            continue
        c = np.int64(cps[lo + i])
        if not (c == 10 or c == 13):
            if not nonspace and (c >= table_size or space[c] == 0):
                nonspace = True
            continue
        skip = c == 13 and i + 1 < n and np.int64(cps[lo + i + 1]) == 10
        if nonspace:  # a line [start, i) ends here
            starts, ends, joins = _room_for(starts, ends, joins, k)
            starts[k] = start
            ends[k] = i
            joins[k] = prev_nonblank
            k += 1
            prev_nonblank = True
        else:
            has_blank = True
            prev_nonblank = False
        start = i + 1
        nonspace = False
    if nonspace:  # the last line, [start, n)
        starts, ends, joins = _room_for(starts, ends, joins, k)
        starts[k] = start
        ends[k] = n
        joins[k] = prev_nonblank
        k += 1
    elif n > start:
        has_blank = True
    if has_blank:
        w = first
        for j in range(first, k):
            if joins[j]:
                ends[w - 1] = ends[j]
            else:
                starts[w] = starts[j]
                ends[w] = ends[j]
                w += 1
        k = w
    return starts, ends, joins, k


@njit(cache=True, nogil=True)
def paragraph_spans_many(cps, doc_chars, space):
    """``text.split_paragraphs`` of documents from their concatenated code points.

    Document d has ``doc_chars[d]`` code points. Returns (starts, ends) relative to each
    document, paragraphs per document, and each document's UTF-8 size (surrogates: 3 bytes).
    """
    n_docs = doc_chars.size
    cap = cps.size // 64 + n_docs + 16
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    joins = np.empty(cap, dtype=np.bool_)
    counts = np.zeros(n_docs, dtype=np.int64)
    sizes = np.zeros(n_docs, dtype=np.int64)
    k = 0
    lo = 0
    for d in range(n_docs):
        hi = lo + doc_chars[d]
        first = k
        starts, ends, joins, k = _paragraphs_of(cps, lo, hi, space, starts, ends, joins, k)
        counts[d] = k - first
        sizes[d] = utf8_length(cps[lo:hi])
        lo = hi
    return starts[:k].copy(), ends[:k].copy(), counts, sizes


# -- sentences --------------------------------------------------------------------------

@njit(inline="always")
def _is_sentence_punct(c):
    return c == 46 or c == 33 or c == 63  # . ! ?


@njit(inline="always")
def _is_closer(c):
    return c == 34 or c == 39 or c == 41 or c == 93 or c == 0x201D or c == 0x2019  # " ' ) ] ” ’


@njit(inline="always")
def _is_cjk_stop(c):
    return c == 0x3002 or c == 0xFF01 or c == 0xFF1F


@njit(inline="always")
def _is_space(c, space):
    return c < space.size and space[c] != 0


@njit(inline="always")
def _emit_stripped(cps, space, a, b, starts, ends, k, write):
    while a < b and _is_space(np.int64(cps[a]), space):
        a += 1
    while b > a and _is_space(np.int64(cps[b - 1]), space):
        b -= 1
    if a < b:
        if write:
            starts[k] = a
            ends[k] = b
        return k + 1
    return k


@njit(inline="always")
def _sentences(cps, space, starts, ends, write):
    """Sentence spans of ``cps`` (see :func:`sentence_spans`); written only when ``write``; how many."""
    n = cps.size
    k = 0
    piece = 0
    i = 0
    while i < n:
        c = np.int64(cps[i])
        if _is_sentence_punct(c):
            j = i + 1
            while j < n and _is_sentence_punct(np.int64(cps[j])):
                j += 1
            while j < n and _is_closer(np.int64(cps[j])):
                j += 1
            if j == n or _is_space(np.int64(cps[j]), space):
                k = _emit_stripped(cps, space, piece, j, starts, ends, k, write)
                piece = j
            i = j
        elif _is_cjk_stop(c):
            j = i + 1
            while j < n and _is_cjk_stop(np.int64(cps[j])):
                j += 1
            k = _emit_stripped(cps, space, piece, j, starts, ends, k, write)
            piece = j
            i = j
        else:
            i += 1
    return _emit_stripped(cps, space, piece, n, starts, ends, k, write)


@njit(cache=True, nogil=True)
def sentence_spans(cps, space):
    """(starts, ends) of the sentences of one text's code points, as ``text.sentence_spans``.

    A sentence ends after a run of ``.!?`` and closers that white space or the end follows,
    or after a run of CJK full stops; pieces are stripped of white space (``space[c]``).
    Counted first, then written: the output is sized by the sentences there are.
    """
    none = np.empty(0, dtype=np.int64)
    count = _sentences(cps, space, none, none, False)
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    _sentences(cps, space, starts, ends, True)
    return starts, ends


# -- folding code points to the hashed UTF-8 ----------------------------------------------

@njit(cache=True, nogil=True)
def count_tokens(cps, starts, ends, fold, table):
    """Tokens in each span ``cps[starts[k]:ends[k]]`` of text whose characters all fold through
    ``fold`` (as ``tokenize_hash`` counts them in the folded text); -1s when one does not."""
    out = np.zeros(starts.size, dtype=np.int64)
    limit = fold.size
    table_size = table.size
    for k in range(starts.size):
        in_word = False
        n = 0
        for i in range(starts[k], ends[k]):
            c = np.int64(cps[i])
            if c >= limit or fold[c] == _COMPLEX:
                out[:] = -1
                return out
            f = np.int64(fold[c])
            kind = np.int64(table[f]) if f < table_size else 0
            if kind == 1:
                if not in_word:
                    n += 1
                    in_word = True
            else:
                in_word = False
                if kind == 2:
                    n += 1
        out[k] = n
    return out


@njit(inline="always")
def _put_utf8(buf, o, c):
    if c < 0x80:
        buf[o] = c
        return o + 1
    if c < 0x800:
        buf[o] = 0xC0 | (c >> 6)
        buf[o + 1] = 0x80 | (c & 0x3F)
        return o + 2
    if c < 0x10000:
        buf[o] = 0xE0 | (c >> 12)
        buf[o + 1] = 0x80 | ((c >> 6) & 0x3F)
        buf[o + 2] = 0x80 | (c & 0x3F)
        return o + 3
    buf[o] = 0xF0 | (c >> 18)
    buf[o + 1] = 0x80 | ((c >> 12) & 0x3F)
    buf[o + 2] = 0x80 | ((c >> 6) & 0x3F)
    buf[o + 3] = 0x80 | (c & 0x3F)
    return o + 4


@njit(cache=True, nogil=True)
def fold_tokenize(cps, starts, ends, fold, table, words, nw, counts, hard, long_at, long_span, nl, row0, k0):
    """Word hashes of paragraphs ``cps[starts[k]:ends[k]]`` (batch rows row0 + k), folded on the fly.

    What folding the text to UTF-8 and then ``tokenize_hash`` give, in one pass: each
    character folds through ``fold``, is classed by ``table`` (1 word, 2 a token alone, 0
    neither) and a word's folded UTF-8 is hashed when it ends. Hashes go to ``words`` from
    ``nw``, tokens per row to ``counts``. A row with a character without an image is left
    without words and flagged in ``hard`` (Python normalizes it). Words over MAX_WORD_BYTES
    get hash 0 and their position and code point span in ``long_at``/``long_span`` from
    ``nl``. Starts at paragraph ``k0``; returns (nw, nl, k): k < starts.size when ``words``
    or ``long_at`` ran out of room at paragraph k (nothing of it kept: grow them and call
    again from k).
    """
    limit = fold.size
    table_size = table.size
    word = np.empty(MAX_WORD_BYTES + 8, dtype=np.uint8)
    for k in range(k0, starts.size):
        row = row0 + k
        first_word = nw
        first_long = nl
        n = 0
        wlen = 0
        wstart = -1  # where the open word started (-1: none open)
        full = False
        i = starts[k]
        end = ends[k]
        while i <= end:
            kind = 0
            f = 0
            if i < end:
                c = np.int64(cps[i])
                if c >= limit or fold[c] == _COMPLEX:
                    hard[row] = True
                    break
                f = np.int64(fold[c])
                if f < table_size:
                    kind = np.int64(table[f])
            if kind == 1:
                if wstart < 0:
                    wstart = i
                    wlen = 0
                if wlen <= MAX_WORD_BYTES:
                    wlen = _put_utf8(word, wlen, f)
            else:
                if nw + 2 > words.size or nl + 1 > long_at.size:
                    full = True
                    break
                if wstart >= 0:
                    if wlen <= MAX_WORD_BYTES:
                        h = xxh3_64(word, 0, wlen)
                        words[nw] = h if h != _U64(0) else _U64(1)
                    else:
                        words[nw] = _U64(0)
                        long_at[nl] = nw
                        long_span[nl, 0] = wstart
                        long_span[nl, 1] = i
                        nl += 1
                    nw += 1
                    n += 1
                    wstart = -1
                if kind == 2:
                    size = _put_utf8(word, 0, f)
                    h = xxh3_64(word, 0, size)
                    words[nw] = h if h != _U64(0) else _U64(1)
                    nw += 1
                    n += 1
            i += 1
        if full:
            return first_word, first_long, k
        if hard[row]:
            nw = first_word
            nl = first_long
            counts[row] = 0
        else:
            counts[row] = n
    return nw, nl, starts.size


