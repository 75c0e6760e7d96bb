#!/usr/bin/env python3
"""Research prototypes for issue 24's rules: exact, slow, plain Python/numpy/scipy.

    python -m benchmarks.noisy --systems proto-defaults,proto-noisy      # on the noisy streams
    python -m benchmarks.noisy_rules --corpora                           # removals on the shared corpora

Nothing here is the engine: a rule is written as a predicate over an exact pair computation
(every earlier unit that shares a shingle, via a sparse product), so the numbers measure the
rule itself, not an LSH layout's luck (``lsh_recall`` gives that separately). The findings and
the recommended rules are in docs/noisy_research.md.

Pieces, each a step the engine would take:

* ``normalize``: NFKC + case fold, then optional steps: ``dehyphen`` (``lan-\\nguage`` ->
  ``language``: a hyphen at a line end between word characters is dropped with the break),
  ``punctuation`` (apostrophes and hyphens inside words dropped, as dedup's step), ``digits``
  (every digit run is ``0``, as dedup's step). Tokens are ``\\w+`` runs.
* ``Representation``: word n-grams, or character n-grams over the tokens joined by one space
  (``joiner=" "``) or by nothing (``joiner=""``: word boundaries, spaces and punctuation gone).
* ``Rule``: a unit is removed when an earlier unit passes the *near* rule (Jaccard >=
  ``threshold``) or the *contained* rule (the later unit has >= ``containment`` of its
  shingles inside ONE earlier unit, and >= ``min_contained_tokens`` tokens), each optionally
  confirmed by ``verify_near`` / ``verify_contained`` (an alignment of the two token
  sequences, see ``differences``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

from benchmarks._common import read_docs

# -- normalization and shingles ---------------------------------------------------------------

_WORD = re.compile(r"\w+")
_LINE_END_HYPHEN = re.compile(r"(?<=\w)-[ \t]*\r?\n[ \t]*(?=\w)")
_IN_WORD_PUNCT = re.compile(r"(?<=\w)['\u2019\u2018\u02bc\u2010\u2011-](?=\w)")
_DIGITS = re.compile(r"\d+")


def normalize(text: str, steps: Iterable[str] = ()) -> str:
    """NFKC + case fold, then ``steps`` in this order: dehyphen, punctuation, digits."""
    steps = set(steps)
    text = unicodedata.normalize("NFKC", text).casefold()
    if "dehyphen" in steps:
        text = _LINE_END_HYPHEN.sub("", text)
    if "punctuation" in steps:
        text = _IN_WORD_PUNCT.sub("", text)
    if "digits" in steps:
        text = _DIGITS.sub("0", text)
    return text


def tokens(text: str, steps: Iterable[str] = ()) -> List[str]:
    return _WORD.findall(normalize(text, steps))


@dataclass(frozen=True)
class Representation:
    """What a unit's shingle set is made of."""
    kind: str  # "word" or "char"
    n: int
    steps: Tuple[str, ...] = ()
    joiner: str = " "  # char n-grams: how tokens are joined before cutting

    def __str__(self) -> str:
        steps = "+".join(self.steps) or "plain"
        if self.kind == "word":
            return f"word-{self.n} ({steps})"
        return f"char-{self.n} {'spaced' if self.joiner else 'joined'} ({steps})"

    def shingles(self, text: str) -> Set[str]:
        toks = tokens(text, self.steps)
        if self.kind == "word":
            if len(toks) < self.n:
                return {" ".join(toks)}
            return {" ".join(toks[i:i + self.n]) for i in range(len(toks) - self.n + 1)}
        s = self.joiner.join(toks)
        if len(s) < self.n:
            return {s}
        return {s[i:i + self.n] for i in range(len(s) - self.n + 1)}


WORD5 = Representation("word", 5)


# -- exact pairs ------------------------------------------------------------------------------

