"""Streaming rewrite of one owned worksheet part.

The old part is stream-parsed (hardened expat); everything outside ``<sheetData>`` is re-emitted as it was
(only ``<dimension ref>`` changes); inside it, rows are merged: cells of other content on the sheet (title,
notes beside a table, ...) are kept, cells inside an owned table's old or new data area are replaced by the
new rows, and stamp cells get their new text. New rows are written to a temporary file, so memory stays
bounded by one row plus the part's head and tail.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from .cells import cell_xml
from .errors import LayoutError, WorkbookError
from .refs import col_index, col_letters, make_range
from .xmlsafe import esc_attr, esc_text, hardened_expat, stream_parse

_DIM_MARK = "\x00SOPXL-DIMENSION\x00"
_FLUSH_ROWS = 512


@dataclass
class TableFill:
    """New contents of one owned table: where it sits and an iterator over its data rows."""

    name: str
    header_row: int
    first_col: int
    ncols: int
    old_last_row: int
    nrows: int
    rows: Iterator[Sequence[object]]
    styles: list[int | None] = field(default_factory=list)

    @property
    def last_col(self) -> int:
        return self.first_col + self.ncols - 1

    @property
    def new_last_row(self) -> int:
        """Excel tables keep at least one (empty) data row."""
        return self.header_row + max(self.nrows, 1)

    @property
    def ref(self) -> str:
        return make_range(self.header_row, self.first_col, self.new_last_row, self.last_col)


@dataclass
class SheetStats:
    rows: int = 0
    min_row: int = 0
    max_row: int = 0
    min_col: int = 0
    max_col: int = 0

    def see(self, row: int, col: int) -> None:
        if not self.min_row or row < self.min_row:
            self.min_row = row
        self.max_row = max(self.max_row, row)
        if not self.min_col or col < self.min_col:
            self.min_col = col
        self.max_col = max(self.max_col, col)

    @property
    def dimension(self) -> str:
        if not self.min_row:
            return "A1"
        if (self.min_row, self.min_col) == (self.max_row, self.max_col):
            return f"{col_letters(self.min_col)}{self.min_row}"
        return make_range(self.min_row, self.min_col, self.max_row, self.max_col)


def _attrs(pairs: Sequence[str], skip: tuple[str, ...] = ()) -> str:
    return "".join(f' {pairs[i]}="{esc_attr(pairs[i + 1])}"' for i in range(0, len(pairs), 2) if pairs[i] not in skip)


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


class _Serializer:
    """Re-emits a subtree as XML text (empty elements written as ``<x/>``)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.pending = False

    def start(self, qname: str, attrs: str) -> None:
        if self.pending:
            self.out.append(">")
        self.out.append(f"<{qname}{attrs}")
        self.pending = True

    def text(self, data: str) -> None:
        if self.pending:
            self.out.append(">")
            self.pending = False
        self.out.append(esc_text(data))

    def end(self, qname: str) -> None:
        self.out.append("/>" if self.pending else f"</{qname}>")
        self.pending = False

    def take(self) -> str:
        text = "".join(self.out)
        self.out = []
        return text


