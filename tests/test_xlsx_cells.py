"""The cell writer: any frame value round-trips through python-calamine exactly as documented."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from functools import cache

import python_calamine
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from workbooks.xlsx.cells import MAX_TEXT, cell_xml, clean_text, excel_serial

INJECTION = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\x00"])
TEXT = st.one_of(
    st.text(),
    st.builds(lambda p, t: p + t, INJECTION, st.text()),
    st.lists(st.sampled_from(["_x0041_", "_x000D_", "\r", "\r\n", "\x01", "\x1f", " ", "é", "😀"]), max_size=20).map(
        "".join
    ),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "😀"]), st.integers(32_000, 34_000)),
)
VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    TEXT,
)


@cache
def _template() -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet().write_number("A1", 1)
    wb.close()
    return buf.getvalue()


def _roundtrip(values: list[object]) -> list[object]:
    rows = "".join(f'<row r="{i}">{cell_xml(f"A{i}", v)}</row>' for i, v in enumerate(values, start=1))
    src = zipfile.ZipFile(io.BytesIO(_template()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                a, b = text.index("<sheetData"), text.index("</sheetData>") + len("</sheetData>")
                data = (
                    (text[:a] + f"<sheetData>{rows}</sheetData>" + text[b:])
                    .replace('<dimension ref="A1"/>', "")
                    .encode()
                )
            dst.writestr(info, data)
    out.seek(0)
    sheet = python_calamine.CalamineWorkbook.from_filelike(out).get_sheet_by_index(0)
    got = [r[0] if r else "" for r in sheet.to_python(skip_empty_area=False)]
    return got + [""] * (len(values) - len(got))


def expected(value: object) -> object:
    """What a reader sees: the documented mapping of docs/refresh.md."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return ""  # #NUM! error cell; calamine shows errors as empty
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return excel_serial(value, False)
    assert isinstance(value, str)
    return clean_text(value)


@settings(max_examples=60, deadline=None)
@given(st.lists(VALUE, min_size=1, max_size=12))
def test_values_roundtrip_through_calamine(values: list[object]) -> None:
    got = _roundtrip(values)
    for value, seen in zip(values, got, strict=True):
        want = expected(value)
        if isinstance(value, dt.datetime):
            assert isinstance(seen, dt.datetime | float)  # calamine maps date-styled cells only
            continue
        assert seen == want, (value, seen)


@given(TEXT)
@settings(max_examples=100, deadline=None)
def test_text_is_never_a_formula_and_never_too_long(text: str) -> None:
    xml = cell_xml("A1", text)
    assert 't="inlineStr"' in xml and "<f>" not in xml
    assert len(clean_text(text).encode("utf-16-le")) <= 2 * MAX_TEXT


def test_documented_special_values() -> None:
    assert cell_xml("A1", float("nan")) == ""
    assert cell_xml("A1", float("nan"), 3) == '<c r="A1" s="3"/>'
    assert cell_xml("A1", float("inf")) == '<c r="A1" t="e"><v>#NUM!</v></c>'
    assert cell_xml("A1", True) == '<c r="A1" t="b"><v>1</v></c>'
    assert cell_xml("A1", 0.1) == '<c r="A1"><v>0.1</v></c>'
    assert cell_xml("A1", "a\rb_x0041_") == '<c r="A1" t="inlineStr"><is><t>a_x000D_b_x005F_x0041_</t></is></c>'
    assert excel_serial(dt.datetime(1900, 1, 1), False) == 1.0
    assert excel_serial(dt.datetime(1900, 3, 1), False) == 61.0
    assert excel_serial(dt.datetime(1904, 1, 2), True) == 1.0
    assert excel_serial(dt.datetime(1899, 1, 1), False) is None
