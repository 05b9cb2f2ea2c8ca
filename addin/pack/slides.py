"""The slides of the meeting pack, in meeting order, each from the :class:`~.content.Pack` alone.

Every number carries the workbook's own label (:mod:`workbooks.layout` headers, tblSOP's row labels)
and equals the workbook's cell: the tests read both and compare them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from workbooks import layout
from workbooks.sop_grid import LABELS

from .charts import Series, add_chart
from .content import Pack
from .deck import MISSING, RED, Deck, number, signed

MAX_ROWS = 10


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts (the slides read fields by name)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def header(spec: layout.TableSpec, field: str) -> str:
    """The workbook's header of ``field`` in table ``spec``: the one label a number may carry."""
    for column in spec.columns:
        if column.field == field:
            return column.header
    raise KeyError(f"{spec.name} has no column {field!r}")


DECISION_HEADERS = (
    layout.FAMILY.header,
    header(layout.TOP_GAPS, "first_short_bucket_proposed"),
    header(layout.TOP_GAPS, "shortage_units_window_proposed"),
    header(layout.TOP_GAPS, "value_at_risk_window_proposed"),
    header(layout.TOP_GAPS, "why_short"),
    "Decision needed",
)
OVERLOAD_HEADERS = (
    layout.WORK_CENTER.header,
    header(layout.CAPACITY_PEAK, "peak_load_pct"),
    header(layout.CAPACITY_PEAK, "overloaded_months"),
    "First overloaded month",
    "Decision needed",
)
OVERLOAD_DECISION = "Capacity or overtime, or inventory build ahead"
SCENARIO_MEASURES = (
    "demand_proposed",
    "served_units",
    "revenue",
    "gross_margin",
    "value_at_risk_window_proposed",
    "inventory_value_end",
    "cash_tied_up_end",
    "value_at_risk_vs_base",
)
FINANCE_MEASURES = (
    ("revenue", "Revenue"),
    ("gross_margin", "Gross margin"),
    ("inventory_value_end", header(layout.FINANCE_TOTALS, "inventory_value_end")),
)
LAST = " (last plan)"
DEMAND_SERIES = ("actual", "last_plan", "demand_proposed", "supply_firm", "supply_proposed")
INVENTORY_SERIES = ("projected_inventory_proposed", "safety_stock")
COVER_SERIES = ("cover_months_proposed",)
ACCURACY_HEADERS = (
    layout.FAMILY.header,
    "WAPE % (last 3 months)",
    "Bias % (last 3 months)",
    "WAPE % (last 12 months)",
    "Bias % (last 12 months)",
    "FVA points (last 12 months)",
)


def _version_line(pack: Pack) -> str:
    this, previous = pack.meta.get("this_version"), pack.meta.get("previous_version")
    if this:
        text = f"Plan version {this['version']}, published {this['published_at'][:16]} by {this['published_by']}"
        text += f": {this['note']}" if this.get("note") else ""
    else:
        text = "Current plan of the workbook (not published)"
    if previous:
        text += f"; compared with version {previous['version']} ({previous['published_at'][:10]})"
    else:
        text += "; no earlier published version to compare with"
    return text


def cover(deck: Deck, pack: Pack) -> None:
    m = pack.meta
    slide = deck.cover(f"S&OP meeting {m['month']}: {m['plan']}", m["stamp"])
    w, top = deck.width - 2 * deck.margin, int(deck.height * 0.27)
    deck.text(slide, (deck.margin, top, w, int(deck.height * 0.06)), [_version_line(pack)], size=13)
    fresh = pack.frame("freshness")
    rows = [
        (
            r["input"],
            r["detail"],
            str(r["as_of"])[:16].replace("T", " ") or "never",
            number(r["age_days"], 1),
            number(r["limit_days"], 0),
            "STALE" if r["stale"] else "ok",
        )
        for r in records(fresh)
    ]
    stale = [i for i, r in enumerate(records(fresh)) if r["stale"]]
    box = (deck.margin, top + int(deck.height * 0.08), w, 0)
    header = ("Input", "Detail", "As of", "Age (days)", "Limit (days)", "Status")
    deck.table(slide, box, header, rows[:MAX_ROWS], widths=(2.4, 2.6, 1.8, 1, 1, 0.9), size=11, red_rows=stale)
    notes = [f"Note: {n}" for n in m.get("notes", [])]
    if len(rows) > MAX_ROWS:
        notes.insert(0, f"{len(rows) - MAX_ROWS} more forecast files: see `sop audit`")
    if notes:
        deck.text(slide, (deck.margin, int(deck.height * 0.86), w, int(deck.height * 0.1)), notes, size=10)


