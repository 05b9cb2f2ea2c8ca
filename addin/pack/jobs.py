"""The meeting-pack jobs behind ``sop pack``, the ribbon's Meeting pack button and publishing.

- :func:`current_plan`: the plan a workbook file shows (its Settings source, as of its last refresh, with
  its own inputs); refused when the ERP data or the Forecast moved on, so the deck never shows another plan;
- :func:`write_pack`: the .pptx and its PDF;
- :func:`freeze_published`: keep the pack with a version when it is published (``sop pack --version N``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sop_functions.buckets import Horizon
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot
from workbooks import layout, reader
from workbooks.plan_store import PlanStoreError, default_store_url, open_store
from workbooks.stamps import same_time

from ..pipeline import WorkbookInputs, inputs_for, load_snapshot, plan_for
from ..plan_cache import resolve_source
from .build import Limits, build_pack
from .content import Pack
from .pdf import to_pdf
from .slides import render
from .store import freeze_pack, load_pack


@dataclass(frozen=True)
class CurrentPlan:
    plan: Plan
    snapshot: Snapshot
    inputs: WorkbookInputs
    settings: dict[str, str]


def workbook_settings(workbook: Path) -> dict[str, str]:
    return reader.settings_values(reader.read_table(workbook, layout.SETTINGS))


def current_plan(workbook: Path, source: str | Snapshot | None = None) -> CurrentPlan:
    """The plan ``workbook`` shows: its ERP data as of its last refresh, planned with its own inputs."""
    if not workbook.is_file():
        raise ValueError(f"{workbook}: no such workbook")
    settings = workbook_settings(workbook)
    if source is None:
        source = resolve_source(str(workbook), settings.get("source", ""))
    snapshot = load_snapshot(source)
    shown = settings.get("erp_as_of", "")
    if not same_time(shown, snapshot.as_of):
        raise ValueError(
            f"the ERP data moved on since {workbook.name} was refreshed (workbook: {shown or 'never'}, ERP now: "
            f"{snapshot.as_of.isoformat(timespec='minutes')}): run `sop refresh` first, so the deck and the workbook "
            "show the same plan"
        )
    periods = int(settings.get("horizon_periods") or 18)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=periods)
    inputs = inputs_for(str(workbook.parent), workbook, horizon)
    plan = plan_for(snapshot, horizon, inputs)
    table = reader.read_table(workbook, layout.PLAN)
    checked = ("shortage_units_proposed", "supply_proposed", "demand_proposed")
    if len(table) != len(plan.family_plan) or not all(
        np.allclose(table[c].to_numpy(dtype="float64"), plan.family_plan[c].to_numpy(dtype="float64")) for c in checked
    ):
        raise ValueError(
            f"the Forecast or the agreed supply of {workbook.name} changed since its last refresh: run `sop refresh` "
            "(or Recompute in Excel) and save, so the deck shows the plan the workbook shows"
        )
    return CurrentPlan(plan, snapshot, inputs, settings)


def plan_to_publish(source: str | Snapshot, workbook: Path, months: int = 18) -> CurrentPlan:
    """What ``sop publish --source S --workbook W`` publishes: the source's data with the workbook's inputs."""
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    inputs = inputs_for(source, workbook, horizon)
    try:
        settings = workbook_settings(workbook)
    except (reader.LayoutError, OSError):
        settings = {}
    return CurrentPlan(plan_for(snapshot, horizon, inputs), snapshot, inputs, settings)


def default_name(pack: Pack) -> str:
    """``S&OP-2027-01.pptx`` (``-v7`` for a published version)."""
    this = pack.meta.get("this_version")
    return f"S&OP-{pack.meta['month']}" + (f"-v{this['version']}" if this else "") + ".pptx"


@dataclass(frozen=True)
class PackFiles:
    pptx: Path
    pdf: Path | None
    note: str = ""
    """Why there is no PDF (empty when there is one, or none was asked for)."""

    @property
    def message(self) -> str:
        text = f"meeting pack written: {self.pptx}"
        text += f" and {self.pdf.name}" if self.pdf else ""
        return text + (f" ({self.note})" if self.note else "")


def write_pack(pack: Pack, out: Path, *, template: Path | None = None, pdf: bool = True) -> PackFiles:
    """The .pptx at ``out`` and, with ``pdf``, the same slides as PDF beside it."""
    if out.suffix.lower() != ".pptx":
        raise ValueError(f"{out}: the meeting pack is a .pptx file")
    render(pack, out, template)
    if not pdf:
        return PackFiles(out, None)
    try:
        return PackFiles(out, to_pdf(out))
    except RuntimeError as exc:
        return PackFiles(out, None, str(exc))


def stored_pack(workbook: Path, version: int, *, store_url: str | None = None, plan_name: str | None = None) -> Pack:
    """The pack kept with a published version; a clear error when the version has none."""
    url = store_url or default_store_url(workbook)
    name = plan_name or workbook.stem
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise PlanStoreError(f"no plan store beside {workbook.name}: nothing was published yet (sop publish)")
    with open_store(url) as store:
        store.version(name, version)  # "plan ... has no version N"
    pack = load_pack(url, name, version)
    if pack is None:
        raise PlanStoreError(
            f"version {version} of plan {name!r} has no meeting pack kept with it (published before sopxl kept "
            "packs, or with `sop publish` without --workbook); the deck of the current plan is `sop pack "
            f"{workbook.name}`"
        )
    return pack


def freeze_published(
    workbook: Path,
    version: int,
    current: CurrentPlan,
    *,
    store_url: str | None = None,
    plan_name: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Keep the meeting pack of a just-published version (with the forecast and baseline for later FVA)."""
    url = store_url or default_store_url(workbook)
    name = plan_name or workbook.stem
    pack = build_pack(
        current.plan,
        current.snapshot,
        current.inputs,
        workbook,
        current.settings,
        store_url=url,
        plan_name=name,
        version=version,
        now=now,
        keep_forecasts=True,
    )
    try:
        kept = freeze_pack(url, name, version, pack)
    except (PlanStoreError, OSError, ValueError) as exc:
        return f"the meeting pack could not be kept with the version: {exc}"
    return "meeting pack kept with the version" if kept else "the version already had its meeting pack"


__all__ = [
    "CurrentPlan",
    "Limits",
    "current_plan",
    "default_name",
    "freeze_published",
    "plan_to_publish",
    "stored_pack",
    "write_pack",
]
