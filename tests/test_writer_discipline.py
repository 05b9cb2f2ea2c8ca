"""The writer discipline (workbooks.xlsx.txn): one hold from the first read to the replace, an optimistic
check against other programs, a journal tying the audit trail to the change, read-only files refused.

Writers run as forked children paused or killed at named checkpoints, so every interleaving here is exact
(no sleeps) and the code is the CLI's own.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from sop_functions import clock
from tests.crash_support import (
    BUSY,
    CHANGED,
    KILLED,
    NOW,
    OK,
    World,
    build_world,
    fork,
    grid_of,
    run,
    table_of,
    with_cell,
)
from workbooks.forecast_collect import collect
from workbooks.xlsx import txn
from workbooks.xlsx.errors import RefreshInProgressError, WorkbookError
from workbooks.xlsx.journal import journal_path

COLLECT_CHECKPOINTS = (
    "held",
    "planned",
    "backed-up",
    "sheet-written",
    "written",
    "verified",
    "journaled",
    "prepared",
    "before-replace",
    "replaced",
    "completed",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with clock.frozen(NOW):
        yield build_world(tmp_path_factory.mktemp("discipline"))


@pytest.fixture()
def fresh(world: World) -> Iterator[World]:
    with clock.frozen(NOW):
        world.reset()
        yield world


def test_collect_while_a_refresh_holds_the_workbook_is_refused_and_nothing_is_lost(fresh: World) -> None:
    """The reported lost update: collect wrote the grid between refresh's read and its replace."""
    g0 = grid_of(fresh.master)
    refresh = fork(fresh.refresh(), pause="planned")  # refresh has read the grid and planned from it
    assert refresh.wait_stopped()
    with pytest.raises(RefreshInProgressError, match=r"another sopxl refresh of SOP\.xlsx is running \(pid \d+\)"):
        fresh.collect()()
    assert grid_of(fresh.master) == g0 and fresh.audited() == []
    refresh.resume()
    assert refresh.wait() == OK, refresh.message
    refreshed_plan = table_of(fresh.master)
    assert run(fresh.collect()).code == OK  # now it goes through, on the refreshed file
    g1 = with_cell(g0, *fresh.change)
    assert grid_of(fresh.master) == g1 and table_of(fresh.master) == refreshed_plan
    assert fresh.audited() == [fresh.change]
    assert run(fresh.refresh()).code == OK  # and the next refresh plans from the collected grid
    assert table_of(fresh.master) != refreshed_plan


def test_refresh_while_a_collect_holds_the_workbook_is_refused(fresh: World) -> None:
    collect = fork(fresh.collect(), pause="planned")
    assert collect.wait_stopped()
    refresh = run(fresh.refresh())
    assert refresh.code == BUSY
    collect.resume()
    assert collect.wait() == OK, collect.message
    assert grid_of(fresh.master) == with_cell(grid_of_pristine(fresh), *fresh.change)


def grid_of_pristine(world: World) -> tuple[tuple[str, str, float], ...]:
    copy = world.folder.parent / "pristine-copy.xlsx"
    copy.write_bytes(world.pristine)
    return grid_of(copy)


def test_a_change_by_another_program_while_held_is_refused_not_overwritten(fresh: World) -> None:
    other = fresh.folder.parent / "edited-elsewhere.xlsx"
    shutil.copyfile(fresh.master, other)
    assert run(lambda: collect(fresh.reps, other)).code == OK
    refresh = fork(fresh.refresh(), pause="planned")
    assert refresh.wait_stopped()
    shutil.copyfile(other, fresh.master)  # e.g. a sync client putting a colleague's version in place
    edited = fresh.master.read_bytes()
    refresh.resume()
    assert refresh.wait() == CHANGED
    assert fresh.master.read_bytes() == edited


