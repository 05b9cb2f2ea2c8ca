"""Every command that opens a workbook passes one hostile-file gate first: one clear line, bounded memory,
sheet kinds sopxl does not own carried through untouched, and Forecast cells a reader cannot trust named."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_calamine import CalamineError, CalamineWorkbook
from typer.testing import CliRunner

from addin.cli import app
from sop_functions import clock
from tests.crash_support import NOW, World, build_world, grid_of
from workbooks.reader import ForecastError, read_forecast
from workbooks.xlsx.gate import READ_BUDGET_ENV, check

FIXTURES = Path(__file__).parent / "fixtures" / "excel-authored"
runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with clock.frozen(NOW):
        yield build_world(tmp_path_factory.mktemp("gate"))


def commands(book: Path, world: World, out: Path) -> dict[str, list[str]]:
    """Every command that opens a workbook, pointed at ``book``."""
    exports = str(world.exports)
    return {
        "refresh": ["refresh", str(book), "-s", exports],
        "attach": ["attach", str(book), "-s", exports],
        "plan": ["plan", "-s", exports, "-w", str(book)],
        "collect": ["collect", str(world.reps), "-w", str(book)],
        "forecast-sheet": ["forecast-sheet", "--owner", "Zoe", "--families", "X", "--out", str(out), "-w", str(book)],
        "publish": ["publish", "-s", exports, "-w", str(book)],
        "capacity": ["capacity", "-s", exports, "-w", str(book)],
        "scenario": ["scenario", "-s", exports, "-w", str(book)],
    }


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("poc-xmlbomb.xlsx", r"xl/sharedStrings\.xml declares a DTD or entities"),
        ("xlsx-corrupted.xlsx", r"_rels/\.rels is not well-formed XML"),
    ],
)
def test_every_command_refuses_a_hostile_or_corrupt_file_in_one_line(
    fixture: str, reason: str, world: World, tmp_path: Path
) -> None:
    book = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, book)
    original = book.read_bytes()
    for name, command in commands(book, world, tmp_path / "rep.xlsx").items():
        result = runner.invoke(app, command)
        assert result.exit_code == 1, (name, result.output)
        assert isinstance(result.exception, SystemExit), (name, result.exception)  # no escaped exception
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.output)
        assert re.search(reason, lines[0]), (name, lines[0])
        assert "Traceback" not in result.output
    assert book.read_bytes() == original


def _bomb(path: Path, expands_to: int) -> Path:
    """A small workbook whose one sheet of real cells expands to ``expands_to`` bytes (ratio ~1000:1)."""
    row = b'<row><c t="inlineStr"><is><t>' + b"x" * 80 + b"</t></is></c></row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Forecast" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            block = row * ((1 << 20) // len(row))
            for _ in range(expands_to // len(block)):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


PEAK_RSS = textwrap.dedent(
    """
    import resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stdout.write(f"{done.returncode}\\n{peak_kib}\\n" + done.stderr)
    """
)


def test_a_sheet_expanding_to_hundreds_of_megabytes_is_refused_before_it_is_inflated(
    world: World, tmp_path: Path
) -> None:
    """Inflated by calamine this sheet costs ~1.7 GB; refused from the zip directory the command stays at its
    start-up size."""
    bomb = _bomb(tmp_path / "bomb.xlsx", 600 << 20)
    assert bomb.stat().st_size < 4 << 20
    sop = str(Path(sys.executable).with_name("sop"))
    # a user's shell, without what an in-process xlwings Server of another test left in os.environ
    user_env = {k: v for k, v in os.environ.items() if not k.startswith("XLWINGS_")}
    plan = ["plan", "-s", str(world.exports), "-w", str(bomb)]
    for command in (plan, ["refresh", str(bomb), "-s", str(world.exports)]):
        out = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, sop, *command], capture_output=True, text=True, check=True, env=user_env
        ).stdout.splitlines()
        code, peak_mib, stderr = int(out[0]), int(out[1]) / 1024, "\n".join(out[2:])
        assert code == 1, stderr
        assert "refused as a possible zip bomb" in stderr and "Traceback" not in stderr
        assert peak_mib < 400, f"{command[0]} peaked at {peak_mib:.0f} MiB"


def test_the_read_budget_bounds_what_a_reader_may_expand(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = check(world.master).sheets["Forecast"]
    size = check(world.master).sizes[sheet]
    monkeypatch.setenv(READ_BUDGET_ENV, str(size / (1 << 20) / 2))  # half of what the Forecast read needs
    result = runner.invoke(app, ["plan", "-s", str(world.exports), "-w", str(world.master)])
    assert result.exit_code == 1
    assert "reading sheet 'Forecast'" in result.output and "sopxl reads at most" in result.output
    monkeypatch.setenv(READ_BUDGET_ENV, "256")
    assert runner.invoke(app, ["plan", "-s", str(world.exports), "-w", str(world.master)]).exit_code == 0


def _with_foreign_sheets(src: Path, dst: Path) -> None:
    """``src`` plus an Excel 4.0 macro sheet and a dialog sheet, as Excel stores them."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    foreign = {
        "macro": (
            "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet",
            "macrosheets/sheet1.xml",
            "application/vnd.ms-excel.macrosheet+xml",
            f'<?xml version="1.0"?><xm:macrosheet xmlns="{main}" xmlns:xm="http://schemas.microsoft.com/office/'
            'excel/2006/main"><sheetData><row r="1"><c r="A1"><f>HALT()</f></c></row></sheetData></xm:macrosheet>',
        ),
        "dialog": (
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/dialogsheet",
            "dialogsheets/sheet1.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.dialogsheet+xml",
            f'<?xml version="1.0"?><dialogsheet xmlns="{main}"><sheetPr/></dialogsheet>',
        ),
    }
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                entries = "".join(
                    f'<sheet name="{k.title()}1" sheetId="{90 + i}" r:id="rId9{i}"/>' for i, k in enumerate(foreign)
                )
                data = data.replace(b"</sheets>", entries.encode() + b"</sheets>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                rels = "".join(
                    f'<Relationship Id="rId9{i}" Type="{t}" Target="{p}"/>'
                    for i, (t, p, _c, _x) in enumerate(foreign.values())
                )
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                types = "".join(
                    f'<Override PartName="/xl/{p}" ContentType="{c}"/>' for _t, p, c, _x in foreign.values()
                )
                data = data.replace(b"</Types>", types.encode() + b"</Types>")
            zout.writestr(info, data)
        for _t, part, _c, xml in foreign.values():
            zout.writestr(f"xl/{part}", xml)


