"""Crash safety: SIGKILL at >= 100 points of a refresh leaves the old or the new workbook, never a broken one."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.xlsx_support import build_layout_workbook, frames
from workbooks.xlsx import refresh_file
from workbooks.xlsx.safe_save import FAULT_ENV

CHECKPOINTS = ("backed-up", "sheet-written", "written", "verified", "before-replace", "replaced")
RANDOM_KILLS = 110


DATA = frames(2000)


def _run_child(path: Path, fault: str | None, delay: float | None) -> None:
    """Fork a refresh; kill it at ``fault`` (self-kill) or after ``delay`` seconds."""
    data = DATA
    pid = os.fork()
    if pid == 0:  # child: refresh and leave without running any pytest machinery
        code = 0
        try:
            if fault:
                os.environ[FAULT_ENV] = fault
            refresh_file(path, data, "after", backups=1)
        except BaseException:
            code = 1
        os._exit(code)
    if delay is not None:
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes, float]:
    folder = tmp_path_factory.mktemp("kill")
    path = build_layout_workbook(folder / "plan.xlsx")
    before = path.read_bytes()
    started = time.monotonic()
    refresh_file(path, DATA, "after", backups=0)
    duration = time.monotonic() - started
    after = path.read_bytes()
    return path, before, after, duration


def _reset(path: Path, before: bytes) -> None:
    path.write_bytes(before)


def test_killed_at_each_checkpoint(states: tuple[Path, bytes, bytes, float]) -> None:
    path, before, after, _ = states
    for fault in CHECKPOINTS:
        _reset(path, before)
        _run_child(path, fault, None)
        got = path.read_bytes()
        assert got == (after if fault == "replaced" else before), fault
    _reset(path, before)
    refresh_file(path, DATA, "after", backups=0)  # a stale lock file or temp never blocks
    assert path.read_bytes() == after


def test_killed_at_random_moments(states: tuple[Path, bytes, bytes, float]) -> None:
    path, before, after, duration = states
    # Calibrate on an unkilled child (fork + refresh), so a loaded machine still spreads the kills over
    # every phase, including after the replace, instead of landing them all early.
    _reset(path, before)
    started = time.monotonic()
    _run_child(path, None, None)
    duration = max(duration, time.monotonic() - started)
    assert path.read_bytes() == after
    rng = random.Random(4)
    outcomes = {"before": 0, "after": 0}
    for _ in range(RANDOM_KILLS):
        _reset(path, before)
        _run_child(path, None, rng.uniform(0, duration * 1.5))
        got = path.read_bytes()
        assert got in (before, after)
        outcomes["before" if got == before else "after"] += 1
    assert outcomes["before"] > 0 and outcomes["after"] > 0
    leftovers = [p for p in path.parent.iterdir() if p.name.startswith(".~sopxl-") and p.suffix == ".tmp"]
    assert len(leftovers) <= 1  # at most the last killed run's temp; the next refresh removes it
