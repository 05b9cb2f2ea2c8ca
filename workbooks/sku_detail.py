"""SKU detail beyond Excel's row limit: kept beside the workbook as Parquet, the family level inside.

A sheet holds 1,048,576 rows; an owned table whose header is on row 4 holds 1,048,572 data rows. The SKU
tables have one row per SKU and bucket (19 buckets: past due + 18 months), so above ~55,000 SKUs they no
longer fit. Excel's writers do not refuse rows beyond the limit, they drop them, and a SUMIFS over a table
cut short gives wrong totals without a word. So before anything is written, :func:`place_sku_detail`
checks every table against its sheet: when a SKU table does not fit, every SKU table (they belong
together) goes to ``<stem>.sku-detail/<table>.parquet`` beside the workbook (typed, compressed, read by
Power Query's Parquet connector, pandas, DuckDB), its table in the workbook is left empty with a note in
tblSettings (``sku_detail``), and the family tables (tblPlan, tblSOP, Summary, Finance, ...) stay inside
in full. A family table that does not fit is an error: nothing is written. When the detail fits again,
the Parquet folder is removed (it would be stale). The folder changes with the workbook's replace or not
at all: it is a pending store of the writer's journal (:mod:`workbooks.xlsx.journal`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import layout
from .tables import SKU_DETAIL_INSIDE, SKU_DETAIL_NOTE
from .xlsx.journal import journal_path
from .xlsx.refs import parse_cell
from .xlsx.safe_save import checkpoint, fsync_dir, glob_escape

EXCEL_ROWS = 1_048_576
"""Rows of an Excel worksheet (.xlsx)."""
SKU_TABLES = (layout.DEMAND.name, layout.SUPPLY.name, layout.INVENTORY.name, layout.PLANNED_ORDERS.name)
"""The owned tables at SKU level; every other owned table is at family (or work center) level."""
NOTE = SKU_DETAIL_NOTE


class RowLimitError(ValueError):
    """A family-level table has more rows than a sheet holds: the workbook cannot show the plan."""


def capacity(name: str, excel_rows: int = EXCEL_ROWS) -> int:
    """Data rows the table ``name`` can hold: the rows below its header row."""
    specs = (*layout.OWNED_TABLES, *layout.PLANNING_TABLES, layout.CAPACITY_INPUT, layout.SCENARIO_INPUTS)
    anchor = next((s.anchor for s in specs if s.name == name), layout.sop_grid_spec([]).anchor)
    header_row, _ = parse_cell(anchor)
    return excel_rows - header_row


def detail_dir(workbook: str | os.PathLike[str]) -> Path:
    path = Path(workbook).expanduser().resolve()
    return path.with_name(path.stem + ".sku-detail")


STAGE_PREFIX = "."
"""Staged folders are ``.<stem>.sku-detail-<random>`` beside the workbook (hidden; removed when stale)."""


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as Parquet holds it: a column of numbers stays numbers. Months of cover is the one number
    column the sheets may show as text (:data:`~workbooks.layout.NO_DEMAND`: stock, no demand ahead); in
    Parquet it is the number it stands for, +inf (Power Query: ``Number.PositiveInfinity``)."""
    out = frame
    for column in frame.select_dtypes(include="object").columns:
        values = frame[column]
        texts = values.map(lambda v: isinstance(v, str))
        if texts.any() and values[texts].eq(layout.NO_DEMAND).all():
            out = out.copy() if out is frame else out
            out[column] = pd.to_numeric(values.where(~texts, float("inf")))
    return out


