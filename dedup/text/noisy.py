"""The tokens the noisy-copy rules read (``DedupConfig.noisy_rules``), with the names among them.

A unit's noisy tokens: its text NFKC-normalized and case folded, a word hyphenated at a line end
joined (``lan-\\nguage``), ``- ' \u2019 . \u00b7`` between two word characters dropped (``don't`` ->
``dont``), tokens the runs of word characters (a character of a script written without spaces
is a token alone), digits as written. A token is a *name* when it is written with a capital
that does not start a sentence (``Joram``, not ``The`` after a full stop; not a month or
weekday) and a lower-case letter after it, or with a capital after a lower-case letter or digit
(``setUp``, ``IPv4Network``). The alignment that confirms a noisy copy
(:mod:`dedup.accel`) never explains a name replaced by another name.

The compiled engine computes the same tokens itself; it calls :func:`noisy_tokens` for a unit
holding a character its tables cannot fold alone. Tests compare the two.
"""

from __future__ import annotations

import unicodedata
from typing import List, Tuple

from dedup.chardata import engine_tables

_DATE_WORDS = frozenset(("january", "february", "march", "april", "may", "june", "july", "august", "september",
                         "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
                         "friday", "saturday", "sunday"))
_INNER_PUNCT = frozenset("-'\u2019.\u00b7")
_SENTENCE_END = frozenset(".!?:;")


def noisy_tokens(text: str, unspaced: str = "chars") -> Tuple[List[str], List[bool]]:
    """(tokens, name flags) of one unit's text, as the noisy rules read them."""
    t = _Text(text, unspaced)
    raw, folded, n = t.raw, t.folded, len(t.raw)
    tokens: List[str] = []
    names: List[bool] = []
    cur: List[str] = []
    ts = -1
    upper_first = has_lower = camel = False
    prev = ""
    i = 0
    while i <= n:
        k = 0
        c = f = ""
        if i < n:
            c, f = raw[i], folded[i]
            k = t.kind(f)
            skip_to = t.joined_at(i, ts)
            if skip_to:
                i = skip_to
                continue
        if k == 1:
            if ts < 0:
                ts, cur = i, []
                upper_first, has_lower, camel = t.upper(c, f), False, False
            elif "A" <= c <= "Z" and (("a" <= prev <= "z") or ("0" <= prev <= "9")):
                camel = True
            if t.lower_letter(c, f):
                has_lower = True
            cur.append(f)
            prev = c
            i += 1
            continue
        if ts >= 0:
            token = "".join(cur)
            tokens.append(token)
            names.append(camel or (upper_first and has_lower and token not in _DATE_WORDS and not t.sentence_start(ts)))
            ts = -1
        if k == 2:
            tokens.append(f)
            names.append(False)
        prev = c
        i += 1
    return tokens, names


class _Text:
    """One unit's text NFKC-normalized (``raw``) and folded character by character (``folded``),
    with the engine's character tables: what :func:`noisy_tokens` asks of each character."""

    def __init__(self, text: str, unspaced: str) -> None:
        _, self.word_t, self.space_t, self.digit_t = engine_tables(unspaced, True)
        self.raw = unicodedata.normalize("NFKC", text)
        self.folded = [c.casefold() for c in self.raw]

    def kind(self, f: str) -> int:
        """0: not a word character, 1: one, 2: a character of a script written without spaces."""
        word_t = self.word_t
        if len(f) != 1:
            return 1 if f and all(self._kind1(ch) for ch in f) else 0
        cp = ord(f)
        return int(word_t[cp]) if cp < len(word_t) else 0

    def _kind1(self, ch: str) -> bool:
        cp = ord(ch)
        return cp < len(self.word_t) and self.word_t[cp] == 1

    def is_space(self, c: str) -> bool:
        cp = ord(c)
        return cp < len(self.space_t) and bool(self.space_t[cp])

    def is_digit(self, f: str) -> bool:
        cp = ord(f) if len(f) == 1 else -1
        digit_t = self.digit_t
        return 0 <= cp and (ord("0") <= cp <= ord("9") if cp < 128 else cp < len(digit_t) and bool(digit_t[cp]))

    def upper(self, c: str, f: str) -> bool:
        return f != c and len(f) == 1 and self.kind(f) == 1 and not self.is_digit(f) and f != "_"

    def lower_letter(self, c: str, f: str) -> bool:
        return f == c and self.kind(f) == 1 and not self.is_digit(f) and f != "_"

    def joined_at(self, i: int, ts: int) -> int:
        """Where reading goes on when the character at ``i`` joins two parts of one token (a
        hyphen at a line end, or inner punctuation inside a token begun at ``ts``); 0: it does not."""
        folded, n = self.folded, len(self.raw)
        f = folded[i]
        if f == "-" and 0 < i and i + 1 < n:
            nxt = self.dehyphen_end(i, n)
            if nxt:
                return nxt
        if ts >= 0 and i + 1 < n and f in _INNER_PUNCT and self.kind(f) == 0 and self.kind(folded[i + 1]):
            return i + 1
        return 0

    def dehyphen_end(self, i: int, n: int) -> int:
        folded, raw = self.folded, self.raw
        if self.kind(folded[i - 1]) == 0:
            return 0
        j, breaks = i + 1, False
        while j < n:
            f = folded[j]
            if f in (" ", "\t"):
                j += 1
                continue
            if breaks or f not in ("\n", "\r"):
                break
            breaks = True
            if f == "\r" and j + 1 < n and raw[j + 1] == "\n":
                j += 1
            j += 1
        return j if breaks and j < n and self.kind(folded[j]) else 0

    def sentence_start(self, ts: int) -> bool:
        raw = self.raw
        i, spaces = ts, False
        while i > 0 and self.is_space(raw[i - 1]):
            if raw[i - 1] in "\n\r":
                return True
            spaces = True
            i -= 1
        return i == 0 or (spaces and raw[i - 1] in _SENTENCE_END)
