"""Compiled kernels: numba when it is installed, the numpy path otherwise.

Both paths give bit-identical arrays (``tests/engine/test_speed_paths.py`` holds them to it), so
which one runs is only a matter of speed. numba is never imported by ``import dedup``:
loading it and its cached machine code costs 1-3 s, more than the numpy path needs for
a few thousand paragraphs. So the first :data:`WARM_UP_PARAGRAPHS` paragraphs of a
process go through numpy (a one-off ``dedupe_text`` stays well under a second) and the
kernels take over after that, when they pay for themselves.

No first-run tax: compiling the kernels takes 10-30 s, so a process never compiles them
inside the user's job. When the kernel cache (numba's: beside the package, or in a user
cache directory when site-packages is read-only, or ``NUMBA_CACHE_DIR``) is not built
yet, a detached ``python -m dedup.warmup`` builds it while the numpy path goes on serving;
the kernels take over once it is done (this process or the next). Loading them from the
cache happens with SIGINT/SIGTERM deferred (:mod:`dedup.accel.signals`): a signal in the
middle of it used to crash the interpreter.

``DEDUP_JIT=0`` forces the numpy path, ``DEDUP_JIT=1`` the kernels from the first call
(waiting for the cache build if one is needed); :func:`use_jit` does the same inside a
block (tests).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from dedup.accel.signals import signals_deferred

log = logging.getLogger(__name__)

#: Paragraphs the numpy path handles before the kernels are loaded (unless forced).
WARM_UP_PARAGRAPHS = 20_000
#: Paragraphs between two looks at whether a background cache build has finished.
_CHECK_EVERY = 5_000
#: A build lock older than this (seconds) belongs to a builder that died.
_STALE_LOCK = 900.0
_STAMP = "dedup-kernels.ready"
_LOCK = "dedup-kernels.building"

_module: Any = None  # dedup.accel._kernels once imported, False when numba is unusable
_kernels: Any = None  # the module once its kernels are loaded (ready to call)
_forced: Optional[bool] = None
_work = 0
_next_check = 0
_builder: Optional[subprocess.Popen] = None
_gave_up = False  # a background build failed: this process stays on the numpy path

_env_read = False
_env_value: Optional[bool] = None


def _env() -> Optional[bool]:
    """``DEDUP_JIT`` (read once)."""
    global _env_read, _env_value
    if not _env_read:
        value = os.environ.get("DEDUP_JIT", "").strip().lower()
        _env_value = False if value in ("0", "false", "no", "off") else True if value in ("1", "true", "yes", "on") else None
        _env_read = True
    return _env_value


def note_work(paragraphs: int) -> None:
    """Count paragraphs going through the hot path (the kernels load past the warm-up)."""
    global _work
    _work += paragraphs


def kernels():
    """The compiled kernels module, or None: numba missing, disabled, warming up or still building."""
    forced = _forced if _forced is not None else _env()
    if forced is False:
        return None
    if _kernels is not None:
        return _kernels
    if forced:
        return _load()
    if _work < WARM_UP_PARAGRAPHS or _work < _next_check or _gave_up:
        return None
    return _load_if_built()


def _import():
    """Import the kernels module (numba with it), signals deferred; None when numba is unusable."""
    global _module
    if _module is None:
        with signals_deferred():
            try:
                from dedup.accel import _kernels as module
            except Exception as exc:  # numba missing or broken, no writable cache: the numpy path does the same work
                level = logging.WARNING if _env() else logging.INFO
                log.log(level, "compiled kernels unavailable (%s: %s); the numpy path is used",
                        type(exc).__name__, exc)
                module = False
        _module = module
    return _module or None


def _dispatchers(module) -> list:
    from numba.core.registry import CPUDispatcher

    return [f for f in vars(module).values() if isinstance(f, CPUDispatcher)]


def cache_dir(module=None) -> Optional[str]:
    """Where numba keeps the kernels' machine code (None when that cannot be told)."""
    module = module or _import()
    try:
        return str(module.minhash_rows._cache._cache_path)
    except Exception:
        return None


def _stamp_value(module) -> str:
    import numba

    st = os.stat(module.__file__)
    return f"{numba.__version__} {st.st_mtime_ns} {st.st_size} {sys.version}"


def cache_built(module=None) -> bool:
    """True when a finished build of every kernel is in the cache (for this numba and source)."""
    module = module or _import()
    where = cache_dir(module) if module else None
    if where is None:
        return False
    try:
        with open(os.path.join(where, _STAMP)) as f:
            return f.read() == _stamp_value(module)
    except OSError:
        return False