@dataclass
class Pairs:
    """Every pair (later i, earlier j) of units that share a shingle, with the exact counts."""
    i: np.ndarray
    j: np.ndarray
    inter: np.ndarray
    size: np.ndarray  # per unit: |S|

    @property
    def jaccard(self) -> np.ndarray:
        return self.inter / (self.size[self.i] + self.size[self.j] - self.inter)

    @property
    def containment(self) -> np.ndarray:
        """Share of the later unit's shingles found in the earlier one."""
        return self.inter / self.size[self.i]


def exact_pairs(sets: Sequence[Set[str]], rows: Optional[np.ndarray] = None, min_share: float = 0.0,
                block: int = 1000) -> Pairs:
    """Pairs (i, j < i) sharing at least one shingle and at least ``min_share`` of the smaller set
    (a cut that keeps the output small; 0 keeps all), for the later units ``rows`` (all by
    default). Computed as a sparse product, a block of rows at a time."""
    import scipy.sparse as sp

    vocab: Dict[str, int] = {}
    r, c = [], []
    for k, s in enumerate(sets):
        for g in s:
            c.append(vocab.setdefault(g, len(vocab)))
            r.append(k)
    n = len(sets)
    x = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, len(vocab)))
    xt = x.T.tocsr()
    size = np.asarray(x.sum(axis=1)).ravel().astype(np.int64)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    out_i, out_j, out_x = [], [], []
    for lo in range(0, len(rows), block):
        rr = rows[lo:lo + block]
        prod = (x[rr] @ xt).tocoo()
        ii = rr[prod.row]
        keep = prod.col < ii
        ii, jj, vv = ii[keep], prod.col[keep], prod.data[keep].astype(np.int64)
        if min_share > 0:
            keep = vv >= min_share * np.minimum(size[ii], size[jj])
            ii, jj, vv = ii[keep], jj[keep], vv[keep]
        out_i.append(ii)
        out_j.append(jj)
        out_x.append(vv)
    cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
    return Pairs(cat(out_i), cat(out_j), cat(out_x), size)


# -- alignment: what differs between two units ----------------------------------------------------

def levenshtein(a: str, b: str, limit: Optional[int] = None) -> int:
    """Edit distance; with ``limit``, any value above it is returned as ``limit + 1`` (computed in a
    diagonal band of that width: the cost stays ``len * limit``)."""
    if len(a) < len(b):
        a, b = b, a
    if limit is None:
        limit = len(a)
    if len(a) - len(b) > limit:
        return limit + 1
    big = limit + 1
    prev = {j: j for j in range(min(len(b), limit) + 1)}
    for i in range(1, len(a) + 1):
        cur = {}
        lo, hi = max(0, i - limit), min(len(b), i + limit)
        best = big
        for j in range(lo, hi + 1):
            if j == 0:
                v = i
            else:
                v = min(prev.get(j, big) + 1, cur.get(j - 1, big) + 1, prev.get(j - 1, big) + (a[i - 1] != b[j - 1]))
            cur[j] = v = min(v, big)
            best = min(best, v)
        if best > limit:
            return big
        prev = cur
    return min(prev.get(len(b), big), big)


