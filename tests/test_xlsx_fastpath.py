"""The fast paths of the sheet rewriter give exactly what the cell-by-cell path gives.

- old rows wholly inside owned areas are skipped at the byte level (``SheetRewriter(skip_rows=True)``); the
  reference is the same rewriter parsing every row with expat (``skip_rows=False``), on generated sheets
  with rows straddling owned and user cells, odd markup, rows split across read-buffer boundaries and rows
  longer than the scan buffer;
- new rows are formatted a column at a time (:func:`column_xml`); the reference is :func:`cell_xml`;
- the verification's row count over a stream split anywhere.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.xlsx_support import build_layout_workbook, frames
from workbooks.xlsx import refresh_file, sheetdata
from workbooks.xlsx.cells import cell_xml, column_xml
from workbooks.xlsx.errors import WorkbookError
from workbooks.xlsx.patch import _count_rows
from workbooks.xlsx.refs import col_letters
from workbooks.xlsx.sheetdata import SheetRewriter, TableFill

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

# --- generated worksheets ---------------------------------------------------------------------------------

CELL_BODIES = [
    ' s="3"><v>1.5</v></c>',
    ' t="inlineStr"><is><t>a &amp; b &lt;row r="9"&gt;</t></is></c>',
    "/>",
    ' s="2"/>',
    ' t="s"><v>0</v></c>',
    "><f>SUM(A1:A2)</f><v>3</v></c>",
    ' t="inlineStr"><is><r><rPr><b/><color rgb="FF0000"/></rPr><t>rich</t></r></is></c>',
]


@st.composite
def cell(draw: st.DrawFn, r: int, col: int, odd: bool) -> str:
    body = draw(st.sampled_from(CELL_BODIES))
    form = draw(st.sampled_from(["plain"] * 6 + ["no-r", "prefixed", "comment", "r-later"])) if odd else "plain"
    ref = f"{col_letters(col)}{r}"
    if form == "no-r":
        return f"<c{body}"  # column = previous + 1 (only right when it is)
    if form == "prefixed":
        return f'<x:c r="{ref}"' + body.replace("</c>", "</x:c>")
    if form == "comment":
        return f'<!-- </row> <c r="Z{r}"/> --><c r="{ref}"{body}'
    if form == "r-later":
        return f'<c s="1" r="{ref}"' + body.replace(' s="3"', "").replace(' s="2"', "")
    return f'<c r="{ref}"{body}'


@st.composite
def worksheet(draw: st.DrawFn) -> str:
    dense = st.builds(lambda a, n: set(range(a, a + n)), st.integers(1, 10), st.integers(5, 35))
    rows = sorted(draw(st.one_of(st.sets(st.integers(1, 45), max_size=30), dense)))
    out = []
    for r in rows:
        odd = draw(st.integers(0, 4)) == 0  # one row in five has odd markup
        owned_only = st.sets(st.sampled_from([2, 3, 4, 6, 7]), max_size=5)  # the generated tables' columns
        in_first = st.sets(st.sampled_from([2, 3, 4]), max_size=3)
        cols = sorted(draw(st.one_of(in_first, owned_only, st.sets(st.integers(1, 9), max_size=9))))
        cells = "".join(draw(cell(r, c, odd)) for c in cols)
        attrs = draw(st.sampled_from(["", ' spans="1:9"', ' spans="2:4" ht="20" customHeight="1"', ' hidden="1"']))
        tag = draw(st.sampled_from(["row"] * 3 + ["single-quote", "self-closing", "x14ac"])) if odd else "row"
        sep = draw(st.sampled_from(["", "\n  ", "<!-- between rows -->"])) if odd else ""
        if tag == "self-closing" or (not cells and tag == "row"):
            out.append(f'{sep}<row r="{r}"{attrs}/>')
        elif tag == "single-quote":
            out.append(f"{sep}<row r='{r}'{attrs}>{cells}</row>")
        elif tag == "x14ac":
            out.append(f'{sep}<row r="{r}"{attrs} x14ac:dyDescent="0.25">{cells}</row>')
        else:
            out.append(f'{sep}<row r="{r}"{attrs}>{cells}</row>')
    head = draw(
        st.sampled_from(["", "<!-- <sheetData><row r='1'> -->", '<sheetPr><tabColor rgb="FF00FF00"/></sheetPr>'])
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{NS}" xmlns:x="{NS}" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
        f'{head}<dimension ref="A1"/><sheetData>{"".join(out)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )


FILLS = st.lists(
    st.tuples(st.integers(3, 12), st.integers(0, 30), st.integers(0, 40)),  # header row, old rows, new rows
    min_size=1,
    max_size=2,
)


def _fills(spec: list[tuple[int, int, int]]) -> list[TableFill]:
    fills = []
    for k, (header, old, new) in enumerate(spec):
        first_col, ncols = (2, 3) if k == 0 else (6, 2)
        rows = iter([(f"t{k}-{j}", float(j) + 0.25, j % 2 == 0)[:ncols] for j in range(new)])
        fills.append(TableFill(f"tbl{k}", header, first_col, ncols, header + max(old, 1), new, rows))
    return fills


def _chunks(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for a, b in itertools.pairwise(points):
        yield data[a:b]


def _rewrite(xml: bytes, spec: list[tuple[int, int, int]], cuts: list[int], skip: bool) -> object:
    rewriter = SheetRewriter("xl/worksheets/sheet1.xml", _fills(spec), {(2, 1): "as of now"}, False, skip_rows=skip)
    out = io.BytesIO()
    try:
        stats = rewriter.run(_chunks(xml, cuts), out)
    except Exception as exc:  # both paths must refuse the same input the same way
        return type(exc).__name__, str(exc)
    return out.getvalue(), stats, rewriter.table_rows, rewriter.row_marks, rewriter.skipped_rows if skip else 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worksheet(), FILLS, st.lists(st.integers(0, 1 << 16), max_size=40), st.sampled_from([1 << 20, 64, 7]))
def test_skipping_rows_equals_parsing_every_cell(
    xml: str, spec: list[tuple[int, int, int]], cuts: list[int], pending: int
) -> None:
    data = xml.encode()
    reference = _rewrite(data, spec, cuts, skip=False)
    old_pending = sheetdata.MAX_PENDING
    sheetdata.MAX_PENDING = pending  # small: every row is "too long" and is parsed in pieces
    try:
        fast = _rewrite(data, spec, cuts, skip=True)
    finally:
        sheetdata.MAX_PENDING = old_pending
    if isinstance(reference, tuple) and isinstance(reference[0], str):
        assert fast == reference
        return
    assert isinstance(fast, tuple) and isinstance(reference, tuple)
    assert fast[:4] == reference[:4]


def _sheet(rows: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><dimension ref="A1"/>'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def test_rows_inside_the_owned_area_are_skipped_and_straddling_rows_keep_user_cells() -> None:
    # table B4:D8 (header row 4), first data row 5 is parsed (styles), rows 6-8 are old owned data;
    # row 7 also holds a user note in F7 (straddles the owned area) and must keep it.
    rows = "".join(
        f'<row r="{r}" spans="2:6">'
        + "".join(f'<c r="{col_letters(c)}{r}" s="{c}"><v>{r}</v></c>' for c in (2, 3, 4))
        + ('<c r="F7" t="inlineStr"><is><t>note</t></is></c>' if r == 7 else "")
        + "</row>"
        for r in range(5, 9)
    )
    data = _sheet('<row r="4"><c r="B4" t="inlineStr"><is><t>h</t></is></c></row>' + rows)
    fill = TableFill("tbl", 4, 2, 3, 8, 2, iter([("a", 1.0, True), ("b", 2.0, False)]))
    rewriter = SheetRewriter("s.xml", [fill], {}, False)
    out = io.BytesIO()
    rewriter.run([data], out)
    text = out.getvalue().decode()
    assert rewriter.skipped_rows == 2  # rows 6 and 8; 5 gives the styles, 7 straddles
    assert '<c t="inlineStr" r="F7"><is><t>note</t></is></c>' in text
    assert '<c r="B5" s="2" t="inlineStr"><is><t>a</t></is></c><c r="C5" s="3"><v>1.0</v></c>' in text
    assert '<c r="D6" s="4" t="b"><v>0</v></c></row><row r="7"><c t="inlineStr" r="F7"' in text  # B7:D7 gone
    assert '<row r="8"' not in text
    assert '<dimension ref="B4:F7"/>' in text


def test_a_very_long_row_and_tiny_read_buffers() -> None:
    long_text = "x" * 300_000
    rows = "".join(
        f'<row r="{r}"><c r="B{r}"><v>{r}</v></c><c r="C{r}" t="inlineStr"><is><t>{long_text if r == 9 else r}'
        f"</t></is></c></row>"
        for r in range(5, 20)
    )
    data = _sheet(rows)
    results = []
    for size, pending in ((1 << 16, 1 << 20), (5, 1 << 20), (1 << 16, 1000)):
        fill = TableFill("tbl", 4, 2, 2, 19, 3, iter([(1, "a"), (2, "b"), (3, "c")]))
        rewriter = SheetRewriter("s.xml", [fill], {}, False)
        old = sheetdata.MAX_PENDING
        sheetdata.MAX_PENDING = pending
        try:
            out = io.BytesIO()
            rewriter.run((data[i : i + size] for i in range(0, len(data), size)), out)
        finally:
            sheetdata.MAX_PENDING = old
        results.append(out.getvalue())
        assert long_text not in out.getvalue().decode()
        assert rewriter.skipped_rows >= 10
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="6"><c r="B6"><v>1</v></row>',  # malformed inside a skipped row: expat still checks it
        '<row r="6"><c r="B6"><v>&undefined;</v></c></row>',
        '<row r="6"><c r="B6"><v>1</v></c></row><row r="6"><c r="B6"><v>1</v></c></row>',  # out of order
        '<row r="6"><row r="7"></row></row>',
    ],
)
def test_skipped_rows_are_still_checked(rows: str) -> None:
    data = _sheet('<row r="5"><c r="B5"><v>1</v></c></row>' + rows + '<row r="8"><c r="B8"/></row>')
    for skip in (False, True):
        fill = TableFill("tbl", 4, 2, 2, 9, 1, iter([(1, 2)]))
        with pytest.raises(WorkbookError):
            SheetRewriter("s.xml", [fill], {}, False, skip_rows=skip).run([data], io.BytesIO())


# --- column writer ----------------------------------------------------------------------------------------

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.text(),
    st.sampled_from(["plain", " lead", "trail ", "a&b", "_x0041_", "\x00", "\r\n", "é😀", "\ud800", ""]),
)
COLUMN = st.one_of(
    st.lists(SCALAR, max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=12),
    st.lists(st.text(), max_size=12),
    st.lists(st.sampled_from(["SKU-1", "Bikes", "2026-01", "x y"]), max_size=12),
    st.lists(st.integers(-(2**70), 2**70), max_size=12),
    st.lists(st.booleans(), max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(COLUMN, st.sampled_from([None, 0, 5]), st.booleans(), st.integers(1, 1_048_000))
def test_column_writer_equals_cell_writer(values: list[object], style: int | None, date1904: bool, row: int) -> None:
    expected = [cell_xml(f"AB{r}", v, style, date1904) for r, v in enumerate(values, row)]
    assert column_xml("AB", row, values, style, date1904) == expected


def test_column_writer_long_text_is_capped_like_the_cell_writer() -> None:
    values = ["a" * 40_000, "b"]
    assert column_xml("A", 1, values) == [cell_xml("A1", values[0]), cell_xml("A2", "b")]


# --- verification's row count -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 3, 4, 5, 7, 1 << 16])
def test_row_count_over_any_split(tmp_path: Path, chunk: int) -> None:
    path = build_layout_workbook(tmp_path / "plan.xlsx")
    refresh_file(path, frames(40), "s", backups=0)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert _count_rows(z, name, chunk) == z.read(name).count(b"<row ")
