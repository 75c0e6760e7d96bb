#!/usr/bin/env python3
"""Noisy copies: recall of copies and false removals of originals, per condition (issue 24).

    python -m benchmarks.noisy                                   # dedup defaults, datasketch, rensa
    python -m benchmarks.noisy --systems dedup --conditions typos-1,reprint
    python -m benchmarks.noisy --dedup threshold=0.5,ngram=2,normalization=nfkc_casefold+digits+punctuation
    python -m benchmarks.noisy --dedup preset=noisy --json noisy.json

The originals are the 2,937 distinct real prose paragraphs of
``../shared/data/prose_paragraphs.jsonl.gz`` (40-200 words; no two share a word-5-gram
Jaccard >= 0.5). For each of the 19 conditions below, 400 originals (drawn from those the
family applies to) get one noisy copy each, and each copy is inserted at a uniformly drawn
point after its source in a stream of all the originals in file order (2,937 + 400 units).
Every unit is one record ending in a blank line, so dedup sees it as one paragraph whatever
line breaks a copy has; the peers get the same unit strings. Everything is drawn from
``random.Random("noisy:SEED:CONDITION")``: the same seed gives the same streams.

Families (as issue 24's held-out set makes them):

* ``typos-1/3/5``: each non-space character changed with that probability (a binomial count
  of edits at distinct places), each edit ~55% an OCR confusion (rn/m, cl/d, l/1, I/l, e/c, h/b, O/0, ...),
  ~25% a dropped character, ~10% a stray mark inserted, ~10% a random letter.
* ``words-5/10/20``: each word (``\\w+`` run) with that probability deleted, inserted after, or
  replaced (a third each), new words drawn from the originals' running text.
* ``rewrap-60``: hard line breaks, greedy fill to 60 characters; ``rewrap-32-hyphen``: 32
  characters, a word of >= 7 letters that does not fit is split with a hyphen at the line end,
  >= 3 letters before the break and >= 3 after (``langu-\\nage``; ~2.7 breaks a paragraph).
* ``format-1``: first sentence upper-cased, doubled spaces (after every sentence, and 15% of
  the others), curly quotes and apostrophes; ``format-2``: that, then apostrophes and in-word
  hyphens dropped and commas removed.
* ``boiler-before/after/both``: a short line before (Advertisement, "(AP) --", a dateline)
  and/or after (Share this:, a byline, a copyright line), in the same paragraph.
* ``trunc-90/75``: the text up to the end of its first 90% / 75% of the words (rounded).
* ``numbers-one/every``: one / every number (digit run), month and weekday name changed
  (only originals that have one: 1,011 of 2,937).
* ``swap``: two adjacent sentences swapped (originals with >= 2 sentences).
* ``reprint``: the first 80% of the words, re-wrapped to 32 hyphenated, a byline line
  before, then 2% typos over the whole column (OCR of the printed page).

Scoring: a copy is found when the system removes it (for dedup: removed spans cover at
least half of its characters); a false removal is an original removed. Per condition:
recall of the 400 copies and the originals removed (count and share of 2,937); the mean
row averages over the conditions run. Throughput is all units of all conditions run over
the CPU seconds of the system's calls (``time.process_time``, after a warm-up run, dedup's
compiled kernels from the first call), in the same process as the peers.

Systems: ``dedup`` (defaults), each ``--dedup KEY=VALUE,...`` (a ``Deduplicator`` built with
those settings, e.g. ``preset=noisy``), ``datasketch`` and ``rensa`` as in
``benchmarks/systems.py`` (word 5-gram shingles of ``\\w+`` in ``text.lower()``, 128
permutations, threshold 0.8; datasketch ``MinHash.bulk`` with xxh32 + ``MinHashLSH``, rensa
``RMinHashDeduplicator``), and the research prototypes of ``benchmarks/noisy_rules.py``
(``proto-NAME``; pure Python, their throughput says nothing about an engine).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from benchmarks._common import DATA, read_docs

PROSE = DATA / "prose_paragraphs.jsonl.gz"
COPIES = 400

_WORD = re.compile(r"\w+")
_TOKEN_OR_GAP = re.compile(r"(\w+)")
#: A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by space and
#: a capital, a digit or an opening quote/bracket.
_SENTENCE_GAP = re.compile(r"(?<=[.!?])([\"')\]]?\s+)(?=[A-Z0-9\"'(\[])")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER_OR_NAME = re.compile(r"\d+|\b(?:" + "|".join(MONTHS + WEEKDAYS) + r")\b")

# -- typos ---------------------------------------------------------------------------------

#: OCR confusions: what a scanner reads for a character (or a pair of them).
OCR_CONFUSIONS = {
    "rn": "m", "cl": "d", "m": "rn", "d": "cl", "w": "vv", "l": "1", "1": "l", "I": "l", "i": "l",
    "e": "c", "c": "e", "h": "b", "b": "h", "O": "0", "0": "O", "o": "0", "S": "5", "5": "S",
    "B": "8", "8": "B", "g": "q", "q": "g", "u": "v", "v": "u", "n": "u", "t": "f", "f": "t",
    "a": "o", "s": "5", "E": "F", "F": "E", ",": ".", ".": ",",
}
STRAY_MARKS = ".,'`;:-~^"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _binomial(n: int, p: float, rng: random.Random) -> int:
    """How many of ``n`` items an edit hits when each is hit with probability ``p`` (so a short
    text may get none, as a real copy may)."""
    return sum(rng.random() < p for _ in range(n))


def _ocr_at(text: str, i: int) -> Optional[str]:
    """The confusion that applies at ``i`` (two-character ones first), or None."""
    if text[i:i + 2] in OCR_CONFUSIONS:
        return text[i:i + 2]
    return text[i] if text[i] in OCR_CONFUSIONS else None


def typos(text: str, share: float, rng: random.Random) -> str:
    """Each non-space character changed with probability ``share`` (at distinct, non-adjacent
    places): ~55% OCR confusions, ~25% dropped, ~10% a stray mark inserted after, ~10% replaced
    by a random letter."""
    slots = [i for i, c in enumerate(text) if not c.isspace()]
    ocr_slots = [i for i in slots if _ocr_at(text, i)]
    edits: Dict[int, str] = {}  # position -> what replaces text[i:i + width]
    widths: Dict[int, int] = {}
    for _ in range(_binomial(len(slots), share, rng)):
        draw = rng.random()
        kind = "ocr" if draw < 0.55 else "drop" if draw < 0.80 else "mark" if draw < 0.90 else "letter"
        pool = ocr_slots if kind == "ocr" and ocr_slots else slots
        for _attempt in range(50):
            i = rng.choice(pool)
            if i not in edits and i - 1 not in edits and i + 1 not in edits:
                break
        else:
            continue
        if kind == "ocr":
            src = _ocr_at(text, i) or text[i]
            edits[i], widths[i] = OCR_CONFUSIONS.get(src, rng.choice(LETTERS)), len(src)
        elif kind == "drop":
            edits[i], widths[i] = "", 1
        elif kind == "mark":
            edits[i], widths[i] = text[i] + rng.choice(STRAY_MARKS), 1
        else:
            edits[i], widths[i] = rng.choice([c for c in LETTERS if c != text[i].lower()]), 1
    out, at = [], 0
    for i in sorted(edits):
        out.append(text[at:i])
        out.append(edits[i])
        at = i + widths[i]
    out.append(text[at:])
    return "".join(out)


# -- word edits ----------------------------------------------------------------------------

def word_edits(text: str, share: float, rng: random.Random, vocabulary: Sequence[str]) -> str:
    """Each word, with probability ``share``, deleted, followed by an inserted word, or replaced
    (a third each); new words come from ``vocabulary`` (running text: frequent words often)."""
    parts = _TOKEN_OR_GAP.split(text)  # gap, word, gap, word, ..., gap
    n_words = len(parts) // 2
    k = _binomial(n_words, share, rng)
    for w in rng.sample(range(n_words), k):
        i = 2 * w + 1
        op = rng.randrange(3)
        new = rng.choice(vocabulary)
        if op == 0:
            parts[i] = ""
            if parts[i + 1] == " " and (i == 1 or parts[i - 1].endswith(" ")):  # no double space left
                parts[i + 1] = ""
        elif op == 1:
            parts[i] = f"{parts[i]} {new}"
        else:
            while new == parts[i] and len(set(vocabulary[:50])) > 1:
                new = rng.choice(vocabulary)
            parts[i] = new
    return "".join(parts)


# -- re-wrap -------------------------------------------------------------------------------

_SPLITTABLE = re.compile(r"^([A-Za-z]+)([^A-Za-z]*)$")


def rewrap(text: str, width: int, hyphenate: bool = False) -> str:
    """Hard line breaks, greedy fill to ``width`` characters. With ``hyphenate``, a word that does
    not fit is split with a hyphen at the line end when it has >= 7 letters, >= 3 of them fit on
    the line and >= 3 go to the next."""
    lines: List[str] = []
    line = ""
    for word in text.split():
        while True:
            if not line:
                line = word
                break
            if len(line) + 1 + len(word) <= width:
                line += " " + word
                break
            room = width - len(line) - 2  # a space and the hyphen
            m = _SPLITTABLE.match(word) if hyphenate else None
            if m and room >= 3 and len(m.group(1)) >= 7:
                head = min(room, len(m.group(1)) - 3)
                lines.append(f"{line} {word[:head]}-")
                line, word = "", word[head:]
                continue
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return "\n".join(lines)


# -- format --------------------------------------------------------------------------------

def sentences(text: str) -> List[str]:
    """``text`` cut at sentence gaps: sentence, gap, sentence, ... (joins back to ``text``)."""
    return _SENTENCE_GAP.split(text)


def reformat(text: str, level: int, rng: random.Random) -> str:
    """Level 1: first sentence upper-cased, doubled spaces, curly quotes and apostrophes.
    Level 2: that, then apostrophes and in-word hyphens dropped and commas removed."""
    parts = sentences(text)
    parts[0] = parts[0].upper()
    for j in range(1, len(parts), 2):
        parts[j] = parts[j].replace(" ", "  ")
    for j in range(0, len(parts), 2):
        parts[j] = re.sub(" ", lambda m: "  " if rng.random() < 0.15 else " ", parts[j])
    out = "".join(parts)
    quotes = iter(["\u201c", "\u201d"] * len(out))
    out = re.sub('"', lambda m: next(quotes), out)
    out = re.sub(r"(?<=\w)'|'(?=\w)", "\u2019", out)
    out = re.sub(r"'", "\u2018", out)
    if level >= 2:
        out = re.sub(r"(?<=\w)[\u2019'](?=\w)", "", out)
        out = re.sub(r"(?<=\w)-(?=\w)", "", out)
        out = out.replace(",", "")
    return out


# -- boilerplate ---------------------------------------------------------------------------

CITIES = ("WASHINGTON", "LONDON", "NEW YORK", "PARIS", "BERLIN", "TOKYO", "CHICAGO", "SYDNEY")
NAMES = ("Maria Lopez", "John Carter", "Anna Schmidt", "David Chen", "Sarah O'Neill", "Peter Novak",
         "Emily Brown", "Kenji Sato")
OUTLETS = ("The Associated Press", "Reuters", "The Daily Courier", "Example Media Group", "Herald Tribune")


def _dateline(rng: random.Random) -> str:
    return f"{rng.choice(CITIES)}, {rng.choice(MONTHS)} {rng.randint(1, 28)} --"


def boilerplate_line(where: str, rng: random.Random) -> str:
    """A short line as sites put before (``where="before"``) or after a story."""
    if where == "before":
        choice = rng.randrange(4)
        return ("Advertisement", "(AP) --", f"{rng.choice(CITIES)} (AP) --", _dateline(rng))[choice]
    choice = rng.randrange(4)
    if choice == 0:
        return rng.choice(("Share this:", "Share this: Facebook Twitter Email"))
    if choice == 1:
        return f"By {rng.choice(NAMES)}" + rng.choice(("", ", Staff Writer", " | Reporter"))
    if choice == 2:
        return f"\u00a9 {rng.randint(1995, 2024)} {rng.choice(OUTLETS)}. All rights reserved."
    return f"Copyright {rng.randint(1995, 2024)} {rng.choice(OUTLETS)}"


def boilerplate(text: str, where: str, rng: random.Random) -> str:
    """A boilerplate line before, after or both (``where``), in the same paragraph."""
    before = boilerplate_line("before", rng) + "\n" if where in ("before", "both") else ""
    after = "\n" + boilerplate_line("after", rng) if where in ("after", "both") else ""
    return before + text + after


# -- truncation, numbers, swaps, reprints ---------------------------------------------------

def truncate(text: str, share: float) -> str:
    """The text up to the end of its first ``round(share * words)`` words (at least one)."""
    ends = [m.end() for m in _WORD.finditer(text)]
    if not ends:
        return text
    keep = max(1, round(share * len(ends)))
    return text[:ends[keep - 1]]


def _other(choices: Sequence[str], current: str, rng: random.Random) -> str:
    return rng.choice([c for c in choices if c != current])


def _changed(token: str, rng: random.Random) -> str:
    if token in MONTHS:
        return _other(MONTHS, token, rng)
    if token in WEEKDAYS:
        return _other(WEEKDAYS, token, rng)
    while True:  # a different number with as many digits
        new = str(rng.randrange(10 ** (len(token) - 1) if len(token) > 1 else 0, 10 ** len(token)))
        if new != token:
            return new


def has_numbers(text: str) -> bool:
    return _NUMBER_OR_NAME.search(text) is not None


def change_numbers(text: str, every: bool, rng: random.Random) -> str:
    """One (``every=False``) or every number (digit run), month and weekday name changed."""
    matches = list(_NUMBER_OR_NAME.finditer(text))
    if not matches:
        return text
    chosen = matches if every else [rng.choice(matches)]
    out, at = [], 0
    for m in chosen:
        out += [text[at:m.start()], _changed(m.group(0), rng)]
        at = m.end()
    return "".join(out) + text[at:]


def has_two_sentences(text: str) -> bool:
    return len(sentences(text)) >= 3


def swap_sentences(text: str, rng: random.Random) -> str:
    """Two adjacent sentences swapped (each keeps the gap that followed it)."""
    parts = sentences(text)
    n = (len(parts) + 1) // 2
    if n < 2:
        return text
    i = 2 * rng.randrange(n - 1)
    parts[i], parts[i + 2] = parts[i + 2], parts[i]
    return "".join(parts)


def reprint(text: str, rng: random.Random) -> str:
    """A newspaper reprint: first 80% of the words, a 32-wide hyphenated column, a byline line
    before, then 2% typos over the page."""
    column = rewrap(truncate(text, 0.8), 32, hyphenate=True)
    return typos(f"By {rng.choice(NAMES).upper()}\n{column}", 0.02, rng)


# -- conditions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    name: str
    family: str
    level: str
    make: Callable[[str, random.Random, Sequence[str]], str]
    applies: Callable[[str], bool] = lambda text: True


def _conditions() -> Dict[str, Condition]:
    c = [
        *(Condition(f"typos-{p}", "OCR-like typos", f"{p}% of characters",
                    lambda t, r, v, p=p: typos(t, p / 100, r)) for p in (1, 3, 5)),
        *(Condition(f"words-{p}", "word edits", f"{p}% of words",
                    lambda t, r, v, p=p: word_edits(t, p / 100, r, v)) for p in (5, 10, 20)),
        Condition("rewrap-60", "re-wrapped", "width 60", lambda t, r, v: rewrap(t, 60)),
        Condition("rewrap-32-hyphen", "re-wrapped", "width 32, hyphenated",
                  lambda t, r, v: rewrap(t, 32, hyphenate=True)),
        Condition("format-1", "format", "case, spaces, quotes", lambda t, r, v: reformat(t, 1, r)),
        Condition("format-2", "format", "+ apostrophes, hyphens, commas dropped",
                  lambda t, r, v: reformat(t, 2, r)),
        *(Condition(f"boiler-{w}", "boilerplate", w, lambda t, r, v, w=w: boilerplate(t, w, r))
          for w in ("before", "after", "both")),
        *(Condition(f"trunc-{p}", "truncated", f"first {p}% of words",
                    lambda t, r, v, p=p: truncate(t, p / 100)) for p in (90, 75)),
        Condition("numbers-one", "numbers", "one changed", lambda t, r, v: change_numbers(t, False, r),
                  has_numbers),
        Condition("numbers-every", "numbers", "every one changed", lambda t, r, v: change_numbers(t, True, r),
                  has_numbers),
        Condition("swap", "sentences", "two adjacent swapped", lambda t, r, v: swap_sentences(t, r),
                  has_two_sentences),
        Condition("reprint", "newspaper reprint", "2% typos + 32 hyphenated + byline + first 80%",
                  lambda t, r, v: reprint(t, r)),
    ]
    return {x.name: x for x in c}


CONDITIONS = _conditions()


def vocabulary_of(originals: Sequence[str]) -> List[str]:
    """Every word of the originals in running order (draws are frequency-weighted)."""
    return [w for t in originals for w in _WORD.findall(t)]


@dataclass
class Stream:
    """One condition's stream: unit texts in order, which are copies, and each copy's source."""
    condition: str
    texts: List[str]
    is_copy: np.ndarray
    source: np.ndarray  # index into the originals (-1 for an original)


def make_stream(originals: Sequence[str], condition: str, seed: int = 0, copies: int = COPIES,
                vocabulary: Optional[Sequence[str]] = None) -> Stream:
    """All ``originals`` in order, plus one copy of each of ``copies`` originals drawn among those
    the family applies to, each inserted at a uniform point after its source."""
    cond = CONDITIONS[condition]
    rng = random.Random(f"noisy:{seed}:{condition}")
    vocab = vocabulary if vocabulary is not None else vocabulary_of(originals)
    eligible = [i for i, t in enumerate(originals) if cond.applies(t)]
    if len(eligible) < copies:
        raise ValueError(f"{condition}: only {len(eligible)} originals fit the family, {copies} copies asked")
    n = len(originals)
    before: Dict[int, List[tuple]] = {}  # stream slot (before original k; n = the end) -> (source, copy)
    for src in rng.sample(eligible, copies):
        copy = cond.make(originals[src], rng, vocab)
        before.setdefault(rng.randint(src + 1, n), []).append((src, copy))
    texts: List[str] = []
    is_copy: List[bool] = []
    source: List[int] = []
    for k in range(n + 1):
        for src, copy in before.get(k, []):
            texts.append(copy)
            is_copy.append(True)
            source.append(src)
        if k < n:
            texts.append(originals[k])
            is_copy.append(False)
            source.append(-1)
    return Stream(condition, texts, np.array(is_copy, dtype=bool), np.array(source, dtype=np.int64))


def load_originals(path: Path = PROSE) -> List[str]:
    if not path.exists():
        raise SystemExit(f"benchmarks.noisy: needs {path} (the shared evaluation corpora beside the clone)")
    return [d["text"] for d in read_docs(path)]


# -- systems -------------------------------------------------------------------------------
# A system is ``run(texts) -> raw`` (timed) and ``removed(raw, texts) -> bool per unit`` (not timed).

def parse_settings(spec: str) -> Dict[str, object]:
    """``"threshold=0.5,ngram=2,preset=noisy"`` -> keyword arguments (numbers and booleans parsed)."""
    out: Dict[str, object] = {}
    for item in filter(None, (x.strip() for x in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"dedup setting {item!r} is not KEY=VALUE")
        lowered = value.strip().lower()
        parsed: object = value.strip()
        if lowered in ("true", "false"):
            parsed = lowered == "true"
        else:
            for kind in (int, float):
                try:
                    parsed = kind(value)
                    break
                except ValueError:
                    pass
        out[key.strip()] = parsed
    return out


def run_dedup(settings: Dict[str, object]) -> Callable[[Sequence[str]], list]:
    """A ``Deduplicator(**settings)`` (corpus scope) over the units, one record each (the unit and a
    blank line: one paragraph whatever its line breaks); the removed spans per record."""
    def run(texts: Sequence[str]) -> list:
        import dedup

        d = dedup.Deduplicator(**settings)
        records = [t + "\n\n" for t in texts]
        return [[(r.start, r.end) for r in res.removed]
                for res in d.iter_dedupe(records, [f"u{i}" for i in range(len(records))])]
    return run


def dedup_removed(raw: list, texts: Sequence[str]) -> np.ndarray:
    """A unit is removed when removed spans cover at least half of its characters."""
    return np.array([2 * sum(max(0, min(len(t), b) - max(0, a)) for a, b in spans) >= len(t)
                     for spans, t in zip(raw, texts)], dtype=bool)


def _peer(name: str) -> Callable[[Sequence[str]], np.ndarray]:
    def run(texts: Sequence[str]) -> np.ndarray:
        from benchmarks.systems import SYSTEMS

        return SYSTEMS[name]([], list(texts))
    return run


def _prototype(name: str) -> Callable[[Sequence[str]], np.ndarray]:
    def run(texts: Sequence[str]) -> np.ndarray:
        from benchmarks import noisy_rules

        return noisy_rules.RULESETS[name](list(texts))
    return run


@dataclass(frozen=True)
class System:
    name: str
    run: Callable[[Sequence[str]], object]
    removed: Callable[[object, Sequence[str]], np.ndarray] = lambda raw, texts: np.asarray(raw, dtype=bool)


def make_systems(names: Sequence[str], dedup_settings: Sequence[str]) -> List[System]:
    out = []
    for name in names:
        if name == "dedup":
            out.append(System("dedup", run_dedup({}), dedup_removed))
        elif name in ("datasketch", "rensa"):
            out.append(System(name, _peer(name)))
        elif name.startswith("proto-"):
            from benchmarks import noisy_rules

            if name[len("proto-"):] not in noisy_rules.RULESETS:
                raise ValueError(f"unknown prototype {name!r}: choose from "
                                 f"{', '.join('proto-' + k for k in noisy_rules.RULESETS)}")
            out.append(System(name, _prototype(name[len("proto-"):])))
        else:
            raise ValueError(f"unknown system {name!r}: dedup, datasketch, rensa or proto-NAME")
    for spec in dedup_settings:
        settings = parse_settings(spec)
        import dedup

        try:
            dedup.Deduplicator(**settings)  # bad settings fail here, before any stream is made
        except (dedup.ConfigError, TypeError) as exc:
            raise ValueError(f"--dedup {spec}: {exc}") from None
        out.append(System(f"dedup[{spec}]", run_dedup(settings), dedup_removed))
    return out


# -- the run ------------------------------------------------------------------------------

def score(stream: Stream, removed: np.ndarray) -> dict:
    copies = int(stream.is_copy.sum())
    originals = len(stream.texts) - copies
    found = int(removed[stream.is_copy].sum())
    false = int(removed[~stream.is_copy].sum())
    return {"copies": copies, "found": found, "recall": found / copies,
            "originals": originals, "false_removals": false, "false_share": false / originals}


def run_benchmark(systems: Sequence[System], conditions: Sequence[str], seed: int = 0,
                  copies: int = COPIES, originals: Optional[Sequence[str]] = None) -> dict:
    originals = list(originals) if originals is not None else load_originals()
    vocab = vocabulary_of(originals)
    t0 = time.perf_counter()
    streams = [make_stream(originals, c, seed, copies, vocab) for c in conditions]
    generated = time.perf_counter() - t0
    warm = streams[0].texts[:300]
    for system in systems:  # imports, compiled kernels
        system.removed(system.run(warm), warm)
    result: dict = {"seed": seed, "copies": copies, "originals": len(originals), "conditions": list(conditions),
                    "generation_seconds": generated, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "systems": {}}
    for system in systems:
        rows, cpu, units = {}, 0.0, 0
        for stream in streams:
            gc.collect()
            c0 = time.process_time()
            raw = system.run(stream.texts)
            cpu += time.process_time() - c0
            units += len(stream.texts)
            rows[stream.condition] = score(stream, system.removed(raw, stream.texts))
        result["systems"][system.name] = {
            "conditions": rows,
            "mean_recall": float(np.mean([r["recall"] for r in rows.values()])),
            "mean_false_share": float(np.mean([r["false_share"] for r in rows.values()])),
            "false_removals": sum(r["false_removals"] for r in rows.values()),
            "cpu_seconds": cpu, "units": units, "paragraphs_per_s": units / cpu if cpu else float("inf"),
        }
    return result


def table(result: dict) -> str:
    names = list(result["systems"])
    lines = [f"noisy copies: {result['copies']} per condition into {result['originals']:,} originals, "
             f"seed {result['seed']}; cells: recall % (originals removed)",
             "| condition | family, level | " + " | ".join(names) + " |",
             "|---|---|" + "---:|" * len(names)]
    for cond in result["conditions"]:
        c = CONDITIONS[cond]
        cells = []
        for name in names:
            r = result["systems"][name]["conditions"][cond]
            cells.append(f"{100 * r['recall']:.1f} ({r['false_removals']})")
        lines.append(f"| {cond} | {c.family}, {c.level} | " + " | ".join(cells) + " |")
    mean = [f"**{100 * s['mean_recall']:.1f}** ({100 * s['mean_false_share']:.3f}% of originals)"
            for s in result["systems"].values()]
    lines.append(f"| mean of {len(result['conditions'])} | | " + " | ".join(mean) + " |")
    speed = [f"{s['paragraphs_per_s']:,.0f}" for s in result["systems"].values()]
    lines.append("| throughput | paragraphs/s (CPU), same run | " + " | ".join(speed) + " |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.noisy", description=__doc__.splitlines()[0])
    ap.add_argument("--systems", default="dedup,datasketch,rensa",
                    help="comma-separated: dedup, datasketch, rensa, proto-NAME (benchmarks/noisy_rules.py)")
    ap.add_argument("--dedup", action="append", default=[], metavar="KEY=VALUE,...",
                    help="also run a Deduplicator with these settings (repeatable), e.g. preset=noisy")
    ap.add_argument("--conditions", default=",".join(CONDITIONS),
                    help=f"comma-separated subset of: {', '.join(CONDITIONS)}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--copies", type=int, default=COPIES, help="copies per condition")
    ap.add_argument("--json", type=Path, help="write the results as JSON to this file")
    args = ap.parse_args(argv)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        ap.error(f"unknown condition(s) {', '.join(unknown)}: choose from {', '.join(CONDITIONS)}")
    os.environ.setdefault("DEDUP_JIT", "1")  # steady state: the compiled kernels from the first call
    try:
        systems = make_systems([s.strip() for s in args.systems.split(",") if s.strip()], args.dedup)
    except ValueError as exc:
        ap.error(str(exc))
    result = run_benchmark(systems, conditions, args.seed, args.copies)
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
