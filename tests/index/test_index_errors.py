"""A persistent index that cannot be used is one line naming it (exit 1), never a traceback.

SQLite: a missing directory, a corrupted file (also for ``dedup index info``), a full disk;
Redis: a refused connection, a bad URL, a key of the wrong type, a server killed mid-run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dedup
from dedup.cli import main as cli_main
from dedup.cli.index import main as index_main

import index_support
from helpers import command_env

redis_url = index_support.redis_url  # the session's server (a plain name: test arguments take it)


def _corpus(path: Path, n: int = 20) -> None:
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "text": f"Record {i} has words enough of its own to be a paragraph."}) + "\n")


def _one_line_error(capsys, code: int, *parts: str) -> None:
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith("dedup"), err
    assert "Traceback" not in err and all(p in err for p in parts), err


def test_missing_directory(tmp_path, capsys):
    _corpus(tmp_path / "in.jsonl")
    code = cli_main([str(tmp_path / "in.jsonl"), "--index", str(tmp_path / "nodir" / "x.dedup"), "-q",
                     "-o", str(tmp_path / "out.jsonl")])
    _one_line_error(capsys, code, "nodir", "does not exist")
    assert not (tmp_path / "out.jsonl").exists()


def test_corrupted_file_and_index_info(tmp_path, capsys):
    _corpus(tmp_path / "in.jsonl")
    idx = tmp_path / "x.dedup"
    assert cli_main([str(tmp_path / "in.jsonl"), "--index", str(idx), "-q", "-o", str(tmp_path / "a.jsonl")]) == 0
    data = bytearray(idx.read_bytes())
    for i in range(100, len(data), 7):
        data[i] ^= 0x5A
    idx.write_bytes(bytes(data))
    code = cli_main([str(tmp_path / "in.jsonl"), "--index", str(idx), "-q", "-o", str(tmp_path / "b.jsonl")])
    _one_line_error(capsys, code, str(idx))
    errors = io.StringIO()
    assert index_main(["info", str(idx)], stderr=errors) == 1
    err = errors.getvalue()
    assert err.count("\n") == 1 and str(idx) in err


@pytest.mark.parametrize("url,part", [("redis://127.0.0.1:1/0", "Connection refused"),
                                      ("redis://127.0.0.1:99999/0", "Port out of range")])
def test_redis_unreachable_or_bad_url(url, part, tmp_path, capsys):
    pytest.importorskip("redis")
    _corpus(tmp_path / "in.jsonl")
    code = cli_main([str(tmp_path / "in.jsonl"), "--index", url, "-q", "-o", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert code in (1, 2) and err.count("\n") == 1 and url in err and part in err, err


def test_redis_wrong_type(redis_url, tmp_path, capsys):
    prefix = index_support.fresh_prefix()
    client = index_support.redis_client(redis_url)
    client.rpush(f"{prefix}settings", "not a hash")
    _corpus(tmp_path / "in.jsonl")
    code = cli_main([str(tmp_path / "in.jsonl"), "--index", f"{redis_url}?prefix={prefix}", "-q",
                     "-o", str(tmp_path / "out.jsonl")])
    _one_line_error(capsys, code, "WRONGTYPE")


def test_redis_killed_mid_run(tmp_path):
    why = index_support._redis_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    port = index_support._free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = index_support.redis_client(f"redis://127.0.0.1:{port}/0")
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        src = tmp_path / "in.jsonl"
        with open(src, "w") as f:  # large enough that the run outlives the server by far
            for i in range(200_000):
                f.write(json.dumps({"id": i, "text": f"Line {i} of a long corpus, with words enough to count."}) + "\n")
        env = command_env()
        run = subprocess.Popen([sys.executable, "-m", "dedup", str(src), "--id-field", "id", "-q",
                                "--index", f"redis://127.0.0.1:{port}/0", "-o", str(tmp_path / "out.jsonl")],
                               stderr=subprocess.PIPE, env=env)
        time.sleep(2.0)
        server.kill()
        _, err = run.communicate(timeout=120)
    finally:
        server.kill()
        server.wait()
    text = err.decode()
    assert run.returncode == 1, text
    assert text.count("\n") == 1 and text.startswith(f"dedup: error: redis://127.0.0.1:{port}/0: "), text
    assert not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
