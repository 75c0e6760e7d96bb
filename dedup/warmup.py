"""Build what a first run would otherwise build: ``python -m dedup.warmup``.

The compiled engine's code-point tables (NFKC + case folding, word and space classes: ~0.5 s to
build from ``unicodedata``) are cached on disk for every later process. Where the engine is not
built and numba is installed, numba's kernel cache is built too (below).

A process that wants the kernels while their cache is not built starts this command in
the background (see :mod:`dedup.accel.jit`) and keeps working on the numpy path. Run it
yourself to build the cache ahead of time, e.g. in a container image after ``pip
install``. It runs the real pipeline, kernels forced, on a small built-in sample that
reaches every kernel with every array type real input gives it (1-, 2- and 4-byte code
points, paragraph and sentence units, corpus and document scope, index lookups, inner
repeats), so what it compiles is what a job loads, then marks the cache as built.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import List, Optional, Sequence

_SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the quiet river bank today.",
    "Permission is hereby granted free of charge to any person obtaining a copy of this software.",
    "In the beginning God created the heaven and the earth and the earth was without form.",
    "Redistribution and use in source and binary forms with or without modification are permitted.",
    "Café déjà vu: naïve résumé façade, über straße; ÉCOLE Ærø ﬁne ligature ﬂow.",
    "Καλημέρα κόσμε, αυτή είναι μια δοκιμή του συστήματος για τα ελληνικά γράμματα σήμερα.",
    "中文段落用于测试没有空格的文字。日本語の文章もここにあります。한국어 문장도 있습니다.",
    "Emoji and astral text 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝒇𝒐𝒏𝒕𝒔 stay in the sample so four-byte storage is compiled too 🚀.",
]


def sample_documents() -> List[str]:
    """Documents whose paragraphs repeat, nearly repeat and repeat inside themselves."""
    docs = []
    for k, sentence in enumerate(_SENTENCES):
        other = _SENTENCES[(k + 1) % len(_SENTENCES)]
        run = " ".join(_SENTENCES[(k + j) % len(_SENTENCES)] for j in range(5))
        long = run + " " + run  # an inner repeat: the same run twice in one paragraph
        near = sentence.replace("the", "a", 1) + " " + other
        docs.append("\n\n".join([sentence + " " + other, long, near, "short line", sentence + " " + other]))
        docs.append("\n\n".join([near, sentence + " " + other + " " + sentence]))
    ascii_run = " ".join(_SENTENCES[:4])
    docs.append(ascii_run + " " + ascii_run)  # the same, all ASCII (1-byte storage)
    return docs


def warm(docs: Optional[Sequence[str]] = None) -> None:
    """Run every stage that has a kernel over ``docs`` (the built-in sample by default)."""
    from dedup.deduplicator import Deduplicator

    docs = list(docs if docs is not None else sample_documents())
    for batch in (4, 8192):  # several batches (the index holds earlier ones) and one
        d = Deduplicator(batch_paragraphs=batch)
        list(d.iter_dedupe(docs + docs))
        list(d.iter_dedupe(docs, [f"id{i}" for i in range(len(docs))]))
    for granularity in ("paragraph", "sentence"):
        Deduplicator(scope="document", granularity=granularity).dedupe_many(docs)
    for text in docs:  # one document at a time: each storage width alone
        Deduplicator(scope="document").dedupe(text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dedup.warmup", description=__doc__.splitlines()[0])
    parser.add_argument("--lock", help="build lock to remove when done (set by the process that started this)")
    args = parser.parse_args(argv)
    from dedup.accel import jit, native
    from dedup.chardata import engine_tables, table_cache_dir

    t0 = time.perf_counter()
    try:
        for unspaced in ("chars", "words"):  # every table the compiled engine may ask for
            for case_fold in (True, False):
                engine_tables(unspaced, case_fold)
        print(f"engine tables cached in {table_cache_dir()} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        if native.core() is not None:
            return 0  # the compiled engine serves the hot path: numba's kernels are not needed
        if not jit.jit_available():
            print("no compiled engine and no numba: the numpy path is used (pip install 'paradedup[jit]' "
                  "for numba's kernels)", file=sys.stderr)
            return 0
        jit.compile_here()
        warm()
        jit.mark_cache_built()
    finally:
        if args.lock:
            try:
                os.unlink(args.lock)
            except OSError:
                pass
    print(f"kernel cache built in {jit.cache_dir()} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
