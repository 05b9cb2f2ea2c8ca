"""The tables file the benchmark's baselines read (kept free of sopxl imports: a baseline process loads
pandas and openpyxl only, so sopxl's own imports never count against it)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Tables:
    frames: dict[str, pd.DataFrame]
    places: dict[str, tuple[str, str]]
    """Table name -> (sheet name, first cell of its header row), as the workbook holds them."""
    stamp: str
    stamp_cells: list[tuple[str, str]]
    """(sheet, cell) of every stamp a refresh writes."""


def save(path: Path, tables: Tables) -> None:
    with path.open("wb") as out:
        pickle.dump(tables, out)


def load(path: Path) -> Tables:
    with path.open("rb") as handle:
        tables = pickle.load(handle)  # bench.prepare wrote it for this run
    if not isinstance(tables, Tables):
        raise TypeError(f"{path} does not hold benchmark tables")
    return tables
