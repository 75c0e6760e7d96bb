"""The source distribution holds what a user of it needs: the licence, the tests with their cases
and goldens, and every file the README links to; the metadata names the licence, authors and
classifiers. Built from the tracked files with the installed setuptools, as a user's pip would."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (the tracked files) to build from")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    tracked += subprocess.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=ROOT,
                              capture_output=True, check=True).stdout  # new files of a working tree too
    tree = tmp_path_factory.mktemp("tree")
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    pytest.importorskip("setuptools")
    done = subprocess.run([sys.executable, "-c", "from setuptools import build_meta; "
                           "print(build_meta.build_sdist('dist'))"], cwd=tree, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with tarfile.open(tree / "dist" / done.stdout.strip().splitlines()[-1]) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        pkg_info = archive.extractfile(next(n for n in archive.getnames() if n.count("/") == 1
                                            and n.endswith("PKG-INFO"))).read().decode()
    return names, pkg_info, tracked.decode().split("\0")


def test_the_sdist_ships_the_tests_with_their_cases_and_goldens(sdist):
    names, _, tracked = sdist
    wanted = {n for n in tracked if n.startswith("tests/") and "__pycache__" not in n}
    assert any(n.startswith("tests/cases/") for n in wanted) and any(n.startswith("tests/golden/") for n in wanted)
    assert wanted <= names, sorted(wanted - names)[:10]
    assert "LICENSE" in names


def test_every_file_the_readme_links_to_is_in_the_sdist(sdist):
    names, _, _ = sdist
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = {link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", readme) if "://" not in link}
    links |= set(re.findall(r"`(examples/[\w./-]+)`", readme))
    assert links and links <= names, sorted(links - names)


def test_the_metadata_names_licence_authors_and_classifiers(sdist):
    _, pkg_info, _ = sdist
    assert "License-Expression: MIT" in pkg_info and "License-File: LICENSE" in pkg_info
    assert "Author: The paradedup contributors" in pkg_info
    assert "Classifier: Typing :: Typed" in pkg_info and "Classifier: Topic :: Text Processing" in pkg_info
    assert "Project-URL" not in pkg_info and "Home-page" not in pkg_info  # none exists yet: none invented
