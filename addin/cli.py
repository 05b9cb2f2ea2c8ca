"""The ``sop`` command line: build, plan, refresh and demo the S&OP workbook.

Errors print as one clear message and a non-zero exit code; ``--debug`` shows the traceback.

The command modules import pandas, the engine, the connectors and the forecasting stack inside the commands
that use them, so that ``sop --help`` and every command start without loading what they do not run.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from .progress import Phases, Progress

app = typer.Typer(
    name="sop",
    help="sopxl: Sales & Operations Planning in the Excel workbook your team already uses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}
T = TypeVar("T")

SourceOption = Annotated[
    str,
    typer.Option("--source", "-s", help="An ERP export folder (CSV/xlsx), or 'tryton' for the sop.toml profile."),
]
MonthsOption = Annotated[int, typer.Option("--months", min=1, max=60, help="Horizon length in months.")]


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    """sopxl: Sales & Operations Planning in the Excel workbook your team already uses."""
    _state["debug"] = debug
    # The commands print the connectors' record warnings themselves (one line each, then a count): keep
    # logging's last-resort handler from printing them a second time.
    logging.getLogger("sopxl.connectors").addHandler(logging.NullHandler())


def _fail(exc: BaseException) -> None:
    if _state["debug"]:
        raise exc
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=1)


def guarded(fn: Callable[[], T]) -> T:
    """Run a command body; known failures become one clear message and exit code 1."""
    try:
        return fn()
    except typer.Exit:
        raise
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        _fail(exc)
        raise AssertionError("unreachable") from exc


@contextmanager
def step(description: str) -> Iterator[None]:
    """A transient spinner with elapsed time for work that may take over a second (on a terminal)."""
    with phases() as progress:
        progress.phase(description)
        yield


def phases() -> Phases:
    """The progress display of a long command (on stderr, when it is a terminal)."""
    return Phases(err_console)


def report_warnings(progress: Progress) -> None:
    """The source's record warnings, one line each (the first 20, then a count)."""
    from .report import print_warnings

    print_warnings(progress.warnings, WARNINGS_WHERE)


WARNINGS_WHERE = " (with --json, `sop plan` lists them all)"


@app.command()
def new(
    path: Annotated[Path, typer.Argument(help="Workbook to create (.xlsx).")],
    source: Annotated[str | None, typer.Option("--source", "-s", help="Fill it from this source.")] = None,
    months: MonthsOption = 18,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Create a new S&OP workbook (optionally filled from a source)."""

    def run() -> None:
        from workbooks.sku_detail import placed
        from workbooks.xlsx.txn import writing

        from . import pipeline

        with phases() as progress, writing(path, "new", create=True):
            pipeline.new_workbook(path, source=source, months=months, force=force, progress=progress)
        report_warnings(progress)
        console.print(f"created {path}", markup=False)
        detail = placed(path)
        if detail is not None:
            console.print(f"[yellow]note:[/] {escape(detail.message)}")

    guarded(run)


@app.command()
def plan(
    source: SourceOption,
    workbook: Annotated[
        Path | None, typer.Option("--workbook", "-w", help="Read the sales forecast from this workbook.")
    ] = None,
    months: MonthsOption = 18,
    top: Annotated[int, typer.Option("--top", min=1, help="How many families to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Compute the plan and print what goes short first (never netted across SKUs), firm and after the proposal."""

    def run() -> None:
        from . import pipeline
        from .report import gap_table, gaps_json, print_notes

        with phases() as progress:
            result = pipeline.plan_from_source(source, workbook=workbook, months=months, progress=progress)
        if as_json:
            payload = gaps_json(result, top) | {"warnings": [w.to_json() for w in progress.warnings]}
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            report_warnings(progress)
            console.print(gap_table(result, top))
            print_notes(result)

    guarded(run)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo workbook (and export).")] = Path("demo"),
    source: Annotated[
        str, typer.Option("--source", help="tryton: a real embedded Tryton ERP; csv: generated export files.")
    ] = "tryton",
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the csv demo manufacturer.")] = 7,
    top: Annotated[int, typer.Option("--top", min=1, help="How many gaps to show.")] = 10,
) -> None:
    """Run the demo manufacturer end to end: build demo/SOP.xlsx and print the top gaps.

    The default starts a local Tryton ERP (seeded once, ~2-3 min the first time, then cached), pulls it
    over JSON-RPC and refreshes the workbook in place; ``--source csv`` uses generated export files.
    """

    def run() -> None:
        from .demo import demo_from_files, demo_from_tryton
        from .report import gap_table, print_notes

        if source not in ("csv", "tryton"):
            raise ValueError(f"--source must be 'tryton' or 'csv', got {source!r}")
        with phases() as progress:
            if source == "csv":
                result = demo_from_files(out, seed, progress=progress)
            else:
                result = demo_from_tryton(out, progress=progress)
        report_warnings(progress)
        console.print(gap_table(result.plan, top))
        print_notes(result.plan)
        as_of = result.plan.as_of.isoformat(timespec="minutes")
        where = f"{escape(str(result.workbook))}[/]  (source {escape(result.plan.source)}, ERP as of {as_of})"
        console.print(f"workbook: [bold]{where}")
        if result.pack is not None:
            console.print(f"meeting pack: [bold]{escape(str(result.pack))}[/]")

    guarded(run)


