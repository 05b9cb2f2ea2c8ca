"""Demand-planning commands: ``sop forecast-sheet``, ``sop collect``, ``sop audit``, ``sop baseline``.

Registered on the ``sop`` app by one line at the bottom of :mod:`addin.cli`. The forecasting stack
(statsforecast, statsmodels, scipy: over a second to import) and pandas are imported by the commands that
use them, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .cli import console, guarded, step

if TYPE_CHECKING:
    import pandas as pd

    from sop_functions.baseline import Baseline
    from workbooks.forecast_collect import CollectResult

SourceOpt = Annotated[
    str | None, typer.Option("--source", "-s", help="ERP export folder (for the baseline and as-of date).")
]
WorkbookOpt = Annotated[Path, typer.Option("--workbook", "-w", help="The master S&OP workbook.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Cycle date YYYY-MM-DD (default: the source's as-of, else today).")
]


def _as_of(as_of: str | None, source: str | None) -> dt.date | None:
    if as_of is not None:
        try:
            return dt.date.fromisoformat(as_of)
        except ValueError:
            raise ValueError(f"--as-of {as_of!r} is not a date like 2026-11-25") from None
    from .pipeline import load_snapshot

    return load_snapshot(source).as_of_date.date() if source else None


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def family_baseline(source: str, months: int) -> Baseline:
    from sop_functions.baseline import baseline
    from sop_functions.buckets import Horizon

    from .pipeline import load_snapshot

    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return baseline(snapshot.shipments, horizon, items=snapshot.items, level="family")


def make_forecast_sheet(
    owner: str,
    families: list[str],
    out: Path,
    *,
    workbook: Path | None = None,
    source: str | None = None,
    months: int = 18,
    frozen: int = 0,
    force: bool = False,
    as_of: dt.date | None = None,
) -> Path:
    """A rep's forecast file: the master grid's months (past ones locked), prefilled from the master."""
    from sop_functions import clock
    from sop_functions.buckets import Horizon
    from workbooks.forecast_files import write_forecast_file
    from workbooks.reader import read_forecast

    from .pipeline import load_snapshot

    snapshot = load_snapshot(source) if source else None
    as_of = as_of or (snapshot.as_of_date.date() if snapshot is not None else clock.today())
    prefill: pd.DataFrame | None = None
    if workbook is not None:
        grid = read_forecast(workbook, blank=math.nan)  # a blank master cell stays blank in the rep's file
        known = list(dict.fromkeys(grid["family"]))
        columns = list(dict.fromkeys(grid["bucket"]))
        prefill = grid[grid["family"].isin(families)]
    else:
        columns = Horizon.from_as_of(as_of, periods=months).buckets
        known = sorted(snapshot.items["family"].unique()) if snapshot is not None else list(families)
    unknown = [f for f in families if f not in known]
    if unknown:
        raise ValueError(
            f"unknown famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(known)}"
        )
    current = _month(as_of)
    open_months = [m for m in columns if m >= current]
    locked = [m for m in columns if m < current] + open_months[:frozen]
    base = None
    if source is not None:
        qty = family_baseline(source, months).qty()
        base = qty[qty["family"].isin(families)]
    master = workbook.name if workbook is not None else ""
    return write_forecast_file(
        out, owner, families, columns, locked=locked, prefill=prefill, baseline=base, master=master, overwrite=force
    )


def _collect_json(result: CollectResult) -> dict[str, Any]:
    c = result.consolidation
    return {
        "output": str(result.output),
        "audit": str(result.audit),
        "run_id": result.run_id,
        "files": c.files,
        "entries": c.entries,
        "applied": len(c.changes),
        "skipped": list(result.skipped),
        "changes": _records(c.changes),
        "issues": [dict(vars(i), text=str(i)) for i in c.issues],
    }


def default_forecast_path(owner: str, workbook: Path | None) -> Path:
    """``forecasts/<owner>.xlsx`` beside the master (or here): the folder ``sop collect`` and the ribbon's
    Collect forecasts read. Characters a file name cannot hold become ``_``."""
    from workbooks.forecast_files import FORECAST_FOLDER

    name = re.sub(r"[^\w .-]", "_", owner.strip()).strip(" .") or "forecast"
    folder = (workbook.parent if workbook is not None else Path()) / FORECAST_FOLDER
    return folder / f"{name}.xlsx"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as None (JSON null, and what the tables show as blank)."""
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _num(value: Any) -> str:
    return "blank" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def register(app: typer.Typer) -> None:
    @app.command("forecast-sheet")
    def forecast_sheet(
        owner: Annotated[str, typer.Option("--owner", help="Sales rep the file is for.")],
        families: Annotated[str, typer.Option("--families", help="Comma-separated families of this rep.")],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Forecast workbook to write (default: forecasts/<owner>.xlsx beside the master)."
            ),
        ] = None,
        workbook: Annotated[Path | None, typer.Option("--workbook", "-w", help="Master workbook (prefill).")] = None,
        source: SourceOpt = None,
        months: Annotated[int, typer.Option("--months", min=1, max=60, help="Horizon without --workbook.")] = 18,
        frozen: Annotated[int, typer.Option("--frozen", min=0, help="Lock this many months from the current one.")] = 0,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
        as_of: AsOfOpt = None,
    ) -> None:
        """Write a personal forecast workbook for a sales rep: prefilled, baseline for reference, past months locked."""

        def run() -> None:
            names = [f.strip() for f in families.split(",") if f.strip()]
            target = out or default_forecast_path(owner, workbook)
            target.parent.mkdir(parents=True, exist_ok=True)
            with step("writing forecast file"):
                path = make_forecast_sheet(
                    owner,
                    names,
                    target,
                    workbook=workbook,
                    source=source,
                    months=months,
                    frozen=frozen,
                    force=force,
                    as_of=_as_of(as_of, None),
                )
            console.print(f"wrote {path} for {owner} ({len(names)} famil{'y' if len(names) == 1 else 'ies'})")
            if out is None:
                master = f" --workbook {workbook}" if workbook is not None else " --workbook <master workbook>"
                console.print(f"when it comes back filled in: sop collect {path.parent}{master}", markup=False)

        guarded(run)

    @app.command("collect")
    def collect_cmd(
        folder: Annotated[Path, typer.Argument(help="Folder with the reps' forecast files.")],
        workbook: WorkbookOpt,
        source: SourceOpt = None,
        as_of: AsOfOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Consolidate the reps' forecast files into the master's Forecast grid, with an audit trail."""

        def run() -> None:
            from workbooks.forecast_collect import collect
            from workbooks.xlsx.safe_save import BACKUP_DIR

            with step("collecting forecast files"):
                result = collect(folder, workbook, as_of=_as_of(as_of, source))
            if as_json:
                sys.stdout.write(json.dumps(_collect_json(result), indent=2, default=str) + "\n")
                return
            c = result.consolidation
            console.print(
                f"{c.files} file(s), {c.entries} changed cell(s): {len(c.changes)} applied, {len(c.issues)} issue(s)"
            )
            for issue in c.issues[:50]:
                console.print(f"  [yellow]![/] {escape(str(issue))}", highlight=False, markup=True)
            if len(c.issues) > 50:
                console.print(f"  ... and {len(c.issues) - 50} more (see the Issues sheet)")
            if result.skipped:
                console.print(f"left out on purpose: {', '.join(result.skipped)}")
            if len(c.changes):
                applied = (
                    f"wrote the consolidated grid into the Forecast grid of {workbook} ({len(c.changes)} change(s); "
                    f"the file before is kept in {BACKUP_DIR}/)"
                )
            else:
                applied = f"no change to apply: the Forecast grid of {workbook} is unchanged"
            console.print(f"{applied}; report: {result.output}", markup=False)
            console.print(f"audit trail: {result.audit} (run {result.run_id}; `sop audit -w {workbook}`)")

        guarded(run)

    @app.command("audit")
    def audit_cmd(
        workbook: WorkbookOpt,
        family: Annotated[str | None, typer.Option("--family", help="Only this family.")] = None,
        month: Annotated[str | None, typer.Option("--month", help="Only this month (YYYY-MM).")] = None,
        owner: Annotated[str | None, typer.Option("--owner", help="Only this rep.")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N changes.")] = 50,
        as_json: JsonOpt = False,
    ) -> None:
        """Show the forecast audit trail: who changed what, when, old -> new, comment."""

        def run() -> None:
            from workbooks.forecast_audit import AuditStore, audit_path
            from workbooks.xlsx.txn import recover

            path = audit_path(workbook)
            recover(workbook)  # a collect killed mid-write: complete or roll back its pending run first
            if not path.is_file():
                raise ValueError(f"no audit trail for {workbook} yet ({path.name} not found); run `sop collect` first")
            rows = AuditStore(path).changes(family=family, month=month, owner=owner, limit=limit)
            if as_json:
                sys.stdout.write(json.dumps(_records(rows), indent=2) + "\n")
                return
            table = Table(title=f"Forecast changes ({len(rows)} newest)")
            for column in ("When", "Who", "File", "Cell", "Family", "Month", "Old", "New", "Comment"):
                table.add_column(column, justify="right" if column in ("Old", "New") else "left")
            for r in _records(rows):
                table.add_row(
                    str(r["collected_at"])[:16],
                    *(str(r[k]) for k in ("owner", "file", "cell", "family", "month")),
                    _num(r["old_value"]),
                    _num(r["new_value"]),
                    str(r["comment"]),
                )
            console.print(table)

        guarded(run)

    @app.command("baseline")
    def baseline_cmd(
        source: Annotated[str, typer.Option("--source", "-s", help="ERP export folder.")],
        months: Annotated[int, typer.Option("--months", min=1, max=60, help="Horizon length in months.")] = 18,
        as_json: JsonOpt = False,
    ) -> None:
        """Compute the statistical baseline per family and show the method chosen for each."""

        def run() -> None:
            with step("computing the statistical baseline"):
                result = family_baseline(source, months)
            totals = result.forecast.groupby("family")["baseline"].sum()
            if as_json:
                out = {"methods": _records(result.methods), "forecast": _records(result.forecast)}
                sys.stdout.write(json.dumps(out, indent=2, default=float) + "\n")
                return
            first = result.horizon.buckets[:3]
            table = Table(
                title=f"Statistical baseline per family ({result.horizon.buckets[0]} .. {result.horizon.buckets[-1]})"
            )
            for column in (
                "Family",
                "Class",
                "Method",
                "Holdout WAPE",
                "Seas. naive WAPE",
                *first,
                "Horizon total",
                "Flags",
            ):
                table.add_column(
                    column, justify="left" if column in ("Family", "Class", "Method", "Flags") else "right"
                )
            wide = result.forecast.pivot(index="family", columns="bucket", values="baseline")
            for r in _records(result.methods):
                family = str(r["family"])
                row = wide.loc[family] if family in wide.index else None
                table.add_row(
                    family,
                    str(r["demand_class"]),
                    str(r["method"]),
                    _pct(r["holdout_wape"]),
                    _pct(r["seasonal_naive_wape"]),
                    *[_num(float(row[m])) if row is not None else "" for m in first],
                    _num(float(totals.get(family, 0.0))),
                    str(r["flags"]),
                )
            console.print(table)

        guarded(run)


def _pct(value: Any) -> str:
    return "" if value is None or math.isnan(value) else f"{100 * value:.1f} %"
