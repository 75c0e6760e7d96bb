"""Run the atheris fuzz target for a bounded time; a crash fails the test with its input."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_text.py"


def test_fuzz_target_bounded(tmp_path):
    try:
        import atheris  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("atheris is not installed (pip install --group fuzz)")
    seconds = int(os.environ.get("DEDUP_FUZZ_SECONDS", "15"))
    proc = subprocess.run(
        [sys.executable, str(FUZZ), f"-max_total_time={seconds}", f"-artifact_prefix={tmp_path}/",
         "-rss_limit_mb=2048"],
        capture_output=True, text=True, timeout=seconds + 120,
    )
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("oom-*")) + list(tmp_path.glob("timeout-*"))
    assert proc.returncode == 0 and not crashes, (
        f"fuzzer failed (rc={proc.returncode}); inputs: {[c.read_bytes()[:200] for c in crashes]}\n"
        f"{proc.stderr[-3000:]}")
    assert "Done" in proc.stderr


def test_fuzz_check_on_known_tricky_inputs():
    pytest.importorskip("atheris")
    sys.path.insert(0, str(FUZZ.parent))
    try:
        from fuzz_text import check
    finally:
        sys.path.pop(0)
    for text in ["", "\r", "\x00\n\n\x00", "a\r\n\r\nb\ra", "\ud800\n\n\ud800", "x" * 300 + "\n\n" + "x" * 300,
                 "e\u0301 " * 200, "\u05d0\u200b\n\u05d0\u200b\n", ". . .\n\n. . .", "\ufb01\n\nfi"]:
        check(text)