class SheetRewriter:
    """Rewrites one worksheet part: owned table areas and stamp cells get new values, the rest is kept."""

    def __init__(self, part: str, fills: list[TableFill], stamps: dict[tuple[int, int], str], date1904: bool) -> None:
        self.part = part
        self.fills = fills
        self.stamps = stamps
        self.date1904 = date1904
        self.stamp_styles: dict[tuple[int, int], int | None] = {}
        self.stats = SheetStats()
        self.table_rows = {f.name: 0 for f in fills}
        self._head = _Serializer()
        self._tail = _Serializer()
        self._mode = "head"
        self._ns: dict[str, str] = {}
        self._row_attrs: list[str] = []
        self._row_r = 0
        self._last_row = 0
        self._cells: list[tuple[int, str, int | None, bool]] = []
        self._cell = _Serializer()
        self._cell_depth = 0
        self._cell_col = 0
        self._cell_style: int | None = None
        self._cell_content = False
        self._prev_col = 0
        self._emitted = 0
        self._batch: list[str] = []
        self._rows_out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in run)

    # -- driving -------------------------------------------------------------------------------------
    def run(self, chunks: Iterable[bytes], out: IO[bytes]) -> SheetStats:
        """Parse the old part from ``chunks`` and write the complete new part to ``out``."""
        parser = hardened_expat(self.part)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.CommentHandler = self._comment
        parser.ProcessingInstructionHandler = self._pi
        try:
            stream_parse(self.part, chunks, parser)
            if self._mode != "tail":
                raise WorkbookError(f"{self.part} has no <sheetData>; the worksheet is damaged.")
            head = self._head.take().replace(_DIM_MARK, self.stats.dimension)
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
            out.write(head.encode("utf-8"))
            self._rows_out.seek(0)
            shutil.copyfileobj(self._rows_out, out, 1 << 20)
            out.write(self._tail.take().encode("utf-8"))
        finally:
            self._rows_out.close()
        return self.stats

    # -- expat handlers ------------------------------------------------------------------------------
    def _start(self, qname: str, attrs: list[str]) -> None:
        name = _local(qname)
        mode = self._mode
        if mode == "drop":
            self._cell_depth += 1
        elif mode == "cell":
            self._cell_depth += 1
            self._cell.start(qname, _attrs(attrs))
            if self._cell_depth == 1 and name in ("v", "f", "is"):
                self._cell_content = True
        elif mode == "row" and name == "c":
            self._start_cell(qname, attrs)
        elif mode == "sheetData" and name == "row":
            self._mode = "row"
            self._row_attrs = attrs
            r = dict(zip(attrs[::2], attrs[1::2], strict=True)).get("r")
            self._row_r = int(r) if r else self._last_row + 1
            if self._row_r <= self._last_row:
                raise WorkbookError(f"{self.part}: rows are out of order at row {self._row_r}.")
            self._cells = []
            self._prev_col = 0
        elif mode == "head" and name == "sheetData":
            self._mode = "sheetData"
            extra = ""
            if ":" in qname:  # prefixed SpreadsheetML: make our unprefixed cells land in the same namespace
                ns = self._ns.get(qname.split(":", 1)[0], "")
                extra = f' xmlns="{esc_attr(ns)}"'
            self._head.start(qname, _attrs(attrs) + extra)
            self._head.text("")
        elif mode in ("head", "tail"):
            for i in range(0, len(attrs), 2):
                if attrs[i].startswith("xmlns:"):
                    self._ns.setdefault(attrs[i][6:], attrs[i + 1])
            ser = self._head if mode == "head" else self._tail
            if mode == "head" and name == "dimension":
                ser.start(qname, _attrs(attrs, ("ref",)) + f' ref="{_DIM_MARK}"')
            else:
                ser.start(qname, _attrs(attrs))
        else:
            raise WorkbookError(f"{self.part}: unexpected <{qname}> inside sheetData.")

    def _start_cell(self, qname: str, attrs: list[str]) -> None:
        self._mode = "cell"
        self._cell_depth = 0
        self._cell_content = False
        amap = dict(zip(attrs[::2], attrs[1::2], strict=True))
        ref = amap.get("r")
        if ref:
            letters = ref.rstrip("0123456789").lstrip("$")
            self._cell_col = col_index(letters)
        else:
            self._cell_col = self._prev_col + 1
        self._prev_col = self._cell_col
        s = amap.get("s")
        self._cell_style = int(s) if s and s.isdigit() else None
        if self._droppable(self._row_r, self._cell_col, self._cell_style):
            self._mode = "drop"  # old owned data: skip re-serialising it (the bulk of a big sheet)
            return
        self._cell.start(qname, _attrs(attrs, ("r",)) + f' r="{col_letters(self._cell_col)}{self._row_r}"')

    def _droppable(self, r: int, col: int, style: int | None) -> bool:
        for f in self.fills:
            if f.first_col <= col <= f.last_col and f.header_row < r <= f.old_last_row:
                if r == f.header_row + 1:
                    while len(f.styles) < f.ncols:
                        f.styles.append(None)
                    f.styles[col - f.first_col] = style
                return (r, col) not in self.stamps
        return False

    def _end(self, qname: str) -> None:
        mode = self._mode
        if mode == "drop":
            if self._cell_depth == 0:
                self._mode = "row"
            else:
                self._cell_depth -= 1
        elif mode == "cell":
            self._cell.end(qname)
            if self._cell_depth == 0:
                self._cells.append((self._cell_col, self._cell.take(), self._cell_style, self._cell_content))
                self._mode = "row"
            else:
                self._cell_depth -= 1
        elif mode == "row":
            self._process_row(self._row_r, self._row_attrs, self._cells)
            self._mode = "sheetData"
        elif mode == "sheetData":
            self._flush_new(None)
            self._write_batch()
            self._mode = "tail"
            self._tail.end(qname)
        else:
            (self._head if mode == "head" else self._tail).end(qname)

    def _text(self, data: str) -> None:
        if self._mode == "drop":
            return
        if self._mode == "cell":
            self._cell.text(data)
        elif self._mode == "head":
            self._head.text(data)
        elif self._mode == "tail":
            self._tail.text(data)

    def _comment(self, data: str) -> None:
        if self._mode in ("head", "tail"):
            ser = self._head if self._mode == "head" else self._tail
            ser.text("")
            ser.out.append(f"<!--{data}-->")

    def _pi(self, target: str, data: str) -> None:
        if self._mode in ("head", "tail"):
            ser = self._head if self._mode == "head" else self._tail
            ser.text("")
            ser.out.append(f"<?{target} {data}?>")

    # -- merging old and new rows --------------------------------------------------------------------
    def _next_new_row(self, after: int) -> int | None:
        best: int | None = None
        for f in self.fills:
            r = max(after + 1, f.header_row + 1)
            if r <= f.new_last_row and (best is None or r < best):
                best = r
        for r, _c in self.stamps:
            if r > after and (best is None or r < best):
                best = r
        return best

    def _flush_new(self, before: int | None) -> None:
        """Emit rows holding only new content, up to (not including) ``before``."""
        while True:
            r = self._next_new_row(self._last_row)
            if r is None or (before is not None and r >= before):
                return
            self._emit_row(r, [], [])

    def _process_row(self, r: int, attrs: list[str], cells: list[tuple[int, str, int | None, bool]]) -> None:
        self._flush_new(r)
        kept: list[tuple[int, str]] = []
        for col, xml, style, content in cells:
            if (r, col) in self.stamps:
                self.stamp_styles[(r, col)] = style
                continue
            owner = None
            for f in self.fills:
                if f.first_col <= col <= f.last_col and f.header_row < r:
                    if r == f.header_row + 1:
                        while len(f.styles) < f.ncols:
                            f.styles.append(None)
                        f.styles[col - f.first_col] = style
                    if r <= max(f.old_last_row, f.new_last_row):
                        owner = f
                        break
            if owner is None:
                kept.append((col, xml))
            elif r > owner.old_last_row and content:
                raise LayoutError(
                    f"cell {col_letters(col)}{r} on the sheet of {owner.name} holds data where the table "
                    f"must grow (to {owner.ref}); move that data elsewhere and refresh again."
                )
        self._emit_row(r, attrs, kept)

    def _emit_row(self, r: int, attrs: list[str], kept: list[tuple[int, str]]) -> None:
        cells = list(kept)
        for f in self.fills:
            if f.header_row < r <= f.new_last_row:
                values: Sequence[object] = next(f.rows, ()) if r - f.header_row <= f.nrows else ()
                if r - f.header_row <= f.nrows:
                    self.table_rows[f.name] += 1
                for i in range(f.ncols):
                    col = f.first_col + i
                    style = f.styles[i] if i < len(f.styles) else None
                    value = values[i] if i < len(values) else None
                    xml = cell_xml(f"{col_letters(col)}{r}", value, style, self.date1904)
                    if xml:
                        cells.append((col, xml))
        for (sr, sc), text in self.stamps.items():
            if sr == r:
                cells.append((sc, cell_xml(f"{col_letters(sc)}{r}", text, self.stamp_styles.get((sr, sc)))))
        self._last_row = r
        extra = _attrs(attrs, ("r", "spans"))
        if not cells and not extra:
            return
        cells.sort(key=lambda c: c[0])
        for col, _xml in cells:
            self.stats.see(r, col)
        self.stats.rows += 1
        self._batch.append(f'<row r="{r}"{extra}>' + "".join(x for _c, x in cells) + "</row>")
        if len(self._batch) >= _FLUSH_ROWS:
            self._write_batch()

    def _write_batch(self) -> None:
        if self._batch:
            self._rows_out.write("".join(self._batch).encode("utf-8"))
            self._batch = []
