"""The library logs through the ``dedup`` logger; the CLI shows its warnings unless -q."""

from __future__ import annotations

import argparse
import logging
import sys

import pytest

import dedup  # noqa: F401  (installs the NullHandler)
import dedup.accel
from dedup.accel import jit
from dedup.cli.options import run_command


def test_the_dedup_logger_has_a_null_handler_and_no_output_of_its_own():
    handlers = logging.getLogger("dedup").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    assert not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler) for h in handlers)


def test_unusable_kernels_are_logged_and_the_numpy_path_serves(monkeypatch, caplog):
    monkeypatch.setattr(jit, "_module", None)
    monkeypatch.setitem(sys.modules, "dedup.accel._kernels", None)  # the import fails, as without numba
    monkeypatch.delattr(dedup.accel, "_kernels", raising=False)  # (a loaded module is also an attribute)
    with caplog.at_level(logging.INFO, logger="dedup"):
        assert jit._import() is None
    records = [r for r in caplog.records if r.name == "dedup.accel.jit"]
    assert records and "numpy path" in records[0].getMessage()


@pytest.mark.parametrize("quiet", [False, True])
def test_cli_shows_library_warnings_unless_quiet(quiet, capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("-q", "--quiet", action="store_true")

    def run(args: argparse.Namespace) -> int:
        logging.getLogger("dedup.index.sqlite").warning("something to know")
        return 0

    assert run_command("dedup", parser, run, ["-q"] if quiet else []) == 0
    err = capsys.readouterr().err
    assert err == ("" if quiet else "dedup: warning: something to know\n")
    assert all(not isinstance(h, logging.StreamHandler) or isinstance(h, logging.NullHandler)
               for h in logging.getLogger("dedup").handlers)  # the CLI's handler is gone again


@pytest.mark.parametrize("argv, shown", [
    ([], ["warning: a warning", "info: first run: the kernels"]),
    (["-v"], ["warning: a warning", "info: a wait", "info: first run: the kernels"]),
    (["--log-level", "debug"], ["warning: a warning", "info: a wait", "debug: a detail", "info: first run: the kernels"]),
    (["--log-level", "error"], []),
    (["-q"], []),
])
def test_verbose_and_log_level_choose_what_the_cli_shows(argv, shown, capsys):
    from dedup.cli.options import shared_options

    parser = argparse.ArgumentParser(parents=[shared_options()])

    def run(args: argparse.Namespace) -> int:
        logging.getLogger("dedup.index.sqlite").warning("a warning")
        logging.getLogger("dedup.index.sqlite").info("a wait")
        logging.getLogger("dedup.index.sqlite").debug("a detail")
        logging.getLogger("dedup.accel.jit").info("first run: the kernels")
        return 0

    assert run_command("dedup", parser, run, argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert sorted(err) == sorted(f"dedup: {line}" for line in shown)
    assert logging.getLogger("dedup").level == logging.NOTSET  # put back as it was
