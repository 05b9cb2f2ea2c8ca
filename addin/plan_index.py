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

LAYERED = {
    "demand": "demand",
    "dependent_demand": "dependent_demand",
    "supply": "supply",
    "inventory": "projected_inventory",
    "projected_inventory": "projected_inventory",
    "cover": "cover_months",
    "cover_months": "cover_months",
    "gap": "gap_units",
    "gap_units": "gap_units",
    "gap_value": "gap_value",
    "shortage": "shortage_units",
    "shortage_units": "shortage_units",
    "value_at_risk": "value_at_risk",
    "excess": "excess_units",
    "excess_units": "excess_units",
    "cash_tied_up": "cash_tied_up",
}
"""Measures that exist in both layers: ``demand`` is the proposed layer's, ``demand_firm`` the firm one's."""
PLAIN = {
    "forecast": "forecast",
    "orders": "orders",
    "independent_demand": "independent_demand",
    "receipts": "receipts",
    "production": "production",
    "planned_production": "planned_production",
    "planned_purchases": "planned_purchases",
    "safety_stock": "safety_stock",
    "load_pct": "load_pct_proposed",
}
LAYERS = ("firm", "proposed")
MEASURES: dict[str, str] = {
    **{name: f"{column}_proposed" for name, column in LAYERED.items()},
    **{f"{name}_{layer}": f"{column}_{layer}" for name, column in LAYERED.items() for layer in LAYERS},
    **PLAIN,
}
"""Names a user may type for a measure -> plan column; without a layer suffix: the proposed layer."""
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

    # -- hot path -----------------------------------------------------------------------------------
    def value(self, measure: object, key: object, month: object) -> float:
        """The plan's ``measure`` for a family (or SKU) and month; :class:`LookupProblem` for bad args.

        Fast path: three dict lookups and a list index. Anything unusual (a date as the month, a typo, a
        SKU typed as a number) falls through to :meth:`checked_value`, which normalises or explains.
        """
        column = MEASURES.get(measure)  # type: ignore[call-overload]
        pos: int | None = self.bucket_pos.get(month)  # type: ignore[call-overload]
        if column is not None and pos is not None:
            family, sku = self.by_family.get(column), self.by_sku.get(column)
            row: list[float] | None = (family.rows.get(key) if family else None) or (  # type: ignore[call-overload]
                sku.rows.get(key) if sku else None  # type: ignore[call-overload]
            )
            if row is not None:
                return row[pos]
        return self.checked_value(measure, key, month)

    # -- argument checking (only after a fast path missed) ---------------------------------------------
    def column(self, measure: object) -> str:
        if isinstance(measure, str):
            column = MEASURES.get(measure.strip().lower().replace(" ", "_"))
            if column is not None:
                return column
        names = ", ".join([*LAYERED, *PLAIN])
        raise LookupProblem(
            f"#SOP! unknown measure {_shown(measure)}; use one of {names} (add _firm for the firm layer)"
        )

    def layered(self, measure: str, layer: object) -> str:
        """The measure name of ``layer`` (``proposed`` when blank): ``gap`` + ``firm`` -> ``gap_firm``."""
        return f"{measure}_{layer_name(layer)}"

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
        if text in self.family_of or text in self.by_family["demand_proposed"].rows:
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
        family = self.by_family.get(column)
        if family is not None and name in family.rows:
            return family.rows[name][pos]
        sku = self.by_sku.get(column)
        if sku is None:
            raise LookupProblem(f"#SOP! {measure} is a family measure; give a family, not a SKU")
        if name not in sku.rows:
            raise LookupProblem(f"#SOP! {measure} is a SKU measure; give a SKU, not a family")
        return sku.rows[name][pos]

    def first_short(self, key: object, layer: object = None) -> str:
        """The first month a family or SKU is short in a layer, ``"none"`` if it never is."""
        name = self.key(key)
        column = f"first_short_bucket_{layer_name(layer)}"
        timing = self.plan.family_timing if name in self.by_family["demand_proposed"].rows else self.plan.sku_timing
        key_col = "family" if timing is self.plan.family_timing else "sku"
        rows = timing[timing[key_col] == name]
        first = str(rows.iloc[0][column]) if len(rows) else ""
        return first or "none"

    # -- arrays -------------------------------------------------------------------------------------
    def grid(self, measure: object, by: str = "family") -> pd.DataFrame:
        """``measure`` as a family (or SKU) x bucket frame: what ``SOP_PLAN()`` spills."""
        column = self.column(measure)
        level = by.strip().lower() if isinstance(by, str) else ""
        if level not in ("family", "sku"):
            raise LookupProblem(f"#SOP! by must be 'family' or 'sku', got {_shown(by)}")
        tables = self.by_family if level == "family" else self.by_sku
        if column not in tables:
            raise LookupProblem(f"#SOP! {measure} is not a {level} measure")
        rows = tables[column].rows
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(self.buckets))
        frame.index.name = "Family" if level == "family" else "SKU"
        return frame

    def explain(self, key: object, month: object) -> pd.DataFrame:
        """The open orders, receipts and production orders of a family (or SKU) in a bucket."""
        name = self.key(key)
        label = self.bucket(month)
        detail = self.detail
        mask = (detail["family"] == name) if name in self.by_family["demand_proposed"].rows else (detail["sku"] == name)
        rows = detail[mask & (detail["bucket"] == label)]
        out = rows[["kind", "order", "sku", "date", "qty", "effect"]].reset_index(drop=True)
        out.columns = list(EXPLAIN_HEADER)
        return out

    def capacity_load(self, work_center: object, month: object, measure: str = "load", layer: object = None) -> float:
        """Load of a work center in a month: ``load`` (hours needed / hours available), ``hours`` or
        ``capacity``, of the proposed layer (``layer="firm"``: the ERP's production orders only)."""
        load = self.plan.capacity_load
        if load.empty:
            raise LookupProblem("#N/A no routings in this plan: capacity load needs routings and work centers")
        label = self.bucket(month)
        if label == PAST_DUE:
            label = self.buckets[1]  # overdue work loads the first month
        suffix = layer_name(layer)
        if not isinstance(work_center, str) or not work_center.strip():
            raise LookupProblem(f"#SOP! work center must be text, got {_shown(work_center)}")
        wanted = work_center.strip().casefold()
        match = load[(load["work_center"].str.casefold() == wanted) | (load["name"].str.casefold() == wanted)]
        if match.empty:
            known = ", ".join(sorted(load["work_center"].unique()))
            raise LookupProblem(f"#SOP! unknown work center {work_center.strip()!r}; known: {known}")
        row = match[match["bucket"] == label].iloc[0]
        kind = measure.strip().lower() if isinstance(measure, str) else ""
        hours = float(row[f"load_hours_{suffix}"])
        if kind == "hours":
            return hours
        capacity = float(row["available_hours"])
        if not math.isfinite(capacity):
            raise LookupProblem(
                f"#N/A capacity of work center {row['work_center']!r} is not set: type its hours on the Capacity sheet"
            )
        if kind == "capacity":
            return capacity
        if kind != "load":
            raise LookupProblem(f"#SOP! measure must be 'load', 'hours' or 'capacity', got {_shown(measure)}")
        return hours / capacity if capacity > 0 else math.inf


def layer_name(layer: object) -> str:
    """``proposed`` (blank, the default) or ``firm``; :class:`LookupProblem` for anything else."""
    if layer is None or (isinstance(layer, str) and not layer.strip()):
        return "proposed"
    if isinstance(layer, str) and layer.strip().lower() in LAYERS:
        return layer.strip().lower()
    raise LookupProblem(f"#SOP! layer must be 'proposed' (default) or 'firm', got {_shown(layer)}")


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
        if column not in frame.columns:
            continue
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
    )
