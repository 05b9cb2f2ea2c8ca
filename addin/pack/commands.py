"""``sop pack``: the S&OP meeting deck (.pptx + PDF) of a workbook's plan or of a published version.

Registered on the main app by one line in :mod:`addin.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``sop pack`` to ``app``."""
    from ..cli import console, guarded, step

    @app.command()
    def pack(
        workbook: Annotated[Path, typer.Argument(help="The S&OP workbook (.xlsx/.xlsm).")],
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="The deck (.pptx); default S&OP-<month>.pptx beside the workbook."),
        ] = None,
        version: Annotated[
            int | None, typer.Option("--version", help="Rebuild the deck of this published version.")
        ] = None,
        source: Annotated[
            str | None, typer.Option("--source", "-s", help="The ERP source (default: the workbook's Settings source).")
        ] = None,
        template: Annotated[
            Path | None, typer.Option("--template", help="Your company's .pptx/.potx template.")
        ] = None,
        store: Annotated[
            str | None, typer.Option("--store", help="Plan store URL (default: beside the workbook).")
        ] = None,
        plan: Annotated[str | None, typer.Option("--plan", help="Plan history name (default: workbook name).")] = None,
        pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF (LibreOffice).")] = True,
        erp_days: Annotated[float, typer.Option("--erp-days", min=0, help="Flag ERP data older than this.")] = 2.0,
        forecast_days: Annotated[float, typer.Option("--forecast-days", min=0, help="Flag forecasts older.")] = 31.0,
    ) -> None:
        """Write the S&OP meeting pack: cover with data freshness, decisions needed, one slide per family,
        scenarios, finance and forecast accuracy; native charts, from the plan the workbook shows."""

        def run() -> None:
            from .build import Limits, build_pack
            from .jobs import current_plan, default_name, stored_pack, write_pack

            if version is not None:
                with step(f"reading version {version} from the plan store"):
                    content = stored_pack(workbook, version, store_url=store, plan_name=plan)
            else:
                with step(f"planning {workbook.name} as of its last refresh"):
                    current = current_plan(workbook, source)
                    limits = Limits(erp_days=erp_days, forecast_days=forecast_days)
                    content = build_pack(
                        current.plan,
                        current.snapshot,
                        current.inputs,
                        workbook,
                        current.settings,
                        store_url=store,
                        plan_name=plan,
                        limits=limits,
                    )
            target = out or workbook.with_name(default_name(content))
            with step(f"writing {target.name}"):
                files = write_pack(content, target, template=template, pdf=pdf)
            console.print(files.message)

        guarded(run)
