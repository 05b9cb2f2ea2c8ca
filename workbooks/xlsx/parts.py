"""Navigate an OOXML package: content types, relationships, workbook sheets, tables, pivot caches.

Everything is found the way Excel finds it (``_rels/.rels`` -> workbook -> its rels -> sheets -> their rels
-> tables), never by guessing part names, and every XML parse goes through :mod:`.xmlsafe`.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .errors import UnsafeWorkbookError, WorkbookError
from .xmlsafe import check_prolog, local, parse_xml
from .zipio import DEFAULT_LIMITS, ZipLimits, open_package, read_part

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_BASE_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
NS_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
WORKBOOK_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
XML_EXTENSIONS = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class Rel:
    """One relationship; ``kind`` is the last segment of its type URI (same in transitional and strict)."""

    rid: str
    kind: str
    target: str
    """Zip member name the relationship points at (resolved), or the raw target when external."""
    external: bool


@dataclass(frozen=True)
class Sheet:
    name: str
    sheet_id: int
    rid: str
    part: str


@dataclass(frozen=True)
class TablePart:
    """A table (ListObject) as its part describes it."""

    name: str
    part: str
    sheet: Sheet
    ref: str
    table_id: int
    header_rows: int
    totals_rows: int
    columns: tuple[str, ...]


def rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source: str, target: str) -> str:
    """Zip member name of a relationship target relative to the part ``source``."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true")


def _rid(attrib: dict[str, str]) -> str | None:
    for key, value in attrib.items():
        if key.endswith("}id") and key.startswith("{"):
            return value
    return None


class Package:
    """A read-only view of an .xlsx/.xlsm package, validated on open."""

    def __init__(self, path: Path, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.zf: zipfile.ZipFile = open_package(path, limits)
        try:
            self._names = {i.filename.lower(): i.filename for i in self.zf.infolist()}
            self._load()
        except BaseException:
            self.zf.close()
            raise

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- raw access ---------------------------------------------------------------------------------
    def member(self, name: str) -> str | None:
        """Actual zip member name for a part name (OPC part names are case-insensitive)."""
        return self._names.get(name.lower())

    def read(self, name: str) -> bytes:
        member = self.member(name)
        if member is None:
            raise WorkbookError(f"{self.path.name}: part {name} is missing; the workbook is damaged.")
        return read_part(self.zf, member)

    def check_prologs(self) -> None:
        """Refuse the package if any XML part declares a DTD (bomb/XXE), reading only each prolog."""
        for info in self.zf.infolist():
            if info.filename.lower().endswith(XML_EXTENSIONS) and info.file_size:
                with self.zf.open(info) as fh:
                    check_prolog(info.filename, fh)

    # -- structure ----------------------------------------------------------------------------------
    def _load(self) -> None:
        ct_member = self.member("[Content_Types].xml")
        if ct_member is None:
            raise WorkbookError(f"{self.path.name} has no [Content_Types].xml: it is not an Office document.")
        self.check_prologs()
        types = parse_xml("[Content_Types].xml", read_part(self.zf, ct_member))
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        for el in types:
            if local(el.tag) == "Default":
                self.defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            elif local(el.tag) == "Override":
                self.overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")
        office = [r for r in self.rels("") if r.kind == "officeDocument" and not r.external]
        if not office:
            raise WorkbookError(f"{self.path.name}: _rels/.rels names no main document; the file is damaged.")
        self.workbook_part = office[0].target
        ctype = self.content_type(self.workbook_part)
        if ctype not in WORKBOOK_TYPES:
            raise WorkbookError(
                f"{self.path.name}: main part {self.workbook_part} has content type {ctype!r}, not an Excel "
                "workbook (.xlsx/.xlsm). Binary (.xlsb) and other formats are not supported."
            )
        root = parse_xml(self.workbook_part, self.read(self.workbook_part))
        self.strict = root.tag.startswith("{" + NS_MAIN_STRICT)
        self.wb_rels = {r.rid: r for r in self.rels(self.workbook_part)}
        self.sheets: list[Sheet] = []
        self.date1904 = False
        self.defined_names: set[str] = set()
        for el in root.iter():
            tag = local(el.tag)
            if tag == "workbookPr":
                self.date1904 = _flag(el.get("date1904"))
            elif tag == "definedName":
                self.defined_names.add(el.get("name", "").lower())
            elif tag == "sheet":
                rid = _rid(el.attrib)
                rel = self.wb_rels.get(rid or "")
                if rel is None or rel.external:
                    raise WorkbookError(
                        f"{self.path.name}: sheet {el.get('name')!r} points at no part; the file is damaged."
                    )
                self.sheets.append(Sheet(el.get("name", ""), int(el.get("sheetId", "0")), rel.rid, rel.target))
        self._check_xml_maps()

    def _check_xml_maps(self) -> None:
        """Refuse XML maps whose schemas point outside the file (Excel may fetch them: XXE/SSRF)."""
        for part in self.parts_of_kind("xmlMaps"):
            if self.member(part) is None:
                continue
            for el in parse_xml(part, self.read(part)).iter():
                location = el.get("schemaLocation")
                if location:
                    raise UnsafeWorkbookError(
                        f"{part}: an XML map schema refers to the external location {location!r}; sopxl "
                        "refuses workbooks that point Excel at external schemas (XXE/SSRF risk). Remove the "
                        "XML map (Developer > Source > XML Maps) and retry."
                    )

    def content_type(self, part: str) -> str | None:
        ctype = self.overrides.get(part.lower())
        if ctype is None:
            ctype = self.defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())
        return ctype

    def rels(self, part: str) -> list[Rel]:
        """Relationships of ``part`` ("" = the package itself); an absent rels part means none."""
        name = rels_name(part) if part else "_rels/.rels"
        member = self.member(name)
        if member is None:
            return []
        out = []
        for el in parse_xml(name, read_part(self.zf, member)):
            if local(el.tag) != "Relationship":
                continue
            external = el.get("TargetMode", "") == "External"
            target = el.get("Target", "")
            kind = el.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            out.append(Rel(el.get("Id", ""), kind, target if external else resolve(part, target), external))
        return out

    @property
    def workbook_rels_part(self) -> str:
        return rels_name(self.workbook_part)

    @cached_property
    def tables(self) -> list[TablePart]:
        """Every table of every sheet, found through the sheets' relationships."""
        found = []
        for sheet in self.sheets:
            for rel in self.rels(sheet.part):
                if rel.kind != "table" or rel.external:
                    continue
                el = parse_xml(rel.target, self.read(rel.target))
                cols = tuple(c.get("name", "") for c in el.iter() if local(c.tag) == "tableColumn")
                found.append(
                    TablePart(
                        name=el.get("displayName") or el.get("name") or "",
                        part=rel.target,
                        sheet=sheet,
                        ref=el.get("ref", ""),
                        table_id=int(el.get("id", "0")),
                        header_rows=int(el.get("headerRowCount", "1")),
                        totals_rows=int(el.get("totalsRowCount", "0")),
                        columns=cols,
                    )
                )
        return found

    def table(self, name: str) -> TablePart | None:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        return None

    def parts_of_kind(self, kind: str) -> list[str]:
        return [r.target for r in self.wb_rels.values() if r.kind == kind and not r.external]

    @property
    def calc_chain(self) -> str | None:
        chain = self.parts_of_kind("calcChain")
        return chain[0] if chain and self.member(chain[0]) else None
