"""A plan pre-indexed for the worksheet functions: one lookup = a few dict gets, no pandas on the hot path.

Built once per plan (milliseconds), then every ``=SOP_GAP("Bikes","2027-03")`` is a dict lookup of the
key (family or SKU), one of the month and a list index: about a microsecond of Python. Everything a UDF
can be asked is here: family and SKU measures per bucket, the records behind a bucket (for
``SOP_EXPLAIN``) and the work-center load (for ``SOP_CAPACITY_LOAD``).

Errors are :class:`LookupProblem` with a short Excel-style text (``#SOP! unknown family 'Bykes'``), raised
only off the hot path, after the fast lookup missed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_functions.buckets import PAST_DUE
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot

MEASURES: dict[str, str] = {
    "demand": "demand",
    "forecast": "forecast",
    "orders": "orders",
    "supply": "supply",
    "receipts": "receipts",
    "production": "production",
    "opening_inventory": "opening_inventory",
    "inventory": "projected_inventory",
    "projected_inventory": "projected_inventory",
    "safety_stock": "safety_stock",
    "cover": "cover_months",
    "cover_months": "cover_months",
    "gap": "gap_units",
    "gap_units": "gap_units",
    "gap_value": "gap_value",
    "shortage_units": "shortage_units",
    "shortage_value": "shortage_value",
    "surplus_units": "surplus_units",
    "surplus_value": "surplus_value",
}
"""Names a user may type for a measure -> plan column. Short names first: they are what the docs show."""
_COLUMNS = tuple(dict.fromkeys(MEASURES.values()))
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
EXPLAIN_HEADER = ("Kind", "Order", "SKU", "Date", "Qty", "Effect on inventory")


class LookupProblem(ValueError):
    """A bad argument, worded as the short text the cell shows (``#SOP! ...``)."""


@dataclass(frozen=True)
class Table2D:
    """One measure as rows (families or SKUs) x buckets, as plain Python lists for fast indexing."""

    rows: dict[str, list[float]]


@dataclass(eq=False)
class PlanIndex:
    """Everything the UDFs read, keyed for O(1) lookups."""

    plan: Plan
    stamp: str
    buckets: tuple[str, ...]
    bucket_pos: dict[str, int]
    families: tuple[str, ...]
    skus: tuple[str, ...]
    family_of: dict[str, str]
    by_family: dict[str, Table2D]
    by_sku: dict[str, Table2D]
    detail: pd.DataFrame = field(repr=False)
    """``kind, order, sku, family, bucket, date, qty, effect``: the dated records behind each bucket."""
    load: pd.DataFrame | None = field(default=None, repr=False)
    """``work_center, name, bucket, hours, capacity, load`` or None without routings."""

    # -- hot path -----------------------------------------------------------------------------------
    def value(self, measure: object, key: object, month: object) -> float:
        """The plan's ``measure`` for a family (or SKU) and month; :class:`LookupProblem` for bad args.

        Fast path: three dict lookups and a list index. Anything unusual (a date as the month, a typo, a
        SKU typed as a number) falls through to :meth:`checked_value`, which normalises or explains.
        """
        column = MEASURES.get(measure)  # type: ignore[call-overload]
        pos: int | None = self.bucket_pos.get(month)  # type: ignore[call-overload]
        if column is not None and pos is not None:
            row: list[float] | None = self.by_family[column].rows.get(key) or self.by_sku[column].rows.get(key)  # type: ignore[call-overload]
            if row is not None:
                return row[pos]
        return self.checked_value(measure, key, month)

    # -- argument checking (only after a fast path missed) ---------------------------------------------
    def column(self, measure: object) -> str:
        if isinstance(measure, str):
            column = MEASURES.get(measure.strip().lower().replace(" ", "_"))
            if column is not None:
                return column
        names = ", ".join(k for k in MEASURES if k == MEASURES[k] or k in ("inventory", "cover", "gap"))
        raise LookupProblem(f"#SOP! unknown measure {_shown(measure)}; use one of {names}")

    def bucket(self, month: object) -> str:
        """The bucket label a month argument names: ``2027-03``, ``2027-3``, a date, or ``PAST_DUE``."""
        label: str | None = None
        if isinstance(month, dt.date | np.datetime64 | pd.Timestamp):
            stamp = pd.Timestamp(month)
            label = f"{stamp.year:04d}-{stamp.month:02d}"
        elif isinstance(month, str):
            text = month.strip()
            if text.upper().replace(" ", "_") == PAST_DUE:
                label = PAST_DUE
            elif (match := _MONTH.match(text)) is not None and 1 <= int(match[2]) <= 12:
                label = f"{int(match[1]):04d}-{int(match[2]):02d}"
            else:
                raise LookupProblem(f"#SOP! month {_shown(month)} is not a month like {self.buckets[-1]}")
        else:
            raise LookupProblem(f"#SOP! month must be text like {self.buckets[-1]}, got {_shown(month)}")
        if label not in self.bucket_pos:
            raise LookupProblem(f"#SOP! month {label} is outside the horizon {self.buckets[1]} .. {self.buckets[-1]}")
        return label

    def key(self, key: object) -> str:
        """A family or SKU name; close matches are suggested for typos."""
        if isinstance(key, float) and key.is_integer():
            key = str(int(key))  # a SKU typed as a number arrives as 100.0
        if not isinstance(key, str) or not key.strip():
            raise LookupProblem(f"#SOP! family or SKU must be text, got {_shown(key)}")
        text = key.strip()
        if text in self.family_of or text in self.by_family["demand"].rows:
            return text
        folded = {name.casefold(): name for name in (*self.families, *self.skus)}
        if text.casefold() in folded:
            return folded[text.casefold()]
        near = difflib.get_close_matches(text, self.families, n=1) or difflib.get_close_matches(text, self.skus, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise LookupProblem(f"#SOP! unknown family or SKU {text!r}{hint}")

    def checked_value(self, measure: object, key: object, month: object) -> float:
        """Like :meth:`value` but every argument is checked and normalised first (the slow, friendly path)."""
        column = self.column(measure)
        name = self.key(key)
        pos = self.bucket_pos[self.bucket(month)]
        table = self.by_family[column] if name in self.by_family[column].rows else self.by_sku[column]
        return table.rows[name][pos]

    # -- arrays -------------------------------------------------------------------------------------
    def grid(self, measure: object, by: str = "family") -> pd.DataFrame:
        """``measure`` as a family (or SKU) x bucket frame: what ``SOP_PLAN()`` spills."""
        column = self.column(measure)
        level = by.strip().lower() if isinstance(by, str) else ""
        if level not in ("family", "sku"):
            raise LookupProblem(f"#SOP! by must be 'family' or 'sku', got {_shown(by)}")
        rows = (self.by_family if level == "family" else self.by_sku)[column].rows
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(self.buckets))
        frame.index.name = "Family" if level == "family" else "SKU"
        return frame

    def explain(self, key: object, month: object) -> pd.DataFrame:
        """The open orders, receipts and production orders of a family (or SKU) in a bucket."""
        name = self.key(key)
        label = self.bucket(month)
        detail = self.detail
        mask = (detail["family"] == name) if name in self.by_family["demand"].rows else (detail["sku"] == name)
        rows = detail[mask & (detail["bucket"] == label)]
        out = rows[["kind", "order", "sku", "date", "qty", "effect"]].reset_index(drop=True)
        out.columns = list(EXPLAIN_HEADER)
        return out

    def capacity_load(self, work_center: object, month: object, measure: str = "load") -> float:
        """Hours needed / hours available of a work center in a bucket (``measure`` hours|capacity|load)."""
        if self.load is None or self.load.empty:
            raise LookupProblem("#N/A no routings in this plan: capacity load needs routings and work centers")
        label = self.bucket(month)
        if not isinstance(work_center, str) or not work_center.strip():
            raise LookupProblem(f"#SOP! work center must be text, got {_shown(work_center)}")
        wanted = work_center.strip().casefold()
        match = self.load[
            (self.load["work_center"].str.casefold() == wanted) | (self.load["name"].str.casefold() == wanted)
        ]
        if match.empty:
            known = ", ".join(sorted(self.load["work_center"].unique()))
            raise LookupProblem(f"#SOP! unknown work center {work_center.strip()!r}; known: {known}")
        row = match[match["bucket"] == label].iloc[0]
        kind = measure.strip().lower() if isinstance(measure, str) else ""
        if kind == "hours":
            return float(row["hours"])
        capacity = float(row["capacity"])
        if not math.isfinite(capacity):
            raise LookupProblem(
                f"#N/A capacity of work center {row['work_center']!r} is not set (work_centers.hours_per_month)"
            )
        if kind == "capacity":
            return capacity
        if kind != "load":
            raise LookupProblem(f"#SOP! measure must be 'load', 'hours' or 'capacity', got {_shown(measure)}")
        return float(row["hours"]) / capacity if capacity > 0 else math.inf


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "an empty cell"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _tables(frame: pd.DataFrame, key: str, names: Sequence[str], n: int) -> dict[str, Table2D]:
    """Per measure column, key -> list of its bucket values (rows of ``frame`` are in bucket order)."""
    out: dict[str, Table2D] = {}
    keys = frame[key].to_numpy()[::n].tolist()
    for column in _COLUMNS:
        values = frame[column].to_numpy(dtype="float64").reshape(len(names), n)
        out[column] = Table2D({str(k): row for k, row in zip(keys, values.tolist(), strict=True)})
    return out


def _detail(snapshot: Snapshot, plan: Plan) -> pd.DataFrame:
    """Every dated record the plan bucketed, with its family, bucket and signed effect on inventory."""
    horizon = plan.horizon
    as_of = snapshot.as_of_date
    family = snapshot.items.set_index("sku")["family"]
    parts = []
    for entity, date_col, order_col, kind, sign in (
        ("open_demand", "requested_date", "order_id", "Sales order", -1.0),
        ("receipts", "expected_date", "order_id", "Purchase receipt", 1.0),
        ("production", "due_date", "order_id", "Production order", 1.0),
    ):
        frame = snapshot.frames[entity]
        if frame.empty:
            continue
        buckets = horizon.assign(frame[date_col], as_of).astype(str)
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "order": frame[order_col].astype(str).to_numpy(),
                    "sku": frame["sku"].astype(str).to_numpy(),
                    "family": frame["sku"].map(family).astype(str).to_numpy(),
                    "bucket": buckets.to_numpy(),
                    "date": pd.to_datetime(frame[date_col]).to_numpy(),
                    "qty": frame["qty"].to_numpy(dtype="float64"),
                    "effect": sign * frame["qty"].to_numpy(dtype="float64"),
                }
            )
        )
    columns = ["kind", "order", "sku", "family", "bucket", "date", "qty", "effect"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["family", "bucket", "kind", "date", "order"], kind="stable").reset_index(drop=True)