def decisions(deck: Deck, pack: Pack) -> None:
    d, over = pack.frame("decisions"), pack.frame("overloads")
    subtitle = f"Shortages left after the proposed plan, and work centers above their hours ({pack.meta['stamp']})"
    slide = deck.slide("Decisions needed", subtitle)
    w, top = deck.width - 2 * deck.margin, deck.body_top
    if d.empty:
        deck.text(
            slide, (deck.margin, top, w, int(deck.height * 0.06)), ["No shortage remains after the proposed plan."]
        )
        top += int(deck.height * 0.08)
    else:
        rows: list[tuple[str, ...]] = [
            (
                str(r["family"]),
                r["first_short_bucket_proposed"],
                number(r["shortage_units_window_proposed"]),
                number(r["value_at_risk_window_proposed"]),
                r["why_short"] or MISSING,
                r["decision"],
            )
            for r in records(d.head(MAX_ROWS))
        ]
        deck.table(
            slide, (deck.margin, top, w, 0), DECISION_HEADERS, rows, widths=(1.3, 1.1, 1.2, 1.2, 2.2, 2.4), size=10
        )
        top += int(deck.height * 0.05) * (len(rows) + 1) + int(deck.height * 0.04)
    if len(over):
        rows = [
            (
                str(r["work_center"]),
                number(r["peak_load_pct"], 1),
                number(r["overloaded_months"]),
                r["first_overloaded_bucket"],
                OVERLOAD_DECISION,
            )
            for r in records(over.head(5))
        ]
        deck.table(slide, (deck.margin, top, w, 0), OVERLOAD_HEADERS, rows, widths=(1.5, 1.2, 1.2, 1.2, 2.6), size=10)


def _grid_series(grid: pd.DataFrame, family: str, fields: tuple[str, ...], columns: list[str]) -> list[Series]:
    block = grid[grid["family"] == family].set_index("measure")
    out: list[Series] = []
    for field in fields:
        label = LABELS[field]
        if label not in block.index:
            continue
        row = block.loc[label]
        values: list[float | None] = [None if pd.isna(row[c]) else _float(row[c]) for c in columns]
        if any(v is not None for v in values):
            out.append((label, values))
    return out


def _facts(pack: Pack, family: str) -> str:
    t = pack.frame("timing")
    row = t[t["family"] == family]
    if row.empty or not str(row["first_short_bucket_proposed"].iloc[0]):
        firm = "" if row.empty else str(row["first_short_bucket_firm"].iloc[0])
        return "No shortage after the proposed plan" + (f" (short from {firm} if nothing changes)" if firm else "")
    r = row.iloc[0]
    parts = [
        f"{header(layout.TOP_GAPS, 'first_short_bucket_proposed')}: {r['first_short_bucket_proposed']}",
        f"{header(layout.TOP_GAPS, 'value_at_risk_window_proposed')}: {number(r['value_at_risk_window_proposed'])}",
    ]
    if r["why_short"]:
        parts.append(f"{header(layout.TOP_GAPS, 'why_short')}: {r['why_short']}")
    return " · ".join(parts)


def _change_lines(pack: Pack, family: str) -> list[str]:
    previous = pack.meta.get("previous_version")
    if not previous:
        return ["Changes since the last published plan: none published yet."]
    lines = [f"Changes since version {previous['version']} ({previous['published_at'][:10]})"]
    c = pack.frame("changes")
    rows = c[c["family"] == family] if len(c) else c
    if rows.empty:
        return [*lines, "no months in common with it"]
    for r in records(rows):
        span = (
            f"{r['first_bucket']}..{r['last_bucket']}" if r["first_bucket"] != r["last_bucket"] else r["first_bucket"]
        )
        how = "at " + r["last_bucket"] if r["measure"].startswith("Projected") else span
        lines.append(
            f"{r['measure']} ({how}): {number(r['last_plan'])} → {number(r['this_plan'])} ({signed(r['change'])})"
        )
    largest = pack.frame("largest")
    big = largest[largest["family"] == family] if len(largest) else largest
    if len(big) and str(big["bucket"].iloc[0]):
        lines.append(f"Largest change of Independent demand: {big['bucket'].iloc[0]} ({signed(big['change'].iloc[0])})")
    return lines


