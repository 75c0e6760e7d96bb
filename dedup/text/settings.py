"""TextSettings: how a paragraph becomes the shingle set that is hashed, as one value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The default ``normalization``: NFKC + case folding, and words hyphenated at a line end joined
#: (``lan-\nguage`` hashes as ``language``: a re-wrapped copy is the same text).
DEFAULT_NORMALIZATION = "nfkc_casefold+dehyphenate"


@dataclass(frozen=True)
class TextSettings:
    """The settings every stage from paragraph text to shingles reads, passed down whole.

    Attributes mean what :class:`dedup.DedupConfig`'s attributes of the same names mean
    (``DedupConfig.text`` builds one); they are not validated again here.
    """

    normalization: str = DEFAULT_NORMALIZATION
    unspaced_scripts: Literal["chars", "words"] = "chars"
    ngram: int = 5

    @property
    def case_fold(self) -> bool:
        """True when the hashed copy is NFKC + case-folded (the fold table to use)."""
        return not self.normalization.startswith("none")

    @property
    def compiled(self) -> bool:
        """Whether the compiled kernels implement this normalization (the extra steps after
        the base are Python only: the numpy path serves them, to the same result)."""
        return "+" not in self.normalization
