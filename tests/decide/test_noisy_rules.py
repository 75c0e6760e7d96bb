"""The noisy-copy rules (``preset="noisy"``): what they catch, what they keep apart, and that the
compiled engine computes what the Python reference says.

The prose below is ours; copies are made from it with seeded noise of each family the
benchmark (``benchmarks/noisy.py``) measures at scale on the shared prose corpus.
"""

from __future__ import annotations

import pickle
import random
import re

import numpy as np
import pytest

import dedup
from dedup.accel import native
from dedup.config import make_config
from dedup.fingerprint.chars import char_shingle_set, noisy_similarity
from dedup.text.noisy import noisy_tokens

if native.core() is None:
    pytestmark = pytest.mark.skip(reason="the noisy rules run on the compiled engine, which is not built here")

PROSE = [
    "The city council voted on Tuesday to approve a new budget for the coming year, which sets aside more money "
    "for road repairs and for the public library. Several members said the plan was a compromise that left many "
    "questions open, and the mayor promised to revisit the numbers after the summer.",
    "Researchers at the university have found that the river carries far more plastic than earlier studies "
    "suggested. Samples taken every week over two years show that most of the pieces are smaller than a grain of "
    "rice, which makes them hard to filter out before the water reaches the sea.",
    "The museum will close its east wing for six months while workers replace the roof and repair the damage left "
    "by last winter's storms. Visitors can still see the main collection, and the gift shop has moved to a "
    "temporary building next to the parking lot.",
    "Farmers in the valley say the late frost has cut this year's apple harvest by almost half. Many of them had "
    "already hired seasonal workers and bought new equipment, and some fear they will not be able to pay their "
    "loans unless the regional government steps in with emergency support.",
    "A small company that makes electric bicycles has opened a second factory on the edge of town, adding about "
    "two hundred jobs. The owners said demand had grown faster than they expected, mostly from commuters who want "
    "to avoid traffic and the rising cost of fuel.",
    "The school board has asked parents for their opinion on a proposal to start classes an hour later in the "
    "morning. Supporters point to studies showing that teenagers learn better when they sleep longer, while "
    "critics worry about sports practice and the schedules of working families.",
]
NAMES = ("In the spring King Jehoshaphat visited the northern provinces in the spring and spoke with the farmers about the harvest, the "
         "roads and the taxes that had been raised the year before; the elders asked him to lower them before the "
         "winter came and to send soldiers to guard the passes against raiders from the hills.")


def _typos(text: str, share: float, rng: random.Random) -> str:
    out = []
    for c in text:
        if c.isalpha() and rng.random() < share:
            out.append(rng.choice(["", c + c, rng.choice("abcdefghijklmnopqrstuvwxyz"), {"m": "rn", "l": "1", "e": "c"}.get(c, c)]))
        else:
            out.append(c)
    return "".join(out)


def _edits(text: str, share: float, rng: random.Random) -> str:
    words = text.split()
    pool = " ".join(PROSE).split()
    return " ".join(rng.choice(pool) if rng.random() < share else w for w in words)


def _swap(text: str) -> str:
    sentences = re.split(r"(?<=[.!?]) ", text)
    return " ".join([sentences[1], sentences[0]] + sentences[2:])


def _rewrap(text: str, width: int = 32) -> str:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width and len(word) >= 7 and width - len(line) > 4:
            cut = max(3, width - len(line) - 2)
            lines.append(f"{line} {word[:cut]}-".strip())
            line = word[cut:]
        elif len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def _cut(text: str, share: float) -> str:
    words = text.split()
    return " ".join(words[:int(len(words) * share)])


def _decide(texts, **settings):
    """Each text one paragraph: a trailing blank line makes its hard-wrapped lines one (without any
    blank line, every line of a text is a paragraph)."""
    d = dedup.Deduplicator(**settings)
    texts = [t + "\n\n" for t in texts]
    return [[(x.reason, x.similarity) for x in r.removed] for r in d.dedupe_many(texts, [f"d{i}" for i in range(len(texts))])]


