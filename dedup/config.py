"""DedupConfig: every setting of the contract, frozen and validated in one place."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Literal, Optional

from dedup.errors import ConfigError
from dedup.fingerprint.lsh import LshLayout, choose_layout
from dedup.text.settings import DEFAULT_NORMALIZATION, TextSettings
from dedup.text.split import tokenizer_of

Scope = Literal["document", "corpus"]

#: Bump when the fingerprinting pipeline changes in a way that changes hashes.
FINGERPRINT_VERSION = 1


#: The settings that take one of a few strings, and those strings.
_CHOICES = {
    "unspaced_scripts": ("chars", "words"),
    "granularity": ("paragraph", "sentence", "line", "document"),
    "scope": ("document", "corpus"),
}
#: The bases of ``normalization`` and the steps that may follow them (``"nfkc_casefold+digits"``).
NORMALIZATION_BASES = ("nfkc_casefold", "none")
NORMALIZATION_STEPS = ("dehyphenate", "digits", "accents", "punctuation")


@dataclass(frozen=True)
class NoisyRules:
    """Rules for copies that came back noisy (OCR typos, re-typed words, dropped apostrophes,
    changed dates, swapped sentences), for units of at least ``min_tokens`` tokens, on top of
    the word rules. Measured in ``docs/detection.md``; ``preset="noisy"`` turns them on.

    A unit's *character* shingles: its tokens (NFKC, case folded, line-end hyphens joined,
    apostrophes and in-word hyphens dropped, every digit run one ``0``) joined by one space, cut
    into ``ngram``-character pieces. A later unit is a noisy copy of an earlier one (an LSH
    candidate of ``num_perm`` permutations in ``bands`` x ``rows``) when their character Jaccard
    reaches ``threshold`` (reason ``"noisy"``), or when ``containment`` of its character
    shingles lie in the earlier one and it is at least ``DedupConfig.containment_min_size`` of
    its length (``"noisy-contained"``), and an alignment of the two token sequences confirms
    it: after typos (near misses), split or merged words and moved runs are explained, at most
    ``max_unexplained`` of all tokens of both (``max_added`` of the later unit's, contained)
    are left unexplained, and (``keep_name_changes``) no name was replaced by another name (a
    name one edit away, or with two characters substituted in six or more, is a typo, not another).
    """

    ngram: int = 5
    threshold: float = 0.5
    containment: float = 0.7
    min_tokens: int = 30
    num_perm: int = 256
    bands: int = 51
    rows: int = 5
    max_unexplained: float = 0.2
    max_added: float = 0.1
    keep_name_changes: bool = True

    def __post_init__(self) -> None:
        _check_number("noisy_rules.ngram", self.ngram, int, low=1, high=64)
        _check_number("noisy_rules.threshold", self.threshold, float, low=0.0, low_open=True, high=1.0)
        _check_number("noisy_rules.containment", self.containment, float, low=0.0, low_open=True, high=1.0)
        _check_number("noisy_rules.min_tokens", self.min_tokens, int, low=1)
        _check_number("noisy_rules.num_perm", self.num_perm, int, low=2, high=1 << 16)
        _check_number("noisy_rules.bands", self.bands, int, low=1)
        _check_number("noisy_rules.rows", self.rows, int, low=1)
        if self.bands * self.rows > self.num_perm:
            raise ConfigError(f"noisy_rules: bands * rows must be <= num_perm: {self.bands} * {self.rows} "
                              f"> {self.num_perm}")
        _check_number("noisy_rules.max_unexplained", self.max_unexplained, float, low=0.0, high=1.0)
        _check_number("noisy_rules.max_added", self.max_added, float, low=0.0, high=1.0)
        if not isinstance(self.keep_name_changes, bool):
            raise ConfigError(f"noisy_rules.keep_name_changes must be True or False, got {self.keep_name_changes!r}")

    def settings(self) -> dict:
        """As an index stores them."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DedupConfig:
    """Settings of a deduplication run. Immutable; derive variants with :meth:`replace`.

    Attributes:
        threshold: Jaccard similarity of shingle sets at or above which two paragraphs are
            near-duplicates (0 < threshold <= 1).
        num_perm: MinHash permutations per signature.
        ngram: words per shingle; a paragraph with fewer tokens is one shingle.
        min_tokens: paragraphs with fewer tokens are never removed on their own, only
            inside a run of removed paragraphs.
        scope: ``"document"`` (repeats inside one document) or ``"corpus"`` (also against
            everything seen before); ``None`` (the default): the entry point decides, the same
            whether settings come as keywords or in a config (:func:`make_config`):
            ``Deduplicator``, ``dedupe_stream``, ``dedupe_arrow``, the audit, Spark and the
            command line work in corpus scope, ``dedupe_text`` and ``explain`` in document scope.
        seed: seed of the MinHash permutations (datasketch's default is 1).
        bands: explicit number of LSH bands (``None``: derived from ``threshold``).
        rows: explicit rows per band (``None``: derived).
        recall_target: probability with which a pair exactly at ``threshold`` must share
            a band when the layout is derived.
        normalization: ``"nfkc_casefold"`` or ``"none"`` (tokens as written), optionally
            followed by steps joined with ``+``: ``dehyphenate`` (a word hyphenated at a line
            end is joined: ``lan-\nguage`` hashes as ``language``), ``digits`` (every run of
            digits is one symbol: a footer differing only in its year repeats), ``accents``
            (accents stripped), ``punctuation`` (apostrophes and hyphens inside words dropped:
            tokens are runs of word characters already). Default
            ``"nfkc_casefold+dehyphenate"``; ``"nfkc_casefold"`` is dedup 0.1's.
        max_bucket_candidates: earliest paragraphs read per LSH bucket; bounds the cost of
            boilerplate that recurs in thousands of variants.
        batch_paragraphs: paragraphs fingerprinted together; bounds memory, never
            changes decisions.
        unspaced_scripts: ``"chars"`` (default): in scripts written without spaces
            (Chinese, Japanese, Thai...) every character is a token, so shingles are
            character n-grams; ``"words"``: runs of word characters, as elsewhere.
        granularity: the unit that is deduplicated: ``"paragraph"`` (default),
            ``"sentence"`` (found inside paragraphs), ``"line"`` (every non-blank line,
            whatever the blank lines say) or ``"document"`` (a document goes whole when it
            near-repeats an earlier one).
        inner_repeats: also remove a span of a kept paragraph that repeats an earlier
            span of the same paragraph (text that lost its line breaks).
        inner_min_tokens: the shortest such span, in tokens (about two sentences).
        exact_only: only exact repeats (identical shingle sets, by their 64-bit key), no
            MinHash or LSH: a few bytes per paragraph for first passes at web scale
            (:class:`dedup.index.exact.ExactIndex`).
        containment: the shortened-copy rule: a later unit at least this share of whose
            shingles lie inside ONE earlier unit (an LSH candidate) is removed, reason
            ``"contained"``, its containment as the similarity; ``None`` turns it off. Only
            for units of ``containment_min_tokens`` tokens or more (a one-sentence quote
            stays) whose set is at least ``containment_min_size`` of the earlier one's (a part
            quoted from a longer text stays: the rule is for copies cut short). The earlier,
            longer unit always stays; a later, longer unit that adds text is kept. Off in
            exact-only runs.
        noisy_rules: :class:`NoisyRules`, rules for copies with typos, re-typed words and
            other noise (``preset="noisy"``); ``None`` (default): none.
        exact_substrings: ``None`` (off) or N: after the unit decisions, every run of at least N
            tokens of the kept text that occurred earlier in scope (an earlier document, or
            earlier in this one) is cut; the first occurrence stays (:mod:`dedup.decide.substrings`).
            Needs a normalization without steps (tokens keep their place in the text).
    """

    threshold: float = 0.8
    num_perm: int = 128
    ngram: int = 5
    min_tokens: int = 8
    scope: Optional[Scope] = None
    seed: int = 1
    bands: Optional[int] = None
    rows: Optional[int] = None
    recall_target: float = 0.99
    normalization: str = DEFAULT_NORMALIZATION
    max_bucket_candidates: int = 64
    batch_paragraphs: int = 8192
    unspaced_scripts: Literal["chars", "words"] = "chars"
    granularity: Literal["paragraph", "sentence", "line", "document"] = "paragraph"
    inner_repeats: bool = True
    inner_min_tokens: int = 50
    exact_only: bool = False
    containment: Optional[float] = 0.95
    containment_min_tokens: int = 20
    containment_min_size: float = 0.5
    noisy_rules: Optional["NoisyRules"] = None
    exact_substrings: Optional[int] = None
    layout: LshLayout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_number("threshold", self.threshold, float, low=0.0, low_open=True, high=1.0)
        _check_number("num_perm", self.num_perm, int, low=2, high=1 << 16)
        _check_number("ngram", self.ngram, int, low=1, high=64)
        _check_number("min_tokens", self.min_tokens, int, low=0)
        _check_number("seed", self.seed, int, low=0, high=(1 << 32) - 1)
        _check_number("recall_target", self.recall_target, float, low=0.0, low_open=True, high=1.0,
                      high_open=True)
        _check_number("max_bucket_candidates", self.max_bucket_candidates, int, low=1)
        _check_number("batch_paragraphs", self.batch_paragraphs, int, low=1)
        _check_number("inner_min_tokens", self.inner_min_tokens, int, low=1)
        if not isinstance(self.inner_repeats, bool):
            raise ConfigError(f"inner_repeats must be True or False, got {self.inner_repeats!r}")
        if not isinstance(self.exact_only, bool):
            raise ConfigError(f"exact_only must be True or False, got {self.exact_only!r}")
        self._check_extra_rules()
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed and not (name == "scope" and value is None):
                raise ConfigError(f"{name} must be {' or '.join(map(repr, allowed))}, got {value!r}")
        _check_normalization(self.normalization)
        for name in ("bands", "rows"):
            value = getattr(self, name)
            if value is not None:
                _check_number(name, value, int, low=1)
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ConfigError(
                f"bands * rows must be <= num_perm: {self.bands} * {self.rows} > {self.num_perm}"
            )
        try:
            layout = choose_layout(self.threshold, self.num_perm, self.recall_target,
                                   bands=self.bands, rows=self.rows)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        object.__setattr__(self, "layout", layout)

    def _check_extra_rules(self) -> None:
        """The settings of the rules beside the word Jaccard: shortened copies, the noisy rules,
        exact substrings."""
        if self.containment is not None:
            _check_number("containment", self.containment, float, low=0.0, low_open=True, high=1.0)
        _check_number("containment_min_tokens", self.containment_min_tokens, int, low=1)
        _check_number("containment_min_size", self.containment_min_size, float, low=0.0, high=1.0)
        if self.noisy_rules is not None and not isinstance(self.noisy_rules, NoisyRules):
            raise ConfigError(f"noisy_rules must be a dedup.NoisyRules or None, got {self.noisy_rules!r}")
        if self.noisy_rules is not None and self.exact_only:
            raise ConfigError("noisy_rules find near copies; exact_only finds exact repeats only: choose one")
        if self.exact_substrings is not None:
            _check_number("exact_substrings", self.exact_substrings, int, low=2)
            if any(step != "dehyphenate" for step in self.normalization.split("+")[1:]):
                raise ConfigError(f"exact_substrings needs tokens that keep their place in the text: normalization "
                                  f"'nfkc_casefold' or 'none' (with 'dehyphenate' at most: substrings are cut "
                                  f"from tokens as written), got {self.normalization!r}")

    @property
    def text(self) -> TextSettings:
        """The settings that make a paragraph's shingle set, as one value to pass down whole."""
        return TextSettings(self.normalization, self.unspaced_scripts, self.ngram)

    def replace(self, **overrides: Any) -> "DedupConfig":
        """A copy with some settings changed (validated again)."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self) if f.init}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)

    def fingerprint_settings(self) -> dict:
        """The settings that change fingerprints or decisions (what an index must match)."""
        return {
            "version": FINGERPRINT_VERSION,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "ngram": self.ngram,
            "seed": self.seed,
            "bands": self.layout.bands,
            "rows": self.layout.rows,
            "normalization": self.normalization,
            "granularity": self.granularity,
            "unspaced_scripts": self.unspaced_scripts,
            "max_bucket_candidates": self.max_bucket_candidates,
            **({"exact_only": True} if self.exact_only else {}),  # absent when off: older indexes still match
            **({"containment": self.containment, "containment_min_tokens": self.containment_min_tokens,
                "containment_min_size": self.containment_min_size} if self.shortened_rule else {}),
            **({"noisy_rules": self.noisy_rules.settings()} if self.noisy_rules is not None else {}),
            **({"exact_substrings": self.exact_substrings} if self.exact_substrings is not None else {}),
        }

    @property
    def shortened_rule(self) -> bool:
        """Whether the shortened-copy rule (``containment``) applies."""
        return self.containment is not None and not self.exact_only

    def fingerprint(self) -> str:
        """A short stable hash of :meth:`fingerprint_settings`, stored with an index."""
        blob = json.dumps(self.fingerprint_settings(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _check_number(name: str, value: Any, kind: type, *, low: Optional[float] = None,
                  high: Optional[float] = None, low_open: bool = False, high_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ConfigError(f"{name} must be {'a number' if kind is float else 'an integer'}, got {value!r}")
    if value != value:  # NaN
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ConfigError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def make_config(config: Optional[DedupConfig] = None, /, *, default_scope: Scope, **overrides: Any) -> DedupConfig:
    """The settings of an entry point: ``config`` (or the defaults) with keyword ``overrides``,
    and ``default_scope`` where neither names a scope (``scope=None`` names none). ``preset``
    (:data:`PRESETS`) among the overrides applies its settings first; the others override them.

    Every entry point builds its config here, so where the settings come from never changes
    what they mean: ``Deduplicator(threshold=0.7)`` and ``Deduplicator(DedupConfig(threshold=0.7))``
    are both corpus scope, ``dedupe_text(t, DedupConfig())`` document scope.
    """
    if config is not None and not isinstance(config, DedupConfig):
        raise ConfigError(f"config must be a DedupConfig, got {type(config).__name__}")
    if default_scope not in _CHOICES["scope"]:
        raise ConfigError(f"default_scope must be {' or '.join(map(repr, _CHOICES['scope']))}, got {default_scope!r}")
    if "scope" in overrides and overrides["scope"] is None:
        del overrides["scope"]
    preset = overrides.pop("preset", None)
    if preset is not None:
        overrides = {**preset_settings(preset), **overrides}
    base = config or DedupConfig()
    if base.scope is None and "scope" not in overrides:
        overrides["scope"] = default_scope
    return base.replace(**overrides) if overrides else base


def _check_normalization(value: object) -> None:
    """``base[+step...]`` with a known base and known steps, each once."""
    if not isinstance(value, str):
        raise ConfigError(f"normalization must be a string, got {value!r}")
    base, *steps = value.split("+")
    if base not in NORMALIZATION_BASES:
        raise ConfigError(f"normalization must start with {' or '.join(map(repr, NORMALIZATION_BASES))}, "
                          f"got {value!r}")
    for step in steps:
        if step.startswith("tokenizer="):
            tokenizer_of("+" + step)  # raises when the name is not registered
        elif step not in NORMALIZATION_STEPS:
            raise ConfigError(f"normalization step {step!r} is not one of {', '.join(NORMALIZATION_STEPS)} "
                              "or tokenizer=NAME")
    if len(set(steps)) != len(steps):
        raise ConfigError(f"normalization {value!r} names a step twice")
    if "dehyphenate" in steps and steps[0] != "dehyphenate":  # digits would split "12-\n34" first
        raise ConfigError(f"normalization {value!r}: dehyphenate must be the first step")


#: Named bundles of settings (``preset=``): applied first, explicit settings override them.
PRESETS: Dict[str, Dict[str, Any]] = {
    "default": {},
    "noisy": {"noisy_rules": NoisyRules()},
    "strict": {"normalization": "nfkc_casefold", "containment": None},
}
#: What each preset is for (``--help``, the docs).
PRESET_HELP = {
    "default": "word 5-grams at Jaccard 0.8, line-end hyphens joined, shortened copies (>= 95% inside "
               "an earlier unit) removed",
    "noisy": "the default rules, plus character 5-gram rules confirmed by an alignment, for OCR'd, "
             "re-typed or scraped text (typos, dropped apostrophes, changed dates, swapped sentences)",
    "strict": "word 5-gram Jaccard >= 0.8 alone: the data's labels, and dedup 0.1's decisions (its "
              "indexes reopen under it)",
}


def preset_settings(name: str) -> Dict[str, Any]:
    """The settings a preset names; a ConfigError naming the presets for an unknown one."""
    if name not in PRESETS:
        raise ConfigError(f"preset must be one of {', '.join(map(repr, PRESETS))}, got {name!r}")
    return dict(PRESETS[name])


def preset_hint(stored: Optional[dict], config: DedupConfig) -> str:
    """When ``stored`` (an index's settings) are ``config``'s under a preset: a hint naming it."""
    if not stored:
        return ""
    for name, settings in PRESETS.items():
        try:
            if config.replace(**settings).fingerprint_settings() == stored:
                return f"; its settings are preset {name!r}'s: pass preset={name!r} (dedup --preset {name})"
        except ConfigError:
            continue
    return ""
