"""What the commands share: one parent parser of the run's settings, one usage error, one way to exit.

``dedup`` and ``dedup audit`` both read records and describe a run (the audit describes the
run it looks at), so the options for that are declared once here and given to both parsers
as a parent: the same names, defaults and help everywhere.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Sequence

from dedup.errors import ConfigError, DedupError

#: Exit status when the reader of stdout went away (``dedup big.jsonl | head``): that of a process
#: killed by SIGPIPE in a shell (128 + 13), so scripts can tell it from an error (1).
EXIT_BROKEN_PIPE = 141

#: Levels of ``--log-level``, most to least talkative.
LOG_LEVELS = ("debug", "info", "warning", "error")
#: The logger of the note that the kernel cache is being built in the background, shown by default.
_KERNEL_BUILD_LOGGER = "dedup.accel.jit"

#: Settings of a run the commands take (option dests, named as the DedupConfig fields).
RUN_SETTINGS = ("preset", "scope", "threshold", "num_perm", "min_tokens", "granularity", "ngram", "normalization",
                "containment")
#: The scope of the commands' runs when ``--scope`` is not given (as ``Deduplicator``'s).
COMMAND_SCOPE: Literal["corpus"] = "corpus"
#: The preset of a run without ``--preset``: the one whose settings are DedupConfig's own defaults.
DEFAULT_PRESET = "default"
#: ``--containment off``: the shortened-copy rule turned off (None, which run_settings would drop).
_OFF = "off"


class UsageError(Exception):
    """The command line asks for something that cannot work (exit code 2)."""


def shared_options(without: Sequence[str] = (), helps: Optional[Dict[str, str]] = None) -> argparse.ArgumentParser:
    """The parent parser: where the text and ids are, and the run's settings (but the settings
    named in ``without``: a command they mean nothing to does not take them; ``helps``: a
    command's own description of a setting, by name)."""
    from dedup.config import PRESET_HELP, PRESETS  # numpy: imported once a command runs, not with the CLI

    p = argparse.ArgumentParser(add_help=False)
    default = config_defaults()

    def setting(*flags: str, **kwargs: Any) -> None:
        name = flags[0].lstrip("-").replace("-", "_")
        if name not in without:
            if helps and name in helps:
                kwargs["help"] = helps[name].replace("%(default)s", str(default.get(name)))
            p.add_argument(*flags, **kwargs)

    p.add_argument("--text-field", default="text", metavar="NAME",
                   help="field (column) holding the text of a record (default: text)")
    p.add_argument("--id-field", default=None, metavar="NAME",
                   help="field holding a document id, as named in reports "
                        "(default: <resolved path>:<line> for records, the resolved path for text files)")
    setting("--preset", choices=list(PRESETS), default=None,
            help="a named set of settings, applied first (the options below change it): "
                 + "; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items()).replace("%", "%%")
                 + f" (default: {default['preset']})")
    setting("--scope", choices=["document", "corpus"], default=None,
            help=f"repeats inside each document only, or also across documents (default: {default['scope']})")
    setting("--threshold", type=float, default=None, metavar="J",
            help="Jaccard similarity of the units' word n-gram sets (n: --ngram) at which they count as "
                 f"repeats (default: {default['threshold']})")
    setting("--num-perm", type=int, default=None, metavar="N",
            help=f"MinHash permutations (default: {default['num_perm']})")
    setting("--min-tokens", type=int, default=None, metavar="N",
            help="paragraphs with fewer tokens are removed only inside a run of removed repeats "
                 f"(default: {default['min_tokens']})")
    setting("--granularity", choices=["paragraph", "sentence", "line", "document"], default=None,
            help="the unit deduplicated: paragraphs, sentences inside them, every line, or whole "
                 f"documents (default: {default['granularity']})")
    setting("--ngram", type=int, default=None, metavar="N",
            help=f"word n-gram length of the shingles (default: {default['ngram']})")
    setting("--normalization", default=None, metavar="SPEC",
            help="the hashed copy of the text: nfkc_casefold or none, then +dehyphenate (a word hyphenated "
                 "at a line end joined; first), +digits (every run of digits one symbol), +accents "
                 f"(stripped), +punctuation (inside words dropped) (default: {default['normalization']})")
    setting("--containment", type=_containment, default=None, metavar="C|off",
            help=f"the shortened-copy rule: a later unit of {default['containment_min_tokens']}+ tokens with at "
                 "least this share of its word n-grams (n: --ngram) inside one earlier unit (and at least "
                 f"{default['containment_min_size'] * 100:g}%% of its size) goes; off turns it off "
                 f"(default: {default['containment']})")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="nothing on stderr but errors: no progress bar, warnings or summary")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also the library's info messages (kernels loaded, waits for an index's write "
                        "lock): --log-level info")
    p.add_argument("--log-level", choices=LOG_LEVELS, default=None, metavar="LEVEL",
                   help="messages of the 'dedup' logger shown on stderr: debug, info, warning or error "
                        "(default: warning, and the note that the compiled kernels are being built; "
                        "-q: error)")
    return p


