import pickle

import pytest

import dedup
from dedup import ConfigError, DedupConfig


def test_defaults_match_the_contract():
    c = DedupConfig()
    assert (c.threshold, c.num_perm, c.ngram, c.min_tokens, c.scope) == (0.8, 128, 5, 8, None)  # None: the entry point decides
    assert c.layout.bands * c.layout.rows <= c.num_perm
    assert c.layout.recall_at_threshold >= 0.99


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9, 0.95, 1.0])
def test_derived_layout_finds_threshold_pairs_with_99_percent(threshold):
    layout = DedupConfig(threshold=threshold).layout
    assert layout.probability(threshold) >= 0.99
    # and it uses the most rows per band that allows it (fewer false candidates)
    r = layout.rows + 1
    assert dedup.LshLayout(128 // r, r, threshold).probability(threshold) < 0.99


@pytest.mark.parametrize("kwargs, fragment", [
    ({"threshold": 0}, "threshold"), ({"threshold": 1.5}, "threshold"), ({"threshold": "0.8"}, "threshold"),
    ({"threshold": float("nan")}, "threshold"), ({"num_perm": 1}, "num_perm"), ({"num_perm": 12.5}, "num_perm"),
    ({"ngram": 0}, "ngram"), ({"bands": 0}, "bands"), ({"bands": 20, "rows": 10}, r"bands \* rows"),
    ({"scope": "global"}, "scope"), ({"min_tokens": -1}, "min_tokens"), ({"num_perm": True}, "num_perm"),
    ({"threshold": 0.3, "num_perm": 2}, "raise num_perm"),
])
def test_bad_values_are_rejected_with_their_name(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        DedupConfig(**kwargs)
    assert isinstance(info.value, ValueError)


def test_explicit_layout_is_respected():
    c = DedupConfig(bands=16, rows=8)
    assert (c.layout.bands, c.layout.rows) == (16, 8)


def test_config_is_frozen_and_replace_validates():
    c = DedupConfig()
    with pytest.raises(Exception):
        c.threshold = 0.5  # type: ignore[misc]
    assert c.replace(threshold=0.9).threshold == 0.9
    with pytest.raises(ConfigError, match="unknown setting"):
        c.replace(treshold=0.9)


def test_fingerprint_tracks_settings_that_change_decisions():
    c = DedupConfig()
    assert c.fingerprint() == DedupConfig().fingerprint()
    assert c.fingerprint() != c.replace(threshold=0.9).fingerprint()
    assert c.fingerprint() != c.replace(seed=2).fingerprint()
    assert c.fingerprint() == c.replace(batch_paragraphs=10).fingerprint()  # batching never changes decisions


def test_overrides_on_the_entry_points():
    text = "alpha beta gamma delta epsilon zeta eta theta\n\nalpha beta gamma delta epsilon zeta eta theta\n"
    assert dedup.dedupe_text(text, min_tokens=100) == text  # too short to remove alone
    with pytest.raises(ConfigError):
        dedup.dedupe_text(text, threshold=2)


def test_deduplicator_is_picklable_mid_corpus():
    d = dedup.Deduplicator()
    para = "one two three four five six seven eight nine ten eleven"
    d.dedupe(para, doc_id="a")
    d2 = pickle.loads(pickle.dumps(d))
    assert d2.dedupe(para, doc_id="b").text == ""


def test_text_settings_gather_what_makes_a_shingle_set():
    from dedup.text.settings import TextSettings

    cfg = DedupConfig(ngram=3, normalization="none", unspaced_scripts="words")
    assert cfg.text == TextSettings(normalization="none", unspaced_scripts="words", ngram=3)
    assert DedupConfig().text == TextSettings() and not cfg.text.case_fold
    with pytest.raises(AttributeError):
        cfg.text.ngram = 4  # frozen, like the config


# -- one default scope, wherever the settings come from (issue 25 item 13) --------------------

_SHARED = "A paragraph that two documents share, long enough to count as a real one."


def _cross_document_removals(**entry) -> int:
    """Removals when two documents share a paragraph: 1 in corpus scope, 0 in document scope."""
    d = dedup.Deduplicator(**entry)
    return sum(len(r.removed) for r in d.dedupe_many([f"{_SHARED}\n\nOne.", f"{_SHARED}\n\nTwo."]))


@pytest.mark.parametrize("entry", [{}, {"threshold": 0.7}, {"config": DedupConfig()},
                                   {"config": DedupConfig(threshold=0.7)},
                                   {"config": DedupConfig(threshold=0.9), "threshold": 0.7}])
def test_a_deduplicator_is_corpus_scope_wherever_its_settings_come_from(entry):
    assert _cross_document_removals(**entry) == 1


def test_a_config_that_names_a_scope_keeps_it():
    assert _cross_document_removals(config=DedupConfig(scope="document")) == 0
    assert _cross_document_removals(config=DedupConfig(scope="document"), scope="corpus") == 1


@pytest.mark.parametrize("config", [None, DedupConfig(), DedupConfig(threshold=0.7)])
def test_dedupe_text_is_document_scope_wherever_its_settings_come_from(config):
    from dedup.config import make_config

    assert make_config(config, default_scope="document").scope == "document"
    text = f"{_SHARED}\n\n{_SHARED}"
    assert dedup.dedupe_text(text, config) == _SHARED


def test_make_config_is_the_one_builder():
    from dedup.config import make_config

    assert make_config(default_scope="corpus", scope=None).scope == "corpus"  # None names no scope
    assert make_config(DedupConfig(scope="document"), default_scope="corpus").scope == "document"
    assert make_config(default_scope="corpus", threshold=0.7).threshold == 0.7
    with pytest.raises(ConfigError, match="default_scope"):
        make_config(default_scope="global")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="config must be a DedupConfig"):
        make_config({"threshold": 0.7}, default_scope="corpus")  # type: ignore[arg-type]


def test_no_entry_point_builds_its_settings_another_way():
    """make_config is the one place a DedupConfig is built from an entry point's arguments: nothing
    else in the package calls DedupConfig(...) (a second builder is how the default scope drifted)."""
    import ast
    from pathlib import Path

    package = Path(dedup.__file__).parent
    found = [f"{path.relative_to(package)}:{node.lineno}" for path in sorted(package.rglob("*.py"))
             if path.name != "config.py"
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "DedupConfig"]
    assert not found, f"DedupConfig(...) outside dedup/config.py (use make_config): {found}"
