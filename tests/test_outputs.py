"""Where outputs go: never over an input, special files written through, all or none committed.

Every output used to be written to a temporary file and renamed over its target: ``-o
/dev/null`` run as root turned /dev/null into a regular file, a FIFO or a symlink was
replaced, ``dedup a >> a`` read its own output back, ``dedup audit -o`` wrote over its input,
and a full disk at the report's commit left the output already renamed into place.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

import dedup
from dedup.io.files import AtomicOutput, publish_together

ROOT = Path(__file__).resolve().parents[1]
PARA = "This paragraph repeats word for word so that the second copy of it is removed by the run."


def _corpus(path: Path, n: int = 50) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "text": f"{PARA}\n\nRecord {i} has its own words that nobody repeats."}) + "\n")


def _dedup(*args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dedup", *args], stdout=stdout, stderr=subprocess.PIPE, env=env)


def _leftovers(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def test_dev_null_stays_a_device(tmp_path):
    _corpus(tmp_path / "in.jsonl")
    proc = _dedup(str(tmp_path / "in.jsonl"), "-o", "/dev/null", "--report", "/dev/null", "-q")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    _corpus(tmp_path / "in.jsonl")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    proc = _dedup(str(tmp_path / "in.jsonl"), "-o", str(fifo), "-q")
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(got[0].splitlines()) == 50
    assert _leftovers(tmp_path) == []


def test_a_symlink_stays_and_its_target_gets_the_output(tmp_path):
    _corpus(tmp_path / "in.jsonl")
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "clean.jsonl"
    target.write_text("old\n")
    link = tmp_path / "clean.jsonl"
    link.symlink_to(target)
    proc = _dedup(str(tmp_path / "in.jsonl"), "-o", str(link), "-q")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(target.read_text().splitlines()) == 50
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "real") == []


def test_report_to_dev_stdout_goes_to_stdout(tmp_path):
    _corpus(tmp_path / "in.jsonl")
    proc = _dedup(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--report", "/dev/stdout", "-q")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert len(lines) == 49 and all(x["reason"] == "exact" for x in lines)


def test_stdout_appended_onto_an_input_is_refused(tmp_path):
    src = tmp_path / "in.jsonl"
    _corpus(src)
    before = src.read_bytes()
    with open(src, "ab") as out:
        proc = _dedup(str(src), stdout=out)
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == f"dedup: error: refusing to write the output (stdout) onto the input {src}"
    assert src.read_bytes() == before


@pytest.mark.parametrize("how", ["-o", "--report", "check --hits", "check -o", "stdout", "input URL"])
def test_file_urls_of_an_input_are_refused_like_its_path(how, tmp_path):
    """``file://`` spells a local path (fsspec writes it there): an output so named is checked as the path."""
    pytest.importorskip("fsspec")
    src = tmp_path / "in.jsonl"
    _corpus(src)
    before = src.read_bytes()
    url = f"file://{src}"
    out = str(tmp_path / "out.jsonl")
    args = {"-o": [str(src), "-o", url], "--report": [str(src), "-o", out, "--report", url],
            "check --hits": ["check", str(src), "--against", str(src), "--hits", url],
            "check -o": ["check", str(src), "--against", str(src), "-o", url, "--hits", out],
            "input URL": [url, "-o", str(src)], "stdout": [url]}[how]
    if how == "stdout":
        with open(src, "ab") as stdout:
            proc = _dedup(*args, stdout=stdout)
    else:
        proc = _dedup(*args, "-q")
    assert proc.returncode == 2, proc.stderr
    assert b"refusing to write the" in proc.stderr and proc.stderr.count(b"\n") == 1, proc.stderr
    assert src.read_bytes() == before


@pytest.mark.parametrize("victim", ["report", "input"])
def test_audit_refuses_to_write_over_its_inputs(victim, tmp_path):
    src = tmp_path / "in.jsonl"
    _corpus(src)
    report = tmp_path / "removed.jsonl"
    assert _dedup(str(src), "-o", str(tmp_path / "out.jsonl"), "--report", str(report), "-q").returncode == 0
    target = report if victim == "report" else src
    before = target.read_bytes()
    proc = _dedup("audit", str(report), "--input", str(src), "-o", str(target), "-q")
    assert proc.returncode == 2 and b"refusing to write the page over the input" in proc.stderr
    assert target.read_bytes() == before
    with pytest.raises(dedup.ConfigError, match="refusing"):
        dedup.write_audit(str(report), str(src), str(target))


def test_outputs_are_committed_all_or_none(tmp_path):
    first, second = AtomicOutput(str(tmp_path / "out.jsonl")), AtomicOutput(str(tmp_path / "report.jsonl"))
    first.write(b"data\n")
    second.write(b"report\n")

    def disk_full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "report.jsonl"))

    second.finish = disk_full  # type: ignore[method-assign]
    with pytest.raises(OSError, match="No space left"):
        with publish_together():
            first.commit()
            second.commit()
    second.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither output, no temporary file


@contextmanager
def _tmpfs(where: Path, options: str):
    """A small tmpfs mounted at ``where`` (root only), unmounted after the block."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)])


def test_a_full_disk_names_the_target_and_leaves_nothing(tmp_path):
    with _tmpfs(tmp_path / "small", "size=64k") as mnt:
        src = tmp_path / "in.jsonl"
        with open(src, "w") as f:
            for i in range(2000):  # every record: a repeated paragraph (the report grows) and its own
                f.write(json.dumps({"text": f"{PARA}\n\nRecord {i} is unique and long enough to be a paragraph."}) + "\n")
        for args in (["-o", str(mnt / "out.jsonl")], ["-o", str(tmp_path / "ok.jsonl"), "--report", str(mnt / "r.jsonl")]):
            proc = _dedup(str(src), *args, "-q")
            err = proc.stderr.decode().strip()
            assert proc.returncode == 1, err
            assert err.count("\n") == 0 and "No space left on device" in err
            assert str(mnt) in err and ".tmp" not in err
            assert list(mnt.iterdir()) == [] and not (tmp_path / "ok.jsonl").exists()


def test_a_read_only_target_names_the_target(tmp_path):
    with _tmpfs(tmp_path / "ro", "size=64k,ro") as mnt:
        _corpus(tmp_path / "in.jsonl")
        proc = _dedup(str(tmp_path / "in.jsonl"), "-o", str(mnt / "out.jsonl"), "-q")
        err = proc.stderr.decode().strip()
        assert proc.returncode == 1 and err.count("\n") == 0, err
        assert err == f"dedup: error: {mnt / 'out.jsonl'}: Read-only file system"
