"""TextSettings: how a paragraph becomes the shingle set that is hashed, as one value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TextSettings:
    """The settings every stage from paragraph text to shingles reads, passed down whole.

    Attributes mean what :class:`dedup.DedupConfig`'s attributes of the same names mean
    (``DedupConfig.text`` builds one); they are not validated again here.
    """

    normalization: Literal["nfkc_casefold", "none"] = "nfkc_casefold"
    unspaced_scripts: Literal["chars", "words"] = "chars"
    ngram: int = 5

    @property
    def case_fold(self) -> bool:
        """True when the hashed copy is NFKC + case-folded (the fold table to use)."""
        return self.normalization != "none"