def near_miss(a: str, b: str, share: float = 0.34) -> bool:
    """Two runs of text that differ only by noise: at most ``min(share * n, 1 + n // 8)`` edits,
    ``n`` the longer length (one edit in a word of 4-7 characters, two in 8-15: ``maximum`` and
    ``minimum`` are two edits apart, a different word); never two short runs (a changed 1-3 letter
    word is a change) nor two runs whose digits differ when both have digits (a changed number is a
    change; ``kerne1`` for ``kernel`` is OCR noise)."""
    if a == b:
        return True
    n = max(len(a), len(b))
    if not a or not b or n < 4:
        return False
    da, db = _DIGITS.findall(a), _DIGITS.findall(b)
    if da and db and da != db:
        return False
    limit = min(int(share * n), 1 + n // 8)
    return levenshtein(a, b, limit) <= limit


@dataclass(frozen=True)
class Token:
    """A token as hashed (normalized), and what it is as written: a name (a capital not starting a
    sentence, or a capital after a lower-case letter: Joram, MIMEAudio, setUp, IPv4Network; not
    month or weekday names) or a number (mostly digits)."""
    text: str
    name: bool = False
    number: bool = False


_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|\n\s*\n\s*|\n)$")
_CAMEL = re.compile(r"[a-z0-9][A-Z]")
_DATE_WORDS = {w.casefold() for w in ("January", "February", "March", "April", "May", "June", "July", "August",
                                      "September", "October", "November", "December", "Monday", "Tuesday",
                                      "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}


def written_tokens(text: str, steps: Iterable[str] = ()) -> List[Token]:
    """``tokens(text, steps)`` with what each is as written (``Token``)."""
    steps = set(steps)
    raw = unicodedata.normalize("NFKC", text)
    if "dehyphen" in steps:
        raw = _LINE_END_HYPHEN.sub("", raw)
    if "punctuation" in steps:
        raw = _IN_WORD_PUNCT.sub("", raw)
    out = []
    for m in _WORD.finditer(raw):
        w = m.group(0)
        folded = w.casefold()
        if "digits" in steps:
            folded = _DIGITS.sub("0", folded)
        digits = sum(c.isdigit() for c in w)
        capital_first = w[0].isupper() and not w.isupper() and folded not in _DATE_WORDS
        name = (bool(_CAMEL.search(w)) or
                capital_first and not _SENTENCE_START.search(raw[max(0, m.start() - 4):m.start()]))
        out.append(Token(folded, name=name, number=2 * digits >= len(w)))
    return out


@dataclass
class Differences:
    """What an alignment of a later and an earlier unit leaves unexplained."""
    later: int  # unexplained tokens of the later unit
    earlier: int
    later_tokens: int
    earlier_tokens: int
    name_changes: int  # replaced regions with a name on both sides (Joram for Jehoshaphat)
    number_changes: int  # replaced regions with a number on both sides (3 for 2)

    @property
    def symmetric(self) -> float:
        """Unexplained tokens over all tokens of both."""
        return (self.later + self.earlier) / max(1, self.later_tokens + self.earlier_tokens)

    @property
    def added(self) -> float:
        """Unexplained tokens of the later unit over its tokens: what it adds to the earlier one."""
        return self.later / max(1, self.later_tokens)


def differences(later: Sequence[Token], earlier: Sequence[Token], share: float = 0.34) -> Differences:
    """Align two token sequences (difflib, exact tokens), then explain what differs: a region where
    the joined tokens of both sides are a near miss (typos, a split or merged word) is noise, as
    are near-miss tokens at the ends of a replaced region; a region of one side that reappears as
    a near-miss run inside the other side's unexplained regions was moved (swapped sentences).
    What is left is unexplained; a replaced region with a name (a number) on both sides is a name
    (number) change."""
    import difflib

    a = [t.text for t in later]
    b = [t.text for t in earlier]
    loose: List[Tuple[str, int, int, int, int]] = []
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace":
            if near_miss("".join(a[a0:a1]), "".join(b[b0:b1]), share):
                continue
            a0, a1, b0, b1 = _trim_near_misses(a, b, a0, a1, b0, b1, share)
        if a1 > a0 or b1 > b0:
            loose.append((tag, a0, a1, b0, b1))
    moved = _moved(a, b, loose, share)
    n_later = n_earlier = names = numbers = 0
    for k, (tag, a0, a1, b0, b1) in enumerate(loose):
        if k in moved:
            continue
        n_later += a1 - a0
        n_earlier += b1 - b0
        if a1 > a0 and b1 > b0:
            names += any(t.name for t in later[a0:a1]) and any(t.name for t in earlier[b0:b1])
            numbers += any(t.number for t in later[a0:a1]) and any(t.number for t in earlier[b0:b1])
    return Differences(n_later, n_earlier, len(a), len(b), names, numbers)


def _trim_near_misses(a: Sequence[str], b: Sequence[str], a0: int, a1: int, b0: int, b1: int,
                      share: float) -> Tuple[int, int, int, int]:
    """A replaced region minus its near-miss tokens paired from both ends (typos next to a changed
    word: ``hlock devicc`` for ``block device``)."""
    while a0 < a1 and b0 < b1 and near_miss(a[a0], b[b0], share):
        a0, b0 = a0 + 1, b0 + 1
    while a0 < a1 and b0 < b1 and near_miss(a[a1 - 1], b[b1 - 1], share):
        a1, b1 = a1 - 1, b1 - 1
    return a0, a1, b0, b1


def _moved(a: Sequence[str], b: Sequence[str], loose: List[Tuple[str, int, int, int, int]], share: float) -> Set[int]:
    """Regions that are moved text: a run of >= 3 tokens of one side's region that reappears as a
    near miss of (or inside) another region's run on the other side; both regions count as moved."""
    moved: Set[int] = set()
    for k, (_, a0, a1, _b0, _b1) in enumerate(loose):
        if k in moved or a1 - a0 < 3:
            continue
        run = "".join(a[a0:a1])
        for m, (_, _a0, _a1, b0, b1) in enumerate(loose):
            if m == k or m in moved or b1 - b0 < 3:
                continue
            other = "".join(b[b0:b1])
            if near_miss(run, other, share) or run in other or other in run:
                moved.update((k, m))
                break
    return moved


# -- rules -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """When a later unit goes: near (Jaccard) or contained (inside one earlier unit)."""
    name: str
    near: Optional[Representation] = WORD5
    threshold: float = 0.8
    contained: Optional[Representation] = None
    containment: float = 0.9
    min_contained_tokens: int = 0
    min_length_ratio: float = 0.0  # contained: later tokens / earlier tokens at least this
    min_tokens: int = 8  # dedup's: shorter units are never removed on their own
    verify_near: Optional[float] = None  # max Differences.symmetric (None: no verification)
    verify_contained: Optional[float] = None  # max Differences.added
    keep_name_changes: bool = False  # verified pairs with a name replaced by a name stay apart
    keep_number_changes: bool = False  # ... with a number replaced by a number
    verify_steps: Tuple[str, ...] = ("dehyphen", "punctuation")
    near_miss_share: float = 0.34
    also: Tuple["Rule", ...] = ()  # more rules: a unit any of them removes goes

    def describe(self) -> str:
        parts = []
        ident = (", no name changed" if self.keep_name_changes else "") + \
            (", no number changed" if self.keep_number_changes else "")
        if self.near is not None:
            v = f", verified: unexplained <= {self.verify_near:g}{ident}" if self.verify_near is not None else ""
            parts.append(f"near: {self.near} J >= {self.threshold:g}{v}")
        if self.contained is not None:
            v = f", verified: added <= {self.verify_contained:g}{ident}" if self.verify_contained is not None else ""
            ratio = f", >= {self.min_length_ratio:g} of the earlier's length" if self.min_length_ratio else ""
            parts.append(f"contained: {self.contained} C >= {self.containment:g}, "
                         f">= {self.min_contained_tokens} tokens{ratio}{v}")
        if self.min_tokens != 8:
            parts.append(f"only units of >= {self.min_tokens} tokens")
        parts += [f"or {r.name}: {r.describe()}" for r in self.also]
        return "; ".join(parts)


@dataclass
class Decision:
    removed: np.ndarray
    reason: Dict[int, Tuple[str, int, float]] = field(default_factory=dict)  # unit -> (rule, earlier, value)


class Workspace:
    """Texts plus what rules over them share: shingle pairs per representation, tokens, alignments
    (so a sweep of rules over one stream computes each once)."""

    def __init__(self, texts: Sequence[str], rows: Optional[np.ndarray] = None) -> None:
        self.texts = list(texts)
        self.rows = rows
        self.n_tokens = np.array([len(tokens(t)) for t in self.texts])
        self._pairs: Dict[Representation, Pairs] = {}
        self._tokens: Dict[Tuple[int, Tuple[str, ...]], List[Token]] = {}
        self._diffs: Dict[Tuple[int, int, Tuple[str, ...], float], Differences] = {}

    def pairs(self, rep: Representation) -> Pairs:
        if rep not in self._pairs:
            self._pairs[rep] = exact_pairs([rep.shingles(t) for t in self.texts], self.rows, min_share=0.4)
        return self._pairs[rep]

    def tokens(self, k: int, steps: Tuple[str, ...]) -> List[Token]:
        if (k, steps) not in self._tokens:
            self._tokens[k, steps] = written_tokens(self.texts[k], steps)
        return self._tokens[k, steps]

    def differences(self, i: int, j: int, steps: Tuple[str, ...], share: float) -> Differences:
        key = (i, j, steps, share)
        if key not in self._diffs:
            self._diffs[key] = differences(self.tokens(i, steps), self.tokens(j, steps), share)
        return self._diffs[key]


def decide(texts: "Sequence[str] | Workspace", rule: Rule) -> Decision:
    """Which units an earlier unit makes go under ``rule`` (exact: every pair sharing >= 40% of the
    smaller shingle set is looked at, so thresholds below 0.4 are not supported)."""
    ws = texts if isinstance(texts, Workspace) else Workspace(texts)
    n = len(ws.texts)
    removed = np.zeros(n, dtype=bool)
    reason: Dict[int, Tuple[str, int, float]] = {}
    checks = []
    if rule.near is not None:
        p = ws.pairs(rule.near)
        keep = p.jaccard >= rule.threshold
        checks.append(("near", p.i[keep], p.j[keep], p.jaccard[keep]))
    if rule.contained is not None:
        p = ws.pairs(rule.contained)
        keep = ((p.containment >= rule.containment) & (ws.n_tokens[p.i] >= rule.min_contained_tokens)
                & (ws.n_tokens[p.i] >= rule.min_length_ratio * ws.n_tokens[p.j]))
        checks.append(("contained", p.i[keep], p.j[keep], p.containment[keep]))
    for kind, ii, jj, vv in checks:
        order = np.lexsort((-vv, ii))  # per later unit, the most similar earlier unit first
        for i, j, v in zip(ii[order].tolist(), jj[order].tolist(), vv[order].tolist()):
            if removed[i] or ws.n_tokens[i] < rule.min_tokens:
                continue
            bar = rule.verify_near if kind == "near" else rule.verify_contained
            if bar is not None:
                d = ws.differences(i, j, rule.verify_steps, rule.near_miss_share)
                if (d.symmetric if kind == "near" else d.added) > bar:
                    continue
                if (rule.keep_name_changes and d.name_changes) or (rule.keep_number_changes and d.number_changes):
                    continue
            removed[i] = True
            reason[i] = (kind, j, v)
    for sub in rule.also:
        more = decide(ws, sub)
        for i in np.flatnonzero(more.removed & ~removed).tolist():
            kind, j, v = more.reason[i]
            reason[i] = (f"{sub.name}:{kind}", j, v)
        removed |= more.removed
    return Decision(removed, reason)


def lsh_probability(similarity: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Probability that a pair at this Jaccard shares a band (MinHash rows agree with prob. J)."""
    return 1.0 - (1.0 - np.asarray(similarity, dtype=float) ** rows) ** bands


# -- the rules measured in docs/noisy_research.md ---------------------------------------------------

DEHYPHEN = ("dehyphen",)
FOLDED = ("dehyphen", "punctuation")
FOLDED_DIGITS = ("dehyphen", "punctuation", "digits")

WORD5_DEHYPHEN = Representation("word", 5, DEHYPHEN)
CHAR5 = Representation("char", 5, FOLDED_DIGITS)

#: Recommended for the defaults (docs/noisy_research.md): word 5-grams of the de-hyphenated text at
#: 0.8, and the shortened-copy rule (>= 95% of the later unit's 5-grams inside one earlier unit, the
#: later unit >= 20 tokens and >= half the earlier one's).
DEFAULTS = Rule("defaults", WORD5_DEHYPHEN, contained=WORD5_DEHYPHEN, containment=0.95,
                min_contained_tokens=20, min_length_ratio=0.5)
#: Recommended for preset "noisy": the defaults, plus, for units of >= 30 tokens, character 5-grams
#: of the de-hyphenated, punctuation- and digit-folded text at Jaccard 0.5 or containment 0.7, both
#: confirmed by the alignment (<= 20% of all tokens unexplained / <= 10% of the later unit's, no name
#: replaced by a name).
NOISY = Rule("noisy", CHAR5, threshold=0.5, contained=CHAR5, containment=0.7, min_contained_tokens=20,
             min_length_ratio=0.5, min_tokens=30, verify_near=0.2, verify_contained=0.1,
             keep_name_changes=True, also=(DEFAULTS,))

RULES: Dict[str, Rule] = {r.name: r for r in [
    Rule("word5", WORD5),  # dedup's defaults as the data's labels define them (reference)
    Rule("word5-dehyphen", WORD5_DEHYPHEN),
    Rule("word5-folded", Representation("word", 5, FOLDED)),  # + apostrophes and in-word hyphens dropped
    DEFAULTS,
    Rule("defaults-strict", WORD5_DEHYPHEN, contained=WORD5_DEHYPHEN, containment=0.95, min_contained_tokens=20,
         min_length_ratio=0.5, also=(Rule("strict", Representation("char", 5, FOLDED), threshold=0.9,
                                          verify_near=0.05, keep_name_changes=True, keep_number_changes=True),)),
    Rule("issue-best", Representation("word", 2, ("punctuation", "digits")), threshold=0.5),  # the settings
    Rule("char5-unverified", CHAR5, threshold=0.5, contained=CHAR5, containment=0.7, min_contained_tokens=20),
    Rule("char5-verified", CHAR5, threshold=0.5, contained=CHAR5, containment=0.7, min_contained_tokens=20,
         verify_near=0.2, verify_contained=0.1),
    NOISY,
    dataclasses.replace(NOISY, name="noisy-loose", threshold=0.45, verify_near=0.25),
    dataclasses.replace(NOISY, name="noisy-strict", min_tokens=40),
]}

RULESETS: Dict[str, Callable[[List[str]], np.ndarray]] = {
    name: (lambda texts, rule=rule: decide(texts, rule).removed) for name, rule in RULES.items()
}


# -- the shared corpora: removals the labels call distinct ------------------------------------------

CORPORA = ("docs_debian_copyright.jsonl.gz", "docs_kjv_chapters.jsonl.gz", "apidocs")


@lru_cache(maxsize=None)
def corpus_units(name: str) -> Tuple[List[str], np.ndarray, np.ndarray]:
    """Paragraph texts in file order, ``is_repeat`` and ``n_tokens`` from the ground truth (for
    ``API_DOCS``, labels computed by the data's rule: benchmarks.corpus.label)."""
    if name == API_DOCS:
        from benchmarks.corpus import label

        texts = api_doc_paragraphs()
        return texts, label(texts), np.array([len(_WORD.findall(t.lower())) for t in texts])
    texts, repeat, n_tok = [], [], []
    for doc in read_docs(name):
        for m in doc["paragraphs"]:
            texts.append(doc["text"][m["start"]:m["end"]])
            repeat.append(m["is_repeat"])
            n_tok.append(m["n_tokens"])
    return texts, np.array(repeat, dtype=bool), np.array(n_tok)


#: Standard-library modules not imported for the API corpus (GUI, demos, tests, other platforms).
_SKIP_MODULES = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "test", "pydoc_data",
                 "ensurepip", "venv", "xxlimited", "msilib", "winreg", "winsound", "nt", "msvcrt"}
API_DOCS = "apidocs"


def api_doc_paragraphs() -> List[str]:
    """Docstring paragraphs (blank-line separated, >= 8 tokens) of the running Python's standard
    library and of numpy, public modules, classes, functions and methods in sorted order: API
    reference text, rich in look-alikes (setUp/tearDown, sum/nansum). Depends on the Python and
    numpy versions (docs/noisy_research.md names them)."""
    import contextlib
    import importlib
    import inspect
    import io
    import warnings

    seen: Set[int] = set()
    out: List[str] = []

    def walk(obj: object, depth: int) -> None:
        if id(obj) in seen or depth > 2:
            return
        seen.add(id(obj))
        doc = inspect.getdoc(obj)
        if doc:
            out.extend(p.strip() for p in re.split(r"\n\s*\n", doc) if len(_WORD.findall(p)) >= 8)
        if inspect.ismodule(obj) or inspect.isclass(obj):
            for key, value in sorted(vars(obj).items()):
                if key.startswith("_") or inspect.ismodule(value):
                    continue
                if not (inspect.isclass(value) or inspect.isroutine(value) or isinstance(value, property)):
                    continue
                if inspect.ismodule(obj) and getattr(value, "__module__", obj.__name__) != obj.__name__:
                    continue
                walk(value, depth + 1)

    names = sorted(m for m in sys.stdlib_module_names if not m.startswith("_") and m not in _SKIP_MODULES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names + ["numpy"]:
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    module = importlib.import_module(name)
            except Exception:  # a module this platform lacks
                continue
            walk(module, 0)
    return out


def corpus_workspace(name: str) -> Workspace:
    """The corpus's units, with only the scored ones the labels call not a repeat as later units (the
    removals a rule must not make)."""
    texts, repeat, n_tok = corpus_units(name)
    return Workspace(texts, np.flatnonzero(~repeat & (n_tok >= 8)))


def corpus_report(rule: Rule, name: str, show: int = 0, workspace: Optional[Workspace] = None) -> dict:
    """Removals among the scored paragraphs (>= 8 tokens) the labels call not a repeat, by the rule
    that made them; ``show`` prints that many with the earlier unit."""
    texts, repeat, n_tok = corpus_units(name)
    ws = workspace if workspace is not None else corpus_workspace(name)
    d = decide(ws, rule)
    false = np.flatnonzero(d.removed & ~repeat & (n_tok >= 8))
    by_kind: Dict[str, int] = {}
    for k in false:
        by_kind[d.reason[int(k)][0]] = by_kind.get(d.reason[int(k)][0], 0) + 1
    out = {"corpus": name, "rule": rule.name, "not_repeats": int((~repeat & (n_tok >= 8)).sum()),
           "not_repeat_removed": len(false), "by_rule": by_kind}
    for k in false[:show]:
        kind, j, v = d.reason[int(k)]
        print(f"--- {name} unit {k} removed ({kind} {v:.3f}) as a repeat of unit {j}:\n"
              f"  earlier: {texts[j][:400]!r}\n  later:   {texts[k][:400]!r}")
    return out


#: (num_perm, bands, rows) layouts compared by ``lsh_table``.
LAYOUTS = ((128, 21, 6), (128, 32, 4), (128, 42, 3), (128, 25, 5), (256, 64, 4), (256, 51, 5), (256, 42, 6),
           (512, 102, 5), (512, 85, 6))


def lsh_table(reps: Sequence[Representation], seed: int = 0) -> List[str]:
    """For each representation and layout: how often a copy in the noisy streams shares a band with
    its source (mean over the 19 conditions, and the worst), and how many candidates an unrelated
    original draws per 1M earlier units (from all pairs of the 2,937 prose originals)."""
    from benchmarks import noisy

    originals = noisy.load_originals()
    vocab = noisy.vocabulary_of(originals)
    streams = [noisy.make_stream(originals, c, seed, noisy.COPIES, vocab) for c in noisy.CONDITIONS]
    lines = []
    n_pairs = len(originals) * (len(originals) - 1) / 2
    for rep in reps:
        sets = [rep.shingles(t) for t in originals]
        background = exact_pairs(sets).jaccard
        copy_j = {s.condition: np.array([len(rep.shingles(s.texts[k]) & sets[s.source[k]]) /
                                         len(rep.shingles(s.texts[k]) | sets[s.source[k]])
                                         for k in np.flatnonzero(s.is_copy)]) for s in streams}
        lines.append(f"{rep}: {np.mean([len(x) for x in sets]):.0f} shingles a paragraph")
        for perms, b, r in LAYOUTS:
            per_million = lsh_probability(background, b, r).sum() / n_pairs * 1e6
            found = {c: float(lsh_probability(j, b, r).mean()) for c, j in copy_j.items()}
            worst = min(found, key=lambda c: found[c])
            lines.append(f"  {perms} perms, {b} x {r}: P(J=0.5) {lsh_probability(0.5, b, r):.3f}, "
                         f"copies found {100 * np.mean(list(found.values())):.1f}% (worst {worst} "
                         f"{100 * found[worst]:.1f}%), background candidates per 1M earlier units "
                         f"{per_million:,.0f}")
    return lines


def separation_table(reps: Sequence[Representation], seed: int = 0) -> List[str]:
    """For each representation: how similar distinct prose originals get (each original's highest
    Jaccard with an earlier one: 99.9th percentile and maximum over the 2,937) against how similar
    the noisy copies stay to their source (5th percentile of Jaccard and of containment, per
    condition; the three weakest shown)."""
    from benchmarks import noisy

    originals = noisy.load_originals()
    vocab = noisy.vocabulary_of(originals)
    streams = [noisy.make_stream(originals, c, seed, noisy.COPIES, vocab) for c in noisy.CONDITIONS]
    lines = []
    for rep in reps:
        sets = [rep.shingles(t) for t in originals]
        p = exact_pairs(sets)
        best = np.zeros(len(originals))
        np.maximum.at(best, p.i, p.jaccard)
        low_j, low_c = {}, {}
        for s in streams:
            js, cs = [], []
            for k in np.flatnonzero(s.is_copy):
                a, b = rep.shingles(s.texts[k]), sets[s.source[k]]
                js.append(len(a & b) / len(a | b))
                cs.append(len(a & b) / len(a))
            low_j[s.condition] = float(np.quantile(js, 0.05))
            low_c[s.condition] = float(np.quantile(cs, 0.05))
        weakest = sorted(low_j, key=lambda c: low_j[c])[:3]
        lines.append(f"{rep}: originals' closest earlier original J 99.9% {np.quantile(best, 0.999):.3f}, "
                     f"max {best.max():.3f}; copies' 5th-percentile J (containment) in the weakest conditions: "
                     + ", ".join(f"{c} {low_j[c]:.2f} ({low_c[c]:.2f})" for c in weakest))
    return lines


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.noisy_rules", description=__doc__.splitlines()[0])
    ap.add_argument("--rules", default="defaults,noisy", help=f"comma-separated: {', '.join(RULES)}")
    ap.add_argument("--corpora", action="store_true",
                    help=f"count removals of non-repeats on {', '.join(CORPORA)}")
    ap.add_argument("--show", type=int, default=0, help="print that many such removals per corpus")
    ap.add_argument("--lsh", action="store_true", help="compare LSH layouts on the noisy streams")
    ap.add_argument("--separation", action="store_true",
                    help="copies' similarity to their source against distinct originals', per shingle kind")
    args = ap.parse_args(argv)
    rules = [RULES[r.strip()] for r in args.rules.split(",") if r.strip()]
    for rule in rules:
        print(f"# {rule.name}: {rule.describe()}")
    if args.corpora:
        for name in CORPORA:
            ws = corpus_workspace(name)
            for rule in rules:
                print(json.dumps(corpus_report(rule, name, args.show, ws)), flush=True)
    if args.separation:
        reps = [Representation("word", 5), WORD5_DEHYPHEN, Representation("word", 5, FOLDED_DIGITS),
                Representation("word", 3, FOLDED_DIGITS), Representation("word", 2, FOLDED_DIGITS),
                Representation("word", 1, FOLDED_DIGITS)]
        reps += [Representation("char", n, FOLDED_DIGITS, joiner) for n in (3, 4, 5, 6, 7) for joiner in (" ", "")]
        print("\n".join(separation_table(reps)), flush=True)
    if args.lsh:
        print("\n".join(lsh_table([WORD5_DEHYPHEN, CHAR5, Representation("char", 7, FOLDED_DIGITS, joiner="")])))


if __name__ == "__main__":
    main()