def _load(snapshot: Snapshot, plan: Plan) -> pd.DataFrame | None:
    """Capacity load: hours = demand x hours_per_unit summed per work center and bucket, vs its hours."""
    routings, centers = snapshot.routings, snapshot.work_centers
    if routings.empty or centers.empty:
        return None
    demand = plan.sku_plan[["sku", "bucket", "demand"]].astype({"bucket": str})
    hours = demand.merge(routings[["sku", "work_center", "hours_per_unit"]], on="sku")
    hours["hours"] = hours["demand"] * hours["hours_per_unit"]
    per = hours.groupby(["work_center", "bucket"], sort=False)["hours"].sum()
    grid = pd.MultiIndex.from_product(
        [centers["code"].astype(str), plan.horizon.labels], names=["work_center", "bucket"]
    )
    out = per.reindex(grid, fill_value=0.0).reset_index()
    info = centers.assign(code=centers["code"].astype(str)).set_index("code")
    out["name"] = out["work_center"].map(info["name"]).fillna("").astype(str)
    per_month = pd.to_numeric(out["work_center"].map(info["hours_per_month"]), errors="coerce").astype("float64")
    out["capacity"] = per_month * plan.horizon.months_per_bucket
    out["load"] = out["hours"] / out["capacity"]
    return out


def build_index(plan: Plan, snapshot: Snapshot, stamp: str = "") -> PlanIndex:
    """Index a plan (and the snapshot it was made from, for the records behind it)."""
    labels = tuple(plan.horizon.labels)
    n = len(labels)
    fam = plan.family_plan
    sku = plan.sku_plan
    families = tuple(fam["family"].to_numpy()[::n].tolist()) if len(fam) else ()
    skus = tuple(sku["sku"].to_numpy()[::n].tolist()) if len(sku) else ()
    return PlanIndex(
        plan=plan,
        stamp=stamp,
        buckets=labels,
        bucket_pos={label: i for i, label in enumerate(labels)},
        families=families,
        skus=skus,
        family_of=dict(zip(skus, sku["family"].to_numpy()[::n].tolist(), strict=True)),
        by_family=_tables(fam, "family", families, n),
        by_sku=_tables(sku, "sku", skus, n),
        detail=_detail(snapshot, plan),
        load=_load(snapshot, plan),
    )