def _part_bytes(path: Path, prefix: str) -> dict[str, tuple[int, bytes]]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: (i.CRC, z.read(i)) for i in z.infolist() if i.filename.startswith(prefix)}


@pytest.mark.parametrize("fixture", ["WithChart.xlsx", "SimpleMacro.xlsm"])
def test_macro_and_dialog_sheets_never_stop_attach_refresh_or_collect_and_stay_byte_identical(
    fixture: str, world: World, tmp_path: Path
) -> None:
    book = tmp_path / fixture
    _with_foreign_sheets(FIXTURES / fixture, book)
    with pytest.raises(CalamineError, match="Unrecognized sheet"):  # what the reader alone does with it
        CalamineWorkbook.from_path(book, load_tables=True)
    foreign = {**_part_bytes(book, "xl/macrosheets/"), **_part_bytes(book, "xl/dialogsheets/")}
    with clock.frozen(NOW):
        attached = runner.invoke(app, ["attach", str(book), "-s", str(world.exports)])
        assert attached.exit_code == 0, attached.output
        refreshed = runner.invoke(app, ["refresh", str(book), "-s", str(world.exports_new)])
        assert refreshed.exit_code == 0, refreshed.output
        reps = tmp_path / "reps"
        reps.mkdir()
        family = grid_of(book)[0][0]
        from tests.crash_support import rep_file

        rep_file(reps, book, "Rita", family, sorted({b for _f, b, _q in grid_of(book)})[1], 55.0)
        collected = runner.invoke(app, ["collect", str(reps), "-w", str(book)])
        assert collected.exit_code == 0, collected.output
    assert any(q == 55.0 for _f, _b, q in grid_of(book))
    assert {**_part_bytes(book, "xl/macrosheets/"), **_part_bytes(book, "xl/dialogsheets/")} == foreign
    with zipfile.ZipFile(book) as z:
        workbook_xml = z.read("xl/workbook.xml").decode()
    assert 'name="Macro1"' in workbook_xml and 'name="Dialog1"' in workbook_xml


