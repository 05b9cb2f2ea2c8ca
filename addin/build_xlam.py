"""Build ``sopxl.xlam`` on any OS, reproducibly, from the text sources in ``addin/xlam/``.

Start: xlwings' BSD ``quickstart_addin_ribbon.xlam`` from the installed (pinned) xlwings wheel. Then:

- ``customUI/customUI14.xml`` <- ``addin/xlam/customUI14.xml`` (the S&OP tab, one button per action);
- ``xl/vbaProject.bin`` <- generated from source (:mod:`addin.ovba`): ``Dispatcher.bas``, the two
  document modules, and xlwings' own ``xlwings_custom_addin.bas`` + ``Dictionary.cls`` from the same
  wheel, so the VBA's ``'Version:`` and DLL names always equal the installed xlwings (they must match
  exactly at run time). ``PROJECT_NAME`` becomes ``sopxl``: config sheet ``sopxl.conf``, user config
  file ``~/.sopxl/sopxl.conf`` (Windows ``%USERPROFILE%\\.sopxl\\sopxl.conf``);
- the config sheet ``sopxl.conf`` <- ``addin/xlam/sopxl.conf.tsv`` (``UDF Modules = addin.udfs``...).

Every zip entry gets a fixed timestamp and attributes: same sources -> byte-identical ``.xlam``.
Run ``python -m addin.build_xlam [OUT]`` or ``sop addin build``.
"""

from __future__ import annotations

import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .ovba import Module, build_vba_project, read_template

SOURCES = Path(__file__).with_name("xlam")
ADDIN_NAME = "sopxl.xlam"
PROJECT_NAME = "sopxl"
CONF_SHEET = f"{PROJECT_NAME}.conf"
TEMPLATE = "quickstart_addin_ribbon.xlam"
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_TEMPLATE_SHEET = "_myaddin.conf"
_EXTENSIBILITY = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


@dataclass(frozen=True)
class XlwingsVba:
    version: str
    module: str
    dictionary: str


def xlwings_dir() -> Path:
    import xlwings  # imports pandas: only when building, not at `sop` start-up

    return Path(xlwings.__file__).parent


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def stored_class_source(cls_text: str) -> str:
    """An exported ``.cls`` as the VBA project stores it: no ``VERSION``/``BEGIN`` header, base attributes."""
    lines = _crlf(cls_text).split("\r\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END")
        lines = lines[end + 1 :]
    out: list[str] = []
    for line in lines:
        out.append(line)
        if line.startswith("Attribute VB_Name"):
            out.append('Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"')
        elif line.startswith("Attribute VB_Exposed"):
            out += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return "\r\n".join(out)


def xlwings_vba() -> XlwingsVba:
    """xlwings' custom-add-in VBA module (PROJECT_NAME = sopxl) and Dictionary class from the installed wheel."""
    import xlwings

    base = xlwings_dir()
    module = _crlf((base / "xlwings_custom_addin.bas").read_text(encoding="cp1252"))
    module, count = re.subn(
        r'Public Const PROJECT_NAME As String = "[^"]*"',
        f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"',
        module,
    )
    if count != 1:
        raise RuntimeError("xlwings_custom_addin.bas has no PROJECT_NAME constant: unsupported xlwings version")
    found = re.search(r"^'Version: (\S+)", module, re.MULTILINE)
    if found is None or found[1] != xlwings.__version__:
        raise RuntimeError(f"xlwings VBA version {found and found[1]} != installed xlwings {xlwings.__version__}")
    dictionary = stored_class_source((base / "addin" / "Dictionary.cls").read_text(encoding="cp1252"))
    return XlwingsVba(xlwings.__version__, module, dictionary)


def vba_modules(sources: Path = SOURCES) -> list[Module]:
    """Every module of the add-in's VBA project, in project order, sources as stored (CRLF)."""
    vba = xlwings_vba()

    def text(name: str) -> str:
        return _crlf((sources / name).read_text(encoding="utf-8")).rstrip("\r\n") + "\r\n"

    return [
        Module("ThisWorkbook", "document", text("ThisWorkbook.cls")),
        Module("Sheet2", "document", text("Sheet2.cls")),
        Module("Dispatcher", "module", text("Dispatcher.bas")),
        Module("xlwings", "module", vba.module),
        Module("Dictionary", "class", vba.dictionary),
    ]


