"""``forecast.csv`` in an export folder: the sales forecast when no workbook is given.

Not an ERP entity, but read like one: the same delimiter detection, encodings and ``[snapshot]`` number
format as the entity files (a semicolon export with decimal commas works here too), headers matched
regardless of case, and every bad row named by file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import FileDataError, FileIssue
from .mapping import load_mapping
from .tables import read_csv
from .values import parse_numbers, shown

FORECAST_FILE = "forecast.csv"
FIELDS = ("family", "bucket", "qty")


def read_forecast_csv(folder: str | Path) -> pd.DataFrame | None:
    """``family, bucket, qty`` from the folder's forecast.csv (None when there is none); blank qty is 0.

    Raises :class:`FileDataError` naming every problem (missing column, a quantity that is not a number).
    """
    root = Path(folder)
    path = next((p for p in root.iterdir() if p.is_file() and p.name.lower() == FORECAST_FILE), None)
    if path is None:
        return None
    options = load_mapping(root).base
    issues: list[FileIssue] = []
    table = read_csv(path, options, issues)
    if table is None:
        raise FileDataError(root, issues)
    headers = {str(h).lower(): str(h) for h in table.columns}
    missing = [f for f in FIELDS if f not in headers]
    if missing:
        found = ", ".join(map(str, table.columns))
        raise FileDataError(
            root, [FileIssue(path.name, f"missing column(s) {', '.join(missing)} (columns found: {found})")]
        )
    qty, bad = parse_numbers(table[headers["qty"]], options, typed=False)
    for row, value in table.loc[bad.to_numpy(), headers["qty"]].items():
        issues.append(FileIssue(path.name, f"not a number: {shown(value)}", int(row), headers["qty"]))
    if issues:
        raise FileDataError(root, issues)
    return pd.DataFrame(
        {
            "family": table[headers["family"]].str.strip().to_numpy(),
            "bucket": table[headers["bucket"]].str.strip().to_numpy(),
            "qty": qty.fillna(0.0).to_numpy(dtype=float),
        }
    )
