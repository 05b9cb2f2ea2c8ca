"""SKU tables beyond a sheet's rows: Parquet beside the workbook, the family level inside, never cut short.

Every test uses a small ``excel_rows`` (a sheet of a few hundred rows) so none writes a million rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from addin import pipeline
from addin.cli import app
from workbooks import layout, sku_detail
from workbooks.reader import read_table, settings_values
from workbooks.xlsx import journal
from workbooks.xlsx.parts import Package
from workbooks.xlsx.refs import parse_range
from workbooks.xlsx.txn import writing

runner = CliRunner()
SKU_SPECS = (layout.DEMAND, layout.SUPPLY, layout.INVENTORY, layout.PLANNED_ORDERS)
FAMILY_SPECS = tuple(s for s in layout.OWNED_TABLES if s not in SKU_SPECS and s is not layout.SETTINGS)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--source", "csv", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder / "SOP.xlsx", folder / "erp-export"


@pytest.fixture()
def book(demo: tuple[Path, Path], tmp_path: Path) -> Path:
    target = tmp_path / "SOP.xlsx"
    shutil.copyfile(demo[0], target)
    return target


def _rows(path: Path) -> dict[str, int]:
    return {spec.name: len(read_table(path, spec)) for spec in layout.OWNED_TABLES}


def _limit(path: Path) -> int:
    """A sheet size that holds every other table of the (refreshed) workbook but not the SKU tables."""
    with Package(path) as package:
        last = {t.name: parse_range(t.ref)[2] for t in package.tables}
    sku = {s.name for s in SKU_SPECS}
    others = max(row for name, row in last.items() if name not in sku)
    assert others < min(last[name] for name in sku), "the demo's SKU tables must be the longest"
    return others


def _beside(book: Path) -> list[str]:
    """What is beside the workbook, but for the LP answer cache (planning happens before the check)."""
    return sorted(p.name for p in book.parent.iterdir() if not p.name.endswith(".lp-cache"))


def _staged(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".SOP.sku-detail"))


def _same_values(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    for column in want.columns:
        a, b = got[column], want[column]
        if pd.api.types.is_numeric_dtype(b):
            assert np.allclose(pd.to_numeric(a).fillna(-1e99), pd.to_numeric(b).fillna(-1e99)), column
        else:
            assert a.astype(str).str.strip().tolist() == b.astype(str).str.strip().tolist(), column


def test_sku_tables_beyond_the_sheet_go_to_parquet_and_the_family_level_stays_complete(
    book: Path, demo: tuple[Path, Path], tmp_path: Path
) -> None:
    export = demo[1]
    inside = tmp_path / "inside" / "SOP.xlsx"
    inside.parent.mkdir()
    shutil.copyfile(book, inside)
    pipeline.refresh_workbook(inside, source=str(export), backups=0)
    counts = _rows(inside)
    limit = _limit(inside)

    outcome = pipeline.refresh_workbook(book, source=str(export), backups=0, excel_rows=limit)

    folder = book.with_name("SOP.sku-detail")
    assert outcome.sku_detail is not None and outcome.sku_detail.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s.name}.parquet" for s in SKU_SPECS)
    assert "SOP.sku-detail/" in outcome.sku_detail.message and "Parquet" in outcome.sku_detail.message
    for spec in SKU_SPECS:  # same rows as the workbook holds when they fit, read back by pandas
        fields = [c.field for c in spec.columns]
        parquet = pd.read_parquet(folder / f"{spec.name}.parquet")
        assert len(parquet) == counts[spec.name] > sku_detail.capacity(spec.name, limit)
        _same_values(parquet[fields].reset_index(drop=True), read_table(inside, spec)[fields])
        assert read_table(book, spec).empty  # the sheet's table is left empty, not cut short
    for spec in FAMILY_SPECS:  # every family-level table complete in the workbook
        assert len(read_table(book, spec)) == counts[spec.name]
        pd.testing.assert_frame_equal(read_table(book, spec), read_table(inside, spec))
    assert (
        settings_values(read_table(book, layout.SETTINGS))["sku_detail"]
        == "SOP.sku-detail/ beside the workbook (Parquet)"
    )
    assert settings_values(read_table(inside, layout.SETTINGS))["sku_detail"] == "in this workbook"
    assert _staged(book.parent) == [] and not journal.journal_path(book).exists()

    again = pipeline.refresh_workbook(book, source=str(export), backups=0)  # the detail fits again
    assert again.sku_detail is None and not folder.exists()
    assert len(read_table(book, layout.DEMAND)) == counts[layout.DEMAND.name]
    assert settings_values(read_table(book, layout.SETTINGS))["sku_detail"] == "in this workbook"


def test_a_family_table_beyond_the_sheet_is_a_clear_error_and_nothing_is_written(
    book: Path, demo: tuple[Path, Path]
) -> None:
    before = book.read_bytes()
    with pytest.raises(sku_detail.RowLimitError, match=r"tblPlan \(\d+ rows\).*nothing was written"):
        pipeline.refresh_workbook(book, source=str(demo[1]), backups=0, excel_rows=10)
    assert book.read_bytes() == before
    assert _beside(book) == ["SOP.xlsx"]

    new = book.with_name("NEW.xlsx")
    with pytest.raises(sku_detail.RowLimitError):
        pipeline.new_workbook(new, source=str(demo[1]), excel_rows=10)
    assert not new.exists() and _beside(book) == ["SOP.xlsx"]


def test_a_failed_write_leaves_neither_a_folder_nor_staged_files(
    book: Path, demo: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbooks.xlsx import patch

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(patch, "write_package", broken)
    before = book.read_bytes()
    with pytest.raises(OSError, match="disk full"):
        pipeline.refresh_workbook(book, source=str(demo[1]), backups=0, excel_rows=_limit(book))
    assert book.read_bytes() == before
    assert _beside(book) == ["SOP.xlsx"]


KILL = """
import sys
from pathlib import Path
from addin import pipeline
pipeline.refresh_workbook(Path(sys.argv[1]), source=sys.argv[2], backups=0, excel_rows=int(sys.argv[3]))
"""


def _refresh_killed_at(checkpoint: str, book: Path, export: Path, limit: int) -> None:
    env = dict(os.environ, SOPXL_FAULT=checkpoint)
    done = subprocess.run(
        [sys.executable, "-c", KILL, str(book), str(export), str(limit)], env=env, cwd=REPO, capture_output=True
    )
    assert done.returncode == -9, done.stderr.decode()


@pytest.mark.parametrize(
    ("checkpoint", "replaced"), [("sku-detail-staged", False), ("prepared", False), ("replaced", True)]
)
def test_a_refresh_killed_anywhere_leaves_the_workbook_and_its_detail_both_old_or_both_new(
    book: Path, demo: tuple[Path, Path], checkpoint: str, replaced: bool
) -> None:
    export = demo[1]
    counts = _rows(book)
    limit = _limit(book)
    before = book.read_bytes()
    _refresh_killed_at(checkpoint, book, export, limit)
    assert (book.read_bytes() != before) is replaced

    with writing(book, "test"):  # the next sopxl writer of the workbook resolves what was left
        pass
    folder = book.with_name("SOP.sku-detail")
    assert _staged(book.parent) == [] and not journal.journal_path(book).exists()
    if replaced:  # the new workbook says "beside the workbook": the detail is there, complete
        assert settings_values(read_table(book, layout.SETTINGS))["sku_detail"].startswith("SOP.sku-detail/")
        assert len(pd.read_parquet(folder / f"{layout.DEMAND.name}.parquet")) == counts[layout.DEMAND.name]
    else:
        assert book.read_bytes() == before and not folder.exists()


def test_the_cli_says_where_the_sku_detail_went(
    book: Path, demo: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sku_detail, "EXCEL_ROWS", _limit(book))
    result = runner.invoke(app, ["refresh", str(book), "--source", str(demo[1])])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "SOP.sku-detail/" in text and "From Parquet" in text and "family level" in text

    new = book.with_name("NEW.xlsx")
    result = runner.invoke(app, ["new", str(new), "--source", str(demo[1])])
    assert result.exit_code == 0, result.output
    assert "NEW.sku-detail/" in " ".join(result.output.split())
    assert len(pd.read_parquet(new.with_name("NEW.sku-detail") / "tblDemand.parquet")) > 0
    with zipfile.ZipFile(new) as z:
        assert z.testzip() is None

    monkeypatch.setattr(sku_detail, "EXCEL_ROWS", 10)
    result = runner.invoke(app, ["refresh", str(book), "--source", str(demo[1])])
    assert result.exit_code == 1 and "more rows than a sheet holds" in " ".join(result.output.split())
