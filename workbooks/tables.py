"""Turn an engine :class:`~sop_functions.plan.Plan` into the frames of the workbook's owned tables.

The one place that knows how a plan becomes owned-table frames, so that the template builder, the
headless refresh and the live Excel writer all write the same thing. Which plan frame feeds which table
is the layout's ``TableSpec.frame``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sop_functions import clock
from sop_functions.plan import Plan

from . import layout
from .stamps import WorkbookStamps, settings_frame

SKU_DETAIL_NOTE = "sku_detail"
"""The tblSettings row telling where the SKU tables are (every writer writes it, so the table keeps its
length): in the workbook, or beside it as Parquet (:mod:`workbooks.sku_detail` sets that value)."""
SKU_DETAIL_INSIDE = "in this workbook"


def plan_stamps(plan: Plan, refreshed_at: dt.datetime | None = None) -> WorkbookStamps:
    """The provenance a plan's tables carry: the ERP's clock, not the refresh time, is the as-of."""
    now = refreshed_at or clock.now().replace(microsecond=0)
    return WorkbookStamps(source=plan.source, erp_as_of=plan.as_of, refreshed_at=now, grain=plan.horizon.grain)


def _blank_infinities(frame: pd.DataFrame, spec: layout.TableSpec) -> pd.DataFrame:
    """+inf months of cover (stock, no demand ahead) becomes the text :data:`~workbooks.layout.NO_DEMAND`,
    any other infinity a blank cell, in every writer: never ``#NUM!``.

    Only the columns that change are new (a shallow copy takes the rest): the SKU tables' 95,000 rows x
    ~15 numbers at SME-L were copied whole several times over for a few columns of cover."""
    numeric = frame.select_dtypes(include="number").columns
    if len(numeric) == 0:
        return frame
    out = frame.copy(deep=False)  # columns are replaced, never written into: the caller's frame stays as it is
    cover = [c.field for c in spec.columns if c.kind == "months" and c.field in numeric]
    for field in cover:
        values = out[field].astype(object)
        out[field] = values.where(~np.isposinf(out[field].to_numpy(dtype=float)), layout.NO_DEMAND)
    for field in (c for c in numeric if c not in cover):
        if np.isinf(out[field].to_numpy(dtype=float)).any():
            out[field] = out[field].replace([np.inf, -np.inf], np.nan)
    return out


def plan_tables(plan: Plan, stamps: WorkbookStamps) -> dict[str, pd.DataFrame]:
    """Owned table name -> frame with exactly that table's layout fields, in layout order.

    Bucket labels become plain text and infinities blanks, so the template builder, the file refresh and
    the live Excel writer all write the same cells.
    """
    method = {"lp": "within capacity (LP)", "netting": "netting, infinite capacity"}[plan.supply_method]
    notes = pd.DataFrame(
        {
            "setting": ["proposal", "decision_window_months", "plan_notes", SKU_DETAIL_NOTE],
            "value": [method, str(plan.window), " | ".join(plan.notes) or "none", SKU_DETAIL_INSIDE],
        }
    )
    settings = pd.concat([settings_frame(stamps, plan.horizon.labels), notes], ignore_index=True)
    out: dict[str, pd.DataFrame] = {layout.SETTINGS.name: settings}
    for spec in layout.OWNED_TABLES:
        if spec.frame is None:
            continue
        frame: pd.DataFrame = getattr(plan, spec.frame)
        fields = [c.field for c in spec.columns]
        missing = [f for f in fields if f not in frame.columns]
        if missing:
            raise KeyError(f"engine output {spec.frame} lacks {missing} needed by {spec.name}")
        table = frame.loc[:, fields]  # a frame of its own: renumbered in place, not copied again
        table.index = pd.RangeIndex(len(table))
        if "bucket" in table.columns:
            table["bucket"] = table["bucket"].astype(str)
        if spec.name == layout.TOP_GAPS.name:  # fixed height: the Summary chart's range never moves
            table = table.reindex(range(layout.TOP_GAP_ROWS))
        out[spec.name] = _blank_infinities(table, spec)
    return out
