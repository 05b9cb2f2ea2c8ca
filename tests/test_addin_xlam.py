"""sopxl.xlam: built from text sources, reproducible, its ribbon wired to the ribbon actions, its VBA readable."""

from __future__ import annotations

import re
import struct
import zipfile
from importlib import metadata
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser  # type: ignore[import-untyped]

from addin import addin_commands, build_xlam, ribbon
from addin.cfb import write_cfb
from addin.ovba import compress, decompress

CUSTOM_UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_xlam.build(tmp_path_factory.mktemp("xlam"))


def _vba_modules(xlam: Path) -> dict[str, str]:
    with zipfile.ZipFile(xlam) as zf:
        data = zf.read("xl/vbaProject.bin")
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {name.rsplit(".", 1)[0]: code for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_build_is_byte_identical(xlam: Path, tmp_path: Path) -> None:
    again = build_xlam.build(tmp_path / "again.xlam")
    assert again.read_bytes() == xlam.read_bytes()
    with zipfile.ZipFile(xlam) as zf:
        assert zf.testzip() is None
        assert {i.date_time for i in zf.infolist()} == {(2020, 1, 1, 0, 0, 0)}


def test_every_button_maps_to_a_ribbon_action(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as zf:
        rels = zf.read("_rels/.rels").decode()
        ui = ElementTree.fromstring(zf.read("customUI/customUI14.xml"))
    assert 'Target="customUI/customUI14.xml"' in rels and "customUI/customUI.xml" not in rels
    tab = ui.find(f".//{CUSTOM_UI}tab")
    assert tab is not None and tab.get("label") == "S&OP"
    buttons = ui.findall(f".//{CUSTOM_UI}button")
    assert sorted(b.get("tag") for b in buttons) == sorted(ribbon.ACTIONS)
    for button in buttons:
        assert button.get("onAction") == "OnAction" and button.get("imageMso"), button.attrib


def test_vba_decompiles_to_the_sources(xlam: Path) -> None:
    modules = _vba_modules(xlam)
    expected = {m.name: m.source for m in build_xlam.vba_modules()}
    assert set(modules) == set(expected) == {"ThisWorkbook", "Sheet2", "Dispatcher", "xlwings", "Dictionary"}
    for name, source in expected.items():
        assert modules[name].replace("\r\n", "\n").strip() == source.replace("\r\n", "\n").strip(), name
    dispatcher = (build_xlam.SOURCES / "Dispatcher.bas").read_text()
    assert modules["Dispatcher"].replace("\r\n", "\n").strip() == dispatcher.strip()
    assert 'RunPython "import addin.ribbon as r; r.run(\'" & control.Tag & "\')"' in dispatcher
    assert "Public Sub OnAction(control As IRibbonControl)" in dispatcher


def test_xlwings_vba_version_equals_the_pinned_xlwings(xlam: Path) -> None:
    vba = _vba_modules(xlam)["xlwings"]
    version = metadata.version("xlwings")
    assert re.search(r"^'Version: (\S+)", vba, re.MULTILINE)[1] == version  # type: ignore[index]
    assert f'"xlwings64-{version}.dll"' in vba
    assert 'Public Const PROJECT_NAME As String = "sopxl"' in vba
    package = (build_xlam.xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="cp1252")
    assert vba.replace("\r\n", "\n").replace('"sopxl"', '"myaddin"').strip() == package.replace("\r\n", "\n").strip()


def test_project_compiles_from_source(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as zf:
        ole = olefile.OleFileIO(zf.read("xl/vbaProject.bin"))
    try:
        assert struct.unpack("<HHBH", ole.openstream("VBA/_VBA_PROJECT").read()) == (0x61CC, 0xFFFF, 0, 0)
        project = ole.openstream("PROJECT").read().decode("cp1252")
        assert 'Name="sopxl"' in project and "Module=Dispatcher" in project and "Class=Dictionary" in project
        assert "Document=ThisWorkbook/&H00000000" in project
    finally:
        ole.close()


def test_conf_sheet_and_workbook(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert 'name="sopxl.conf"' in workbook and "felix" not in workbook.lower()
    assert "<t>UDF Modules</t>" in sheet and "<t>addin.udfs</t>" in sheet


def test_ovba_compression_round_trips() -> None:
    from oletools.olevba import decompress_stream

    text = (build_xlam.xlwings_dir() / "xlwings_custom_addin.bas").read_bytes()
    for data in (b"", b"a", b"abc" * 5000, bytes(range(256)) * 40, text):
        packed = compress(data)
        assert decompress(packed) == data
        assert bytes(decompress_stream(bytearray(packed))) == data
    assert len(compress(text)) < len(text) / 2


def test_cfb_writer_reads_back_with_olefile() -> None:
    streams = {"PROJECT": b"x" * 10, "VBA/big": bytes(range(256)) * 40, "VBA/small": b"hello", "VBA/empty": b""}
    ole = olefile.OleFileIO(write_cfb(streams))
    try:
        for name, data in streams.items():
            assert ole.openstream(name).read() == data
    finally:
        ole.close()


def test_install_copies_the_addin_and_writes_the_config(tmp_path: Path) -> None:
    target, conf = addin_commands.install(
        xlstart=tmp_path / "XLSTART", config=tmp_path / ".sopxl" / "sopxl.conf", interpreter="C:\\py\\pythonw.exe"
    )
    assert target == tmp_path / "XLSTART" / "sopxl.xlam" and zipfile.is_zipfile(target)
    assert conf.read_text().splitlines() == [
        '"INTERPRETER_WIN","C:\\py\\pythonw.exe"',
        f'"PYTHONPATH","{addin_commands.REPO_ROOT}"',
    ]
    assert addin_commands.config_text("/usr/bin/python3", "/src", platform="darwin").startswith('"INTERPRETER_MAC"')
    with pytest.raises(ValueError, match="quotes"):
        addin_commands.config_text('a"b', "/src")


def test_cli_builds_the_addin(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from addin.cli import app

    result = CliRunner().invoke(app, ["addin", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sopxl.xlam").is_file()
