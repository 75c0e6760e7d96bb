"""granularity="sentence": removing sentences never joins lines or paragraphs.

Rule (docs/contract.md, "Output"): a removed unit goes with the separator before it, and a
kept sentence keeps the paragraph break that stood before its paragraph.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup

A = "The board approved the annual budget after a long debate on Tuesday evening."
B = "Members also discussed the new library opening hours for the winter season."
C = "What wintriness came next was a surprise to everyone in the small hall."
D = "The chair thanked the volunteers who had painted the community centre."
E = "Parking on the market square will be free on Saturdays until March."

SEPARATORS = ["\n", "\n\n", "\r\n", "\r\n\r\n", "\n \n"]


def _sentences(text):
    return dedup.dedupe_text(text, granularity="sentence")


@pytest.mark.parametrize("sep", SEPARATORS)
def test_removed_first_sentence_keeps_the_break_before_its_paragraph(sep):
    text = f"{A} {B}{sep}{A} {C}{sep}{D}\n"
    assert _sentences(text) == f"{A} {B}{sep}{C}{sep}{D}\n"


@pytest.mark.parametrize("sep", SEPARATORS)
def test_removed_first_two_sentences(sep):
    text = f"{A} {B}{sep}{A} {B} {C} {E}{sep}{D}\n"
    assert _sentences(text) == f"{A} {B}{sep}{C} {E}{sep}{D}\n"


@pytest.mark.parametrize("sep", SEPARATORS)
def test_removed_middle_sentence(sep):
    text = f"{A}{sep}{C} {A} {D}{sep}{E}\n"
    assert _sentences(text) == f"{A}{sep}{C} {D}{sep}{E}\n"


@pytest.mark.parametrize("sep", SEPARATORS)
def test_removed_last_sentence(sep):
    text = f"{A}{sep}{C} {A}{sep}{E}\n"
    assert _sentences(text) == f"{A}{sep}{C}{sep}{E}\n"


@pytest.mark.parametrize("sep", SEPARATORS)
def test_whole_paragraph_of_repeated_sentences_goes_with_the_break_before_it(sep):
    text = f"{A} {B}{sep}{B} {A}{sep}{C}\n"
    assert _sentences(text) == f"{A} {B}{sep}{C}\n"


def test_hard_wrapped_paragraph_keeps_its_blank_line():
    # blank-line text: the single line breaks are wraps inside a paragraph
    text = f"{A}\n{B}\n\n{A}\n{C} {D}\n\n{E}\n"
    assert _sentences(text) == f"{A}\n{B}\n\n{C} {D}\n\n{E}\n"
    text = f"{A}\n{B}\n\n{B} {A}\n{C}\n\n{E}\n"
    assert _sentences(text) == f"{A}\n{B}\n\n{C}\n\n{E}\n"


def test_paragraph_rule_unchanged():
    """Paragraph granularity: the separator before a removed paragraph goes."""
    long_a = f"{A} {B}"
    assert dedup.dedupe_text(f"{long_a}\n\n{long_a}\n\n\n\n{C}") == f"{long_a}\n\n\n\n{C}"
    assert dedup.dedupe_text(f"{long_a}\n\n\n\n{long_a}\n\n{C}") == f"{long_a}\n\n{C}"


POOL = [A, B, C, D, E, "Seven new benches arrived for the riverside walk last week.",
        "Nobody at the meeting could remember when the clock last kept good time."]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(POOL), min_size=1, max_size=4), min_size=1, max_size=6),
       st.sampled_from(SEPARATORS))
def test_output_is_the_input_paragraphs_without_their_removed_sentences(paragraphs, sep):
    text = sep.join(" ".join(p) for p in paragraphs) + "\n"
    r = dedup.explain(text, granularity="sentence")
    removed = {rem.index for rem in r.removed}
    kept, unit = [], 0
    for p in paragraphs:
        left = [s for k, s in enumerate(p) if unit + k not in removed]
        unit += len(p)
        if left:
            kept.append(" ".join(left))
    assert unit == len(r.paragraphs)
    assert r.text == sep.join(kept) + "\n"
    assert dedup.dedupe_text(r.text, granularity="sentence") == r.text


@pytest.mark.parametrize("jit", [False, True])
def test_sentence_end_rule(jit):
    """. ! ? (a run), then closing quotes or brackets, then white space or the end; or a CJK full stop."""
    from dedup.accel import jit as _jit
    from dedup.text.fastsplit import sentence_spans

    if jit and not _jit.jit_available():
        pytest.skip("numba not installed")
    text = ('He said "Stop." Then left. Really?! (Yes.) [No!] \u2018Fine.\u2019 Pi is 3.14 today. '
            'e.g.this stays\u3002\u4eca\u5929\uff01Done')
    expected = ['He said "Stop."', "Then left.", "Really?!", "(Yes.)", "[No!]", "\u2018Fine.\u2019",
                "Pi is 3.14 today.", "e.g.this stays\u3002", "\u4eca\u5929\uff01", "Done"]
    long_text = text + " " + "x" * 600  # long texts go through the kernel
    with _jit.use_jit(jit):
        assert [text[s:e] for s, e in sentence_spans(text)] == expected
        assert [long_text[s:e] for s, e in sentence_spans(long_text)][:-1] == expected[:-1]
