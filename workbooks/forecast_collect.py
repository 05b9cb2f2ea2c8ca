"""``sop collect``: many reps' forecast files -> one consolidated Forecast grid, its issues and audit rows.

Two steps. :func:`consolidate` is pure (parsed files + the master's grid in, a :class:`Consolidation`
out) and holds every rule; :func:`collect` does the I/O: read the files, read the master's grid, write
the result, append the audit trail.

Conflict rule: a family/month changed in more than one file is **not applied**; the master keeps its
value and every entry involved is reported (file, sheet, cell, owner, value). Nothing is guessed, and
the other cells of those files still consolidate.

Where the result goes: the consolidated grid goes into the master's own Forecast grid (the one write of
a user-owned table sopxl makes, because the user asked for it: :func:`apply_to_master`), and
:func:`write_forecast_grid` also writes ``<master stem>.forecast.xlsx`` beside it (the grid plus Changes and
Issues sheets, flagged cells noted). See docs/forecasting.md.

Writer discipline (workbooks.xlsx.txn): the master is held from the read of its grid to the replace, and
the audit run is journaled with the replace, so a crash leaves the old master and no record, or the new
master and its record; never one without the other.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter

from sop_functions import clock
from workbooks.xlsx import FileTableWriter
from workbooks.xlsx.txn import writing

from .cells import same_qty as _same
from .cells import show_qty as _show
from .forecast_audit import AuditRun, AuditStore, PendingRun, audit_path
from .forecast_files import (
    RULE_CONFLICT,
    RULE_FAMILY,
    RULE_HORIZON,
    CellIssue,
    Entry,
    ForecastFile,
    read_forecast_file,
)
from .layout import FORECAST_KEY, forecast_spec
from .reader import read_forecast
from .styles import Formats
from .template import write_table

CHANGE_COLUMNS = ("owner", "file", "sheet", "cell", "family", "month", "old", "new", "comment", "entered_at")
ISSUE_COLUMNS = ("file", "sheet", "cell", "family", "month", "rule", "message")


@dataclass(frozen=True, eq=False)
class Consolidation:
    """The consolidated grid and how it came about."""

    grid: pd.DataFrame = field(repr=False)
    """``family`` then one column per month (NaN = blank): the master's grid with the applied changes."""
    changes: pd.DataFrame = field(repr=False)
    """Applied changes: :data:`CHANGE_COLUMNS` (old/new NaN = blank)."""
    issues: tuple[CellIssue, ...]
    files: int
    entries: int

    def issues_frame(self) -> pd.DataFrame:
        return pd.DataFrame([[getattr(i, c) for c in ISSUE_COLUMNS] for i in self.issues], columns=list(ISSUE_COLUMNS))


def consolidate(
    files: Sequence[ForecastFile], master: pd.DataFrame, *, open_months: Sequence[str] | None = None
) -> Consolidation:
    """Apply the reps' entries to the master grid (``family, bucket, qty`` long frame, as read_forecast gives).

    ``open_months`` are the months that may still change (default: every month of the master grid); an
    entry for another month, for a family not in the master, or for a cell entered in two files is an issue.
    """
    months = list(dict.fromkeys(master["bucket"].astype(str)))
    families = list(dict.fromkeys(master["family"].astype(str)))
    current: dict[tuple[str, str], float | None] = {
        (str(f), str(b)): (None if pd.isna(q) else float(q))
        for f, b, q in master[["family", "bucket", "qty"]].itertuples(index=False)
    }
    allowed = set(months if open_months is None else open_months) & set(months)
    known = set(families)
    issues: list[CellIssue] = [i for f in files for i in f.issues]
    by_cell: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    count = 0
    for f in files:
        for e in f.entries:
            count += 1
            where = (e.file, e.sheet, e.cell, e.family, e.month)
            if e.family not in known:
                issues.append(
                    CellIssue(*where, RULE_FAMILY, f"family {e.family!r} is not in the master's Forecast grid")
                )
            elif e.month not in allowed:
                span = f"{min(allowed)} .. {max(allowed)}" if allowed else "none"
                issues.append(CellIssue(*where, RULE_HORIZON, f"month {e.month} is outside the open horizon {span}"))
            else:
                by_cell[(e.family, e.month)].append(e)
    rows: list[tuple[object, ...]] = []
    for key in sorted(by_cell, key=lambda k: (families.index(k[0]), months.index(k[1]))):
        entries = by_cell[key]
        old = current.get(key)
        if len({e.file for e in entries}) > 1:
            listing = "; ".join(f"{e.file} {e.sheet}!{e.cell} ({e.owner}: {_show(e.value)})" for e in entries)
            for e in entries:
                issues.append(
                    CellIssue(
                        e.file,
                        e.sheet,
                        e.cell,
                        e.family,
                        e.month,
                        RULE_CONFLICT,
                        f"entered in {len(entries)} files ({listing}); not applied, the master keeps {_show(old)}",
                    )
                )
            continue
        e = entries[0]
        if _same(old, e.value):
            continue
        current[key] = e.value
        rows.append(
            (e.owner, e.file, e.sheet, e.cell, e.family, e.month, _nan(old), _nan(e.value), e.comment, e.entered_at)
        )
    grid = pd.DataFrame({FORECAST_KEY.field: families})
    for month in months:
        grid[month] = [_nan(current.get((f, month))) for f in families]
    changes = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)).astype({"old": "float64", "new": "float64"})
    return Consolidation(grid, changes, tuple(issues), len(files), count)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


# -- I/O -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectResult:
    consolidation: Consolidation
    output: Path
    audit: Path
    run_id: str
    collected_at: str
    skipped: tuple[str, ...]
    """Files in the folder that are not forecast files by name (the master, its outputs, Office lock files)."""


