"""The suite's fixtures; the helpers they use live in helpers.py."""

import pytest

from helpers import EXAMPLE_DATA, load_docs, shared_data


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The shared seed (a real news article pasted twice on one line)."""
    return shared_data("seed_news_doubled.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def example_text() -> str:
    """The repository's own founding example: an article pasted twice on one line."""
    return (EXAMPLE_DATA / "news_pasted_twice.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def debian_docs():
    return load_docs("docs_debian_copyright.jsonl.gz")


@pytest.fixture(scope="session")
def kjv_docs():
    return load_docs("docs_kjv_chapters.jsonl.gz")
