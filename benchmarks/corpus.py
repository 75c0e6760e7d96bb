"""Evaluation corpora for the benchmarks: the real sets, and the same text scaled up with edits.

``real_documents()`` are the Debian copyright files then the KJV chapters, as in
``../shared/data`` (ground truth from there). ``scaled_documents(n)`` is a stream of
``n`` paragraphs made from them, deterministic for a seed, whose labels are computed
exactly (see :func:`label`):

* a *real* document (3.5% of the stream, until they run out near 1M paragraphs) is one
  of the Debian or KJV documents, each used once;
* a *new* document (46.5%) is a real one with every word replaced by a corpus word with
  probability 0.35 (about 1 in 9 of its 5-grams survive: new text with real word
  statistics);
* a *copy* (the other half) re-publishes an earlier document of the stream, each
  paragraph kept (55%), lightly edited (1-3 word edits, 15%), re-cased / re-punctuated /
  re-spaced (10%), dropped (10%) or rewritten as new (10%).

So near-duplicates are real (edits move pairs across the 0.8 threshold in both
directions) and the mix of kinds does not drift along the stream (about 35% repeats
throughout): a prefix of the 1M stream is a fair smaller corpus.

Labels follow ``../shared/data/README.md``: ``re.findall(r"\\w+", text.lower())``, word
5-grams (fewer tokens: one shingle), ``is_repeat`` iff an earlier paragraph has
Jaccard >= 0.8. They are computed exhaustively (exact duplicates grouped, then a
lossless prefix filter and the exact Jaccard), so they equal an all-pairs loop, up to
64-bit hash collisions between distinct 5-grams (~1e-5 expected at 1M paragraphs).
Results are cached under ``benchmarks/.cache``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import time
from fractions import Fraction
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = Path(os.environ.get("DEDUP_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))
REAL_SETS = ("docs_debian_copyright.jsonl.gz", "docs_kjv_chapters.jsonl.gz")
_WORD = re.compile(r"\w+")
_TOKEN_OR_GAP = re.compile(r"(\w+)")
_BLANK_LINE = re.compile(r"\n[ \t\f\v]*(\r?\n|\r)")


def load(name: str) -> List[dict]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def real_documents() -> List[dict]:
    """Debian then KJV documents as ``{doc_id, text, paragraphs: [{start, end, n_tokens, is_repeat}]}``."""
    docs = []
    for name in REAL_SETS:
        docs += load(name)
    return docs


# -- generation -------------------------------------------------------------------------

def _paragraph_texts(doc: dict) -> List[str]:
    return [doc["text"][p["start"]:p["end"]] for p in doc["paragraphs"]]


class _Editor:
    def __init__(self, vocabulary: Sequence[str], rng: random.Random) -> None:
        self.vocab = vocabulary
        self.rng = rng

    def rewrite(self, text: str, p: float = 0.35) -> str:
        rng, vocab = self.rng, self.vocab
        parts = _TOKEN_OR_GAP.split(text)
        for i in range(1, len(parts), 2):
            if rng.random() < p:
                parts[i] = vocab[rng.randrange(len(vocab))]
        return "".join(parts)

    def light(self, text: str) -> str:
        rng = self.rng
        parts = _TOKEN_OR_GAP.split(text)
        n_words = len(parts) // 2
        if n_words == 0:
            return text
        for _ in range(rng.randint(1, 3)):
            i = 2 * rng.randrange(n_words) + 1
            op = rng.random()
            if op < 0.4:
                parts[i] = self.vocab[rng.randrange(len(self.vocab))]
            elif op < 0.7:
                parts[i] = parts[i] + " " + self.vocab[rng.randrange(len(self.vocab))]
            else:
                parts[i] = ""
        out = "".join(parts)
        return out if out.strip() else text

    def cosmetic(self, text: str) -> str:
        rng = self.rng
        choice = rng.randrange(3)
        if choice == 0:
            return text.upper() if rng.random() < 0.3 else text.title()
        if choice == 1:
            return re.sub(r"[ \t]+", lambda m: m.group(0) + (" " if rng.random() < 0.2 else ""), text)
        return re.sub(r"[,;:.]", lambda m: "" if rng.random() < 0.5 else m.group(0), text) + "."


def _generate(n_paragraphs: int, seed: int) -> List[dict]:
    real = real_documents()
    rng = random.Random(seed)
    counts: Dict[str, int] = {}
    for doc in real[:2000]:
        for w in _WORD.findall(doc["text"]):
            counts[w] = counts.get(w, 0) + 1
    vocab = sorted(counts, key=lambda w: (-counts[w], w))[:20000]
    editor = _Editor(vocab, rng)
    unused = list(range(len(real)))
    rng.shuffle(unused)
    out: List[dict] = []
    emitted: List[List[str]] = []
    seps: List[str] = []
    total = 0
    while total < n_paragraphs:
        draw = rng.random()
        if not emitted or draw < 0.5:
            if draw < 0.035 and unused:
                k = unused.pop()
                paras = _paragraph_texts(real[k])
                kind = "real"
            else:
                k = rng.randrange(len(real))
                paras = [editor.rewrite(p) for p in _paragraph_texts(real[k])]
                kind = "new"
            sep = "\n\n" if "\n\n" in real[k]["text"] else "\n"
        else:
            j = rng.randrange(len(emitted))
            paras, sep, kind = [], seps[j], "copy"
            for p in emitted[j]:
                r = rng.random()
                if r < 0.55:
                    paras.append(p)
                elif r < 0.70:
                    paras.append(editor.light(p))
                elif r < 0.80:
                    paras.append(editor.cosmetic(p))
                elif r < 0.90:
                    continue
                else:
                    paras.append(editor.rewrite(p))
            if not paras:
                continue
        paras = [p for p in paras if p.strip()][: max(1, n_paragraphs - total)]
        if sep == "\n":  # line mode: a paragraph must be one line
            paras = [p.replace("\n", " ") for p in paras]
        emitted.append(paras)
        seps.append(sep)
        text = sep.join(paras) + "\n"
        spans, pos = [], 0
        for p in paras:
            spans.append((pos, pos + len(p)))
            pos += len(p) + len(sep)
        out.append({"doc_id": f"s{len(out)}", "kind": kind, "text": text,
                    "paragraphs": [{"start": s, "end": e} for s, e in spans]})
        total += len(paras)
    return out


# -- exact labels -----------------------------------------------------------------------

def _shingle_sets(texts: Sequence[str]):
    """Per paragraph: sorted unique 64-bit ids of its word 5-grams (the README's rule)."""
    vocab: Dict[str, int] = {}
    flat: List[int] = []
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        toks = _WORD.findall(t.lower())
        counts[i] = len(toks)
        flat.extend(vocab.setdefault(w, len(vocab) + 1) for w in toks)
    from benchmarks._label_kernels import shingle_ids

    return shingle_ids(np.array(flat, dtype=np.uint64), counts), counts


def label(texts: Sequence[str], threshold: float = 0.8) -> np.ndarray:
    """is_repeat per paragraph: an earlier paragraph has Jaccard >= threshold (exhaustive)."""
    from benchmarks._label_kernels import near_repeat_of_earlier

    (hashes, offsets), n_tokens = _shingle_sets(texts)
    n = len(texts)
    # exact duplicates: identical sets share a key; later copies are repeats
    sizes = np.diff(offsets)
    lo_keys = np.add.reduceat(hashes * np.uint64(0x9E3779B97F4A7C15), offsets[:-1]) if n else hashes
    keys = lo_keys ^ (sizes.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9))
    _, first = np.unique(keys, return_index=True)
    is_first = np.zeros(n, dtype=bool)
    is_first[first] = True
    distinct = np.flatnonzero(is_first)  # in input order
    # global rank of each shingle: rare first (the prefix filter's order)
    uniq, inverse, freq = np.unique(hashes, return_inverse=True, return_counts=True)
    rank_of_uniq = np.empty(len(uniq), dtype=np.int64)
    rank_of_uniq[np.lexsort((uniq, freq))] = np.arange(len(uniq))
    ranks = rank_of_uniq[inverse.ravel()]
    ratio = Fraction(threshold).limit_denominator(10 ** 6)  # 0.8 -> 4/5: exact integer tests
    num, den = ratio.numerator, ratio.denominator
    near = near_repeat_of_earlier(ranks, offsets, distinct, len(uniq), num, den)
    repeat = ~is_first
    repeat[distinct] = near
    repeat[n_tokens == 0] = False  # no words, no shingles: never a repeat (as the data's labels)
    return repeat


