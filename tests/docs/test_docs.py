"""Every command is in the README and every option of every command in docs/cli.md (as sqlite-utils does):
the option table names the parser's options, no others, with the defaults the code has."""

import argparse
import importlib
import re
from pathlib import Path
from typing import Dict, List

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



# -- docs/cli.md's option table, option by option, both ways ---------------------------------

#: The table's name for each command: rows "`--x` (audit)" belong to `dedup audit`.
SUFFIXES = {("clean",): "", ("audit",): "audit", ("check",): "check", ("index", "info"): "index info",
            ("index", "upgrade"): "index upgrade"}
ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|$")
OPTION = re.compile(r"`(-{1,2}[a-z][\w-]*)")


def documented_options(markdown: str) -> Dict[str, Dict[str, str]]:
    """Command suffix -> {option: its default cell}, from the option table of docs/cli.md.

    A row ``| `--x` (audit) | default | ... |`` documents an option of ``dedup audit``; the row of a
    command itself (``| `dedup audit FILE...` | | takes `--a`, `--b` ... as above |``) names the
    options it shares with ``dedup``, whose defaults are those of ``dedup``'s rows."""
    found: Dict[str, Dict[str, str]] = {suffix: {} for suffix in SUFFIXES.values()}
    shared: Dict[str, List[str]] = {}
    for line in markdown.splitlines():
        row = ROW.match(line)
        if not row or row.group(1) in ("option", "---"):
            continue
        first, default, meaning = row.groups()
        command = re.match(r"`dedup (audit|check|index info|index upgrade)\b", first)
        if command:
            takes = meaning.split("as above")[0].split("takes")[-1] if "as above" in meaning else ""
            shared[command.group(1)] = OPTION.findall(takes)
            continue
        suffix = re.search(r"\((audit|check|index info|index upgrade)\)$", first)
        for option in OPTION.findall(first):
            found[suffix.group(1) if suffix else ""][option] = default.strip()
    for suffix, options in shared.items():
        for option in options:
            found[suffix].setdefault(option, found[""].get(option, ""))
    return found


def _options(parser) -> Dict[str, argparse.Action]:
    return {option: action for action in parser._actions for option in action.option_strings
            if option not in ("-h", "--help")}


def _leaf_parsers():
    return [(words, parser) for words, parser in PARSERS if words in SUFFIXES]


@pytest.mark.parametrize("words, parser", _leaf_parsers(), ids=[" ".join(w) for w, _ in _leaf_parsers()])
def test_the_option_table_and_the_parser_name_the_same_options(words, parser):
    """Every option of the command has a row (or is named in its command's row) with either of its
    spellings, and every option the table gives the command exists in its parser."""
    table = documented_options(CLI_DOCS)[SUFFIXES[words]]
    options = _options(parser)
    undocumented = sorted({action.option_strings[-1] for option, action in options.items()
                           if not any(o in table for o in action.option_strings)})
    assert not undocumented, f"options of dedup {' '.join(words)} missing from docs/cli.md's table: {undocumented}"
    unknown = sorted(set(table) - set(options) - {"-h", "--help"})
    assert not unknown, f"docs/cli.md gives dedup {' '.join(words)} options its parser lacks: {unknown}"


@pytest.mark.parametrize("words, parser", _leaf_parsers(), ids=[" ".join(w) for w, _ in _leaf_parsers()])
def test_the_option_table_gives_the_defaults_the_code_has(words, parser):
    """A default in the table is the parser's, or for the run's settings DedupConfig's (the parser's
    None lets the config decide); an on/off switch is documented as off."""
    from dedup.cli.options import RUN_SETTINGS, config_defaults

    table = documented_options(CLI_DOCS)[SUFFIXES[words]]
    wrong = []
    for option, action in _options(parser).items():
        if option not in table:
            continue
        if action.dest in RUN_SETTINGS:
            expected = f"`{config_defaults()[action.dest]}`"
        elif isinstance(action, argparse._StoreTrueAction):
            expected = "off"
        elif isinstance(action.default, (str, int, float)) and not isinstance(action.default, bool) \
                and action.default != argparse.SUPPRESS:
            expected = f"`{action.default}`"
        else:
            continue  # None: the table says in words what happens (stdout, none, all...)
        if not table[option].startswith(expected):
            wrong.append(f"{option}: table {table[option]!r}, code {expected!r}")
    assert not wrong, f"defaults of dedup {' '.join(words)} in docs/cli.md differ from the code: {wrong}"


def test_the_help_quotes_the_config_defaults():
    from dedup.cli.options import RUN_SETTINGS, config_defaults, shared_options

    for action in shared_options()._actions:
        if action.dest in RUN_SETTINGS:
            assert f"(default: {config_defaults()[action.dest]})" in action.help, action.dest


def test_the_preset_the_help_names_as_default_is_the_config_defaults():
    from dedup.cli.options import DEFAULT_PRESET
    from dedup.config import PRESETS

    assert PRESETS[DEFAULT_PRESET] == {}


def test_the_table_reader_sees_a_drift():
    table = documented_options("| option | default | meaning |\n|---|---|---|\n"
                               "| `--threshold` | `0.8` | x |\n| `--gone` (check) | off | x |\n"
                               "| `dedup check CORPUS...` | | of a `--report`; takes `--threshold` and `-q` as above |\n")
    assert table["check"] == {"--gone": "off", "--threshold": "`0.8`", "-q": ""}
    assert table[""] == {"--threshold": "`0.8`"}
