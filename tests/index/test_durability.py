"""Every persistent index kind survives a kill at each durability step, a second writer and a full disk.

The harness is ``durability_harness.py`` (a new kind plugs in with one line in its ``KINDS``).
The kill-at-each-checkpoint runs work on a tmpfs when there is one (``/dev/shm``): a SIGKILL
leaves the page cache as it was, so what a rerun finds does not depend on the file system, and
the fsyncs of ~80 runs would cost a minute on a disk. ``-m slow`` adds exact-only runs and
SIGTERM (the Ctrl-C path: the batch is rolled back in process, exit 130) at every checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

import dedup
from dedup.index.compact import CompactIndex
import index_support
from durability_harness import (KINDS, SERVERS, SETTINGS, Zygote, checkpoints, comparable, dedupe, serial_decisions,
                                write_corpus)


redis_url = index_support.redis_url  # the session's server (a plain name: fixtures take it)


@pytest.fixture
def kind_name(request):
    """The kind under test, its server started when it lives in one."""
    name = request.param
    server = KINDS[name].server
    if server is not None:
        SERVERS[server] = request.getfixturevalue(f"{server}_url")
    return name


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


@pytest.fixture
def scratch(tmp_path):
    """A directory on a tmpfs when there is one (see the module docstring), else ``tmp_path``."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    where = Path(tempfile.mkdtemp(prefix="dedup-durability-", dir=shm))
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _crash_at_each_checkpoint(zygote, where: Path, kind_name: str, settings_name: str, how: str,
                              each_name_once: bool = False) -> None:
    kind, settings = KINDS[kind_name], SETTINGS[settings_name]
    source = where / "in.jsonl"
    write_corpus(source)
    names_log = where / "checkpoints.txt"
    reference = dedupe(zygote, kind, where / "reference", source, settings, {"DEDUP_CRASH_LOG": str(names_log)})
    assert reference.rc == 0, reference.log
    names = checkpoints(names_log)
    assert len(names) >= 4, names  # a few batches: every kind has a step per batch at least
    expected_rc = {"KILL": -signal.SIGKILL, "TERM": 130}[how]
    failures = []
    points = list(enumerate(names, start=1))
    if each_name_once:  # the first time each step comes (the first batch that has it)
        points = [(k, name) for k, name in points if names.index(name) == k - 1]
    for k, name in points:
        trial = where / f"crash-{k}"
        crashed = dedupe(zygote, kind, trial, source, settings, {"DEDUP_CRASH_AT": str(k), "DEDUP_CRASH_SIGNAL": how},
                         name="crashed")
        if crashed.rc != expected_rc:
            failures.append(f"{k} {name}: the crashed run exited {crashed.rc}: {crashed.log[-500:]}")
            continue
        rerun = dedupe(zygote, kind, trial, source, settings, name="rerun")
        if rerun.rc != 0:
            failures.append(f"{k} {name}: the rerun exited {rerun.rc}: {rerun.log[-800:]}")
        elif rerun.output != reference.output:
            failures.append(f"{k} {name}: the rerun's output differs from an uninterrupted run's")
        elif comparable(kind, rerun.info) != comparable(kind, reference.info):
            failures.append(f"{k} {name}: index info {comparable(kind, rerun.info)} != "
                            f"{comparable(kind, reference.info)}")
        shutil.rmtree(trial, ignore_errors=True)
    assert not failures, "\n".join([f"{len(failures)} of {len(names)} crash points failed:"] + failures)


@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_a_kill_at_each_checkpoint_then_a_rerun_gives_the_uninterrupted_run(zygote, scratch, kind_name):
    _crash_at_each_checkpoint(zygote, scratch, kind_name, "full", "KILL")


