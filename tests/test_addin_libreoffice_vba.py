"""sopxl.xlam's VBA project read by a second, independent reader: LibreOffice.

LibreOffice imports the VBA project of a macro workbook into its Basic libraries (its own CFB and MS-OVBA
readers, nothing shared with olevba or our writer), and ``--convert-to ods`` stores those libraries as
text (``Basic/<project>/<module>.xml``). It refuses the add-in content type, so the copy it reads carries
the macro-enabled workbook's. The same conversion of xlwings' own Excel-authored quickstart add-in is the
control: whatever LibreOffice reads from Excel's file, it must read from ours.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser  # type: ignore[import-untyped]
from typer.testing import CliRunner

from addin import build_xlam
from addin.cli import app

from .libreoffice import requires_libreoffice

pytestmark = [requires_libreoffice, pytest.mark.libreoffice]

ADDIN_TYPE = b"application/vnd.ms-excel.addin.macroEnabled.main+xml"
MACRO_WORKBOOK_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
SCRIPT = "{http://openoffice.org/2000/script}"
LIBRARY = "{http://openoffice.org/2000/library}"
LOAD_VBA = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Filter/Import/VBA"><prop oor:name="Load" oor:op="fuse">
<value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Filter/Import/VBA"><prop oor:name="Executable" oor:op="fuse">
<value>true</value></prop></item>
</oor:items>
"""
"""A profile that loads VBA code as code (with Executable off LibreOffice keeps it as Rem comments)."""
LO_HEADER = ("Rem Attribute VBA_ModuleType=", "Option VBASupport 1", "Option ClassModule")
KINDS = {"document": "document", "module": "normal", "class": "class"}
"""Our module kinds (addin.ovba) and the Basic module type LibreOffice gives each."""


@dataclass(frozen=True)
class BasicModule:
    kind: str
    text: str
    """The module's source as LibreOffice holds it, without the lines LibreOffice adds on import."""


def as_macro_workbook(xlam: Path, out: Path) -> Path:
    with zipfile.ZipFile(xlam) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                assert ADDIN_TYPE in data, "not an add-in"
                data = data.replace(ADDIN_TYPE, MACRO_WORKBOOK_TYPE)
            dst.writestr(info, data)
    return out


def basic_libraries(ods: Path) -> dict[str, dict[str, BasicModule]]:
    """Every Basic library of an .ods LibreOffice wrote, module by module (the Standard library is its own)."""
    libraries: dict[str, dict[str, BasicModule]] = {}
    with zipfile.ZipFile(ods) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) != 3 or parts[0] != "Basic" or parts[2] != "script-lb.xml" or parts[1] == "Standard":
                continue
            listed = ElementTree.fromstring(zf.read(name))
            modules = {}
            for element in listed.iter(f"{LIBRARY}element"):
                module = element.get(f"{LIBRARY}name")
                root = ElementTree.fromstring(zf.read(f"Basic/{parts[1]}/{module}.xml"))
                lines = (root.text or "").split("\n")
                while lines and lines[0].startswith(LO_HEADER):
                    lines.pop(0)
                modules[module] = BasicModule(str(root.get(f"{SCRIPT}moduleType")), "\n".join(lines).strip("\n"))
            libraries[parts[1]] = modules
    return libraries


def source_text(vba: str) -> str:
    """VBA module source as a VBA editor shows it: without the ``Attribute`` lines, LF line ends."""
    lines = vba.replace("\r\n", "\n").split("\n")
    return "\n".join(line for line in lines if not line.startswith("Attribute ")).strip("\n")


def olevba_sources(xlam: Path) -> dict[str, str]:
    with zipfile.ZipFile(xlam) as zf:
        parser = VBA_Parser("vbaProject.bin", data=zf.read("xl/vbaProject.bin"))
    try:
        return {name.rsplit(".", 1)[0]: source_text(code) for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, BasicModule]]]:
    """``sop addin build`` and xlwings' quickstart add-in, both converted by one LibreOffice run."""
    work = tmp_path_factory.mktemp("lo-vba")
    built = CliRunner().invoke(app, ["addin", "build", "--out", str(work / "dist")])
    assert built.exit_code == 0, built.output
    ours = as_macro_workbook(work / "dist" / "sopxl.xlam", work / "sopxl.xlsm")
    control = as_macro_workbook(build_xlam.xlwings_dir() / "quickstart_addin_ribbon.xlam", work / "quickstart.xlsm")
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LOAD_VBA)
    soffice = shutil.which("soffice")
    assert soffice
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "ods"]
    done = subprocess.run(
        [*command, "--outdir", str(work / "ods"), str(ours), str(control)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.stem: basic_libraries(work / "ods" / f"{path.stem}.ods") for path in (ours, control)}


def test_libreoffice_reads_the_excel_authored_control(converted: dict[str, dict[str, dict[str, BasicModule]]]) -> None:
    """xlwings' quickstart add-in (saved by Excel): LibreOffice and olevba read the same modules and text."""
    (library,) = converted["quickstart"].values()
    assert {name: m.kind for name, m in library.items()} == {
        "ThisWorkbook": "document",
        "Sheet2": "document",
        "RibbonMyAddin": "normal",
        "xlwings": "normal",
        "Dictionary": "class",
    }
    expected = olevba_sources(build_xlam.xlwings_dir() / "quickstart_addin_ribbon.xlam")
    assert {name: m.text for name, m in library.items()} == expected
    assert "RunPython" in library["RibbonMyAddin"].text


def test_libreoffice_reads_every_module_of_sopxl_xlam_with_its_source(
    converted: dict[str, dict[str, dict[str, BasicModule]]],
) -> None:
    assert list(converted["sopxl"]) == ["sopxl"]  # one library, named after the VBA project
    library = converted["sopxl"]["sopxl"]
    expected = {m.name: m for m in build_xlam.vba_modules()}
    assert set(library) == set(expected) == {"ThisWorkbook", "Sheet2", "Dispatcher", "xlwings", "Dictionary"}
    for name, module in expected.items():
        assert library[name].kind == KINDS[module.kind], name
        assert library[name].text == source_text(module.source), name
    dispatcher = library["Dispatcher"].text
    assert "Public Sub OnAction(control As IRibbonControl)" in dispatcher
    assert 'RunPython "import addin.ribbon as r; r.run(\'" & control.Tag & "\')"' in dispatcher
    # xlwings' module and class: the code LibreOffice reads from Excel's own file (Excel stores identifiers in
    # the casing its editor normalises to, e.g. Err for err; VBA does not tell them apart) but the project name.
    (control,) = converted["quickstart"].values()
    assert library["Dictionary"].text.lower() == control["Dictionary"].text.lower()
    ours = library["xlwings"].text.lower().replace('project_name as string = "sopxl"', "project_name")
    assert ours == control["xlwings"].text.lower().replace('project_name as string = "myaddin"', "project_name")
