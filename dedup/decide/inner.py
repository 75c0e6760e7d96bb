"""Repeats inside one paragraph: text whose line breaks were lost, doubled in one block.

Paragraph-level dedup cannot see an article pasted twice when the scraper dropped its line
breaks: both copies are one paragraph. Here every word n-gram of a long paragraph is
compared with its previous occurrence in the same paragraph; a long run of n-grams that
all recur at (about) the same distance d is a copied span. When the run is longer than d
its source overlaps it: the text repeats with period d (pasted 3+ times, or one sentence
over and over), and everything after the first period is the copy. Runs are snapped to
sentence boundaries, verified on the Jaccard similarity of the two shingle sets, and
reported like any other removal. Cost: one sort of the paragraph's n-gram hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel import jit, native
from dedup.arrays import offsets_of
from dedup.decide.verify import jaccard_sorted
from dedup.text.fastsplit import code_points, sentence_spans
from dedup.chardata import CHAR_OR_WORD_RE, fold_table, word_table
from dedup.fingerprint.shingles import shingle_hashes, word_hashes
from dedup.text.settings import DEFAULT_NORMALIZATION


@dataclass(frozen=True)
class InnerRepeat:
    """A span of a paragraph that repeats an earlier span of the same paragraph."""

    start: int  # offsets relative to the paragraph text
    end: int
    source_start: int
    source_end: int
    similarity: float


def find_inner_repeats(text: str, *, ngram: int = 5, threshold: float = 0.8, min_tokens: int = 50,
                       normalization: str = DEFAULT_NORMALIZATION, unspaced: str = "chars") -> List[InnerRepeat]:
    """Spans of ``text`` (one paragraph) that repeat an earlier span of it.

    A span counts when it holds at least ``min_tokens`` tokens, lies after its source, and
    the two spans' shingle sets have Jaccard >= ``threshold``. A periodic repeat (the same
    text k times in a row, k >= 2) is one span: copies 2..k, its source the first copy,
    verified on the n-grams starting in each; so a sentence repeated until the repeats
    hold ``min_tokens`` tokens is cut down to one copy, and a shorter refrain stays.
    """
    sentences = sentence_spans(text)
    if not sentences:
        return []
    words, counts = word_hashes([text[s:e] for s, e in sentences], normalization, unspaced)
    total = len(words)
    if not _long_enough(total, ngram, min_tokens):
        return []
    grams, _ = shingle_hashes(words, np.array([total], dtype=np.int64), ngram)
    regions = _copied_regions(_distance_to_previous(grams), ngram, grams)
    return _repeats_in(text, sentences, counts, words, grams, regions, ngram=ngram, threshold=threshold,
                       min_tokens=min_tokens)


def _repeats_in(text: str, sentences: Sequence[Tuple[int, int]], counts: np.ndarray, words: np.ndarray,
                grams: np.ndarray, regions: List[Region], *, ngram: int, threshold: float,
                min_tokens: int) -> List[InnerRepeat]:
    """The copied regions of a paragraph snapped to its sentences and verified."""
    token_bounds = _token_char_bounds(text, sentences, counts, words)
    sentence_first = offsets_of(counts)
    out: List[InnerRepeat] = []

    def verified(a: int, b: int, src_a: int, src_b: int,
                 runs: Sequence[Tuple[int, int, int]] = ()) -> List[InnerRepeat]:
        periodic, period = src_b > a, a - src_a
        if periodic and len(sentences) > 1:
            a, b = _sentence_phase(sentence_first, a, b, period)
        cut = token_bounds(a, b)
        if cut is None:
            return []
        ca, cb, cta, ctb = cut
        if periodic:  # the source is the first period, [a - period, a)
            src = token_bounds(max(0, cta - period), cta)
            if src is None:
                return []
            sa, sb, _, _ = src
            sb = min(sb, ca)  # a sentence split evenly by the period boundary goes to the cut
            # n-grams starting in the cut against those starting in the first period (which
            # run ngram - 1 tokens into the second: the period's wrap-around n-grams)
            sim = jaccard_sorted(np.unique(grams[cta:max(cta + 1, ctb - ngram + 1)]),
                                 np.unique(grams[max(0, cta - period):max(cta, period)]))
        else:
            src = token_bounds(src_a, src_b)
            if src is None or src[1] > ca:
                return []
            sa, sb, sta, stb = src
            sim = _span_jaccard(grams, cta, ctb, sta, stb, ngram)
        if sim < threshold or ctb - cta < min_tokens or sa >= sb or (out and ca < out[-1].end):
            return []
        sim = round(sim, 6)
        if periodic and runs and len(sentences) > 1:
            # text between the copies that no run covers (whole sentences) stays
            return [InnerRepeat(pa, pb, sa, sb, sim)
                    for pa, pb in _covered_pieces(sentences, sentence_first, cta, ctb, runs)]
        return [InnerRepeat(ca, cb, sa, sb, sim)]

    for a, b, src_a, src_b, runs in _candidate_runs(regions, min_tokens):
        found = verified(a, b, src_a, src_b, runs)
        if not found:
            # a group joined across edits can hold unlike text: its long runs may still be copies
            for ra, rb, rd in runs:
                if rb - ra >= min_tokens and ra - rd >= 0:
                    out.extend(verified(ra, rb, ra - rd, rb - rd))
        out.extend(found)
    return out


def _covered_pieces(sentences: Sequence[Tuple[int, int]], sentence_first: np.ndarray, ta: int, tb: int,
                    runs: Sequence[Tuple[int, int, int]]) -> List[Tuple[int, int]]:
    """Character spans of the sentences in tokens [ta, tb) that a run covers (a token of them is
    in one), runs of them joined; a sentence without tokens goes with its neighbours."""
    covered = np.zeros(tb - ta, dtype=bool)
    for a, b, _ in runs:
        covered[max(a, ta) - ta:max(min(b, tb) - ta, 0)] = True
    first = int(np.searchsorted(sentence_first, ta, side="right")) - 1
    last = int(np.searchsorted(sentence_first, tb, side="left"))
    pieces: List[Tuple[int, int]] = []
    open_at = -1
    for k in range(first, last):
        lo, hi = max(int(sentence_first[k]), ta), min(int(sentence_first[k + 1]), tb)
        if hi <= lo:
            continue
        keep = not covered[lo - ta:hi - ta].any()
        if not keep and open_at < 0:
            open_at = k
        elif keep and open_at >= 0:
            pieces.append((sentences[open_at][0], sentences[k - 1][1]))
            open_at = -1
    if open_at >= 0:
        pieces.append((sentences[open_at][0], sentences[last - 1][1]))
    return pieces


def _sentence_phase(sentence_first: np.ndarray, a: int, b: int, period: int) -> Tuple[int, int]:
    """A periodic cut [a, b) shifted back to start at a sentence start, when it starts inside one.

    A text whose last sentence has no end mark, pasted k times, has sentences that straddle
    the copies. Any window of whole periods inside the periodic text is a valid cut, so the
    cut moves back to the start of the straddling sentence (still inside the first period)
    if its end then falls on a sentence boundary too; otherwise it stays.
    """
    at = int(np.searchsorted(sentence_first, a, side="right")) - 1
    shift = a - int(sentence_first[at])
    if shift == 0 or shift >= period:
        return a, b
    k = int(np.searchsorted(sentence_first, b - shift))
    if k < len(sentence_first) and int(sentence_first[k]) == b - shift:
        return a - shift, b - shift
    return a, b


def find_inner_repeats_many(texts: Sequence[str], *, ngram: int = 5, threshold: float = 0.8,
                            min_tokens: int = 50, normalization: str = DEFAULT_NORMALIZATION,
                            unspaced: str = "chars", words: Optional[Tuple[np.ndarray, np.ndarray]] = None
                            ) -> List[List[InnerRepeat]]:
    """:func:`find_inner_repeats` of each text, with one tokenizing pass over them all.

    Most long paragraphs that pass :func:`dedup.decide.rules.worth_searching` hold no copied run at all; that
    is settled here from the whole paragraph's n-grams (tokens never cross a sentence end,
    so they are the same n-grams the sentence-by-sentence search sees), and only paragraphs
    with a run of ``min_tokens`` that could be a copy go through the sentence work.
    ``words``: the texts' (word hashes, tokens per text) as :func:`dedup.fingerprint.shingles.word_hashes`
    gives them, when the caller has them already.
    """
    out: List[List[InnerRepeat]] = [[] for _ in texts]
    if not texts:
        return out
    hashes, counts = words if words is not None else word_hashes(list(texts), normalization, unspaced)
    grams, per_text = shingle_hashes(hashes, counts, ngram)
    gram_at = offsets_of(per_text).tolist()
    word_at = offsets_of(counts).tolist()
    for i, (text, n_tok) in enumerate(zip(texts, counts.tolist())):
        if not _long_enough(n_tok, ngram, min_tokens):
            continue
        out[i] = _repeats_of(text, hashes[word_at[i]:word_at[i + 1]], grams[gram_at[i]:gram_at[i + 1]],
                             ngram=ngram, threshold=threshold, min_tokens=min_tokens,
                             normalization=normalization, unspaced=unspaced)
    return out


def _repeats_of(text: str, words: np.ndarray, grams: np.ndarray, *, ngram: int, threshold: float,
                min_tokens: int, normalization: str, unspaced: str) -> List[InnerRepeat]:
    """:func:`find_inner_repeats` of one text whose word hashes and n-grams are in hand."""
    regions = _copied_regions(_distance_to_previous(grams), ngram, grams)
    if next(_candidate_runs(regions, min_tokens), None) is None:
        return []
    sentences = sentence_spans(text)
    per_sentence = _sentence_token_counts(text, sentences, normalization, unspaced)
    if per_sentence is None or int(per_sentence.sum()) != len(words):
        return find_inner_repeats(text, ngram=ngram, threshold=threshold, min_tokens=min_tokens,
                                  normalization=normalization, unspaced=unspaced)
    # the words and n-grams in hand are the ones the sentence-by-sentence search builds
    return _repeats_in(text, sentences, per_sentence, words, grams, regions, ngram=ngram, threshold=threshold,
                       min_tokens=min_tokens)


def _sentence_token_counts(text: str, sentences: Sequence[Tuple[int, int]], normalization: str,
                           unspaced: str) -> Optional[np.ndarray]:
    """Tokens per sentence counted by a kernel on the text's code points; None when the
    kernels are not in use or a character needs Python's normalization."""
    if "+" in normalization or not sentences:  # the extra steps are Python only
        return None
    spans = np.array(sentences, dtype=np.int64)
    counts = native.count_tokens(text, spans[:, 0], spans[:, 1], normalization != "none", unspaced)
    if counts is not None or native.core() is not None:
        return counts
    kernels = jit.kernels()
    if kernels is None:
        return None
    counts = kernels.count_tokens(code_points(text), spans[:, 0].copy(), spans[:, 1].copy(),
                                  fold_table(normalization != "none"), word_table(unspaced))
    return None if len(counts) and counts[0] < 0 else counts


