"""How the CLI shows a plan's gaps: a rich table for people, JSON for scripts."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from sop_functions.plan import Plan

COLUMNS = ("rank", "family", "bucket", "gap_units", "gap_value", "shortage_units", "cover_months")


def _number(value: Any, decimals: int = 0) -> str:
    number = float(value)
    return f"{number:,.{decimals}f}" if math.isfinite(number) else ""


def top_gap_rows(plan: Plan, top: int) -> list[dict[str, Any]]:
    """The top gaps joined with their family row's shortage and cover."""
    detail = plan.family_plan[["family", "bucket", "shortage_units", "cover_months"]].astype({"bucket": str})
    gaps = plan.top_gaps.head(top).astype({"bucket": str})
    joined = gaps.merge(detail, on=["family", "bucket"], how="left")[list(COLUMNS)]
    return [{str(k): v for k, v in row.items()} for row in joined.to_dict("records")]


def gap_table(plan: Plan, top: int) -> Table:
    """The families with the worst shortfall by money; negative = short, positive = surplus."""
    table = Table(title=f"Top {top} gaps  (negative = short, positive = surplus)", title_justify="left")
    for header in ("#", "Family", "Bucket", "Gap units", "Gap value", "Short units", "Cover (mo)"):
        table.add_column(header, justify="left" if header in ("Family", "Bucket") else "right")
    for row in top_gap_rows(plan, top):
        style = "red" if float(row["gap_value"]) < 0 else "green"
        table.add_row(
            str(row["rank"]),
            str(row["family"]),
            str(row["bucket"]),
            f"[{style}]{_number(row['gap_units'])}[/]",
            f"[{style}]{_number(row['gap_value'])}[/]",
            _number(row["shortage_units"]),
            _number(row["cover_months"], 1),
        )
    if not len(plan.top_gaps):
        table.caption = "no shortfalls in the horizon"
    return table


def gaps_json(plan: Plan, top: int) -> dict[str, Any]:
    """Top gaps with the snapshot's provenance, for scripts (`sop plan --json`)."""
    return {
        "source": plan.source,
        "as_of": plan.as_of.isoformat(),
        "sign_convention": "gap = surplus - shortage; negative = short",
        "gaps": [
            {
                "rank": int(r["rank"]),
                "family": str(r["family"]),
                "bucket": str(r["bucket"]),
                "gap_units": float(r["gap_units"]),
                "gap_value": float(r["gap_value"]),
                "shortage_units": float(r["shortage_units"]),
            }
            for r in top_gap_rows(plan, top)
        ],
    }