def _set_cells(path: Path, sheet: str, cells: dict[str, str]) -> None:
    """Replace whole ``<c>`` elements of a sheet (building a fixture: this is not how sopxl writes)."""
    part = check(path).sheets[sheet]
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    text = parts[part].decode()
    for ref, xml in cells.items():
        text, n = re.subn(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', xml, text, count=1)
        assert n == 1, ref
    parts[part] = text.encode()
    path.unlink()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_forecast_formulas_showing_errors_or_never_computed_are_reported_not_planned_as_zero(
    world: World, tmp_path: Path
) -> None:
    book = tmp_path / "formulas.xlsx"
    book.write_bytes(world.pristine)
    _set_cells(
        book,
        "Forecast",
        {
            "C5": '<c r="C5" t="e"><f>VLOOKUP(A5,Lookup!A:B,2,FALSE)</f><v>#N/A</v></c>',
            "D5": '<c r="D5"><f>SUM(Z1:Z9)</f></c>',
            "E5": '<c r="E5"><f>2*20</f><v>40</v></c>',
            "F5": '<c r="F5" t="e"><v>#REF!</v></c>',
        },
    )
    with pytest.raises(ForecastError) as caught:
        read_forecast(book)
    shown = [str(issue) for issue in caught.value.issues]
    assert len(shown) == 3, shown
    assert re.match(
        r"Forecast!C5 \(family '.+', month \d{4}-\d{2}\): =VLOOKUP\(A5,Lookup!A:B,2,FALSE\) shows the error #N/A",
        shown[0],
    )
    assert "Forecast!D5" in shown[1] and "=SUM(Z1:Z9) has no computed value" in shown[1]
    assert "Forecast!F5" in shown[2] and "holds the error #REF!" in shown[2]
    result = runner.invoke(app, ["plan", "-s", str(world.exports), "-w", str(book)])
    assert result.exit_code == 1 and "3 invalid entries in the Forecast grid" in result.output
    before = book.read_bytes()
    assert runner.invoke(app, ["refresh", str(book), "-s", str(world.exports)]).exit_code == 1
    assert book.read_bytes() == before
    _set_cells(book, "Forecast", {"C5": '<c r="C5"><v>1</v></c>', "D5": '<c r="D5"/>', "F5": '<c r="F5"/>'})
    grid = read_forecast(book).set_index(["family", "bucket"])["qty"]
    assert 40.0 in grid.tolist()  # a formula with a computed number is taken as that number


def test_parts_read_whole_are_refused_from_their_declared_size(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workbook, relationships and table parts are parsed whole: a big one is refused before it is read."""
    from workbooks.xlsx import zipio
    from workbooks.xlsx.gate import _CACHE

    _CACHE.clear()
    monkeypatch.setattr(zipio, "MAX_WHOLE_PART", 512)  # smaller than this workbook's workbook.xml
    result = runner.invoke(app, ["plan", "-s", str(world.exports), "-w", str(world.master)])
    assert result.exit_code == 1
    assert re.search(r"part \S+ expands to \d+ bytes; sopxl reads such parts whole and refuses", result.output)
