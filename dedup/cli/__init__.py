"""The ``dedup`` command line: a dispatch table of commands, one module per command.

``dedup NAME ...`` runs ``main(argv)`` of the module the table names for NAME (imported
only when asked for); anything else is the default command, ``clean``. Options the commands
share are declared once, in :mod:`dedup.cli.options`.
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Dict, Optional, Sequence, Tuple

from dedup.cli.options import fail

#: Command name -> (module with ``main(argv)``, what it does).
COMMANDS: Dict[str, Tuple[str, str]] = {
    "clean": ("dedup.cli.clean", "remove repeated paragraphs from files (the default command)"),
    "index": ("dedup.cli.index", "what a persistent corpus index holds (dedup index info PATH)"),
    "check": ("dedup.cli.check", "find units of a corpus that are in a reference set, adding nothing (decontamination)"),
    "audit": ("dedup.cli.audit", "an HTML page of what a run removed and what other thresholds would"),
}
DEFAULT_COMMAND = "clean"

__all__ = ["COMMANDS", "DEFAULT_COMMAND", "commands_help", "main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``dedup [COMMAND] ARGS``; returns the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = args.pop(0) if args and args[0] in COMMANDS else DEFAULT_COMMAND
    module_name = COMMANDS[name][0]
    try:  # a Ctrl-C while the command loads (numpy, the pipeline: ~0.5 s) is the same one line as later
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return fail("dedup", f"the {name!r} sub-command is not available in this build", 2)
        code = int(module.main(args) or 0)
    except KeyboardInterrupt:
        return fail("dedup" if name == DEFAULT_COMMAND else f"dedup {name}", "interrupted", 130)
    if argv is None:  # the process exits next (outputs committed or cleaned up): a late signal changes nothing
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
    return code


def commands_help() -> str:
    """The commands, for ``dedup --help``."""
    lines = ["commands (an input file of the same name is given as ./NAME):"]
    lines += [f"  {name:<8}{about}" for name, (_, about) in COMMANDS.items()]
    return "\n".join(lines)
