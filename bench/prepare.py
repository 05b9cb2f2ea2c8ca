"""The benchmark folder: an ERP export, the workbook ``sop new`` builds from it, and what the components read.

``python -m bench.prepare DIR --size SME-L`` (run by ``python -m bench`` in a child process, so the parent
that times the cases stays small) writes:

- ``erp/``: the demo export folder (the CSV files a user's ERP export would be);
- ``SOP.xlsx`` + ``SOP.lp-cache/``: the workbook as ``sop new SOP.xlsx --source erp`` builds it (every
  sheet, supply planning and the S&OP grid included), kept pristine: each run works on a copy;
- ``tables.pkl``: the owned tables a refresh of it writes, their sheets and first cells, and the stamp
  (what the openpyxl and pandas baselines write, and what the writer component writes);
- ``inputs.pkl``: the snapshot, horizon and workbook inputs the engine components plan from.

Pickle is used only for these files, which this process writes for its own children.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

from connectors.demo_data import write_export_folder

from . import tablefile
from .data import AS_OF, SIZES

WORKBOOK = "SOP.xlsx"
EXPORT = "erp"
TABLES = "tables.pkl"
INPUTS = "inputs.pkl"


def write_export(folder: Path, size: str) -> Path:
    return write_export_folder(folder / EXPORT, SIZES[size], 7, AS_OF)


def write_tables(folder: Path) -> None:
    """What a refresh of the pristine workbook from the export writes (same calls as `sop refresh`)."""
    from addin import pipeline
    from sop_functions.buckets import Horizon
    from workbooks import layout
    from workbooks.stamps import stamp_text
    from workbooks.tables import plan_stamps
    from workbooks.xlsx.parts import Package

    book, source = folder / WORKBOOK, str(folder / EXPORT)
    snapshot = pipeline.load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=18)
    inputs = pipeline.inputs_for(source, book, horizon)
    plan = pipeline.plan_for(snapshot, horizon, inputs)
    stamps = plan_stamps(plan)
    frames = pipeline.workbook_tables(plan, snapshot, inputs, stamps, planning=True, grid=True)
    with Package(book) as package:
        places = {t.name: (t.sheet.name, t.ref.split(":")[0]) for t in package.tables if t.name in frames}
    missing = set(frames) - set(places) - {layout.SOP_GRID_TABLE}
    if missing:
        raise RuntimeError(f"tables not in the workbook: {sorted(missing)}")
    specs = [*layout.OWNED_TABLES, *layout.PLANNING_TABLES]
    cells = [(places[s.name][0], s.stamp_cell) for s in specs if s.stamp_cell and s.name in places]
    tablefile.save(folder / TABLES, tablefile.Tables(frames, places, stamp_text(stamps), cells))
    with (folder / INPUTS).open("wb") as out:
        pickle.dump({"snapshot": snapshot, "horizon": horizon, "inputs": inputs}, out)


def load(folder: Path, name: str) -> Any:
    with (folder / name).open("rb") as handle:
        return pickle.load(handle)  # written by write_tables for this run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare")
    parser.add_argument("dir", type=Path)
    parser.add_argument("step", choices=["export", "tables"])
    parser.add_argument("--size", default="SME-L")
    args = parser.parse_args()
    if args.step == "export":
        write_export(args.dir, args.size)
    else:
        write_tables(args.dir)


if __name__ == "__main__":
    main()