def _long_enough(n_tokens: int, ngram: int, min_tokens: int) -> bool:
    """Whether a paragraph of ``n_tokens`` can hold a repeat of ``min_tokens`` after its source
    (a periodic repeat's source, its first period, can be a single token)."""
    return n_tokens > min_tokens and n_tokens > ngram


def _distance_to_previous(grams: np.ndarray) -> np.ndarray:
    """Per n-gram position: how far back its previous occurrence is (0: this is the first).

    The previous, not the first: copy j of a text pasted k times recurs at one distance
    from copy j - 1, so the copies 2..k form one run instead of one run each.
    """
    n = len(grams)
    distance = np.zeros(n, dtype=np.int64)
    if n < 2:
        return distance
    # One sort of (gram, position) pairs: equal grams sit together, positions ascending.
    keyed = (grams.astype(np.uint64) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
    keyed.sort()
    position = (keyed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    gram = keyed >> np.uint64(32)
    same = np.flatnonzero(gram[1:] == gram[:-1]) + 1
    distance[position[same]] = position[same] - position[same - 1]
    return distance


def _candidate_runs(regions: List[Region], min_tokens: int):
    """The copied regions long enough to cut, with their source and runs (a, b, src_a, src_b, runs).

    ``src_b > a``: the source overlaps the copy, which is then periodic (see
    :func:`_repeats_in`).
    """
    for a, b, d_first, d_last, runs in regions:
        src_a, src_b = a - d_first, b - d_last
        if b - a >= min_tokens and src_a >= 0:
            yield a, b, src_a, src_b, runs


#: A copied region: token range [a, b), distance of its first and last run, and its runs
#: (a, b, distance) when it joins several.
Region = Tuple[int, int, int, int, List[Tuple[int, int, int]]]


def _copied_regions(distance: np.ndarray, ngram: int, grams: np.ndarray) -> List[Region]:
    """Token ranges [a, b) whose n-grams recur at about one distance: (a, b, d_first, d_last, runs).

    Runs of consecutive positions repeating at one distance, of at least ``ngram`` positions
    (shorter ones are common phrases, not copies), are extended while the n-grams still
    equal those at that distance (a phrase used twice inside the source makes the previous
    occurrence a nearer one there), then joined across small edits: a gap of up to 2 n-grams
    and a shift of the distance of up to 2 n-grams from the run before. A run between two
    runs that join across it is an edit too (in a text pasted 3 times, an edit in copy 2
    makes copy 3 recur from copy 1 there, at twice the distance).
    """
    idx = np.flatnonzero(distance > 0)
    if len(idx) == 0:
        return []
    d = distance[idx]
    breaks = np.flatnonzero((np.diff(idx) != 1) | (np.diff(d) != 0)) + 1
    lo = np.concatenate(([0], breaks))
    hi = np.concatenate((breaks, [len(idx)]))
    long_run = hi - lo >= ngram
    lo, hi = lo[long_run], hi[long_run]
    if len(lo) == 0:
        return []
    first, last, dist = _extend_runs(grams, idx[lo], idx[hi - 1], d[lo])
    start, end = first, last + ngram
    if len(start) > 2:
        kept = np.ones(len(start), dtype=bool)
        kept[1:-1] = ~((start[2:] - end[:-2] <= 2 * ngram) & (np.abs(dist[2:] - dist[:-2]) <= 2 * ngram))
        start, end, dist = start[kept], end[kept], dist[kept]
    joins = np.zeros(len(start), dtype=bool)
    joins[1:] = (start[1:] - np.maximum.accumulate(end)[:-1] <= 2 * ngram) & \
        (np.abs(dist[1:] - dist[:-1]) <= 2 * ngram)
    group = np.flatnonzero(~joins)
    last_run = np.concatenate((group[1:], [len(start)])) - 1
    group_end = np.maximum.reduceat(end, group)
    several = np.flatnonzero(last_run > group)
    runs: List[List[Tuple[int, int, int]]] = [[] for _ in group]
    for g in several.tolist():
        k0, k1 = int(group[g]), int(last_run[g]) + 1
        runs[g] = list(zip(start[k0:k1].tolist(), end[k0:k1].tolist(), dist[k0:k1].tolist()))
    return list(zip(start[group].tolist(), group_end.tolist(), dist[group].tolist(), dist[last_run].tolist(), runs))


def _extend_runs(grams: np.ndarray, first: np.ndarray, last: np.ndarray, dist: np.ndarray
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs (first and last n-gram position, distance) moved out while their n-grams equal the
    ones ``dist`` before them, in start order; a run inside a longer one's extension goes.

    A run extends over shorter runs only: up to the nearest run at least as long on each
    side. So a long copy swallows the few n-grams whose previous occurrence is a nearer one
    (a phrase used twice in the source), while a short run at another distance (an edit in
    an earlier copy) cannot swallow the copy around it. Chunks grow as they match: most runs
    end where they are.
    """
    n, r = len(grams), len(first)
    length = last - first
    upper = _nearest_at_least(length.tolist(), first.tolist(), n, forward=True)
    lower = _nearest_at_least(length.tolist(), (last + 1).tolist(), 0, forward=False)
    first, last = first.copy(), last.copy()
    for k, (f, la, d, up, low) in enumerate(zip(first.tolist(), last.tolist(), dist.tolist(), upper, lower)):
        p, step = la + 1, 16
        while p < up:
            q = min(up, p + step)
            miss = np.flatnonzero(grams[p:q] != grams[p - d:q - d])
            if len(miss):
                p += int(miss[0])
                break
            p, step = q, 2 * step
        last[k] = min(p, up) - 1
        p, step = f, 16  # positions [p, f) match; p - 1 is next
        low = max(low, d)
        while p > low:
            q = max(low, p - step)
            miss = np.flatnonzero(grams[q:p] != grams[q - d:p - d])
            if len(miss):
                p = q + int(miss[-1]) + 1
                break
            p, step = q, 2 * step
        first[k] = max(p, low) if p < f else f
    order = np.lexsort((-last, first))
    first, last, dist = first[order], last[order], dist[order]
    if r > 1:
        inside = np.zeros(r, dtype=bool)
        inside[1:] = last[1:] <= np.maximum.accumulate(last)[:-1]
        first, last, dist = first[~inside], last[~inside], dist[~inside]
    return first, last, dist


def _nearest_at_least(length: List[int], bound: List[int], default: int, *, forward: bool) -> List[int]:
    """Per run, ``bound`` of the nearest run after it (``forward``) or before it at least as
    long, or ``default``: how far the run may extend that way."""
    out = [default] * len(length)
    stack: List[int] = []
    order = range(len(length) - 1, -1, -1) if forward else range(len(length))
    for k in order:
        while stack and length[stack[-1]] < length[k]:
            stack.pop()
        if stack:
            out[k] = bound[stack[-1]]
        stack.append(k)
    return out


def _token_char_bounds(text: str, sentences: Sequence[Tuple[int, int]], counts: np.ndarray, words: np.ndarray):
    """A function mapping a token range to (char start, char end, token start, token end), snapped.

    With several sentences, the range snaps to the sentences it mostly covers. A paragraph
    without sentence punctuation maps tokens to characters directly when normalization kept
    the token count, widened to the white space around them (so punctuation and quotes
    stuck to the first and last word go with them).
    """
    sent_first = offsets_of(counts)
    if len(sentences) > 1:
        def bounds(a: int, b: int):
            inside = np.minimum(sent_first[1:], b) - np.maximum(sent_first[:-1], a)
            chosen = np.flatnonzero((counts > 0) & (2 * inside >= counts))
            if len(chosen) == 0:
                return None
            # every sentence between them lies inside the range; one without tokens (a lone
            # "*." in a license's margin) is not chosen but is taken along
            i, j = int(chosen[0]), int(chosen[-1])
            return sentences[i][0], sentences[j][1], int(sent_first[i]), int(sent_first[j + 1])
        return bounds
    raw = [m.span() for m in CHAR_OR_WORD_RE.finditer(text)]
    if len(raw) != len(words):
        return lambda a, b: None
    def word_bounds(a: int, b: int):
        start, end = raw[a][0], raw[b - 1][1]
        floor = raw[a - 1][1] if a else 0
        ceiling = raw[b][0] if b < len(raw) else len(text)
        while start > floor and not text[start - 1].isspace():
            start -= 1
        while end < ceiling and not text[end].isspace():
            end += 1
        return start, end, a, b
    return word_bounds


def _span_jaccard(grams: np.ndarray, a1: int, b1: int, a2: int, b2: int, ngram: int) -> float:
    """Exact Jaccard of the n-gram sets of token spans [a1, b1) and [a2, b2)."""
    return jaccard_sorted(np.unique(grams[a1:max(a1 + 1, b1 - ngram + 1)]),
                          np.unique(grams[a2:max(a2 + 1, b2 - ngram + 1)]))