def forecast_files_in(folder: Path, master: Path) -> tuple[list[Path], list[str]]:
    """The .xlsx files of ``folder`` to collect, and the ones left out on purpose (named, not silently)."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    take, skip = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
            continue
        if path.name.startswith("~$") or path.resolve() == master.resolve() or path.name.endswith(".forecast.xlsx"):
            skip.append(path.name)
        else:
            take.append(path)
    return take, skip


def output_path(master: Path) -> Path:
    return master.with_name(f"{master.stem}.forecast.xlsx")


def collect(
    folder: str | os.PathLike[str],
    master: str | os.PathLike[str],
    *,
    as_of: dt.date | None = None,
    grid: pd.DataFrame | None = None,
    apply: Callable[[Consolidation], object] | None = None,
) -> CollectResult:
    """Consolidate every forecast file of ``folder`` against the master's grid; write and audit the result.

    Months before the as-of month (default today) are closed: entries for them are issues. ``grid`` and
    ``apply`` default to the master file on disk (read with calamine under the writer's hold, written at
    the part level with the audit run journaled); the Excel ribbon passes the live workbook's grid and
    its live writer instead.
    """
    book = Path(master)
    files, skipped = forecast_files_in(Path(folder), book)
    parsed = [read_forecast_file(p) for p in files]
    if grid is not None or apply is not None:
        return _collect(folder, book, parsed, skipped, as_of, grid, apply)
    with writing(book, "collect"):
        return _collect(folder, book, parsed, skipped, as_of, None, None)


def _collect(
    folder: str | os.PathLike[str],
    book: Path,
    parsed: list[ForecastFile],
    skipped: list[str],
    as_of: dt.date | None,
    grid: pd.DataFrame | None,
    apply: Callable[[Consolidation], object] | None,
) -> CollectResult:
    current_grid = read_forecast(book) if grid is None else grid
    today = as_of or clock.today()
    current = f"{today.year:04d}-{today.month:02d}"
    open_months = [m for m in current_grid["bucket"].astype(str).unique() if m >= current]
    result = consolidate(parsed, current_grid, open_months=open_months)
    out = write_forecast_grid(book, result)
    run = AuditRun(
        uuid.uuid4().hex[:12], clock.now().replace(microsecond=0).isoformat(), str(Path(folder)), str(out), result
    )
    store = AuditStore(audit_path(book))
    if apply is not None:
        apply(result)
        store.record(run.run_id, run.collected_at, run.folder, run.target, result)
    elif result.changes.empty:
        store.record(run.run_id, run.collected_at, run.folder, run.target, result)  # nothing to write
    else:
        apply_to_master(book, result, store.pending(run))
    return CollectResult(result, out, store.path, run.run_id, run.collected_at, tuple(skipped))


def apply_to_master(master: Path, result: Consolidation, record: PendingRun | None = None) -> None:
    """Write the consolidated grid into the master's Forecast table in place (part level, safe save).

    The one write of a user-owned table sopxl makes, because the user asked for it: every other part of
    the master stays byte-identical, and a crash leaves the old or the new master, never a broken one.
    ``record`` (the audit run) is journaled with the replace: written with it or not at all.
    """
    months = [c for c in result.grid.columns if c != FORECAST_KEY.field]
    writer = FileTableWriter(master, command="collect")
    writer.write_table(forecast_spec(months), result.grid, user_action=True)
    writer.commit(pending=[record] if record is not None else [])


def write_forecast_grid(master: Path, result: Consolidation) -> Path:
    """Write the consolidated grid (+ Changes, Issues) to ``<master stem>.forecast.xlsx``; returns its path.

    Flagged cells of the grid get a red fill and a note with their issues.
    """
    target = output_path(master)
    months = [c for c in result.grid.columns if c != FORECAST_KEY.field]
    tmp = target.with_name(f".~{target.stem}.{os.getpid()}.tmp.xlsx")
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        fmts = Formats(book)
        flagged = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "#,##0", "border": 1})
        sheet = book.add_worksheet("Forecast")
        sheet.write_string(0, 0, "Forecast (units per family and month): consolidated by sop collect", fmts.title)
        sheet.write_string(
            1, 0, f"From the forecast files; applied to {master.name}. Red cells have issues (see Issues).", fmts.stamp
        )
        spec = forecast_spec(months)
        first, _last = write_table(sheet, spec, result.grid, fmts, user_input=True)
        row_of = {f: first + i for i, f in enumerate(result.grid[FORECAST_KEY.field])}
        notes: dict[tuple[int, int], list[str]] = defaultdict(list)
        for issue in result.issues:
            if issue.family in row_of and issue.month in months:
                notes[(row_of[issue.family], 1 + months.index(issue.month))].append(str(issue))
        for (r, c), texts in notes.items():
            value = float(result.grid.iloc[r - first, c])  # type: ignore[arg-type]
            if math.isnan(value):
                sheet.write_blank(r, c, None, flagged)
            else:
                sheet.write_number(r, c, value, flagged)
            sheet.write_comment(r, c, "\n".join(texts)[:30000], {"x_scale": 3, "y_scale": 2})
        sheet.freeze_panes(4, 1)
        _plain(book, "Changes", result.changes, "Applied changes (old -> new); blank = no forecast")
        _plain(book, "Issues", result.issues_frame(), "Entries not applied, and why")
    finally:
        book.close()
    os.replace(tmp, target)
    return target


def _plain(book: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, title: str) -> None:
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, title, bold)
    for j, column in enumerate(frame.columns):
        sheet.write_string(2, j, str(column), bold)
        for i, value in enumerate(frame[column].tolist(), start=3):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(i, j, float(value))
            else:
                sheet.write_string(i, j, str(value))
        sheet.set_column(j, j, 60 if column == "message" else 16)
