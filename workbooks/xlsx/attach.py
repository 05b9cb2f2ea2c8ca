"""Adopt a workbook a team already has: add sopxl's sheets and tables without touching theirs.

New worksheet and table parts are added; ``workbook.xml``, its rels and ``[Content_Types].xml`` only gain
entries. Name clashes are resolved on sopxl's side: a user's sheet "Plan" stays, sopxl's becomes
"Plan (sopxl)". Refresh finds owned tables by table name, so the sheet name does not matter; a user table
or defined name already called like an owned table is a clash the user must resolve (reported, nothing
written).
"""

from __future__ import annotations

import posixpath
import re
import time
from dataclasses import dataclass
from pathlib import Path

from workbooks.layout import OWNED_TABLES, SHEET_ORDER, TableSpec, forecast_spec

from .cells import cell_xml
from .errors import LayoutError
from .parts import CT_TABLE, CT_WORKSHEET, NS_MAIN, NS_MAIN_STRICT, REL_BASE, REL_BASE_STRICT, Package
from .rebuild import Plan, verify_package, write_package
from .refs import col_letters, make_range, parse_cell
from .tables import new_table_xml
from .txn import safe_write, writing
from .wbedit import decode, insert_children
from .xmlsafe import esc_attr

STAMP_PLACEHOLDER = "Not refreshed yet"
_MAX_SHEET_NAME = 31


@dataclass(frozen=True)
class AttachReport:
    path: Path
    sheets: dict[str, str]
    """Layout sheet name -> name of the sheet sopxl created for it."""
    tables_added: tuple[str, ...]
    tables_present: tuple[str, ...]
    backup: Path | None
    seconds: float


