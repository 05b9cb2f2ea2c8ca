"""Personal sales forecast workbooks: ``sop forecast-sheet`` writes one per rep, ``sop collect`` reads them back.

A forecast file holds (sheet by sheet):

- **Forecast**: the rep's families x months, prefilled with the master's current numbers. Month cells
  are unlocked input cells (yellow, data validation: decimal >= 0); past and frozen months are locked
  (grey); the sheet is protected (no password: it prevents accidents, it is not security). A ``Comment``
  column per family is carried into the audit trail. Row 2 shows the owner and template version.
- **Baseline**: the statistical baseline per family and month, read-only, for reference.
- ``_sopxl`` (very hidden): template version, owner, families, months, locked months, creation time.
- ``_sopxl_prefill`` (very hidden): the prefilled values at the same cell addresses as on Forecast, so
  reading a file back can tell the cells the rep changed from those left as they were.

Strings are always written as strings (``strings_to_formulas`` off): a family named ``=1+1`` is a label.
Reading never guesses: every cell that cannot be taken is returned as a :class:`CellIssue` naming the
file, sheet, cell and rule.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
import xlsxwriter

from sop_functions import clock

from .cells import cell_ref as _ref
from .cells import cell_text as _text
from .cells import is_blank as _blank
from .cells import same_qty as _same
from .cells import show_qty as _show
from .layout import FORECAST_KEY, forecast_validation, is_month_bucket
from .reader import open_book
from .xlsx.txn import safe_write

TEMPLATE_VERSION = "sopxl-forecast-1"
INPUT_SHEET = "Forecast"
BASELINE_SHEET = "Baseline"
META_SHEET = "_sopxl"
PREFILL_SHEET = "_sopxl_prefill"
COMMENT_HEADER = "Comment"
HEADER_ROW = 3
"""0-based row of the header (``Family``, months..., ``Comment``); families start on the row below."""

RULE_NUMBER = "a forecast is a number >= 0 (or blank)"
RULE_TEMPLATE = f"forecast files must be made by `sop forecast-sheet` (template {TEMPLATE_VERSION})"
RULE_LOCKED = "locked (past or frozen) months cannot be changed"
RULE_FAMILY = "families must be rows of the master's Forecast grid"
RULE_HORIZON = "months must be open months of the master's Forecast grid (not past, within the horizon)"
RULE_CONFLICT = "a family/month may be changed in one file only; conflicting cells are not applied"
RULE_LAYOUT = "the Forecast sheet keeps its header row: Family, YYYY-MM months, Comment"
RULE_ROW = "each family appears once per file"

Cell = int | float | str | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


@dataclass(frozen=True)
class CellIssue:
    """One entry (or file) that was not taken, and why."""

    file: str
    sheet: str
    cell: str
    family: str | None
    month: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        about = [f"family {self.family!r}"] if self.family else []
        about += [f"month {self.month}"] if self.month else []
        where = f"{self.file}, {self.sheet}!{self.cell}" if self.cell else f"{self.file}"
        where += f" ({', '.join(about)})" if about else ""
        return f"{where}: {self.message} (rule: {self.rule})"


@dataclass(frozen=True)
class Entry:
    """A value a rep changed: ``value`` None means the rep cleared the cell (blank = no forecast)."""

    file: str
    sheet: str
    cell: str
    owner: str
    family: str
    month: str
    value: float | None
    comment: str
    entered_at: str


@dataclass(frozen=True)
class ForecastFile:
    """What one rep's file says: its stamp, the cells changed against the prefill, and its issues."""

    file: str
    owner: str
    template: str
    entries: tuple[Entry, ...] = ()
    issues: tuple[CellIssue, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)


