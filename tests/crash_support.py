"""Forked in-process writers for the crash and race tests: kill them, pause them at checkpoints, read states.

A child is a fork of the test process running one real writer function (refresh, collect, publish) with
everything already imported, so a kill costs milliseconds instead of a CLI start-up, and the code under
test is exactly the code the CLI runs. ``fault`` makes the child SIGKILL itself at a checkpoint, ``pause``
makes it SIGSTOP there (the test then runs something else and resumes it), ``kill_after`` kills it from
outside after a delay (random points between checkpoints).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd

from addin import pipeline
from connectors.demo_data import DemoSize, write_export_folder
from workbooks import layout
from workbooks.forecast_audit import AuditStore, audit_path
from workbooks.forecast_collect import collect
from workbooks.forecast_files import HEADER_ROW, INPUT_SHEET, write_forecast_file
from workbooks.reader import read_forecast, read_table
from workbooks.xlsx.errors import RefreshInProgressError, WorkbookChangedError
from workbooks.xlsx.safe_save import BACKUP_DIR, FAULT_ENV, PAUSE_ENV

OK, FAILED, BUSY, CHANGED, KILLED = 0, 1, 3, 4, -int(signal.SIGKILL)
Grid = tuple[tuple[str, str, float], ...]


@dataclass
class Child:
    pid: int
    errors: int
    """Read end of the pipe the child writes its error (if any) to."""
    code: int | None = None
    message: str = field(default="")

    def wait_stopped(self) -> bool:
        """Wait until the child stopped itself at its pause checkpoint (False: it ended without pausing)."""
        _, status = os.waitpid(self.pid, os.WUNTRACED)
        if os.WIFSTOPPED(status):
            return True
        self._ended(status)
        return False

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill_after(self, delay: float) -> None:
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        if self.code is None:
            _, status = os.waitpid(self.pid, 0)
            self._ended(status)
        assert self.code is not None
        return self.code

    def _ended(self, status: int) -> None:
        self.code = os.waitstatus_to_exitcode(status)
        with os.fdopen(self.errors, "r", encoding="utf-8", errors="replace") as fh:
            self.message = fh.read()


def fork(job: Callable[[], object], *, fault: str | None = None, pause: str | None = None) -> Child:
    """Run ``job`` in a forked child; its exit code says OK, BUSY (refused: another writer holds the
    workbook), CHANGED (the optimistic check refused) or FAILED (the error text is in ``message``)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the job and leave without any pytest machinery
        os.close(read_end)
        code = OK
        try:
            if fault:
                os.environ[FAULT_ENV] = fault
            if pause:
                os.environ[PAUSE_ENV] = pause
            job()
        except RefreshInProgressError:
            code = BUSY
        except WorkbookChangedError:
            code = CHANGED
        except BaseException:
            code = FAILED
            with contextlib.suppress(OSError):
                os.write(write_end, traceback.format_exc().encode()[-4000:])
        os._exit(code)
    os.close(write_end)
    return Child(pid, read_end)


def run(job: Callable[[], object], **kwargs: str | None) -> Child:
    child = fork(job, **kwargs)
    child.wait()
    return child


def grid_of(path: Path) -> Grid:
    """The Forecast grid as comparable tuples (read with python-calamine, the independent reader)."""
    frame = read_forecast(path)
    return tuple(
        sorted((str(f), str(b), float(q)) for f, b, q in frame[["family", "bucket", "qty"]].itertuples(index=False))
    )


def table_of(path: Path, spec: layout.TableSpec = layout.PLAN) -> tuple[tuple[object, ...], ...]:
    """An owned table's rows as comparable tuples (NaN as None)."""
    frame = read_table(path, spec)
    return tuple(tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False))


def with_cell(
    grid: tuple[tuple[str, str, float], ...], family: str, month: str, qty: float
) -> tuple[tuple[str, str, float], ...]:
    """``grid`` with one family/month set to ``qty`` (what a collect of that one change produces)."""
    return tuple(sorted((f, b, qty if (f, b) == (family, month) else q) for f, b, q in grid))


