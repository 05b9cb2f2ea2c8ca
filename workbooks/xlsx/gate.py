"""The hostile-file gate: every command checks a workbook here before any reader or writer inflates it.

python-calamine (the reader) expands a whole sheet into memory and raises its own exception types on
damaged files; the part patcher streams. So the gate does, from the zip directory and each XML part's
prolog only (never a whole part): the patcher's package checks (zip bomb sizes and ratios, DTDs and
entities, XML map schemas, content types), plus a **read budget**: the declared uncompressed size of what
a reader will expand (shared strings, styles, the sheets it reads) must stay under ``SOPXL_READ_BUDGET_MB``
(default 256 MiB), so a reader's memory is bounded before a byte is inflated.

Sheet kinds the reader cannot parse (an Excel 4.0 macro sheet, ``xl/macrosheets/``, or any relationship
type other than worksheet, chartsheet and dialogsheet) are not sopxl's and must not stop a read:
:func:`readable` then hands the reader a private **view**, a raw copy in which those sheets are empty
worksheets (names and order kept). The user's file is never changed for it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import WorkbookError
from .parts import CT_WORKSHEET, Package
from .wbedit import attributes, decode, insert_children
from .xmlsafe import START_TAG, attr_re, esc_attr
from .zipio import copy_raw, new_info

READ_BUDGET_ENV = "SOPXL_READ_BUDGET_MB"
DEFAULT_READ_BUDGET = 256 << 20
READER_SHEET_KINDS = ("worksheet", "chartsheet", "dialogsheet")
"""Sheet relationship types python-calamine accepts (it refuses a workbook holding any other)."""
_WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_STUB = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)


class WorkbookTooLargeError(WorkbookError):
    """What a reader would expand exceeds the read budget: refused before anything is inflated."""


@dataclass(frozen=True)
class Checked:
    """What the gate learnt of one version of a workbook file (cached per size, mtime and inode)."""

    path: Path
    key: tuple[int, int, int, int]
    sheets: dict[str, str]
    """Sheet name -> its part."""
    table_sheets: dict[str, str]
    """Table name (lower case) -> the name of the sheet holding it."""
    table_names: tuple[str, ...]
    sizes: dict[str, int]
    """Part -> declared uncompressed size."""
    always_read: tuple[str, ...]
    """Parts a reader expands whatever it reads (shared strings, styles, the workbook, table parts)."""
    unreadable: dict[str, str]
    """Relationship id -> part of the sheets the reader cannot parse (they are not sopxl's)."""


def read_budget() -> int:
    """Bytes a reader may expand for one call (``SOPXL_READ_BUDGET_MB``, default 256)."""
    text = os.environ.get(READ_BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_READ_BUDGET
    try:
        megabytes = float(text)
    except ValueError:
        raise WorkbookError(f"{READ_BUDGET_ENV}={text!r} is not a number of megabytes") from None
    return int(megabytes * (1 << 20))


def _key(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


_CACHE: dict[tuple[str, tuple[int, int, int, int]], Checked] = {}


def check(path: str | os.PathLike[str]) -> Checked:
    """Run the package checks on ``path`` (once per file version in this process) and describe it."""
    file = Path(path)
    if not file.is_file():
        raise WorkbookError(f"{file} does not exist or is not a file.")
    key = _key(file)
    cache_key = (str(file.resolve()), key)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    with Package(file) as pkg:
        sizes = {i.filename: i.file_size for i in pkg.zf.infolist()}
        always = [pkg.member(pkg.workbook_part) or pkg.workbook_part]
        for kind in ("sharedStrings", "styles"):
            always += [pkg.member(p) or p for p in pkg.parts_of_kind(kind)]
        always += [pkg.member(t.part) or t.part for t in pkg.tables]
        unreadable = {s.rid: s.part for s in pkg.sheets if pkg.wb_rels[s.rid].kind not in READER_SHEET_KINDS}
        checked = Checked(
            path=file,
            key=key,
            sheets={s.name: pkg.member(s.part) or s.part for s in pkg.sheets},
            table_sheets={t.name.lower(): t.sheet.name for t in pkg.tables},
            table_names=tuple(t.name for t in pkg.tables),
            sizes=sizes,
            always_read=tuple(p for p in always if p in sizes),
            unreadable=unreadable,
        )
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[cache_key] = checked
    return checked


def check_read(checked: Checked, sheets: Iterable[str] | None) -> None:
    """Refuse if the parts a reader expands for ``sheets`` (None: any one sheet) exceed the read budget."""
    budget = read_budget()
    base = sum(checked.sizes[p] for p in checked.always_read)
    names = list(sheets) if sheets is not None else list(checked.sheets)
    parts = [(n, checked.sheets[n]) for n in names if n in checked.sheets]
    sheet_bytes = [checked.sizes.get(p, 0) for _n, p in parts]
    total = base + (sum(sheet_bytes) if sheets is not None else max(sheet_bytes, default=0))
    if total <= budget:
        return
    biggest = max(parts, key=lambda np: checked.sizes.get(np[1], 0), default=None)
    what = f"sheet {biggest[0]!r} ({biggest[1]}, {_mb(checked.sizes.get(biggest[1], 0))})" if biggest else "its parts"
    raise WorkbookTooLargeError(
        f"{checked.path.name}: reading {what} would expand {_mb(total)} of XML; sopxl reads at most "
        f"{_mb(budget)} per workbook read (bounded memory). Delete unused rows or sheets, or raise "
        f"{READ_BUDGET_ENV} if the machine has the memory."
    )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB" if size >= 1 << 20 else f"{size:,} bytes"


def table_sheet(checked: Checked, table: str) -> str | None:
    return checked.table_sheets.get(table.lower())


@contextlib.contextmanager
def readable(path: str | os.PathLike[str], sheets: Iterable[str] | None = None) -> Iterator[Path]:
    """Gate ``path`` for a reader that will expand ``sheets``; yield the path the reader should open.

    That is ``path`` itself, or a private view (see the module docstring) when the workbook holds sheets
    the reader cannot parse.
    """
    checked = check(path)
    check_read(checked, sheets)
    if not checked.unreadable:
        yield checked.path
        return
    yield _view(checked)


_VIEWS: dict[tuple[str, tuple[int, int, int, int]], Path] = {}
_VIEW_DIR: list[Path] = []


def _view_dir() -> Path:
    if not _VIEW_DIR:
        folder = Path(tempfile.mkdtemp(prefix="sopxl-view-"))  # 0700: the copy is as private as a backup
        _VIEW_DIR.append(folder)
        atexit.register(shutil.rmtree, folder, True)
    return _VIEW_DIR[0]


def _view(checked: Checked) -> Path:
    """A copy of the workbook whose unreadable sheets point at one empty worksheet part (names kept)."""
    cache_key = (str(checked.path.resolve()), checked.key)
    existing = _VIEWS.get(cache_key)
    if existing is not None and existing.exists():
        return existing
    target = _view_dir() / f"{len(_VIEWS)}-{checked.path.name}"
    with Package(checked.path) as pkg:
        wb_dir = posixpath.dirname(pkg.workbook_part)
        stub = posixpath.join(wb_dir, "worksheets", "_sopxl_view_stub.xml")
        rels_member = pkg.member(pkg.workbook_rels_part) or pkg.workbook_rels_part
        rels = decode(rels_member, pkg.read(rels_member))
        for rid in checked.unreadable:
            rels = _retarget(rels, rid, posixpath.relpath(stub, wb_dir), _WORKSHEET_TYPE)
        ct_member = pkg.member("[Content_Types].xml") or "[Content_Types].xml"
        types = insert_children(
            ct_member,
            decode(ct_member, pkg.read(ct_member)),
            "Types",
            lambda p: f'<{p}Override PartName="/{esc_attr(stub)}" ContentType="{CT_WORKSHEET}"/>',
        )
        replaced = {rels_member: rels.encode("utf-8"), ct_member: types.encode("utf-8")}
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in pkg.zf.infolist():
                if info.filename in replaced:
                    dst.writestr(new_info(info.filename, info), replaced[info.filename])
                else:
                    copy_raw(pkg.zf, info, dst)
            dst.writestr(new_info(stub), _STUB)
    _VIEWS[cache_key] = target
    return target


def _retarget(rels: str, rid: str, target: str, kind: str) -> str:
    """``rels`` with the relationship ``rid`` of type ``kind`` pointing at ``target``."""
    pattern = re.compile(r"<(?:[\w.-]+:)?Relationship\b(" + START_TAG + r")/?>")
    for m in pattern.finditer(rels):
        if attributes(m.group(1)).get("Id") == rid:
            tag = m.group(0)
            for name, value in (("Target", target), ("Type", kind)):
                found = attr_re(name).search(tag)
                if found is None:
                    raise WorkbookError(f"the workbook's relationship {rid} has no {name}; the file is damaged.")
                tag = tag[: found.start(2)] + f'"{esc_attr(value)}"' + tag[found.end(2) :]
            return rels[: m.start()] + tag + rels[m.end() :]
    raise WorkbookError(f"the workbook's relationships lack {rid}; the file is damaged.")