def scaled_documents(n_paragraphs: int, seed: int = 0, use_cache: bool = True, labels: bool = True) -> List[dict]:
    """``n_paragraphs`` paragraphs of real and edited text with exact ``is_repeat`` labels.

    ``labels=False`` skips labelling (and the cache): the text alone, for tests.
    """
    if not labels:
        return _generate(n_paragraphs, seed)
    path = CACHE / f"scaled_{n_paragraphs}_{seed}_v2.jsonl.gz"
    if use_cache and path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    if use_cache:  # the stream is the same for every size: a larger cached one has this one as prefix
        for other in sorted(CACHE.glob(f"scaled_*_{seed}_v2.jsonl.gz"), key=lambda p: int(p.name.split("_")[1])):
            if int(other.name.split("_")[1]) > n_paragraphs:
                return _prefix(other, n_paragraphs)
    t0 = time.perf_counter()
    docs = _generate(n_paragraphs, seed)
    texts = [d["text"][p["start"]:p["end"]] for d in docs for p in d["paragraphs"]]
    repeat = label(texts).tolist()
    n_tokens = [len(_WORD.findall(t.lower())) for t in texts]
    k = 0
    for d in docs:
        for p in d["paragraphs"]:
            p["is_repeat"], p["n_tokens"] = repeat[k], n_tokens[k]
            k += 1
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as f:
            for d in docs:
                f.write(json.dumps(d) + "\n")
        tmp.replace(path)
    print(f"[corpus] {n_paragraphs:,} paragraphs generated and labelled in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return docs


def _prefix(path: Path, n_paragraphs: int) -> List[dict]:
    """The first documents of a cached stream holding ``n_paragraphs`` paragraphs (labels stay exact:
    a paragraph's label depends only on earlier ones)."""
    out, total = [], 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if total >= n_paragraphs:
                break
            doc = json.loads(line)
            keep = doc["paragraphs"][: n_paragraphs - total]
            if len(keep) < len(doc["paragraphs"]):
                doc["text"] = doc["text"][: keep[-1]["end"]] + "\n"
                doc["paragraphs"] = keep
            out.append(doc)
            total += len(keep)
    return out


def _cut(doc: dict, sizes: Sequence[int]) -> List[dict]:
    """``doc`` cut into consecutive documents of ``sizes`` paragraphs (the text between kept as it was)."""
    out, at, paras, text = [], 0, doc["paragraphs"], doc["text"]
    for k, size in enumerate(sizes):
        group = paras[at:at + size]
        at += size
        if not group:
            break
        lo = group[0]["start"]
        # Up to the next paragraph: the separator after the last one is kept, so a document of
        # one hard-wrapped paragraph still has its blank line (without one, every line of a
        # text is a paragraph: docs/contract.md).
        piece = text[lo:paras[at]["start"] if at < len(paras) else len(text)]
        if len(group) == 1 and "\n" in piece.strip() and not _BLANK_LINE.search(piece):
            piece = piece.rstrip() + "\n\n"  # (dedup's splitter sees a blank line at the end)
        out.append({"doc_id": f"{doc['doc_id']}#{k}", "text": piece,
                    "paragraphs": [{**m, "start": m["start"] - lo, "end": m["end"] - lo} for m in group]})
    return out


def short_documents(seed: int = 0) -> List[dict]:
    """Real short documents: Debian copyright files cut into documents of 1-3 paragraphs, then
    KJV chapters cut into documents of 1-4 verses (sizes drawn uniformly, deterministic for
    ``seed``). Paragraph order is unchanged, so the ground truth of the whole sets holds
    (a repeat is of an earlier paragraph, in this document or an earlier one)."""
    rng = random.Random(seed)
    docs: List[dict] = []
    for name, most in zip(REAL_SETS, (3, 4)):
        for doc in load(name):
            n = len(doc["paragraphs"])
            sizes = []
            while sum(sizes) < n:
                sizes.append(rng.randint(1, most))
            docs += _cut(doc, sizes)
    return docs


def short_records(seed: int = 0, copies: float = 0.4, use_cache: bool = True) -> List[dict]:
    """The records pipelines hold: :func:`short_documents` (real records of 1-4 paragraphs,
    ~450 bytes), then ``copies`` as many records again re-feeding earlier ones, each paragraph
    kept (55%), lightly edited (20%: 1-3 words), re-cased or re-punctuated (10%) or dropped
    (15%), in random order among the originals' tail, so that about a quarter of the paragraphs
    repeat an earlier one. Labels are computed exhaustively (:func:`label`), cached."""
    path = CACHE / f"records_{seed}_{copies}_v1.jsonl.gz"
    if use_cache and path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    rng = random.Random(seed)
    base = short_documents(seed)
    counts: Dict[str, int] = {}
    for doc in base[:4000]:
        for w in _WORD.findall(doc["text"]):
            counts[w] = counts.get(w, 0) + 1
    editor = _Editor(sorted(counts, key=lambda w: (-counts[w], w))[:20000], rng)
    docs = [{"doc_id": d["doc_id"], "text": d["text"], "paragraphs": [dict(start=m["start"], end=m["end"])
                                                                       for m in d["paragraphs"]]} for d in base]
    n_copies = int(len(base) * copies)
    for k in range(n_copies):
        src = docs[rng.randrange(len(docs))]
        paras = []
        for m in src["paragraphs"]:
            p, r = src["text"][m["start"]:m["end"]], rng.random()
            paras.append(p if r < 0.55 else editor.light(p) if r < 0.75 else editor.cosmetic(p) if r < 0.85 else None)
        paras = [p for p in paras if p and p.strip()]
        if not paras:
            continue
        sep = "\n\n" if "\n\n" in src["text"] or len(paras) == 1 else "\n"
        if sep == "\n":
            paras = [p.replace("\n", " ") for p in paras]
        text, spans, pos = sep.join(paras) + "\n\n", [], 0
        for p in paras:
            spans.append({"start": pos, "end": pos + len(p)})
            pos += len(p) + len(sep)
        at = rng.randrange(len(docs) // 2, len(docs) + 1)  # somewhere in the second half of the stream
        docs.insert(at, {"doc_id": f"copy{k}", "text": text, "paragraphs": spans})
    texts = [d["text"][p["start"]:p["end"]] for d in docs for p in d["paragraphs"]]
    repeat = label(texts).tolist()
    k = 0
    for d in docs:
        for p in d["paragraphs"]:
            p["is_repeat"], p["n_tokens"] = repeat[k], len(_WORD.findall(texts[k].lower()))
            k += 1
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as f:
            for d in docs:
                f.write(json.dumps(d) + "\n")
        tmp.replace(path)
    return docs


def documents(name: str, n_paragraphs: int = 0) -> List[dict]:
    """A named corpus: ``debian``, ``kjv``, ``real`` (both), ``short`` (both cut into short
    documents), ``records`` (short ones with edited copies re-fed) or ``scaled`` (``n_paragraphs``)."""
    if name == "short":
        return short_documents()
    if name == "records":
        return short_records()
    if name == "debian":
        return load(REAL_SETS[0])
    if name == "kjv":
        return load(REAL_SETS[1])
    if name == "real":
        return real_documents()
    if name == "scaled":
        return scaled_documents(n_paragraphs)
    raise ValueError(f"unknown corpus {name!r}: use debian, kjv, real, short, records or scaled")


def paragraphs(docs: Sequence[dict]) -> List[str]:
    """The paragraph strings of documents, by their labelled spans (what peers are fed)."""
    return [d["text"][p["start"]:p["end"]] for d in docs for p in d["paragraphs"]]