# -- a small S&OP world: an ERP export, a master workbook, a rep's forecast file with one change -----------------

NOW = "2026-11-25T14:00:00+01:00"
"""The frozen clock of these tests (a fixed day: nothing depends on the day the suite runs)."""
TINY = DemoSize(12, 3, 1, 2, 24, 40, 12, 8, 600, 5)


@dataclass(frozen=True)
class World:
    folder: Path
    exports: Path
    """The ERP export the master was built from (S0)."""
    exports_new: Path
    """The same ERP a day later: stock gone (S1), so a refresh changes the plan tables."""
    master: Path
    pristine: bytes
    """The master's bytes as built: every scenario starts from them."""
    reps: Path
    """A folder with one rep's forecast file changing ``change`` (what a collect applies)."""
    change: tuple[str, str, float]

    def reset(self) -> None:
        """The master back to its pristine bytes; no backups, journal, lock, temp or audit trail left."""
        self.master.write_bytes(self.pristine)
        os.chmod(self.master, 0o644)
        for leftover in self.folder.iterdir():
            if (
                leftover.name.startswith((".~sopxl-", "~$"))
                or leftover.suffix == ".sqlite"
                or leftover.name.endswith((".forecast.xlsx", ".sqlite-journal"))
            ):
                leftover.unlink()
        shutil.rmtree(self.folder / BACKUP_DIR, ignore_errors=True)

    def refresh(self, backups: int = 0) -> Callable[[], object]:
        return lambda: pipeline.refresh_workbook(self.master, source=str(self.exports_new), backups=backups)

    def collect(self, reps: Path | None = None) -> Callable[[], object]:
        return lambda: collect(reps or self.reps, self.master)

    def audited(self) -> list[tuple[str, str, float]]:
        """Applied changes in the audit trail as (family, month, new value)."""
        path = audit_path(self.master)
        if not path.exists():
            return []
        rows = AuditStore(path).changes()
        return [
            (str(f), str(m), float(v)) for f, m, v in rows[["family", "month", "new_value"]].itertuples(index=False)
        ]

    def pending(self) -> list[str]:
        path = audit_path(self.master)
        return AuditStore(path).pending_runs() if path.exists() else []


def build_world(folder: Path, change_month_index: int = 1, qty: float = 777.0) -> World:
    """Build the world under the frozen clock :data:`NOW` (the caller holds ``clock.frozen(NOW)``)."""
    folder.mkdir(parents=True, exist_ok=True)
    exports = write_export_folder(folder / "erp-export", size=TINY)
    exports_new = folder / "erp-export-later"
    shutil.copytree(exports, exports_new)
    stock = pd.read_csv(exports_new / "stock.csv")
    stock["qty"] = 0
    stock.to_csv(exports_new / "stock.csv", index=False)
    book = folder / "sop" / "SOP.xlsx"
    book.parent.mkdir()
    pipeline.new_workbook(book, source=str(exports))
    grid = read_forecast(book)
    family = str(grid["family"].iloc[0])
    month = sorted(set(grid["bucket"].astype(str)))[change_month_index]
    reps = folder / "reps"
    reps.mkdir()
    rep_file(reps, book, "Rita", family, month, qty)
    return World(book.parent, exports, exports_new, book, book.read_bytes(), reps, (family, month, qty))


def rep_file(reps: Path, master: Path, owner: str, family: str, month: str, qty: float) -> Path:
    """A rep's forecast file for ``family`` in which the rep typed ``qty`` for ``month``."""
    grid = read_forecast(master)
    months = list(dict.fromkeys(grid["bucket"].astype(str)))
    prefill = grid[grid["family"] == family]
    path = write_forecast_file(
        reps / f"{owner.lower()}.xlsx", owner, [family], months, prefill=prefill, master=master.name
    )
    book = openpyxl.load_workbook(path)  # the rep's own small file (what Excel does), never the master
    book[INPUT_SHEET].cell(row=HEADER_ROW + 2, column=2 + months.index(month)).value = qty
    book.save(path)
    return path
