"""The frames of the supply-planning tables (layout 2): capacity, materials, finance and scenarios.

The supply-planning counterpart of :mod:`workbooks.tables`: one function turns the engine's results into
``{table name: frame}`` with exactly each table's layout fields, for the template builder
(``new_workbook(..., planning=...)``) and, once the refresh writes :data:`~workbooks.layout.PLANNING_TABLES`,
for every refresh. It also reads the two user-owned inputs back from a workbook.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sop_functions.capacity import capacity_peaks
from sop_functions.finance import finance_totals
from sop_functions.materials import material_shortages
from sop_functions.scenarios import ScenarioResult, compare, compare_capacity
from sop_functions.snapshot import Snapshot

from . import layout
from .reader import LayoutError, read_table


def _fields(spec: layout.TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    fields = [c.field for c in spec.columns]
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise KeyError(f"{spec.name} needs column(s) {missing}")
    return frame.loc[:, fields].reset_index(drop=True)


def capacity_input_frame(snapshot: Snapshot, workbook_capacity: pd.DataFrame | None = None) -> pd.DataFrame:
    """tblCapacity prefill: every ERP work center, with the workbook's hours where it has them (blank
    where the ERP holds capacity itself, since the ERP's hours win)."""
    codes = snapshot.work_centers["code"].astype(str)
    hours = pd.Series(np.nan, index=codes.to_numpy())
    if workbook_capacity is not None and not workbook_capacity.empty:
        given = workbook_capacity.set_index(workbook_capacity["work_center"].astype(str))["hours_per_month"]
        hours = hours.fillna(given.reindex(hours.index))
    return pd.DataFrame({"work_center": codes.to_numpy(), "hours_per_month": hours.to_numpy(dtype=float)})


def planning_tables(
    results: Sequence[ScenarioResult],
    snapshot: Snapshot,
    workbook_capacity: pd.DataFrame | None = None,
    scenario_inputs: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Supply-planning table name -> frame, from the base result (first) and the scenarios after it.

    Includes the user inputs (``tblCapacity`` prefilled with the ERP's work centers, ``tblScenarioInputs``
    as given) so a new workbook starts with them.
    """
    base = results[0]
    plan = base.plan
    load = plan.capacity_load
    inputs = scenario_inputs
    if inputs is None:
        inputs = pd.DataFrame(columns=[c.field for c in layout.SCENARIO_INPUTS.columns])
    frames = {
        layout.CAPACITY_LOAD.name: load,
        layout.CAPACITY_PEAK.name: capacity_peaks(load),
        layout.MATERIAL_SHORTAGES.name: material_shortages(plan, snapshot),
        layout.FINANCE.name: base.finance.assign(bucket=base.finance["bucket"].astype(str)),
        layout.FINANCE_TOTALS.name: finance_totals(base.finance),
        layout.SCENARIOS.name: compare(results),
        layout.SCENARIO_CAPACITY.name: compare_capacity(results),
        layout.CAPACITY_INPUT.name: capacity_input_frame(snapshot, workbook_capacity),
        layout.SCENARIO_INPUTS.name: inputs,
    }
    return {name: _fields(layout.planning_table(name), frame) for name, frame in frames.items()}


def read_capacity_input(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The workbook's tblCapacity (``work_center, hours_per_month``); empty if the table is absent."""
    return _read_optional(path, layout.CAPACITY_INPUT)


def read_scenario_inputs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The workbook's tblScenarioInputs; empty if the table is absent (a workbook before layout 2)."""
    return _read_optional(path, layout.SCENARIO_INPUTS)


def _read_optional(path: str | os.PathLike[str], spec: layout.TableSpec) -> pd.DataFrame:
    try:
        return read_table(path, spec)
    except LayoutError as exc:
        if any(spec.name in problem and "is missing" in problem for problem in exc.problems):
            return pd.DataFrame(columns=[c.field for c in spec.columns])
        raise