def _free_name(base: str, taken: set[str]) -> str:
    for n in range(1, 1000):
        suffix = " (sopxl)" if n == 1 else f" (sopxl {n})"
        candidate = base if n == 1 and base.lower() not in taken else base[: _MAX_SHEET_NAME - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
    raise LayoutError(f"no free sheet name for {base!r}")


def _free_part(pkg: Package, planned: set[str], pattern: str) -> str:
    n = 1
    while pkg.member(pattern.format(n)) or pattern.format(n).lower() in planned:
        n += 1
    planned.add(pattern.format(n).lower())
    return pattern.format(n)


def _sheet_xml(title: str, specs: list[TableSpec], families: list[str], ns: str, rel_ns: str) -> bytes:
    rows: dict[int, list[tuple[int, str]]] = {1: [(1, cell_xml("A1", title))]}
    if any(s.stamp_cell for s in specs):
        r, c = parse_cell(next(s.stamp_cell for s in specs if s.stamp_cell) or "A2")
        rows.setdefault(r, []).append((c, cell_xml(f"{col_letters(c)}{r}", STAMP_PLACEHOLDER)))
    for spec in specs:
        hr, hc = parse_cell(spec.anchor)
        for i, h in enumerate(spec.headers):
            rows.setdefault(hr, []).append((hc + i, cell_xml(f"{col_letters(hc + i)}{hr}", h)))
        if spec.owner == "user":
            for j, fam in enumerate(families, start=1):
                rows.setdefault(hr + j, []).append((hc, cell_xml(f"{col_letters(hc)}{hr + j}", fam)))
    body = "".join(
        f'<row r="{r}">' + "".join(x for _c, x in sorted(cells)) + "</row>" for r, cells in sorted(rows.items())
    )
    parts = "".join(f'<tablePart r:id="rId{i}"/>' for i in range(1, len(specs) + 1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{ns}" xmlns:r="{rel_ns}"><dimension ref="A1"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f'<sheetData>{body}</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        f'header="0.3" footer="0.3"/><tableParts count="{len(specs)}">{parts}</tableParts></worksheet>'
    ).encode()


def _rels_xml(targets: list[tuple[str, str, str]]) -> bytes:
    items = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{esc_attr(g)}"/>' for i, t, g in targets)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{items}'
        "</Relationships>"
    ).encode()


def _check_existing(pkg: Package, specs: list[TableSpec]) -> tuple[list[TableSpec], list[str]]:
    missing, present, problems = [], [], []
    for spec in specs:
        table = pkg.table(spec.name)
        if table is None:
            if spec.name.lower() in pkg.defined_names:
                problems.append(f"the workbook has a defined name {spec.name!r}; rename it (Formulas > Name Manager).")
            missing.append(spec)
        elif table.columns == spec.headers or (spec.owner == "user" and table.columns[:1] == spec.headers[:1]):
            present.append(spec.name)
        else:
            problems.append(
                f"the workbook already has a table {spec.name!r} (sheet {table.sheet.name!r}) with columns "
                f"{list(table.columns)}; sopxl needs {list(spec.headers)}. Rename your table and attach again."
            )
    if problems:
        raise LayoutError(f"{pkg.path.name}: cannot attach; nothing was written.\n- " + "\n- ".join(problems))
    return missing, present


def attach(path: str | Path, buckets: list[str], families: list[str], *, backups: int = 5) -> AttachReport:
    """Add sopxl's owned tables and the Forecast grid to an existing .xlsx/.xlsm at the part level."""
    started = time.monotonic()
    path = Path(path)
    with writing(path, "attach"), Package(path) as pkg:
        specs = [*OWNED_TABLES, forecast_spec(buckets)]
        missing, present = _check_existing(pkg, specs)
        plan = Plan()
        created: dict[str, str] = {}
        if missing:
            created = _plan_attach(pkg, plan, missing, families)

            def verify(tmp: Path) -> None:
                verify_package(pkg, plan, tmp, lambda _z: None)

            backup = safe_write(path, lambda fh: write_package(pkg, plan, fh), verify, backups=backups)
        else:
            backup = None
    return AttachReport(
        path, created, tuple(s.name for s in missing), tuple(present), backup, time.monotonic() - started
    )


def _plan_attach(pkg: Package, plan: Plan, missing: list[TableSpec], families: list[str]) -> dict[str, str]:
    ns = NS_MAIN_STRICT if pkg.strict else NS_MAIN
    rel_base = REL_BASE_STRICT if pkg.strict else REL_BASE
    groups: dict[str, list[TableSpec]] = {}
    for spec in sorted(missing, key=lambda s: SHEET_ORDER.index(s.sheet) if s.sheet in SHEET_ORDER else 99):
        groups.setdefault(spec.sheet, []).append(spec)
    taken = {s.name.lower() for s in pkg.sheets}
    planned: set[str] = set()
    wb_dir = posixpath.dirname(pkg.workbook_part)
    next_sheet_id = max((s.sheet_id for s in pkg.sheets), default=0) + 1
    next_table_id = max((t.table_id for t in pkg.tables), default=0) + 1
    used_rids = set(pkg.wb_rels)
    rid_n = 1 + max((int(m.group(1)) for r in used_rids if (m := re.fullmatch(r"rId(\d+)", r))), default=0)
    sheet_entries, rel_entries, ct_entries, created = [], [], [], {}
    for layout_sheet, specs in groups.items():
        name = _free_name(layout_sheet, taken)
        taken.add(name.lower())
        created[layout_sheet] = name
        sheet_part = _free_part(pkg, planned, posixpath.join(wb_dir, "worksheets", "sheet{}.xml"))
        plan.add[sheet_part] = _sheet_xml(name, specs, families, ns, f"{rel_base}")
        table_rels = []
        for i, spec in enumerate(specs, start=1):
            table_part = _free_part(pkg, planned, posixpath.join(wb_dir, "tables", "table{}.xml"))
            hr, hc = parse_cell(spec.anchor)
            rows = max(len(families), 1) if spec.owner == "user" else 1
            ref = make_range(hr, hc, hr + rows, hc + len(spec.columns) - 1)
            plan.add[table_part] = new_table_xml(next_table_id, spec.name, ref, spec.headers, ns)
            next_table_id += 1
            rel_target = posixpath.relpath(table_part, posixpath.dirname(sheet_part))
            table_rels.append((f"rId{i}", f"{rel_base}/table", rel_target))
            ct_entries.append(f'<Override PartName="/{table_part}" ContentType="{CT_TABLE}"/>')
        folder, base = posixpath.split(sheet_part)
        plan.add[posixpath.join(folder, "_rels", base + ".rels")] = _rels_xml(table_rels)
        rid = f"rId{rid_n}"
        rid_n += 1
        rel_entries.append(
            f'<Relationship Id="{rid}" Type="{rel_base}/worksheet" '
            f'Target="{esc_attr(posixpath.relpath(sheet_part, wb_dir))}"/>'
        )
        ct_entries.append(f'<Override PartName="/{sheet_part}" ContentType="{CT_WORKSHEET}"/>')
        sheet_entries.append((name, next_sheet_id, rid))
        next_sheet_id += 1
    wb_member = pkg.member(pkg.workbook_part) or pkg.workbook_part
    text = decode(wb_member, pkg.read(wb_member))
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(rel_base) + r'["\']', text)
    r_decl, r_prefix = ("", m.group(1)) if m else (f' xmlns:r="{rel_base}"', "r")
    text = insert_children(
        wb_member,
        text,
        "sheets",
        lambda p: "".join(
            f'<{p}sheet name="{esc_attr(n)}" sheetId="{sid}"{r_decl} {r_prefix}:id="{rid}"/>'
            for n, sid, rid in sheet_entries
        ),
    )
    plan.replace[wb_member] = text.encode("utf-8")
    rels_member = pkg.member(pkg.workbook_rels_part) or pkg.workbook_rels_part
    rels_text = decode(rels_member, pkg.read(rels_member))
    plan.replace[rels_member] = insert_children(
        rels_member,
        rels_text,
        "Relationships",
        lambda p: "".join(e.replace("<Relationship", f"<{p}Relationship") for e in rel_entries),
    ).encode("utf-8")
    ct_member = pkg.member("[Content_Types].xml") or "[Content_Types].xml"
    ct_text = decode(ct_member, pkg.read(ct_member))
    plan.replace[ct_member] = insert_children(
        ct_member, ct_text, "Types", lambda p: "".join(e.replace("<Override", f"<{p}Override") for e in ct_entries)
    ).encode("utf-8")
    return created