def write_forecast_file(
    path: str | os.PathLike[str],
    owner: str,
    families: Sequence[str],
    months: Sequence[str],
    *,
    locked: Sequence[str] = (),
    prefill: pd.DataFrame | None = None,
    baseline: pd.DataFrame | None = None,
    master: str = "",
    created_at: dt.datetime | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a rep's forecast workbook; ``prefill``/``baseline`` are ``family, bucket, qty`` frames."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass --force to replace it")
    if not owner.strip():
        raise ValueError("the owner (sales rep) name must not be blank")
    bad = [m for m in months if not is_month_bucket(m)]
    if bad or not months:
        raise ValueError(f"months must be YYYY-MM labels, got {list(months)}")
    families = list(dict.fromkeys(families))
    if not families:
        raise ValueError("give at least one family")
    stamp = (created_at or clock.now()).replace(microsecond=0).isoformat()
    values = _lookup(prefill)
    locked_set = set(locked)

    def build(out: IO[bytes]) -> None:
        book = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False})
        try:
            f = _formats(book)
            sheet = book.add_worksheet(INPUT_SHEET)
            sheet.write_string(0, 0, f"Sales forecast of {owner} (units per family and month)", f["title"])
            sheet.write_string(
                1,
                0,
                f"Owner: {owner} · template {TEMPLATE_VERSION} · made {stamp[:16].replace('T', ' ')}"
                + (f" from {master}" if master else "")
                + " · type in the yellow cells; grey months are locked",
                f["stamp"],
            )
            mirror = book.add_worksheet(PREFILL_SHEET)
            sheet.write_string(HEADER_ROW, 0, FORECAST_KEY.header, f["header"])
            for j, month in enumerate(months, start=1):
                sheet.write_string(HEADER_ROW, j, month, f["header"])
            comment_col = len(months) + 1
            sheet.write_string(HEADER_ROW, comment_col, COMMENT_HEADER, f["header"])
            for i, family in enumerate(families, start=HEADER_ROW + 1):
                sheet.write_string(i, 0, family, f["family"])
                for j, month in enumerate(months, start=1):
                    value = values.get((family, month))
                    fmt = f["locked"] if month in locked_set else f["input"]
                    if value is None:
                        sheet.write_blank(i, j, None, fmt)
                    else:
                        sheet.write_number(i, j, value, fmt)
                        mirror.write_number(i, j, value)
                sheet.write_blank(i, comment_col, None, f["comment"])
            last = HEADER_ROW + len(families)
            for j, month in enumerate(months, start=1):
                if month not in locked_set:
                    sheet.data_validation(
                        HEADER_ROW + 1,
                        j,
                        last,
                        j,
                        forecast_validation(),
                    )
            sheet.set_column(0, 0, min(max([len(x) for x in families] + [10]) + 2, 40))
            sheet.set_column(1, len(months), 11)
            sheet.set_column(comment_col, comment_col, 40)
            sheet.freeze_panes(HEADER_ROW + 1, 1)
            sheet.protect("", {"format_columns": True, "format_rows": True})
            _baseline_sheet(book, f, baseline, families)
            meta = book.add_worksheet(META_SHEET)
            rows = {
                "template_version": TEMPLATE_VERSION,
                "owner": owner,
                "families": "\n".join(families),
                "months": ",".join(months),
                "locked": ",".join(m for m in months if m in locked_set),
                "created_at": stamp,
                "master": master,
            }
            for r, (key, text) in enumerate(rows.items()):
                meta.write_string(r, 0, key)
                meta.write_string(r, 1, text)
            for hidden in (meta, mirror):
                hidden.protect()
                hidden.very_hidden()
            sheet.activate()
        finally:
            book.close()

    # A rep's file is replaced whole (never read first): same lock and atomic replace as every writer.
    safe_write(target, build, _verify_zip, backups=0, command="forecast-sheet", create=True)
    return target


def _verify_zip(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
    if bad is not None:
        raise ValueError(f"writing the forecast file failed: part {bad} is damaged")


def _formats(book: Any) -> dict[str, Any]:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "stamp": book.add_format({"italic": True, "font_color": "#595959"}),
        "header": book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1}),
        "family": book.add_format({"num_format": "@"}),
        "input": book.add_format(
            {"num_format": "#,##0", "locked": False, "bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"}
        ),
        "locked": book.add_format({"num_format": "#,##0", "bg_color": "#E7E6E6", "font_color": "#595959"}),
        "comment": book.add_format({"locked": False, "num_format": "@", "border": 1, "border_color": "#BFBFBF"}),
        "number": book.add_format({"num_format": "#,##0"}),
    }


def _baseline_sheet(book: Any, f: dict[str, Any], baseline: pd.DataFrame | None, families: list[str]) -> None:
    sheet = book.add_worksheet(BASELINE_SHEET)
    sheet.write_string(0, 0, "Statistical baseline (units; reference only, not editable)", f["title"])
    if baseline is None or baseline.empty:
        sheet.write_string(1, 0, "No baseline: make the file with --source to include it.", f["stamp"])
        sheet.protect()
        return
    sheet.write_string(1, 0, "Computed by sopxl from shipment history; see docs/forecasting.md", f["stamp"])
    months = sorted(baseline["bucket"].astype(str).unique())
    values = _lookup(baseline)
    sheet.write_string(HEADER_ROW, 0, FORECAST_KEY.header, f["header"])
    for j, month in enumerate(months, start=1):
        sheet.write_string(HEADER_ROW, j, month, f["header"])
    for i, family in enumerate(families, start=HEADER_ROW + 1):
        sheet.write_string(i, 0, family)
        for j, month in enumerate(months, start=1):
            value = values.get((family, month))
            if value is not None:
                sheet.write_number(i, j, value, f["number"])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, len(months), 11)
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.protect()


def _lookup(frame: pd.DataFrame | None) -> dict[tuple[str, str], float]:
    if frame is None or frame.empty:
        return {}
    out: dict[tuple[str, str], float] = {}
    for family, bucket, qty in frame[["family", "bucket", "qty"]].itertuples(index=False):
        number = float(qty)
        if math.isfinite(number):
            out[(str(family), str(bucket))] = number
    return out


# -- reading a rep's file back ---------------------------------------------------------------------------------


