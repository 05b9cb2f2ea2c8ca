"""How the CLI shows a plan's shortages: a rich table for people, JSON for scripts.

Both show the same numbers as the workbook's Summary (tblTopGaps) and Plan: shortage and value at risk,
never netted against another SKU's excess, in the two layers (firm: what the ERP has; proposed: with the
planned supply), with the month each shortage starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from connectors.notices import LOGGED, DataWarning
from sop_functions.gaps import LAYERS, TIMING_COLUMNS
from sop_functions.plan import Plan


def _number(value: Any, decimals: int = 0) -> str:
    number = float(value)
    return f"{number:,.{decimals}f}" if math.isfinite(number) else ""


def top_gap_rows(plan: Plan, top: int) -> list[dict[str, Any]]:
    """The ranked shortages (tblTopGaps' rows) as plain dicts."""
    frame = plan.top_gaps.head(top)
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


WHY_MIN_WIDTH = 28
"""Below this many characters left for it, the Why column would wrap to a few letters a line: the reasons
go under the table instead."""


@dataclass(frozen=True)
class GapTable:
    """The top shortages as rich renders them, fitted to the terminal (a rich renderable).

    Each layer keeps its own columns: "firm" is what the ERP already has (if nothing changes), "proposed"
    adds the planned supply. A family short only after the proposal shows "-" for its firm first month,
    never the proposed month under a firm heading. Why a family stays short after the proposal is a column
    where it has room to be read, else a list under the table.
    """

    plan: Plan
    top: int

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = top_gap_rows(self.plan, self.top)
        narrow = self._table(rows, with_why=False)
        room = options.max_width - console.measure(narrow, options=options).maximum
        if room >= WHY_MIN_WIDTH + 3:
            yield self._table(rows, with_why=True)
            return
        yield narrow
        reasons = [(str(r["family"]), _why(r)) for r in rows]
        if any(why for _, why in reasons):
            yield Text("Why short after the proposal:", style="bold")
            for family, why in reasons:
                if why:
                    yield Text(f"  {family}: {why}")

    def _table(self, rows: Sequence[dict[str, Any]], *, with_why: bool) -> Table:
        window = f"{self.plan.window} mo"
        table = Table(
            title=f"Top {self.top} shortages (first short month; value at risk in the next {window})",
            title_justify="left",
        )
        columns = (
            ("Family", "left"),
            ("First short\n(firm)", "left"),
            ("Short then\n(firm)", "right"),
            ("At risk\n(firm)", "right"),
            ("First short\n(proposed)", "left"),
            ("At risk\n(proposed)", "right"),
        )
        for header, justify in columns:
            table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        if with_why:
            table.add_column("Why (after proposal)", justify="left", min_width=WHY_MIN_WIDTH)
        for row in rows:
            after = float(row["value_at_risk_window_proposed"])
            firm_short = bool(row["first_short_bucket_firm"])
            why = (escape(_why(row)),) if with_why else ()
            table.add_row(
                escape(str(row["family"])),
                str(row["first_short_bucket_firm"] or "-"),
                _number(row["first_shortage_units_firm"]) if firm_short else "-",
                f"[red]{_number(row['value_at_risk_window_firm'])}[/]" if firm_short else "-",
                str(row["first_short_bucket_proposed"] or "-"),
                f"[{'red' if after > 0 else 'green'}]{_number(after)}[/]",
                *why,
            )
        shown = len(rows)
        timing = self.plan.family_timing
        short = int(((timing["months_short_firm"] > 0) | (timing["months_short_proposed"] > 0)).sum())
        if not short:
            table.caption = "no shortages in the horizon, if nothing changes or after the proposed supply"
        elif short > shown:
            more = short - shown
            table.caption = f"{more} more famil{'y' if more == 1 else 'ies'} go short: `sop plan --json` lists all"
        return table


def _why(row: dict[str, Any]) -> str:
    """Why the family stays short after the proposal, or that the proposal covers it."""
    if str(row["why_short"]):
        return str(row["why_short"])
    return "covered by the proposal" if float(row["value_at_risk_window_proposed"]) == 0 else ""


def gap_table(plan: Plan, top: int) -> GapTable:
    """What goes short first (firm: if nothing changes), how badly, what it is worth in the next months,
    and what stays short after the proposed supply, and why. Never netted across SKUs."""
    return GapTable(plan, top)


def _timing(row: dict[str, Any], layer: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in TIMING_COLUMNS:
        value = row[f"{column}_{layer}"]
        out[column] = value if isinstance(value, str) else (int(value) if column == "months_short" else float(value))
    return out


def gaps_json(plan: Plan, top: int) -> dict[str, Any]:
    """The shortages with the snapshot's provenance, for scripts (`sop plan --json`): every family's timing in
    both layers, the ranked top, and how the plan was made."""
    reasons = plan.top_gaps.set_index("family")["why_short"].to_dict() if len(plan.top_gaps) else {}
    families = [
        {
            "family": str(row["family"]),
            **{layer: _timing(row, layer) for layer in LAYERS},
            "why_short": str(reasons.get(row["family"], "")),
        }
        for row in (dict((str(k), v) for k, v in r.items()) for r in plan.family_timing.to_dict("records"))
    ]
    return {
        "source": plan.source,
        "as_of": plan.as_of.isoformat(),
        "window_months": plan.window,
        "supply_method": plan.supply_method,
        "definitions": {
            "shortage_units": "demand to date not covered by stock and supply (per SKU, summed, never netted)",
            "value_at_risk": "shortage units x unit price",
            "firm": "what the ERP already has (stock, receipts, production orders)",
            "proposed": "firm plus the planned supply sopxl proposes (and the agreed supply where typed)",
        },
        "top": [
            {
                "rank": int(r["rank"]),
                "family": str(r["family"]),
                "firm": {
                    "first_short_bucket": str(r["first_short_bucket_firm"]),
                    "first_shortage_units": float(r["first_shortage_units_firm"]),
                    "months_short": int(r["months_short_firm"]),
                    "worst_bucket": str(r["worst_bucket_firm"]),
                    "worst_shortage_units": float(r["worst_shortage_units_firm"]),
                    "value_at_risk_window": float(r["value_at_risk_window_firm"]),
                },
                "proposed": {
                    "first_short_bucket": str(r["first_short_bucket_proposed"]),
                    "shortage_units_window": float(r["shortage_units_window_proposed"]),
                    "value_at_risk_window": float(r["value_at_risk_window_proposed"]),
                },
                "why_short": str(r["why_short"]),
            }
            for r in top_gap_rows(plan, top)
        ],
        "families": families,
        "unknown_forecast_families": sorted(set(plan.unknown_forecast_families["family"].astype(str))),
        "notes": list(plan.notes),
    }


def print_notes(plan: Plan) -> None:
    """How the plan was made, where the planner should know it (e.g. capacity not respected)."""
    from .cli import console

    for note in plan.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


SHOWN_WARNINGS = LOGGED
"""Record warnings printed one per line; the rest are counted."""


def print_warnings(warnings: Sequence[DataWarning], where: str = "") -> None:
    """The source's record warnings (what it left out or read with a fallback): the first
    :data:`SHOWN_WARNINGS` one per line, then how many more and where to find them all."""
    from .cli import console

    for warning in warnings[:SHOWN_WARNINGS]:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}", highlight=False)
    if len(warnings) > SHOWN_WARNINGS:
        rest = len(warnings) - SHOWN_WARNINGS
        console.print(f"[yellow]warning:[/] ... and {rest:,} more record warning(s){escape(where)}", highlight=False)
