"""Find the cells of a sheet whose value a reader cannot trust: error values and formulas never computed.

python-calamine returns a cell's cached value and nothing else: a formula whose cached result is ``#N/A``
and a formula saved without a result (a file written by a tool that does not calculate) both come back
as an empty cell, which a planner's grid would read as 0. This scanner streams the sheet part (hardened
expat, bounded memory) and reports those cells by position, with their formula, so the reader can name
them instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .refs import parse_cell
from .xmlsafe import hardened_expat, local, stream_parse

MAX_FINDINGS = 10_000
_SHOWN = 80


@dataclass(frozen=True)
class SuspectCell:
    """One cell (0-based ``row``, ``col``) holding an error value or an uncomputed formula."""

    row: int
    col: int
    formula: str | None
    """The formula text (``None``: the cell holds a typed error value; ``""``: a shared-formula follower)."""
    error: str | None
    """The cached error (``#N/A``, ``#REF!`` ...), ``None`` when there is no cached value at all."""

    def describe(self) -> str:
        if self.formula is None:
            return f"the cell holds the error {self.error}"
        cut = "..." if len(self.formula) > _SHOWN else ""
        shown = f"={self.formula[:_SHOWN]}{cut}" if self.formula else "a formula"
        if self.error is not None:
            return f"{shown} shows the error {self.error}"
        return (
            f"{shown} has no computed value (the file was saved without calculating it: open it in Excel, "
            "let it calculate, save)"
        )


def suspect_cells(
    part: str, chunks: Iterable[bytes], area: tuple[int, int, int, int] | None = None
) -> list[SuspectCell]:
    """Error and uncomputed-formula cells of a worksheet part, optionally only inside ``area`` (0-based
    ``first row, first col, last row, last col``)."""
    parser = hardened_expat(part)
    found: list[SuspectCell] = []
    state: dict[str, object] = {"row": -1, "col": -1, "in": None}
    cell: dict[str, object] = {}
    text: list[str] = []

    def start(name: str, attrs: list[str]) -> None:
        tag = local(name)
        if tag == "row":
            given = dict(zip(attrs[::2], attrs[1::2], strict=True)).get("r")
            state["row"] = int(given) - 1 if given and given.isdigit() else int(str(state["row"])) + 1
            state["col"] = -1
        elif tag == "c":
            given_attrs = dict(zip(attrs[::2], attrs[1::2], strict=True))
            ref = given_attrs.get("r")
            if ref:
                try:
                    r, c = parse_cell(ref)
                    state["row"], state["col"] = r - 1, c - 1
                except ValueError:
                    state["col"] = int(str(state["col"])) + 1
            else:
                state["col"] = int(str(state["col"])) + 1
            cell.clear()
            cell.update(t=given_attrs.get("t", ""), f=None, v=None)
        elif tag in ("f", "v") and cell:
            state["in"] = tag
            text.clear()

    def end(name: str) -> None:
        tag = local(name)
        if tag in ("f", "v") and state["in"] == tag:
            cell[tag] = "".join(text)
            state["in"] = None
        elif tag == "c" and cell:
            _finish(int(str(state["row"])), int(str(state["col"])))
            cell.clear()

    def chars(data: str) -> None:
        if state["in"] is not None:
            text.append(data)

    def _finish(row: int, col: int) -> None:
        if len(found) >= MAX_FINDINGS:
            return
        if area is not None and not (area[0] <= row <= area[2] and area[1] <= col <= area[3]):
            return
        formula = cell.get("f")
        value = cell.get("v")
        is_error = cell.get("t") == "e"
        if is_error:
            found.append(SuspectCell(row, col, None if formula is None else str(formula), str(value or "#VALUE!")))
        elif formula is not None and (value is None or (value == "" and cell.get("t") != "str")):
            found.append(SuspectCell(row, col, str(formula), None))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    stream_parse(part, chunks, parser)
    return found