BackupsOption = Annotated[int, typer.Option("--backups", min=0, help="Timestamped backups to keep.")]


@app.command()
def refresh(
    path: Annotated[Path, typer.Argument(help="The S&OP workbook to refresh in place (.xlsx/.xlsm).")],
    source: SourceOption,
    months: MonthsOption = 18,
    backups: BackupsOption = 5,
) -> None:
    """Refresh a workbook on disk: rewrite only sopxl's tables; your sheets and the Forecast grid stay as they are.

    Refuses while the file is open in Excel or LibreOffice. A backup is kept beside it in sopxl-backups/.
    """

    def run() -> None:
        from . import pipeline
        from .report import gap_table, print_notes

        with phases() as progress:
            outcome = pipeline.refresh_workbook(path, source=source, months=months, backups=backups, progress=progress)
        report_warnings(progress)
        rows = ", ".join(f"{name} {count:,}" for name, count in outcome.report.rows.items())
        console.print(f"refreshed {path} in {outcome.seconds:.1f} s: {rows}", markup=False)
        if outcome.report.backup:
            console.print(f"backup: {outcome.report.backup}", markup=False)
        if outcome.sku_detail is not None:
            console.print(f"[yellow]note:[/] {escape(outcome.sku_detail.message)}")
        console.print(gap_table(outcome.plan, 10))
        print_notes(outcome.plan)

    guarded(run)


@app.command()
def attach(
    path: Annotated[Path, typer.Argument(help="Your existing workbook (.xlsx/.xlsm).")],
    source: SourceOption,
    months: MonthsOption = 18,
    backups: BackupsOption = 5,
) -> None:
    """Adopt the workbook your team already has: add sopxl's sheets and tables, then refresh them.

    Nothing of yours is renamed or rewritten; where a sheet name is taken, sopxl's becomes "Plan (sopxl)".
    Attaching again adds what a newer sopxl has and the workbook lacks.
    """

    def run() -> None:
        from workbooks.xlsx.txn import writing

        from . import pipeline
        from .report import gap_table, print_notes

        with phases() as progress, writing(path, "attach"):  # attach and its first refresh: one hold
            snapshot = pipeline.load_snapshot(source, progress=progress)  # read once, for both steps
            progress.phase(f"attaching sopxl to {path.name}")
            report = pipeline.attach_workbook(path, source=snapshot, months=months, backups=backups)
            progress.done(f"attached: {', '.join(report.tables_added) or 'nothing new'}")
            outcome = pipeline.refresh_workbook(
                path, source=snapshot, months=months, backups=backups, progress=progress
            )
        report_warnings(progress)
        if report.tables_added:
            console.print(f"attached: {', '.join(report.tables_added)}", markup=False)
        else:
            console.print(f"{path} already has every sopxl table; refreshed them", markup=False)
        renamed = {k: v for k, v in report.sheets.items() if k != v}
        for wanted, used in renamed.items():
            console.print(f"  sheet {wanted!r} was taken: sopxl's is {used!r}", markup=False)
        console.print(
            f"refreshed {path} in {outcome.seconds:.1f} s; type your forecast into the Forecast grid and run "
            "`sop refresh` again",
            markup=False,
        )
        console.print(gap_table(outcome.plan, 10))
        print_notes(outcome.plan)

    guarded(run)


# Command groups of other modules register themselves here (one line each).

from addin import supply_commands  # noqa: E402

supply_commands.register(app)

from .forecast_commands import register as _register_forecast  # noqa: E402

_register_forecast(app)

from .addin_commands import register as _register_addin  # noqa: E402

_register_addin(app)

from .connect_commands import register as _register_connect  # noqa: E402

_register_connect(app)

from .pack.commands import register as _register_pack  # noqa: E402

_register_pack(app)
