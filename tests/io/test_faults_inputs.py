"""Truncated and corrupt archives: a one-line error naming the file, never fewer records.

A cut inside a compressed stream used to end the input early (zstd) or raise a traceback
(gzip, bz2, xz): records past the cut vanished with exit 0. Every codec, cut at several
places (the end of a frame's data, mid-stream, a few bytes short), must give exit 1, one
line ``dedup: error: <file>: truncated <codec> stream after N records``, no output file and
no temporary file, with or without ``--on-error skip``.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup.io import open_source, read_items
from dedup.io.files import open_input

zstandard = pytest.importorskip("zstandard")

RECORDS = [{"text": f"Record {i} says something of its own, in words enough to make a paragraph."} for i in range(3000)]
DATA = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)
CODECS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _cuts(size: int) -> list:
    return [size - 4, size // 2, size // 5]


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_cut_of_every_codec_is_an_error_naming_the_file(codec, tmp_path):
    packed = CODECS[codec](DATA)
    for cut in _cuts(len(packed)):
        path = tmp_path / f"part-3.jsonl.{codec}"
        path.write_bytes(packed[:cut])
        with pytest.raises(dedup.DamagedInputError, match=rf"part-3\.jsonl\.{codec}: truncated \w+ stream after [\d,]+ records"):
            list(read_items(open_source(str(path))))


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_corrupt_bytes_are_an_error_naming_the_file(codec, tmp_path):
    packed = bytearray(CODECS[codec](DATA))
    packed[len(packed) // 2] ^= 0xFF
    path = tmp_path / f"bad.jsonl.{codec}"
    path.write_bytes(bytes(packed))
    with pytest.raises(dedup.DamagedInputError, match=r"bad\.jsonl\.\w+: (corrupt|truncated) "):
        with open_input(str(path)) as f:
            f.read()


def test_whole_archives_still_read_completely(tmp_path):
    for codec, pack in CODECS.items():
        path = tmp_path / f"whole.jsonl.{codec}"
        path.write_bytes(pack(DATA[: len(DATA) // 2]) + pack(DATA[len(DATA) // 2:]))  # two members/frames
        with open_input(str(path)) as f:
            assert f.read() == DATA, codec


@pytest.mark.parametrize("codec", ["zst", "gz"])
@pytest.mark.parametrize("on_error", ["stop", "skip"])
def test_cli_exit_1_one_line_no_output_no_temporary(codec, on_error, tmp_path):
    packed = CODECS[codec](DATA)
    path = tmp_path / f"part-3.jsonl.{codec}"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "dedup", str(path), "-o", str(out / "clean.jsonl"),
                           "--report", str(out / "report.jsonl"), "--on-error", on_error],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dedup: error: {path}: truncated "), proc.stderr
    assert "after" in lines[0] and "records" in lines[0]
    assert list(out.iterdir()) == []  # no output, no report, no temporary file


def test_stdin_is_named_too(tmp_path):
    packed = gzip.compress(DATA)
    proc = subprocess.run([sys.executable, "-m", "dedup", "-", "-q"], input=packed[: len(packed) // 2],
                          capture_output=True)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip().startswith("dedup: error: <stdin>: truncated gzip stream after")
