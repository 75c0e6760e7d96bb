"""The ``dedup`` command as a step of a pipeline (issue 25), run as a user runs it: the
installed console script in a real process."""

from __future__ import annotations

import gzip
import json
import subprocess

from command import command_env, dedup_exe

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."


def write_jsonl(path, records):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


# -- a closed pipe ------------------------------------------------------------------------------

def test_a_closed_pipe_ends_the_run_quietly_with_141(tmp_path):
    """`dedup big.jsonl.gz | head -c 10`: nothing on stderr, the status of a process killed by
    SIGPIPE (141), which scripts can tell from an error (1); no report is published."""
    src = write_jsonl(tmp_path / "big.jsonl.gz", [{"id": i, "text": f"Document {i} has words of its own, "
                                                   f"enough of them to make a paragraph. {P1}"} for i in range(20_000)])
    proc = subprocess.Popen([dedup_exe(), str(src), "--report", str(tmp_path / "r.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env())
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert err == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl.gz"]


def test_a_closed_pipe_in_a_shell_pipeline(tmp_path):
    src = write_jsonl(tmp_path / "big.jsonl", [{"text": f"{P1} {i}\n\n{P2} {i}"} for i in range(20_000)])
    done = subprocess.run(["bash", "-c", f"'{dedup_exe()}' '{src}' | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"],
                          capture_output=True, text=True, env=command_env(), timeout=300)
    assert done.stdout.strip() == "141" and done.stderr == ""