def mark_cache_built() -> None:
    """Record that the cache holds every kernel (``python -m dedup.warmup`` calls it at the end)."""
    module = _import()
    where = cache_dir(module) if module else None
    if where is None:
        return
    tmp = os.path.join(where, f".{_STAMP}.{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(_stamp_value(module))
    os.replace(tmp, os.path.join(where, _STAMP))


def _load_cached(module) -> None:
    """Load every specialization the cache holds, signals deferred (nothing compiles here
    unless the cache is stale; then numba compiles it, still with signals deferred)."""
    with signals_deferred():
        for disp in _dispatchers(module):
            try:
                magic = disp.targetctx.codegen().magic_tuple()
                index = disp._cache._cache_file._load_index()
            except Exception:
                continue
            for key in index:
                if key[1] == magic:
                    disp.compile(key[0])


def _ready(module):
    global _kernels
    _load_cached(module)
    _kernels = module
    log.debug("compiled kernels loaded (cache: %s)", cache_dir(module))
    return module


def _load_if_built():
    """The kernels when their cache is built; else start a background build and return None."""
    global _next_check, _gave_up
    module = _import()
    if module is None:
        _gave_up = True
        return None
    if cache_dir(module) is None:  # cannot tell: load as numba does (compiling if it must)
        return _ready(module)
    if cache_built(module):
        return _ready(module)
    _start_builder(module)
    if _builder is not None and _builder.poll() is not None:  # it ended without finishing
        log.warning("the background kernel build ended without finishing (exit %s); this process "
                    "stays on the numpy path (run 'python -m dedup.warmup' to see why)", _builder.returncode)
        _gave_up = True
    _next_check = _work + _CHECK_EVERY
    return None


def _load():
    """The kernels now: waits for a running cache build, compiles here only as a last resort."""
    module = _import()
    if module is None:
        return None
    if _kernels is not None:
        return _kernels
    if cache_dir(module) is not None and not cache_built(module):
        _start_builder(module)
        deadline = time.monotonic() + _STALE_LOCK
        while not cache_built(module) and time.monotonic() < deadline:
            if _builder is not None and _builder.poll() is not None:
                break
            if _builder is None and not _build_running(module):
                break
            time.sleep(0.1)  # a signal here interrupts a sleep, not numba: nothing to defer
    return _ready(module)


def _build_running(module) -> bool:
    """A build lock is there, recent, and its builder (the pid it holds) is alive."""
    where = cache_dir(module)
    if where is None:
        return False
    lock = os.path.join(where, _LOCK)
    try:
        if time.time() - os.stat(lock).st_mtime >= _STALE_LOCK:
            return False
        with open(lock) as f:
            pid = int(f.read() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return True  # being written by the process starting the builder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        pass
    return True


def _start_builder(module) -> None:
    """Start ``python -m dedup.warmup`` detached (its own session: Ctrl-C here does not stop it),
    unless a build of this cache is already running."""
    global _builder
    if _builder is not None:
        return
    where = cache_dir(module)
    if where is None:
        return
    lock = os.path.join(where, _LOCK)
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        if _build_running(module):
            return
        try:  # a builder that died: take its place
            os.unlink(lock)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except OSError:
            return
    except OSError:
        return
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: v for k, v in os.environ.items() if k != "DEDUP_JIT"}
    env["PYTHONPATH"] = os.pathsep.join([package_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    try:
        _builder = subprocess.Popen([sys.executable, "-m", "dedup.warmup", "--lock", lock], env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True, close_fds=True)
    except OSError:
        os.close(fd)
        os.unlink(lock)
        return
    with os.fdopen(fd, "w") as f:
        f.write(str(_builder.pid))
    log.info("first run: building the compiled kernels in the background (pid %d, %s); the numpy path "
             "serves meanwhile ('python -m dedup.warmup' builds them ahead)", _builder.pid, where)


def compile_here():
    """Import and use the kernels in this process, compiling what the cache lacks (the builder)."""
    global _kernels, _forced
    module = _import()
    if module is None:
        raise RuntimeError("numba is not available: pip install numba")
    _kernels = module
    _forced = True
    return module


def jit_available() -> bool:
    """True when numba is installed and not disabled (the kernels can run)."""
    return _env() is not False and _import() is not None


@contextmanager
def use_jit(enabled: bool) -> Iterator[None]:
    """Force the compiled (``True``) or numpy (``False``) path inside the block."""
    global _forced
    previous = _forced
    _forced = enabled
    try:
        if enabled and _load() is None:
            raise RuntimeError("numba is not available: pip install numba")
        yield
    finally:
        _forced = previous
