"""Large runs in bounded memory, each in a subprocess (its own peak RSS)."""

import json
import os
import subprocess
import sys

import pytest

from helpers import command_env


def _run(*args, timeout):
    # compiled kernels from the start (if numba is here), so both runs carry the same code
    env = command_env({"DEDUP_JIT": os.environ.get("DEDUP_JIT", "1")})
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory_bounds", *args], capture_output=True, text=True,
                         timeout=timeout, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_stream_memory_does_not_grow_with_input():
    small = _run("stream", "--paragraphs", "20000", timeout=300)
    large = _run("stream", "--paragraphs", "200000", timeout=600)
    assert small["removed"] == 2000 and large["removed"] == 20000
    assert large["peak_rss_mb"] < small["peak_rss_mb"] + 60, (small, large)


@pytest.mark.slow
def test_ten_million_paragraph_stream_in_document_scope():
    r = _run("stream", "--paragraphs", "10000000", timeout=3600)
    assert r["paragraphs"] == 10_000_000 and r["removed"] == 1_000_000
    assert r["peak_rss_mb"] < 400, r


@pytest.mark.slow
def test_two_hundred_megabyte_document():
    r = _run("document", "--mb", "200", timeout=1800)
    assert r["mb"] >= 200 and r["removed"] > 0
    # about 10x the text at the peak: a document is fingerprinted as one batch
    assert r["peak_rss_mb"] - r["rss_before_mb"] < 2500, r
