import gzip
import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"


def load_docs(name: str):
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed_news_doubled.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def debian_docs():
    return load_docs("docs_debian_copyright.jsonl.gz")


@pytest.fixture(scope="session")
def kjv_docs():
    return load_docs("docs_kjv_chapters.jsonl.gz")