def conf_sheet_xml(sources: Path = SOURCES) -> bytes:
    """The ``sopxl.conf`` sheet: key/value rows as inline strings (booleans as booleans)."""
    rows = []
    pairs = [
        line.split("\t", 1) for line in (sources / "sopxl.conf.tsv").read_text(encoding="utf-8").splitlines() if line
    ]
    for r, (key, value) in enumerate(pairs, start=1):
        cells = f'<c r="A{r}" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
        if value.upper() in ("TRUE", "FALSE"):
            cells += f'<c r="B{r}" t="b"><v>{int(value.upper() == "TRUE")}</v></c>'
        elif value:
            cells += f'<c r="B{r}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        rows.append(f'<row r="{r}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr codeName="Sheet2"/><dimension ref="A1:B' + str(len(pairs)) + '"/>'
        '<cols><col min="1" max="1" width="18" customWidth="1"/>'
        '<col min="2" max="2" width="30" customWidth="1"/></cols>'
        "<sheetData>" + "".join(rows) + "</sheetData></worksheet>"
    ).encode("utf-8")


def _patched(name: str, data: bytes, sources: Path, vba_bin: bytes) -> bytes | None:
    """The new bytes of a template part (None: drop it)."""
    if name == "customUI/customUI.xml":
        return None
    if name == "xl/vbaProject.bin":
        return vba_bin
    if name == "xl/worksheets/sheet1.xml":
        return conf_sheet_xml(sources)
    text = data.decode("utf-8")
    if name == "_rels/.rels":
        text = re.sub(r'<Relationship [^>]*Target="customUI/customUI\.xml"[^>]*/>', "", text)
        text = text.replace(
            "</Relationships>",
            f'<Relationship Id="sopxlUI" Type="{_EXTENSIBILITY}" Target="customUI/customUI14.xml"/></Relationships>',
        )
    elif name == "xl/workbook.xml":
        text = text.replace(f'name="{_TEMPLATE_SHEET}"', f'name="{CONF_SHEET}"')
        text = re.sub(r"<mc:AlternateContent .*?</mc:AlternateContent>", "", text)
    elif name == "docProps/core.xml":
        text = re.sub(r"<dc:creator>.*?</dc:creator>", "<dc:creator>sopxl</dc:creator>", text)
        text = re.sub(
            r"<cp:lastModifiedBy>.*?</cp:lastModifiedBy>", "<cp:lastModifiedBy>sopxl</cp:lastModifiedBy>", text
        )
        text = re.sub(r"<dc:title\s*/>", "<dc:title>sopxl S&amp;OP add-in</dc:title>", text)
    return text.encode("utf-8")


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0
    info.external_attr = 0
    return info


def build(out: Path, sources: Path = SOURCES) -> Path:
    """Write the add-in to ``out`` (a ``.xlam`` path, or a folder: ``out/sopxl.xlam``); returns its path."""
    target = out if out.suffix.lower() == ".xlam" else out / ADDIN_NAME
    with zipfile.ZipFile(xlwings_dir() / TEMPLATE) as template:
        parts = {i.filename: template.read(i.filename) for i in template.infolist()}
    vba_bin = build_vba_project(read_template(parts["xl/vbaProject.bin"]), vba_modules(sources), PROJECT_NAME)
    custom_ui = (sources / "customUI14.xml").read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in ["[Content_Types].xml", *sorted(n for n in parts if n != "[Content_Types].xml")]:
            data = _patched(name, parts[name], sources, vba_bin)
            if data is not None:
                zf.writestr(_info(name), data, compresslevel=9)
        zf.writestr(_info("customUI/customUI14.xml"), custom_ui, compresslevel=9)
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = build(Path(args[0]) if args else Path("dist"))
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