@dataclass
class SkuDetail:
    """Where the SKU tables go (``rows`` per table) when they do not fit in the workbook.

    It is a :class:`~workbooks.xlsx.journal.Pending` store: the Parquet files are written to a staged
    folder first, the workbook's writer journals it with the new workbook, and the folder is put in place
    (or the staged files dropped) together with the workbook's replace, also after a crash: the next sopxl
    writer of the workbook resolves the journal (:func:`recover_pending`). ``staged`` None with no rows
    means the detail fits again: the folder of an earlier refresh is removed when the workbook is replaced.
    """

    folder: Path
    rows: dict[str, int] = field(default_factory=dict)
    staged: Path | None = None
    workbook: Path | None = None

    @property
    def message(self) -> str:
        biggest = max(self.rows, key=lambda n: self.rows[n])
        return (
            f"the SKU tables do not fit in a sheet ({biggest} has {self.rows[biggest]:,} rows, more than a sheet "
            f"holds below its header): the SKU detail is in {self.folder.name}/ beside the workbook "
            f"({', '.join(f'{n}.parquet' for n in self.rows)}; in Excel: Data > Get Data > From File > From "
            "Parquet); the workbook keeps the family level in full, its SKU tables are empty"
        )

    # -- journal.Pending ----------------------------------------------------------------------------
    def locator(self) -> dict[str, Any]:
        return {"kind": "sku_detail", "folder": str(self.folder), "staged": str(self.staged) if self.staged else None}

    def prepare(self, txn_id: str) -> None:
        """The staged files are on disk before the workbook is replaced (fsync'd, folder included)."""
        if self.staged is None:
            return
        for part in self.staged.iterdir():
            with part.open("rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(self.staged)

    def discard(self) -> None:
        """After the writer: drop the staged files the workbook's replace did not take (none when it did).
        A journal left beside the workbook (its replace happened, recording it failed) keeps them for the
        next sopxl writer, which completes it."""
        if self.workbook is not None and journal_path(self.workbook).exists():
            return
        recover_pending(self.locator(), "", applied=False)
        self.staged = None


def recover_pending(locator: Mapping[str, Any], txn_id: str, applied: bool) -> None:
    """Complete (``applied``: the new workbook is in place) or roll back a SKU detail change; idempotent."""
    folder = Path(str(locator["folder"]))
    staged = Path(str(locator["staged"])) if locator.get("staged") else None
    if not applied:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        return
    old = folder.with_name(folder.name + ".old")
    if staged is None:
        if folder.exists():
            os.replace(folder, old)
    elif staged.is_dir():  # not moved yet (gone: an earlier recovery moved it)
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(staged, folder)
    fsync_dir(folder.parent)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_stages(workbook: str | os.PathLike[str]) -> None:
    """Staged folders of a writer killed before it journaled them (the caller holds the workbook; the
    journal, resolved first, no longer names any)."""
    folder = detail_dir(workbook)
    for stale in folder.parent.glob(glob_escape(f"{STAGE_PREFIX}{folder.name}-") + "*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def place_sku_detail(
    tables: dict[str, pd.DataFrame], workbook: str | os.PathLike[str], *, excel_rows: int = EXCEL_ROWS
) -> SkuDetail | None:
    """Check every table against its sheet (see the module docstring) before anything is written.

    When the SKU tables do not fit: stage them as Parquet files and empty them in ``tables``; returns the
    :class:`SkuDetail` to pass to the workbook's writer as a pending store. When everything fits: a
    pending removal of an earlier refresh's folder, or None when there is none.
    """
    over = {n: len(f) for n, f in tables.items() if len(f) > capacity(n, excel_rows)}
    family = sorted(set(over) - set(SKU_TABLES))
    if family:
        raise RowLimitError(
            f"{', '.join(f'{n} ({over[n]:,} rows)' for n in family)}: more rows than a sheet holds "
            f"({excel_rows:,} in all); nothing was written. Plan fewer families or a shorter horizon (--months)."
        )
    folder = detail_dir(workbook)
    book = Path(workbook).expanduser().resolve()
    remove_stale_stages(book)
    if not over:
        return SkuDetail(folder, workbook=book) if folder.exists() else None
    staged = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{folder.name}-", dir=folder.parent))
    detail = SkuDetail(folder, staged=staged, workbook=book)
    try:
        for name in SKU_TABLES:
            if name in tables:
                typed(tables[name]).to_parquet(staged / f"{name}.parquet", index=False)
                detail.rows[name] = len(tables[name])
        checkpoint("sku-detail-staged")
    except BaseException:
        detail.discard()
        raise
    for name in detail.rows:
        tables[name] = tables[name].iloc[0:0]
    return detail


def placed(workbook: str | os.PathLike[str]) -> SkuDetail | None:
    """The SKU detail beside ``workbook`` as it is on disk (row counts from the Parquet footers), or None."""
    folder = detail_dir(workbook)
    if not folder.is_dir():
        return None
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    rows = {p.stem: pq.read_metadata(p).num_rows for p in sorted(folder.glob("*.parquet"))}
    return SkuDetail(folder, {n: rows[n] for n in SKU_TABLES if n in rows}) if rows else None


def note_value(detail: SkuDetail | None) -> str:
    """The tblSettings ``sku_detail`` value: where the SKU detail is."""
    outside = detail is not None and detail.staged is not None
    return f"{detail.folder.name}/ beside the workbook (Parquet)" if outside and detail else SKU_DETAIL_INSIDE


def apply(
    tables: dict[str, pd.DataFrame], workbook: str | os.PathLike[str], excel_rows: int = EXCEL_ROWS
) -> SkuDetail | None:
    """:func:`place_sku_detail` plus the tblSettings note; the frames in ``tables`` are replaced."""
    detail = place_sku_detail(tables, workbook, excel_rows=excel_rows)
    settings = layout.SETTINGS.name
    if settings in tables:
        frame = tables[settings]
        row = pd.DataFrame({"setting": [NOTE], "value": [note_value(detail)]})
        tables[settings] = pd.concat([frame[frame["setting"] != NOTE], row], ignore_index=True)
    return detail


def pending(detail: SkuDetail | None) -> list[SkuDetail]:
    """What the workbook's writer journals with its replace."""
    return [] if detail is None else [detail]


def frames_of(detail: SkuDetail) -> Mapping[str, pd.DataFrame]:
    """The SKU tables as written (readers of the detail)."""
    return {name: pd.read_parquet(detail.folder / f"{name}.parquet") for name in detail.rows}
