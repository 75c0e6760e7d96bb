"""Paragraph spans through a compiled kernel: the same spans as :func:`dedup.text.split.split_paragraphs`.

The regex splitter costs ~8 ns per character; the kernel walks code points once (copied
from the string's own 1-, 2- or 4-byte storage), with ``re``'s own idea of white space.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

from dedup.accel import jit, native
from dedup.arrays import exclusive_cumsum, offsets_of
from dedup.chardata import ASCII_SPACE, space_table
from dedup.text.split import sentence_spans as _sentence_spans_re, split_paragraphs


def paragraph_spans(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the paragraphs of ``text``, as :func:`dedup.text.split.split_paragraphs`."""
    starts, ends, _, _, _ = spans_sizes_points([text])[0]
    return starts, ends


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` in the narrowest array that holds them.

    Latin-1 and UTF-16 encodings of text whose characters fit are plain copies of the
    string's own storage (CPython keeps 1, 2 or 4 bytes per character), several times
    cheaper than encoding to UTF-8; array index = character offset.
    """
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    try:
        return np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
    except UnicodeEncodeError:
        pass
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) == 2 * len(text):  # no character needed a surrogate pair
        return np.frombuffer(units, dtype=np.uint16)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def spans_sizes_points(texts: Sequence[str]) -> List[Tuple[np.ndarray, np.ndarray, int, Optional[np.ndarray], int]]:
    """Per document: (starts, ends, UTF-8 size, code points, where the document starts in them).

    The code points (:func:`code_points` of the documents joined, shared by all of them)
    let the shingling kernels read the paragraphs without slicing them out as strings;
    None on the numpy path.
    """
    kernels = jit.kernels()
    if kernels is None:
        return [split_paragraphs(t) + (len(t) if t.isascii() else len(t.encode("utf-8", "surrogatepass")), None, 0)
                for t in texts]
    if not texts:
        return []
    joined = "".join(texts)
    chars = np.array([len(t) for t in texts], dtype=np.int64)
    cps = code_points(joined)
    table = ASCII_SPACE if joined.isascii() else space_table()
    starts, ends, counts, sizes = kernels.paragraph_spans_many(cps, chars, table)
    cut_l = offsets_of(counts).tolist()
    at = exclusive_cumsum(chars).tolist()
    return [(starts[a:b], ends[a:b], size, cps, first)
            for a, b, size, first in zip(cut_l[:-1], cut_l[1:], sizes.tolist(), at)]


#: Shorter texts go through the regex (a kernel call costs more than it saves there).
_KERNEL_SENTENCES_FROM = 512


def sentence_spans(text: str, offset: int = 0) -> List[Tuple[int, int]]:
    """:func:`dedup.text.split.sentence_spans` (the same spans), by the kernel for long texts.

    The regex scan costs ~20 ns per character: on the long paragraphs that the inner-repeat
    search reads, more than tokenizing them.
    """
    if len(text) >= _KERNEL_SENTENCES_FROM:
        found = native.sentence_spans(text)
        if found is not None:
            return list(zip((found[0] + offset).tolist(), (found[1] + offset).tolist()))
    kernels = jit.kernels()
    if kernels is None or len(text) < _KERNEL_SENTENCES_FROM:
        return _sentence_spans_re(text, offset)
    if text.isascii():
        starts, ends = kernels.sentence_spans(np.frombuffer(text.encode("ascii"), dtype=np.uint8), ASCII_SPACE)
    else:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        starts, ends = kernels.sentence_spans(cps, space_table())
    if offset:
        starts = starts + offset
        ends = ends + offset
    return list(zip(starts.tolist(), ends.tolist()))
