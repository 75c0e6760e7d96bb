"""The ``dedup`` command as a step of a pipeline (issue 25), run as a user runs it: the
installed console script in a real process."""

from __future__ import annotations

import gzip
import json
import subprocess

from command import command_env, dedup_exe

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."


def write_jsonl(path, records):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


# -- a closed pipe ------------------------------------------------------------------------------

def test_a_closed_pipe_ends_the_run_quietly_with_141(tmp_path):
    """`dedup big.jsonl.gz | head -c 10`: nothing on stderr, the status of a process killed by
    SIGPIPE (141), which scripts can tell from an error (1); no report is published."""
    src = write_jsonl(tmp_path / "big.jsonl.gz", [{"id": i, "text": f"Document {i} has words of its own, "
                                                   f"enough of them to make a paragraph. {P1}"} for i in range(20_000)])
    proc = subprocess.Popen([dedup_exe(), str(src), "--report", str(tmp_path / "r.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env())
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert err == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl.gz"]


def test_a_closed_pipe_in_a_shell_pipeline(tmp_path):
    src = write_jsonl(tmp_path / "big.jsonl", [{"text": f"{P1} {i}\n\n{P2} {i}"} for i in range(20_000)])
    done = subprocess.run(["bash", "-c", f"'{dedup_exe()}' '{src}' | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.stdout.strip() == "141" and done.stderr == ""


# -- what the library says: log levels, the first run's kernel build ----------------------------

def _kernel_cache_built() -> bool:
    from dedup.accel import jit

    return jit.jit_available() and jit.cache_built()


def test_log_level_shows_the_library_messages(tmp_path):
    import pytest

    if not _kernel_cache_built():
        pytest.skip("needs numba's kernel cache built (python -m dedup.warmup)")
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": P1}, {"text": P2}])
    env = {"DEDUP_JIT": "1"}  # the kernels load at the first batch, and say so at debug level
    quiet = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "a.jsonl")], capture_output=True,
                           text=True, env=command_env(env), timeout=300)
    assert quiet.returncode == 0 and "debug" not in quiet.stderr
    loud = subprocess.run([dedup_exe(), str(src), "-o", str(tmp_path / "b.jsonl"), "--log-level", "debug"],
                          capture_output=True, text=True, env=command_env(env), timeout=300)
    assert loud.returncode == 0
    assert "dedup: debug: compiled kernels loaded" in loud.stderr
    bad = subprocess.run([dedup_exe(), str(src), "--log-level", "loud"], capture_output=True, text=True,
                         env=command_env(), timeout=300)
    assert bad.returncode == 2 and "--log-level" in bad.stderr


def test_a_first_run_says_it_builds_the_kernels_in_the_background(tmp_path):
    """With an empty kernel cache, the run that starts the background build says so in one line
    (and how to build ahead); -q keeps it quiet."""
    import os
    import signal

    import pytest
    from dedup.accel import jit

    if not jit.jit_available():
        pytest.skip("numba not installed")
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "\n\n".join(f"Paragraph {i}.{k} says its own thing "
                                                                    f"in words {i} {k}." for k in range(30))}
                                              for i in range(800)])  # 24,000 paragraphs: past the warm-up
    for quiet, cache in ((False, tmp_path / "cache-a"), (True, tmp_path / "cache-b")):
        cache.mkdir()
        env = {k: v for k, v in command_env().items() if k != "DEDUP_JIT"}
        env["NUMBA_CACHE_DIR"] = str(cache)
        try:
            done = subprocess.run([dedup_exe(), str(src), "-o", os.devnull] + (["-q"] if quiet else []),
                                  capture_output=True, text=True, env=env, timeout=300)
        finally:
            for lock in cache.rglob("dedup-kernels.building"):  # stop the build this run started
                try:
                    os.killpg(int(lock.read_text() or "0"), signal.SIGKILL)
                except (ValueError, ProcessLookupError, PermissionError):
                    pass
        assert done.returncode == 0, done.stderr
        notes = [line for line in done.stderr.splitlines() if "in the background" in line]
        if quiet:
            assert notes == []
        else:
            assert len(notes) == 1 and notes[0].startswith("dedup: info: first run: building the compiled kernels")
            assert "python -m dedup.warmup" in notes[0]