def family(deck: Deck, pack: Pack, name: str) -> None:
    grid = pack.frame("grid")
    columns = [c for c in grid.columns if c not in ("family", "measure", "note")]
    slide = deck.slide(name, _facts(pack, name))
    m, top = deck.margin, deck.body_top
    left_w = int((deck.width - 2 * m) * 0.58)
    right_w = deck.width - 2 * m - left_w - m // 2
    chart_h = int(deck.height * 0.5)
    add_chart(
        slide.shapes,
        "line",
        (m, top, left_w, chart_h),
        columns,
        _grid_series(grid, name, DEMAND_SERIES, columns),
        title="Demand vs supply (units)",
    )
    right = m + left_w + m // 2
    half = chart_h // 2
    add_chart(
        slide.shapes,
        "line",
        (right, top, right_w, half),
        columns,
        _grid_series(grid, name, INVENTORY_SERIES, columns),
        title="Inventory against safety stock",
        font_pt=8,
    )
    add_chart(
        slide.shapes,
        "column",
        (right, top + half, right_w, chart_h - half),
        columns,
        _grid_series(grid, name, COVER_SERIES, columns),
        title=LABELS["cover_months_proposed"],
        number_format="0.0",
        font_pt=8,
    )
    box = (m, top + chart_h + int(deck.height * 0.02), deck.width - 2 * m, int(deck.height * 0.25))
    deck.text(slide, box, _change_lines(pack, name), size=11, bold_first=True)


def _float(value: Any) -> float:
    return float(value)


