"""The code blocks of a Markdown file, run as a reader would run them (the README's and docs' tests).

Python blocks run in a fresh namespace with the working directory set; shell blocks run line by
line (comments dropped, continuation lines joined) with this tree's ``dedup`` first on the path.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from pathlib import Path
from typing import List, Tuple

from helpers import command_env


def blocks(markdown: str) -> List[Tuple[str, str]]:
    """``(language, code)`` of every fenced block."""
    return re.findall(r"```(\w+)\n(.*?)```", markdown, flags=re.S)


def shell_commands(code: str) -> List[str]:
    """The commands of a shell block: comments dropped, continuation lines joined."""
    commands, pending = [], ""
    for line in code.splitlines():
        line = line.split("   #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        commands.append((pending + line).strip())
        pending = ""
    return commands


def run_python(code: str, cwd: Path, name: str = "snippet") -> str:
    """Run ``code`` in ``cwd`` (then back); what it printed."""
    out = io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, name, "exec"), {"__name__": "__snippet__"})
    finally:
        os.chdir(before)
    return out.getvalue()


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` in bash (pipefail), in ``cwd``."""
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=command_env(),
                          capture_output=True, text=True, timeout=300)


def is_install(command: str) -> bool:
    """``pip install ...`` lines: the suite runs on an installed package."""
    return command.startswith("pip ") or "python -m pytest" in command