def config_defaults() -> Dict[str, Any]:
    """The defaults of the run's settings, as the help quotes them: DedupConfig's own, and the
    scope the commands run in (imported when a parser is built: ``import dedup.cli`` stays light)."""
    import dataclasses

    from dedup.config import DedupConfig

    defaults = {f.name: f.default for f in dataclasses.fields(DedupConfig) if f.init}
    return {**defaults, "scope": COMMAND_SCOPE, "preset": DEFAULT_PRESET}


def _containment(value: str) -> Any:
    if value == _OFF:
        return _OFF
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or 'off', got {value!r}") from None


def run_settings(args: argparse.Namespace) -> Dict[str, Any]:
    """The DedupConfig settings given on the command line (the rest keep their defaults; ``preset``
    is one, :func:`dedup.config.make_config` applies it first)."""
    given = {name: getattr(args, name) for name in RUN_SETTINGS if getattr(args, name, None) is not None}
    if given.get("containment") == _OFF:
        given["containment"] = None
    return given


def run_command(prog: str, parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int],
                argv: Optional[Sequence[str]], interrupted: str = "interrupted") -> int:
    """Parse ``argv`` and run; every failure becomes one line ``PROG: error: ...`` and an exit code:
    2 usage, 1 data or runtime error, 130 interrupted (Ctrl-C or SIGTERM), 141 the reader of
    stdout went away (nothing on stderr)."""
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        with _terminate_as_interrupt(), _library_messages(prog, _log_level(args)):
            return run(args)
    except BrokenPipeError:  # e.g. `dedup big.jsonl | head`: the reader left; say nothing
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (UsageError, ConfigError) as exc:
        return fail(prog, str(exc), 2)
    except (DedupError, OSError) as exc:
        return fail(prog, describe(exc), 1)
    except KeyboardInterrupt:
        return fail(prog, interrupted, 130)
    except SystemError as exc:  # Ctrl-C inside a numba call: the dispatcher returns with the interrupt set
        if isinstance(exc.__cause__, KeyboardInterrupt) or isinstance(exc.__context__, KeyboardInterrupt):
            return fail(prog, interrupted, 130)
        raise


def counted(n: int, noun: str) -> str:
    """``1 document``, ``2 documents``, ``1,000 documents``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def fail(prog: str, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def describe(exc: BaseException) -> str:
    """An error as one line; a file error names the file."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _log_level(args: argparse.Namespace) -> Optional[str]:
    """``--log-level``, else info with ``-v``, error with ``-q``; None: the default (warnings,
    and the note that the kernels are being built)."""
    given = getattr(args, "log_level", None)
    if given:
        return str(given)
    if getattr(args, "verbose", False):
        return "info"
    return "error" if getattr(args, "quiet", False) else None


class _Prefixed(logging.Formatter):
    """``PROG: warning: message``: the level as a word, as the CLI's own errors and warnings."""

    def __init__(self, prog: str) -> None:
        super().__init__()
        self.prog = prog

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.prog}: {record.levelname.lower()}: {record.getMessage()}"


@contextmanager
def _library_messages(prog: str, level: Optional[str]) -> Iterator[None]:
    """The library's messages (the ``dedup`` logger) on stderr as ``PROG: LEVEL: ...`` while a
    command runs: ``level`` and above (None: warnings, and the info note that the kernel cache
    is being built in the background, which explains a slow first run)."""
    numeric = getattr(logging, (level or "warning").upper())
    loggers = {"dedup": numeric}
    if level is None:
        loggers[_KERNEL_BUILD_LOGGER] = logging.INFO
    previous = {name: logging.getLogger(name).level for name in loggers}
    for name, value in loggers.items():
        logging.getLogger(name).setLevel(value)
    logger = logging.getLogger("dedup")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Prefixed(prog))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        for name, value in previous.items():
            logging.getLogger(name).setLevel(value)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) cleans up like Ctrl-C: temporary files go.
    Signals after the first are ignored until the command returns, so the cleanup completes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stopping: List[int] = []

    def interrupt(signum: int, frame: Any) -> None:
        if stopping:  # Ctrl-C pressed again, TERM after INT: the cleanup under way must finish
            return
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
