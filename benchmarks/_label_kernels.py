"""numba kernels for exact ground-truth labels of the scaled corpus (benchmarks only)."""

from __future__ import annotations

import numpy as np
from numba import njit

_U64 = np.uint64


@njit(cache=True)
def _mix(h):
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


@njit(cache=True)
def shingle_ids(tokens, counts):
    """Sorted unique 64-bit ids of each paragraph's word 5-grams (the whole sequence if shorter)."""
    n = counts.size
    total = 0
    for p in range(n):
        total += counts[p] - 4 if counts[p] >= 5 else 1
    out = np.empty(total, dtype=np.uint64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    pos = 0
    w0 = 0
    for p in range(n):
        c = counts[p]
        m = c - 4 if c >= 5 else 1
        for w in range(m):
            acc = _U64(c if c < 5 else 5)
            for k in range(min(c, 5)):
                acc = _mix(acc * _U64(0x9E3779B97F4A7C15) + tokens[w0 + w + k])
            out[pos + w] = acc
        seg = out[pos:pos + m]
        seg.sort()
        u = 1
        for j in range(1, m):
            if seg[j] != seg[u - 1]:
                seg[u] = seg[j]
                u += 1
        pos += u
        offsets[p + 1] = pos
        w0 += c
    return out[:pos].copy(), offsets


@njit(cache=True)
def near_repeat_of_earlier(ranks, offsets, distinct, n_ranks, num, den):
    """For each set in ``distinct`` (input order): does an earlier one have Jaccard >= num/den?

    Prefix filter (AllPairs): with shingles ordered rare-first, two sets with Jaccard
    >= t share a shingle among the first ``|x| - ceil(t|x|) + 1`` of each. Candidates
    from the prefixes are checked on sizes, then on the exact intersection.
    """
    m = distinct.size
    sorted_ranks = np.empty(ranks.size, dtype=np.int64)
    start = np.empty(m, dtype=np.int64)
    size = np.empty(m, dtype=np.int64)
    pos = 0
    for i in range(m):
        p = distinct[i]
        s = ranks[offsets[p]:offsets[p + 1]].copy()
        s.sort()
        start[i] = pos
        size[i] = s.size
        sorted_ranks[pos:pos + s.size] = s
        pos += s.size
    head = np.full(n_ranks, -1, dtype=np.int64)
    nxt = np.empty(pos, dtype=np.int64)
    owner = np.empty(pos, dtype=np.int64)
    n_post = 0
    last = np.full(m, -1, dtype=np.int64)
    out = np.zeros(m, dtype=np.bool_)
    for i in range(m):
        a0 = start[i]
        la = size[i]
        prefix = la - (num * la + den - 1) // den + 1
        found = False
        for k in range(prefix):
            e = head[sorted_ranks[a0 + k]]
            while e >= 0 and not found:
                j = owner[e]
                e = nxt[e]
                if last[j] == i:
                    continue
                last[j] = i
                lb = size[j]
                # Jaccard >= num/den needs den*min >= num*max
                if den * min(la, lb) < num * max(la, lb):
                    continue
                x = a0
                y = start[j]
                xe = a0 + la
                ye = y + lb
                inter = 0
                while x < xe and y < ye:
                    if sorted_ranks[x] == sorted_ranks[y]:
                        inter += 1
                        x += 1
                        y += 1
                    elif sorted_ranks[x] < sorted_ranks[y]:
                        x += 1
                    else:
                        y += 1
                if den * inter >= num * (la + lb - inter):
                    found = True
            if found:
                break
        out[i] = found
        for k in range(prefix):
            r = sorted_ranks[a0 + k]
            owner[n_post] = i
            nxt[n_post] = head[r]
            head[r] = n_post
            n_post += 1
    return out