def read_forecast_file(path: str | os.PathLike[str]) -> ForecastFile:
    """The cells a rep changed (against the prefill) and every cell or file-level problem, never raising
    for the file's content (an unreadable file is one issue)."""
    file = Path(path)
    name = file.name
    entered_at = dt.datetime.fromtimestamp(file.stat().st_mtime).astimezone().replace(microsecond=0).isoformat()
    try:
        with open_book(file, [META_SHEET, INPUT_SHEET, PREFILL_SHEET]) as book:
            sheets = book.sheet_names
            if META_SHEET not in sheets:
                return _rejected(name, "", f"not a sopxl forecast file (no {META_SHEET} sheet)")
            meta_rows = book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
            meta = {str(r[0]): str(r[1]) if len(r) > 1 else "" for r in meta_rows if r and r[0] != ""}
            version = meta.get("template_version", "")
            if version != TEMPLATE_VERSION:
                return _rejected(
                    name, meta.get("owner", ""), f"template version {version!r} is not {TEMPLATE_VERSION!r}"
                )
            if INPUT_SHEET not in sheets or PREFILL_SHEET not in sheets:
                return _rejected(name, meta.get("owner", ""), f"the {INPUT_SHEET} or {PREFILL_SHEET} sheet is missing")
            rows = book.get_sheet_by_name(INPUT_SHEET).to_python(skip_empty_area=False)
            prefill = book.get_sheet_by_name(PREFILL_SHEET).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for corrupt files
        return _rejected(name, "", f"cannot be read as a workbook ({type(exc).__name__}: {exc})")
    owner = meta.get("owner", "")
    locked = {m for m in meta.get("locked", "").split(",") if m}
    entries: list[Entry] = []
    issues: list[CellIssue] = []
    header = rows[HEADER_ROW] if len(rows) > HEADER_ROW else []
    if not header or _text(header[0]) != FORECAST_KEY.header:
        issues.append(
            CellIssue(name, INPUT_SHEET, _ref(HEADER_ROW, 0), None, None, RULE_LAYOUT, "header row not found")
        )
        return ForecastFile(name, owner, TEMPLATE_VERSION, (), tuple(issues), meta)
    months: dict[int, str] = {}
    comment_col: int | None = None
    for c in range(1, len(header)):
        text = _text(header[c])
        if text == COMMENT_HEADER:
            comment_col = c
        elif is_month_bucket(text):
            months[c] = text
        elif text:
            issues.append(
                CellIssue(
                    name,
                    INPUT_SHEET,
                    _ref(HEADER_ROW, c),
                    None,
                    None,
                    RULE_LAYOUT,
                    f"column header {text!r} is not a month",
                )
            )
    seen: dict[str, int] = {}
    for r in range(HEADER_ROW + 1, len(rows)):
        row = rows[r]
        family = _text(_at(row, 0))
        comment = _text(_at(row, comment_col)) if comment_col is not None else ""
        if not family:
            if any(not _blank(_at(row, c)) for c in months):
                issues.append(
                    CellIssue(
                        name, INPUT_SHEET, _ref(r, 0), None, None, RULE_FAMILY, "numbers in a row without a family"
                    )
                )
            continue
        if family in seen:
            issues.append(
                CellIssue(
                    name,
                    INPUT_SHEET,
                    _ref(r, 0),
                    family,
                    None,
                    RULE_ROW,
                    f"family appears again (first in row {seen[family] + 1}); row not taken",
                )
            )
            continue
        seen[family] = r
        mirror = prefill[r] if r < len(prefill) else []
        for c, month in months.items():
            raw, before = _at(row, c), _at(mirror, c)
            old = float(before) if isinstance(before, int | float) and not isinstance(before, bool) else None
            value, problem = _number(raw)
            if problem is None and _same(value, old):
                continue  # left as prefilled: not an entry
            where = (name, INPUT_SHEET, _ref(r, c), family, month)
            if problem is not None:
                issues.append(CellIssue(*where, RULE_NUMBER, problem))
            elif month in locked:
                issues.append(
                    CellIssue(
                        *where,
                        RULE_LOCKED,
                        f"month {month} is locked in this file; the change to {_show(value)} is not taken",
                    )
                )
            else:
                entries.append(Entry(name, INPUT_SHEET, _ref(r, c), owner, family, month, value, comment, entered_at))
    return ForecastFile(name, owner, TEMPLATE_VERSION, tuple(entries), tuple(issues), meta)


def _rejected(name: str, owner: str, problem: str) -> ForecastFile:
    issue = CellIssue(name, "", "", None, None, RULE_TEMPLATE, f"{problem}; the whole file is not taken")
    return ForecastFile(name, owner, "", (), (issue,))


def _number(value: Cell) -> tuple[float | None, str | None]:
    """(value, None) for a blank or a number >= 0, else (None, what is wrong)."""
    if _blank(value):
        return None, None
    if isinstance(value, bool):
        return None, f"{'TRUE' if value else 'FALSE'} is not a number"
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return None, f"{value} is not a finite number"
        if number < 0:
            return None, f"{number:g} is negative"
        return number, None
    if isinstance(value, str):
        return None, f"text {value.strip()!r} is not a number"
    return None, f"a date/time ({value}) is not a number"


def _at(row: Sequence[Cell], col: int | None) -> Cell:
    return row[col] if col is not None and col < len(row) else None
