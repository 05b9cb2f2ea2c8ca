"""Whole-process baselines: what a user would run instead, on the same files (``python -m bench.baselines``).

- ``openpyxl-refresh WORKBOOK TABLES``: load the whole workbook with openpyxl, write every owned table's
  cells (the same frames a refresh writes, at the same places) and the stamp, save it;
- ``pandas-to-excel TABLES OUT``: ``pandas.to_excel`` (xlsxwriter) of the same frames, one sheet each;
- ``read-export FOLDER``: ``pandas.read_csv`` of every file of the export folder and one groupby of the
  shipment history per SKU and month: the floor of any tool that plans from this export.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .tablefile import load


def openpyxl_refresh(workbook: Path, tables_file: Path) -> None:
    import openpyxl
    import openpyxl.utils.cell

    tables = load(tables_file)
    book = openpyxl.load_workbook(workbook)
    for name, frame in tables.frames.items():
        sheet_name, first = tables.places.get(name, (None, None))
        if sheet_name is None:
            continue
        sheet = book[sheet_name]
        col0, row0 = openpyxl.utils.cell.coordinate_from_string(first)
        first_col = openpyxl.utils.column_index_from_string(col0)
        for r, values in enumerate(frame.itertuples(index=False), start=row0 + 1):
            for c, value in enumerate(values, start=first_col):
                sheet.cell(row=r, column=c, value=None if pd.isna(value) else value)
    for sheet_name, cell in tables.stamp_cells:
        book[sheet_name][cell] = tables.stamp
    book.save(workbook)


def pandas_to_excel(tables_file: Path, out: Path) -> None:
    tables = load(tables_file)
    with pd.ExcelWriter(out, engine="xlsxwriter") as writer:
        for name, frame in tables.frames.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)


def read_export(folder: Path) -> None:
    frames = {p.stem: pd.read_csv(p) for p in sorted(folder.glob("*.csv"))}
    history = frames["shipments"]
    month = pd.to_datetime(history["ship_date"]).dt.to_period("M")
    history.groupby(["sku", month], observed=True)["qty"].sum()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("job", choices=["openpyxl-refresh", "pandas-to-excel", "read-export"])
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    if args.job == "openpyxl-refresh":
        openpyxl_refresh(*args.paths)
    elif args.job == "pandas-to-excel":
        pandas_to_excel(*args.paths)
    else:
        read_export(*args.paths)


if __name__ == "__main__":
    main()
