"""The export reader streams CSV files and works per distinct value: same snapshot as cell by cell.

A CSV column is read as categories (each distinct text once, a code per row) and parsed, stripped and
checked once per distinct text; these tests pin that nothing about the result depends on it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from connectors.files import read_export_folder
from connectors.files.tables import HEAD_BYTES
from sop_functions.snapshot import build_snapshot

AS_OF = "2026-11-25T08:00:00+01:00"
ITEMS = "sku,description,family,unit_cost,unit_price\nA1,City Bike,Bikes,400,800\nA2,Helmet,Helmets,30,60\n"


def _folder(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, data in files.items():
        (folder / file).write_bytes(data)
    (folder / "as_of.txt").write_text(AS_OF)
    return folder


def test_padded_repeated_values_read_as_their_clean_text(tmp_path: Path) -> None:
    clean_rows = [("A1", 3.0, "2026-12-01", "Velo"), ("A2", 10.0, "2027-01-15", ""), ("A1", 3.0, "2026-12-01", "Velo")]
    clean = "sku,qty,ship_date,customer\n" + "".join(f"{s},{q:g},{d},{c}\n" for s, q, d, c in clean_rows * 400)
    padded = "sku,qty,ship_date,customer\n" + "".join(
        f"  {s} ,{q:g}  , {d},\t{c} \n" + (" , , , \n" if i % 97 == 0 else "")
        for i, (s, q, d, c) in enumerate(clean_rows * 400)
    )
    a = read_export_folder(_folder(tmp_path, "clean", {"items.csv": ITEMS.encode(), "shipments.csv": clean.encode()}))
    b = read_export_folder(_folder(tmp_path, "padded", {"items.csv": ITEMS.encode(), "shipments.csv": padded.encode()}))
    pd.testing.assert_frame_equal(a.shipments, b.shipments)
    assert len(b.shipments) == 1200
    assert b.shipments["customer"].tolist()[:3] == ["Velo", "", "Velo"]
    assert b.shipments["ship_date"].iloc[1] == pd.Timestamp("2027-01-15")


def test_bad_values_are_reported_on_every_row_they_are_on(tmp_path: Path) -> None:
    rows = "".join(f"A1,{'x' if i in (3, 700) else 2},2026-12-0{1 + i % 9}\n" for i in range(1000))
    folder = _folder(
        tmp_path, "bad", {"items.csv": ITEMS.encode(), "shipments.csv": f"sku,qty,ship_date\n{rows}".encode()}
    )
    try:
        read_export_folder(folder)
    except ValueError as exc:
        text = str(exc)
    assert "shipments.csv row 5, column qty: not a number: 'x'" in text
    assert "shipments.csv row 702, column qty: not a number: 'x'" in text


def test_cp1252_beyond_the_first_bytes_is_still_recognised(tmp_path: Path) -> None:
    filler = "".join(f"A1,MAIN{i},1\n" for i in range(HEAD_BYTES // 10 + 10))
    stock = ("sku,warehouse,qty\n" + filler + "A2,Lager Süd,5\n").encode("cp1252")
    assert stock.index("Süd".encode("cp1252")) > HEAD_BYTES
    snap = read_export_folder(_folder(tmp_path, "cp", {"items.csv": ITEMS.encode(), "stock.csv": stock}))
    assert snap.stock["warehouse"].iloc[-1] == "Lager Süd"


def test_text_fields_holding_numbers_read_as_before() -> None:
    items = pd.DataFrame(
        {
            "sku": ["A1", "A2", " A3 "],
            "description": [1, 1.5, None],
            "family": ["F", "F", "F"],
            "unit_cost": 1.0,
            "unit_price": 2.0,
        },
        dtype=object,
    )
    snap = build_snapshot("test", dt.datetime(2026, 11, 25, tzinfo=dt.UTC), {"items": items})
    assert snap.items["description"].tolist() == ["1", "1.5", ""]
    assert snap.items["sku"].tolist() == ["A1", "A2", "A3"]