@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_the_dedup_command_killed_at_each_checkpoint_then_run_again_gives_one_runs_output(zygote, scratch,
                                                                                          kind_name):
    """The command itself (its index opening, its outputs), one batch: killed at each step, run again."""
    kind = KINDS[kind_name]
    source = scratch / "in.jsonl"
    write_corpus(source)

    def run(where: Path, env=None):
        where.mkdir(exist_ok=True)
        out, info = where / "out.jsonl", where / "info.json"
        rc = zygote.run("cli", where / "run.log", env, argv=[str(source), "--id-field", "id", "--index",
                                                               kind.spec(where), "-o", str(out), "-q"])
        if rc != 0:
            return rc, None, None
        assert zygote.run("cli", where / "info.log", argv=["index", "info", kind.spec(where), "--json"]) == 0
        info.write_text((where / "info.log").read_text())
        return rc, out.read_text(), comparable(kind, json.loads(info.read_text()))

    names_log = scratch / "checkpoints.txt"
    reference = run(scratch / "reference", {"DEDUP_CRASH_LOG": str(names_log)})
    assert reference[0] == 0
    names = checkpoints(names_log)
    assert len(names) >= 2, names  # the index's creation and its batch at least
    for k, name in enumerate(names, start=1):
        trial = scratch / f"crash-{k}"
        assert run(trial, {"DEDUP_CRASH_AT": str(k)})[0] == -signal.SIGKILL, name
        assert run(trial) == reference, f"{k} {name}"
        shutil.rmtree(trial, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_exact_only_runs_survive_a_kill_at_each_checkpoint(zygote, scratch, kind_name):
    _crash_at_each_checkpoint(zygote, scratch, kind_name, "exact-only", "KILL")


@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_sigterm_at_each_kind_of_step_rolls_back_then_a_rerun_gives_the_uninterrupted_run(zygote, scratch, kind_name):
    """SIGTERM (as Ctrl-C: the batch is rolled back in process, exit 130) at the first time each
    step comes; every time in the slow suite."""
    _crash_at_each_checkpoint(zygote, scratch, kind_name, "full", "TERM", each_name_once=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_sigterm_at_each_checkpoint_rolls_back_then_a_rerun_gives_the_uninterrupted_run(zygote, scratch, kind_name):
    _crash_at_each_checkpoint(zygote, scratch, kind_name, "full", "TERM")


# -- two writers -----------------------------------------------------------------------

@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_two_writers_at_once_give_the_outputs_of_one_serial_order(zygote, tmp_path, kind_name):
    kind = KINDS[kind_name]
    halves = [tmp_path / "even.jsonl", tmp_path / "odd.jsonl"]
    parts = [write_corpus(path, every=2, start=start) for start, path in enumerate(halves)]
    records = {r["id"]: r for part in parts for r in part}
    spec = kind.spec(tmp_path)
    pids = []
    for name, path in zip(("even", "odd"), halves):
        other = "odd" if name == "even" else "even"
        pids.append(zygote.start("dedupe", tmp_path / f"{name}.log", spec=spec, source=str(path),
                                 output=str(tmp_path / f"{name}.out"), info=str(tmp_path / f"{name}.info"),
                                 batch=min(60, kind.batch), settings={}, ready=str(tmp_path / f"{name}.ready"),
                                 start_after=str(tmp_path / f"{other}.ready")))
    codes = [zygote.wait(pid) for pid in pids]
    assert codes == [0, 0], [(tmp_path / f"{n}.log").read_text() for n in ("even", "odd")]
    assert zygote.run("order", tmp_path / "order.log", spec=spec, output=str(tmp_path / "order.json")) == 0
    order = json.loads((tmp_path / "order.json").read_text())
    assert sorted(order) == sorted(records)
    if kind.whole_run_lock:  # the second writer waited for the first one's whole run
        even = {r["id"] for r in parts[0]}
        assert len({doc_id in even for doc_id in order[:len(parts[0])]}) == 1, "the writers' documents interleave"
    got = {}
    for name in ("even", "odd"):
        for line in (tmp_path / f"{name}.out").read_text().splitlines():
            doc_id, text, removed = json.loads(line)
            got[doc_id] = [doc_id, text, removed]
    if kind.serial_writers:
        assert [got[doc_id] for doc_id in order] == serial_decisions([records[i] for i in order])
    else:  # what such a kind promises: every removal repeats a paragraph really stored before it
        for doc_id, _, removed in got.values():
            for r in removed:
                assert order.index(r["matched_doc_id"]) <= order.index(doc_id)
                if r["reason"] != "inner":  # (a span repeated inside its own paragraph)
                    _assert_near_duplicate(records[doc_id]["text"][r["start"]:r["end"]],
                                           records[r["matched_doc_id"]]["text"][r["matched_start"]:r["matched_end"]],
                                           r["similarity"], r["reason"])


def _assert_near_duplicate(text: str, earlier: str, reported: float, reason: str = "near") -> None:
    """``text`` really is a near-duplicate (or a shortened copy) of ``earlier``, with the similarity
    (containment) reported."""
    sets = dedup.shingle_sets([earlier, text])
    a, b = (set(sets.hashes[sets.offsets[i]:sets.offsets[i + 1]].tolist()) for i in (0, 1))
    if reason == "contained":
        assert reported == pytest.approx(len(a & b) / len(b)) and reported >= dedup.DedupConfig().containment
        return
    assert reported == pytest.approx(len(a & b) / len(a | b)) and reported >= dedup.DedupConfig().threshold


def test_a_second_compact_writer_fails_naming_the_first_after_its_timeout(zygote, tmp_path):
    spec = KINDS["compact"].spec(tmp_path)
    pid = zygote.start("hold", tmp_path / "hold.log", spec=spec, ready=str(tmp_path / "ready"),
                       release=str(tmp_path / "release"))
    try:
        _wait_for(tmp_path / "ready")
        with pytest.raises(dedup.IndexBusyError, match=f"another process is writing this index \\(pid {pid} "):
            CompactIndex(spec, timeout=0.3)
        # readers never wait for a writer: index info, a read-only query and dedup check
        out = tmp_path / "info.json"
        with open(out, "w") as f:
            from dedup.cli.index import main as index_main
            assert index_main(["info", spec, "--json"], stdout=f) == 0
        assert json.loads(out.read_text())["paragraphs"] == 0
    finally:
        (tmp_path / "release").touch()
        assert zygote.wait(pid) == 0


@pytest.mark.parametrize("kind_name", list(KINDS), indirect=True)
def test_readers_never_wait_for_a_writer_and_see_whole_batches(zygote, tmp_path, kind_name):
    """A read-only Deduplicator queries while a writer adds batches: every removal it reports
    names a stored paragraph that really is a near-duplicate, and once the writer is done it
    finds what a query of the finished index finds."""
    kind = KINDS[kind_name]
    source = tmp_path / "in.jsonl"
    records = write_corpus(source)
    spec = kind.spec(tmp_path)
    probes = [records[k]["text"] for k in (20, 45, 70, 95)]
    pid = zygote.start("dedupe", tmp_path / "writer.log", spec=spec, source=str(source),
                       output=str(tmp_path / "out.jsonl"), info=str(tmp_path / "info.json"), batch=min(40, kind.batch),
                       settings={}, pause=0.05)
    by_id = {record["id"]: record["text"] for record in records}
    seen_states = set()
    while True:
        done = (tmp_path / "out.jsonl").exists()
        try:
            reader = dedup.Deduplicator(index=spec, read_only=True)
        except dedup.DedupError as exc:  # nothing stored yet
            assert "empty index" in str(exc) or "no index there" in str(exc) or "not found" in str(exc), exc
            continue
        results = reader.dedupe_many(probes, [f"probe-{k}" for k in range(len(probes))])
        reader.index.close()
        for probe, result in zip(probes, results):
            for removal in result.removed:  # a real near-duplicate of a stored paragraph, exactly as reported
                earlier = by_id[removal.matched_doc_id][removal.matched_start:removal.matched_end]
                _assert_near_duplicate(probe[removal.start:removal.end], earlier, removal.similarity, removal.reason)
        seen_states.add(tuple(len(r.removed) for r in results))
        if done:
            break
    assert zygote.wait(pid) == 0
    final = dedup.Deduplicator(index=spec, read_only=True)
    assert [(r.text, r.removed) for r in final.dedupe_many(probes, [f"probe-{k}" for k in range(4)])] == \
        [(r.text, r.removed) for r in results]
    final.index.close()
    assert len(seen_states) > 1  # it did read while batches were being added


def _wait_for(path: Path, seconds: float = 60) -> None:
    import time
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


# -- a full disk -----------------------------------------------------------------------

@contextmanager
def _tmpfs(where: Path, size: str):
    """A small tmpfs at ``where`` (root on Linux), unmounted after the block."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)])


FULL_DISK_CASES = [(name, True) for name, kind in KINDS.items() if kind.server is None] + [("compact", False)]


@pytest.mark.parametrize("kind_name,fallocate", FULL_DISK_CASES, indirect=["kind_name"],
                         ids=[f"{k}{'' if f else '-without-fallocate'}" for k, f in FULL_DISK_CASES])
def test_a_full_disk_fails_in_one_line_and_keeps_the_index_of_the_batches_before(zygote, tmp_path, kind_name,
                                                                                 fallocate):
    """Without ``posix_fallocate`` (some file systems) the compact index writes zeros over the space
    it takes: a full disk is the same one line, never a SIGBUS from a write through the map."""
    kind = KINDS[kind_name]
    source = tmp_path / "in.jsonl"
    write_corpus(source)
    reference = dedupe(zygote, kind, tmp_path / "reference", source, {}, files=tmp_path)
    assert reference.rc == 0, reference.log
    size = sum(p.stat().st_blocks * 512 for p in (tmp_path / "reference").rglob("*") if p.is_file())
    with _tmpfs(tmp_path / "small", f"{size * 2 // 3 // 1024}k") as small:  # room for the first batches only
        full = dedupe(zygote, kind, small, source, {}, name="full", files=tmp_path, fallocate=fallocate)
        assert full.rc == 1 and full.output is None, full.log
        assert full.log.count("\n") == 1 and "Traceback" not in full.log, full.log
        assert "full" in full.log.lower() or "no space" in full.log.lower(), full.log
        info = tmp_path / "info.json"
        assert zygote.run("cli", tmp_path / "info.log", argv=["index", "info", kind.spec(small), "--json"]) == 0
        assert zygote.run("order", tmp_path / "order.log", spec=kind.spec(small), output=str(info)) == 0
        held = json.loads(info.read_text())
        assert 0 < len(held) < 100  # the batches before the one that did not fit
        cli_out = tmp_path / "cli-out.jsonl"
        code = zygote.run("cli", tmp_path / "cli.log", argv=[str(source), "--id-field", "id", "--index",
                                                               kind.spec(small), "-o", str(cli_out), "-q"])
        log = (tmp_path / "cli.log").read_text()
        assert code == 1 and log.count("\n") == 1 and log.startswith("dedup: error: ") and "Traceback" not in log, log
        assert not cli_out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert not [p for p in small.rglob("*.tmp")]
        shutil.copytree(small, tmp_path / "larger")
    rerun = dedupe(zygote, kind, tmp_path / "larger", source, {}, name="rerun")
    assert rerun.rc == 0, rerun.log
    assert rerun.output == reference.output
    assert comparable(kind, rerun.info) == comparable(kind, reference.info)
