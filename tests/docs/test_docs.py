"""Every command is in the README and every option of every command in docs/cli.md (as sqlite-utils does)."""

import argparse
import importlib
from pathlib import Path

import pytest

import dedup.cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI_DOCS = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def _command_parsers():
    """(command words, parser) of every command and sub-command, e.g. (("index", "info"), ...)."""
    for name, (module, _) in dedup.cli.COMMANDS.items():
        yield from _walk((name,), importlib.import_module(module).build_parser())


def _walk(words, parser):
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _walk(words + (sub,), subparser)


PARSERS = list(_command_parsers())


@pytest.mark.parametrize("name", sorted(dedup.cli.COMMANDS))
def test_every_command_is_documented(name):
    assert f"`dedup {name}" in README or f"`{name}`" in README, f"dedup {name} is not in the README"


@pytest.mark.parametrize("words, parser", PARSERS, ids=[" ".join(w) for w, _ in PARSERS])
def test_every_option_is_documented(words, parser):
    if len(words) > 1:
        assert f"dedup {' '.join(words)}" in CLI_DOCS, f"dedup {' '.join(words)} is not in docs/cli.md"
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in CLI_DOCS, f"{option} of dedup {' '.join(words)} is not in docs/cli.md"
        if not isinstance(action, argparse._SubParsersAction):
            for choice in action.choices or ():
                assert f"`{choice}`" in CLI_DOCS, f"{choice} ({action.dest}) is not in docs/cli.md"

