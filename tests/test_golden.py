"""Labelled input/expected cases (tests/cases/golden.json), including inputs that must come back unchanged."""

import json
from pathlib import Path

import pytest

import dedup

CASES = json.loads((Path(__file__).parent / "cases" / "golden.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden(case):
    assert dedup.dedupe_text(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_idempotent(case):
    once = dedup.dedupe_text(case["input"])
    assert dedup.dedupe_text(once) == once


def test_unchanged_cases_report_nothing():
    for case in CASES:
        r = dedup.explain(case["input"])
        assert (r.text == case["input"]) == (not r.removed), case["name"]