def _stored(src: Path, dst: Path, edit: tuple[bytes, bytes] | None = None) -> None:
    """``src`` re-zipped with every part stored (uncompressed), optionally one byte string replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if edit is not None and edit[0] in data:
                data = data.replace(edit[0], edit[1], 1)
            out = zipfile.ZipInfo(info.filename, info.date_time)
            zout.writestr(out, data)


def test_a_same_size_change_within_one_mtime_tick_is_caught_by_the_content_hash(fresh: World) -> None:
    """Size, mtime and inode all equal: only the hash of the parts read can tell."""
    from workbooks.xlsx.gate import check

    stored = fresh.folder.parent / "stored.xlsx"
    _stored(fresh.master, stored)
    forecast_part = check(stored).sheets["Forecast"]
    with zipfile.ZipFile(stored) as z:
        sheet = z.read(forecast_part)
    digit = sheet.index(b"<v>") + 3  # the first cached number of the grid
    old = sheet[digit : digit + 1]
    twin = fresh.folder.parent / "twin.xlsx"
    new = b"1" if old != b"1" else b"2"
    _stored(stored, twin, (sheet[digit - 3 : digit + 1], b"<v>" + new))
    assert twin.stat().st_size == stored.stat().st_size
    shutil.copyfile(stored, fresh.master)
    before = os.stat(fresh.master)
    refresh = fork(fresh.refresh(), pause="planned")
    assert refresh.wait_stopped()
    with open(fresh.master, "r+b") as fh:  # in place: same inode, same size
        fh.write(twin.read_bytes())
    os.utime(fresh.master, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(fresh.master)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    refresh.resume()
    assert refresh.wait() == CHANGED
    assert fresh.master.read_bytes() == twin.read_bytes()


@pytest.mark.parametrize("fault", COLLECT_CHECKPOINTS)
def test_collect_killed_at_each_checkpoint_is_applied_and_audited_exactly_once(fresh: World, fault: str) -> None:
    g0 = grid_of(fresh.master)
    g1 = with_cell(g0, *fresh.change)
    assert run(fresh.collect(), fault=fault).code == KILLED
    txn.recover(fresh.master)  # what the next sopxl writer (or `sop audit`) does first
    assert not journal_path(fresh.master).exists() and fresh.pending() == []
    got = grid_of(fresh.master)
    assert (got, fresh.audited()) in ((g0, []), (g1, [fresh.change]))  # never one without the other
    expect_applied = fault in ("replaced", "completed")
    assert (got == g1) is expect_applied
    again = run(fresh.collect())
    assert again.code == OK, again.message
    assert grid_of(fresh.master) == g1 and fresh.audited() == [fresh.change]  # audited exactly once


def test_a_journal_left_by_a_killed_collect_is_resolved_by_the_next_refresh(fresh: World) -> None:
    assert run(fresh.collect(), fault="replaced").code == KILLED
    assert journal_path(fresh.master).exists() and len(fresh.pending()) == 1
    assert run(fresh.refresh()).code == OK
    assert not journal_path(fresh.master).exists() and fresh.pending() == []
    assert fresh.audited() == [fresh.change]


def test_a_read_only_workbook_is_refused_by_every_writer(fresh: World, tmp_path: Path) -> None:
    os.chmod(fresh.master, 0o444)
    before = fresh.master.read_bytes()
    runner = CliRunner()
    commands = [
        ["refresh", str(fresh.master), "-s", str(fresh.exports_new)],
        ["collect", str(fresh.reps), "-w", str(fresh.master)],
        ["attach", str(fresh.master), "-s", str(fresh.exports_new)],
    ]
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.output
        assert "SOP.xlsx is read-only (mode 0444); sopxl does not replace read-only files" in result.output
    assert fresh.master.read_bytes() == before
    assert (fresh.master.stat().st_mode & 0o777) == 0o444
    with pytest.raises(WorkbookError, match="read-only"), txn.writing(fresh.master, "refresh"):
        pass
    published = runner.invoke(app, ["publish", "-s", str(fresh.exports), "-w", str(fresh.master)])
    assert published.exit_code == 0, published.output  # publishing only reads the workbook
    os.chmod(fresh.master, 0o644)


def test_a_journal_written_with_a_relative_path_is_resolved_from_any_folder(
    fresh: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(fresh.folder)
    assert run(lambda: collect(Path("..") / fresh.reps.name, Path(fresh.master.name)), fault="replaced").code == KILLED
    monkeypatch.chdir(tmp_path)  # the next sopxl command runs elsewhere, with the workbook's absolute path
    assert txn.recover(fresh.master) == "completed"
    assert fresh.pending() == [] and fresh.audited() == [fresh.change]


def test_a_workbook_reached_through_a_symlink_is_refreshed_in_place_and_the_link_kept(
    fresh: World, tmp_path: Path
) -> None:
    link = tmp_path / "SOP-link.xlsx"
    link.symlink_to(fresh.master)
    plan_before = table_of(fresh.master)
    with clock.frozen(NOW):
        from addin import pipeline

        pipeline.refresh_workbook(link, source=str(fresh.exports_new), backups=0)
    assert link.is_symlink() and link.resolve() == fresh.master.resolve()
    assert table_of(fresh.master) != plan_before  # the real file got the refresh
    assert not list(tmp_path.glob(".~sopxl-*"))  # lock and temp lived beside the real file