FAMILIES = {
    "typos 3%": lambda t, rng: _typos(t, 0.03, rng),
    "typos 5%": lambda t, rng: _typos(t, 0.05, rng),
    "word edits 10%": lambda t, rng: _edits(t, 0.10, rng),
    "swapped sentences": lambda t, rng: _swap(t),
    "re-wrapped, hyphenated": lambda t, rng: _rewrap(t),
    "cut to 75%": lambda t, rng: _cut(t, 0.75),
    "reprint": lambda t, rng: "By Staff Writer\n" + _cut(_rewrap(_typos(t, 0.02, rng)), 0.8),
    "byline and share bar": lambda t, rng: "(AP) -- " + t + " Share this: Facebook Twitter Email",
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_noisy_copy_goes_under_the_preset_and_the_original_stays(family):
    """Every copy of each family goes; random word edits can pile up past the alignment's share
    (one copy of six may stay: benchmarks/noisy.py measures the rates)."""
    rng = random.Random(family)
    found = 0
    for original in PROSE:
        copy = FAMILIES[family](original, rng)
        decided = _decide([original, copy], preset="noisy")
        assert decided[0] == [], (family, copy)
        if not decided[1]:
            continue
        found += 1
        reason, value = decided[1][0]
        if reason in ("noisy", "noisy-contained"):  # the value recomputes exactly from the two texts
            jaccard, containment = noisy_similarity(copy, original)
            assert value == round(jaccard if reason == "noisy" else containment, 6)
    assert found >= len(PROSE) - (1 if family.startswith("word edits") else 0), family


def test_distinct_paragraphs_and_a_name_replaced_by_a_name_stay():
    """A name replaced by a name with some noise around (the word rules miss it): the noisy rules
    keep it apart; the same noise with the name kept goes."""
    noise = {"provinces": "provinses", "farmers": "farrners", "raised": "raiscd", "winter": "wintcr"}
    noisy = NAMES
    for old, new in noise.items():
        noisy = noisy.replace(old, new)
    texts = list(PROSE) + [NAMES, noisy.replace("Jehoshaphat", "Joram")]
    assert _decide(texts, preset="noisy") == [[]] * len(texts)
    assert _decide([NAMES, noisy], preset="noisy")[1][0][0] == "noisy"


@pytest.mark.parametrize("name, typo, other", [("Solomon", "Soiomoy", "Jeroboam"), ("Asa", "Ase", "Ahab"),
                                               ("Jehoshaphat", "Jehoshaphet", "Jehoram")])
def test_a_typo_inside_a_name_is_not_another_name(name, typo, other):
    """OCR and re-typing change names too: a name one edit away from its counterpart (or two
    substituted characters in one of 6+) is a typo, and the copy goes; another name keeps it apart."""
    noise = {"provinces": "provinses", "farmers": "farrners", "raised": "raiscd"}
    original = NAMES.replace("Jehoshaphat", name)
    noisy = original
    for old, new in noise.items():
        noisy = noisy.replace(old, new)
    assert _decide([original, noisy.replace(name, typo)], preset="noisy")[1][0][0] == "noisy"
    assert _decide([original, noisy.replace(name, other)], preset="noisy") == [[], []]


def test_short_units_are_left_to_the_word_rules():
    """API-like entries differing in one word: the noisy rules only see units of min_tokens or more."""
    a = "Remove the extended attribute name from the file at path and return None when it is done."
    b = "Set the extended attribute name on the file at path and return None when it is done."
    assert _decide([a, b], preset="noisy") == [[], []]


def test_the_engine_and_the_python_reference_agree_on_tokens_names_and_sets():
    from dedup.engine.compiled import make_engine

    engine = make_engine(make_config(default_scope="corpus", preset="noisy"))
    rng = random.Random(5)
    texts = PROSE + [NAMES, "Don't e-mail U.S. officials on Monday. Then setUp IPv4Network at 3.14 and 2,000 lan-\nguage",
                     "Caf\u00e9 D\u00e9j\u00e0 vu: na\u00efve \u00c9COLE Stra\u00dfe \ufb01ne \u4e2d\u6587\u6bb5\u843d x\u00b2 "
                     "\uff21\uff22 \u00aa \u0130stanbul \u03a3\u03bf\u03c6\u03af\u03b1. \u039d\u03af\u03ba\u03b7 \ud800 end"]
    alphabet = "aB3 -.'\u2019\n\t\u00e9\u00c9\u4e2d!?:;\u00df\u0130"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    for later, earlier in zip(texts, texts[1:] + texts[:1]):
        (tok_a, tok_b, jaccard, containment, *_, names_a, names_b) = engine.noisy(later, earlier)
        ref_a, flags_a = noisy_tokens(later)
        ref_b, flags_b = noisy_tokens(earlier)
        assert tok_a.split(" ") == (ref_a or [""]) and tok_b.split(" ") == (ref_b or [""]), (later, earlier)
        assert list(names_a) == [int(f) for f in flags_a] and list(names_b) == [int(f) for f in flags_b], later
        assert (jaccard, containment) == noisy_similarity(later, earlier), (later, earlier)
    assert noisy_tokens("The Mayor met Smith. Smith said Monday: Joram came, and setUp")[1] == [
        False, True, False, True, False, False, False, False, False, False, True]
    assert len(char_shingle_set(["abc"])) == 1 and len(char_shingle_set(["abcdef", "gh"])) == 5


def test_the_alignment_explains_typos_split_words_and_moved_sentences_not_changed_words():
    from dedup.engine.compiled import make_engine

    engine = make_engine(make_config(default_scope="corpus", preset="noisy"))
    a = PROSE[0]

    def unexplained(later):
        *_, later_u, earlier_u, n_later, n_earlier, names, failed, _, _ = engine.noisy(later, a)
        assert not failed
        return later_u + earlier_u, names

    assert unexplained(a) == (0, 0)
    assert unexplained(a.replace("council", "counci1").replace("budget", "budgct")) == (0, 0)  # typos
    assert unexplained(a.replace("public library", "publiclibrary")) == (0, 0)  # merged words
    assert unexplained(_swap(a)) == (0, 0)  # moved sentences
    assert unexplained(a.replace("Tuesday", "Friday"))[0] == 2  # a changed word stays a change
    assert unexplained(a.replace("the mayor", "Mayor Harris"))[1] == 0
    moved = NAMES.replace("Jehoshaphat", "Joram")
    assert engine.noisy(moved, NAMES)[8] == 1  # a name replaced by a name


def test_decisions_are_the_same_for_every_batch_size_worker_count_and_in_sqlite(tmp_path):
    rng = random.Random(11)
    texts = []
    for k in range(60):
        original = PROSE[k % len(PROSE)]
        family = list(FAMILIES)[k % len(FAMILIES)]
        texts.append(f"Document {k} opens with its own words, {k} of them.\n\n" + FAMILIES[family](original, rng))
    ids = [f"d{k}" for k in range(len(texts))]
    want = [(r.text, r.removed) for r in dedup.Deduplicator(preset="noisy").dedupe_many(texts, ids)]
    assert sum(x.reason.startswith("noisy") for _, removed in want for x in removed) > 5
    for settings in ({"batch_paragraphs": 7}, {"workers": 3}):
        got = [(r.text, r.removed) for r in dedup.Deduplicator(preset="noisy", **settings).dedupe_many(texts, ids)]
        assert got == want, settings
    one = dedup.Deduplicator(preset="noisy")
    assert [(r.text, r.removed) for r in (one.dedupe(t, i) for t, i in zip(texts, ids))] == want
    path = tmp_path / "noisy.dedup"
    first = dedup.Deduplicator(preset="noisy", index=str(path), batch_paragraphs=20)
    got = [(r.text, r.removed) for r in first.dedupe_many(texts[:30], ids[:30])]
    first.index.close()
    again = dedup.Deduplicator(preset="noisy", index=str(path))  # reopened: the noisy layer read back
    got += [(r.text, r.removed) for r in again.dedupe_many(texts[30:], ids[30:])]
    again.index.close()
    assert got == want
    with pytest.raises(dedup.IndexMismatchError, match="noisy_rules"):
        dedup.Deduplicator(index=str(path))
    copied = pickle.loads(pickle.dumps(first.index if False else dedup.Deduplicator(preset="noisy")))
    assert copied.config.noisy_rules is not None
    d = dedup.Deduplicator(preset="noisy")
    d.dedupe_many(texts[:30], ids[:30])
    restored = pickle.loads(pickle.dumps(d))
    assert [(r.text, r.removed) for r in restored.dedupe_many(texts[30:], ids[30:])] == want[30:]


def test_document_units_with_typos_in_every_paragraph():
    rng = random.Random(3)
    docs = ["\n\n".join(PROSE[k:k + 3]) for k in range(0, 6, 3)]
    copies = ["\n\n".join(_typos(p, 0.01, rng) for p in doc.split("\n\n")) for doc in docs]
    dropped = ["\n\n".join(c.split("\n\n")[:2]) for c in copies]
    swapped = ["\n\n".join(c.split("\n\n")[::-1]) for c in copies]
    added = [c + "\n\nA paragraph the copy adds: the reporter's note on where the story first ran." for c in copies]
    decided = _decide(docs + copies + dropped + swapped + added, preset="noisy", granularity="document")
    assert decided[:2] == [[], []] and all(decided[2:]), decided


def test_the_preset_is_refused_where_it_cannot_run(tmp_path):
    with pytest.raises(dedup.ConfigError, match="compiled engine with an in-memory or SQLite index"):
        dedup.Deduplicator(preset="noisy", index=str(tmp_path / "compact") + "/")
    from dedup.spark.frame import _config
    with pytest.raises(dedup.ConfigError, match="not on the Spark backend"):
        _config(None, None, None, {"preset": "noisy"})
    with pytest.raises(dedup.ConfigError, match="preset must be one of"):
        dedup.Deduplicator(preset="fuzzy")
    with pytest.raises(dedup.ConfigError, match="exact_only"):
        dedup.Deduplicator(preset="noisy", exact_only=True)
    assert np.isclose(make_config(default_scope="corpus", preset="noisy", threshold=0.7).threshold, 0.7)
