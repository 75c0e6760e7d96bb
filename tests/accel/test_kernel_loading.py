"""Loading the compiled kernels: no crash on a signal, no compile inside a job.

A SIGINT/SIGTERM that arrived while numba loaded the kernels used to crash the interpreter
(rc -11) and leave the output's temporary file behind. Here the CLI is signalled at random
times in its first two seconds, while the kernels load (``DEDUP_JIT=1`` loads them at the
first batch), some runs with an empty kernel cache (the process then waits for a background
build): every run must end with 130 (or 0 when it finished first) and leave no file. A TERM
that lands after the outputs were committed, as the process exits, may end it by the signal:
the output must then be complete.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedup.accel import jit

ROOT = Path(__file__).resolve().parents[2]

needs_jit = pytest.mark.skipif(not jit.jit_available(), reason="numba not installed")
linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc to see the CLI start")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    rng = random.Random(7)
    words = [f"w{i}" for i in range(3000)]
    path = tmp_path_factory.mktemp("corpus") / "in.jsonl"
    with open(path, "w") as f:
        for i in range(3000):
            paras = ["\n\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(3))]
            f.write(json.dumps({"text": paras[0]}) + "\n")
    return path


@pytest.fixture(scope="module")
def built_cache():
    """The default kernel cache, built (once) so warm runs load rather than wait."""
    if not jit.cache_built():
        subprocess.run([sys.executable, "-m", "dedup.warmup"], check=True, env=_env(), capture_output=True)
    assert jit.cache_built()


def _env(**extra: str) -> dict:
    """The environment of a child process on the numba path (the compiled engine turned off:
    these tests are about loading and building numba's kernels, the fallback's machinery)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEDUP_JIT", "NUMBA_CACHE_DIR")}
    env["DEDUP_NATIVE"] = "0"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


def _stop_builder(cache: Path) -> None:
    """End the background build a run started in ``cache`` (its pid is in the build lock)."""
    for lock in cache.rglob("dedup-kernels.building"):
        try:
            os.killpg(int(lock.read_text() or "0"), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


def _wait_for_cli(proc: subprocess.Popen) -> None:
    """Until the CLI catches SIGTERM (its handler is in place: the command has started).
    Before that the interpreter is still starting and importing; no file exists yet."""
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)


def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def _signalled_run(corpus: Path, out_dir: Path, rng: random.Random, env: dict) -> int:
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "dedup", "-q", str(corpus), "-o", str(out_dir / "out.jsonl")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_cli(proc)
    time.sleep(rng.uniform(0.0, 1.8))
    for _ in range(rng.randint(1, 3)):  # Ctrl-C pressed again, or a scheduler's TERM after INT
        if proc.poll() is not None:
            break
        proc.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
        time.sleep(rng.uniform(0.01, 0.2))
    _, err = proc.communicate(timeout=120)
    rc = proc.returncode
    left = sorted(p.name for p in out_dir.iterdir())
    if rc in (-signal.SIGTERM, -signal.SIGINT):  # after the outputs were committed, as the interpreter exits
        # (its finalization restores the default handlers): the output must be complete
        assert left == ["out.jsonl"], (rc, left, err.decode()[-2000:])
        assert _lines(out_dir / "out.jsonl") == _lines(corpus), rc
        return rc
    assert rc in (0, 130), (rc, err.decode()[-2000:])
    assert left == (["out.jsonl"] if rc == 0 else []), (rc, left)
    if rc == 130:
        assert err.decode().strip().splitlines()[-1].startswith("dedup: error:"), err.decode()
    return rc


def _runs(corpus: Path, tmp_path: Path, n: int, seed: int) -> list:
    rng = random.Random(seed)
    codes = []
    for k in range(n):
        if k % 3 == 2:  # an empty kernel cache: the run waits for a background build
            cache = tmp_path / f"cache{k}"
            cache.mkdir()
            try:
                codes.append(_signalled_run(corpus, tmp_path / f"out{k}", rng,
                                            _env(DEDUP_JIT="1", NUMBA_CACHE_DIR=str(cache))))
            finally:
                _stop_builder(cache)
        else:
            codes.append(_signalled_run(corpus, tmp_path / f"out{k}", rng, _env(DEDUP_JIT="1")))
    return codes


@needs_jit
@linux
def test_signals_while_kernels_load_end_with_130_and_no_files(corpus, built_cache, tmp_path):
    codes = _runs(corpus, tmp_path, 3, seed=1)
    assert 130 in codes


@needs_jit
@linux
@pytest.mark.slow
def test_signals_while_kernels_load_many_times(corpus, built_cache, tmp_path):
    codes = _runs(corpus, tmp_path, 20, seed=2)
    # every run was checked (130 and no files, or 0 and the whole output); enough of them were
    # interrupted to mean something (the compiled engine ends a run sooner than the kernels did)
    assert codes.count(130) >= 6, codes


@needs_jit
def test_empty_cache_job_runs_on_numpy_and_builds_in_background(tmp_path):
    """A job past the warm-up with nothing cached neither compiles nor waits: it finishes on
    the numpy path while ``python -m dedup.warmup`` builds the cache for the next run."""
    cache = tmp_path / "cache"
    cache.mkdir()
    code = ("import dedup\n"
            "from dedup.accel import jit\n"
            "docs = [f'paragraph {i} ' + 'word ' * 10 for i in range(30000)]\n"
            "list(dedup.Deduplicator(batch_paragraphs=2000).iter_dedupe(docs))\n"
            "compiled = sum(len(f.signatures) for f in jit._dispatchers(jit._module)) if jit._module else 0\n"
            "print(compiled, jit._kernels is not None, jit._builder is not None)\n")
    try:
        out = subprocess.run([sys.executable, "-c", code], env=_env(NUMBA_CACHE_DIR=str(cache)),
                             capture_output=True, text=True, check=True, timeout=300)
        compiled, loaded, building = out.stdout.split()
        assert loaded == "False" and building == "True", out.stdout
        assert compiled == "0", out.stdout  # no kernel compiled inside the job (counted, not timed)
        assert list(cache.rglob("dedup-kernels.building")), "no background build started"
    finally:
        _stop_builder(cache)


def test_signals_deferred_delivers_after_the_block():
    from dedup.accel.signals import signals_deferred

    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached = True  # the signal did not cut the block short
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_build_lock_counts_only_while_its_builder_lives(tmp_path, monkeypatch):
    monkeypatch.setattr(jit, "cache_dir", lambda module=None: str(tmp_path))
    lock = tmp_path / "dedup-kernels.building"
    assert not jit._build_running(None)
    lock.write_text(str(os.getpid()))
    assert jit._build_running(None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))
    assert not jit._build_running(None)  # a builder that died: the next process takes over
    lock.write_text(str(os.getpid()))
    os.utime(lock, (time.time() - 3600, time.time() - 3600))
    assert not jit._build_running(None)