def scenario_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per scenario (in the table's order): the tblScenarios columns summed over its families."""
    order = list(dict.fromkeys(frame["scenario"].astype(str)))
    sums = frame.groupby("scenario", sort=False)[list(SCENARIO_MEASURES)].sum(min_count=1)
    return sums.reindex(order)


def scenarios(deck: Deck, pack: Pack) -> None:
    totals = scenario_totals(pack.frame("scenarios"))
    names = list(totals.index)
    subtitle = "Base is the plan itself; every scenario re-planned on its changed inputs (sum over families)"
    if len(names) == 1:
        subtitle = "No what-ifs in the Scenarios sheet yet (tblScenarioInputs): the base plan alone"
    slide = deck.slide("Scenarios side by side", subtitle)
    m, top, w = deck.margin, deck.body_top, deck.width - 2 * deck.margin
    rows = [(header(layout.SCENARIOS, f), *(number(totals.at[s, f]) for s in names)) for f in SCENARIO_MEASURES]
    deck.table(
        slide,
        (m, top, int(w * 0.55), 0),
        (layout.SCENARIO.header, *names),
        rows,
        widths=(2.6, *([1.0] * len(names))),
        size=10,
    )
    money = ("revenue", "gross_margin", "value_at_risk_window_proposed")
    series = [(header(layout.SCENARIOS, f), [_float(totals.at[s, f]) for s in names]) for f in money]
    add_chart(
        slide.shapes,
        "column",
        (m + int(w * 0.58), top, int(w * 0.42), int(deck.height * 0.62)),
        names,
        series,
        title="Revenue, margin and value at risk",
    )


def _monthly(frame: pd.DataFrame, field: str, months: list[str]) -> list[float | None]:
    if frame.empty:
        return [None] * len(months)
    sums = frame.groupby("bucket")[field].sum()
    return [float(sums[b]) if b in sums.index else None for b in months]


def finance(deck: Deck, pack: Pack) -> None:
    totals, last = pack.frame("finance_totals"), pack.frame("last_finance_totals")
    previous: dict[str, Any] | None = pack.meta.get("previous_version")
    compared = previous is not None and len(last) > 0
    if previous is not None and compared:
        subtitle = f"The proposed plan in money, against version {previous['version']} (last plan)"
    elif previous:
        subtitle = f"The proposed plan in money; version {previous['version']} was published without its finance"
    else:
        subtitle = "The proposed plan in money; no earlier published version to compare with"
    slide = deck.slide("Financial view", subtitle)
    m, top, w = deck.margin, deck.body_top, deck.width - 2 * deck.margin
    fields = [f for f, _ in FINANCE_MEASURES]
    head = [layout.FAMILY.header]
    for _, label in FINANCE_MEASURES:
        head += [label, label + LAST] if compared else [label]
    mine = totals.set_index("family")
    theirs = last.set_index("family") if compared else None
    rows = []
    for fam in [*pack.meta["families"][: MAX_ROWS - 1], "Total"]:
        cells = [fam]
        for f in fields:
            value = mine[f].sum() if fam == "Total" else mine[f].get(fam, float("nan"))
            cells.append(number(value))
            if theirs is not None:
                old = theirs[f].sum() if fam == "Total" else theirs[f].get(fam, float("nan"))
                cells.append(number(old))
        rows.append(cells)
    deck.table(slide, (m, top, int(w * 0.56), 0), head, rows, widths=(1.6, *([1.0] * (len(head) - 1))), size=9)
    months = [b for b in pack.meta["horizon"] if b != layout.PAST_DUE]
    fin, old_fin = pack.frame("finance"), pack.frame("last_finance")
    series: list[Series] = []
    for field, label in (
        ("revenue", "Revenue"),
        ("gross_margin", "Gross margin"),
        ("inventory_value", "Inventory value"),
    ):
        series.append((label, _monthly(fin, field, months)))
        if compared:
            series.append((label + LAST, _monthly(old_fin, field, months)))
    add_chart(
        slide.shapes,
        "line",
        (m + int(w * 0.58), top, int(w * 0.42), int(deck.height * 0.62)),
        months,
        series,
        title="Per month, all families",
        font_pt=8,
    )


def accuracy(deck: Deck, pack: Pack) -> None:
    a3, a12 = pack.frame("accuracy_3"), pack.frame("accuracy_12")
    subtitle = (
        "Last plan (demand) when each month began vs Actual sales; FVA = WAPE of the statistical "
        "baseline - WAPE of the sales forecast (> 0: the sales input helped)"
    )
    slide = deck.slide("Forecast accuracy and bias", subtitle)
    m, top, w = deck.margin, deck.body_top, deck.width - 2 * deck.margin
    if a12.empty or a12["months"].max() == 0:
        deck.text(
            slide,
            (m, top, w, int(deck.height * 0.2)),
            [
                "No published plan covers the last 12 months yet: accuracy shows once a version published before a "
                "month is followed by that month's shipments (publish every S&OP cycle: sop publish / Publish plan)."
            ],
        )
        return
    by3 = a3.set_index("family") if len(a3) else pd.DataFrame()
    rows = []
    for r in records(a12):
        wape3 = by3["wape"].get(r["family"], float("nan")) if len(by3) else float("nan")
        bias3 = by3["bias"].get(r["family"], float("nan")) if len(by3) else float("nan")
        rows.append(
            (
                r["family"],
                number(wape3, 1),
                number(bias3, 1),
                number(r["wape"], 1),
                number(r["bias"], 1),
                number(r["fva"], 1),
            )
        )
    deck.table(
        slide, (m, top, int(w * 0.58), 0), ACCURACY_HEADERS, rows[: MAX_ROWS + 1], widths=(1.6, 1, 1, 1, 1, 1.1), size=9
    )
    fams = [r[0] for r in rows if r[0] != "All families"][:MAX_ROWS]
    series: list[Series] = [
        (ACCURACY_HEADERS[1], [float(by3["wape"].get(f, float("nan"))) if len(by3) else None for f in fams]),
        (ACCURACY_HEADERS[3], [float(a12.set_index("family")["wape"][f]) for f in fams]),
    ]
    add_chart(
        slide.shapes,
        "bar",
        (m + int(w * 0.6), top, int(w * 0.4), int(deck.height * 0.62)),
        fams,
        series,
        title="WAPE % per family",
        number_format="0.0",
    )
    stale = [f for f in records(pack.frame("accuracy_12")) if f["fva_months"] == 0 and f["months"] > 0]
    if stale:
        deck.text(
            slide,
            (m, int(deck.height * 0.9), w, int(deck.height * 0.06)),
            ["FVA needs versions published with their baseline (sopxl keeps it from this release on)."],
            size=9,
            colour=RED,
        )


def render(pack: Pack, out: Path, template: Path | None = None) -> Path:
    """Write the deck of ``pack`` to ``out`` (.pptx): cover, decisions, one slide per family (largest first),
    scenarios, finance, accuracy."""
    deck = Deck.open(template)
    cover(deck, pack)
    decisions(deck, pack)
    for name in pack.meta["families"]:
        family(deck, pack, str(name))
    scenarios(deck, pack)
    finance(deck, pack)
    accuracy(deck, pack)
    return deck.save(out)


__all__ = ["header", "render", "scenario_totals"]
