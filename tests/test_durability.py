"""Every persistent index kind survives a kill at each durability step, a second writer and a full disk.

The harness is ``durability_harness.py`` (a new kind plugs in with one line in its ``KINDS``).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from durability_harness import KINDS, SETTINGS, Zygote, checkpoints, comparable, dedupe, write_corpus


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def _crash_at_each_checkpoint(zygote, tmp_path: Path, kind_name: str, settings_name: str, how: str) -> None:
    kind, settings = KINDS[kind_name], SETTINGS[settings_name]
    source = tmp_path / "in.jsonl"
    write_corpus(source)
    names_log = tmp_path / "checkpoints.txt"
    reference = dedupe(zygote, kind, tmp_path / "reference", source, settings, {"DEDUP_CRASH_LOG": str(names_log)})
    assert reference.rc == 0, reference.log
    names = checkpoints(names_log)
    assert len(names) >= 4, names  # a few batches: every kind has a step per batch at least
    expected_rc = {"KILL": -signal.SIGKILL, "TERM": 130}[how]
    failures = []
    for k, name in enumerate(names, start=1):
        where = tmp_path / f"crash-{k}"
        crashed = dedupe(zygote, kind, where, source, settings, {"DEDUP_CRASH_AT": str(k), "DEDUP_CRASH_SIGNAL": how},
                         name="crashed")
        if crashed.rc != expected_rc:
            failures.append(f"{k} {name}: the crashed run exited {crashed.rc}: {crashed.log[-500:]}")
            continue
        rerun = dedupe(zygote, kind, where, source, settings, name="rerun")
        if rerun.rc != 0:
            failures.append(f"{k} {name}: the rerun exited {rerun.rc}: {rerun.log[-800:]}")
        elif rerun.output != reference.output:
            failures.append(f"{k} {name}: the rerun's output differs from an uninterrupted run's")
        elif comparable(kind, rerun.info) != comparable(kind, reference.info):
            failures.append(f"{k} {name}: index info {comparable(kind, rerun.info)} != "
                            f"{comparable(kind, reference.info)}")
    assert not failures, "\n".join([f"{len(failures)} of {len(names)} crash points failed:"] + failures)


@pytest.mark.parametrize("settings_name", list(SETTINGS))
@pytest.mark.parametrize("kind_name", list(KINDS))
def test_a_kill_at_each_checkpoint_then_a_rerun_gives_the_uninterrupted_run(zygote, tmp_path, kind_name,
                                                                           settings_name):
    _crash_at_each_checkpoint(zygote, tmp_path, kind_name, settings_name, "KILL")


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_sigterm_at_each_checkpoint_rolls_back_then_a_rerun_gives_the_uninterrupted_run(zygote, tmp_path, kind_name):
    _crash_at_each_checkpoint(zygote, tmp_path, kind_name, "full", "TERM")
