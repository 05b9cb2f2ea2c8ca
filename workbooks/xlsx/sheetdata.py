"""Streaming rewrite of one owned worksheet part.

The old part is stream-parsed (hardened expat); everything outside ``<sheetData>`` is re-emitted as it was
(only ``<dimension ref>`` changes); inside it, rows are merged: cells of other content on the sheet (title,
notes beside a table, ...) are kept, cells inside an owned table's old or new data area are replaced by the
new rows, and stamp cells get their new text. New rows are written to a temporary file, so memory stays
bounded by one row (or one chunk of new rows) plus the part's head and tail.

Speed: the bulk of an owned sheet is old table data about to be replaced. Rows lying wholly inside old owned
areas are recognised at the byte level (row start tag, the cells' column letters) and fed to expat with the
Python handlers switched off, so expat still checks them but no Python code runs per old cell; every other
row takes the cell-by-cell path. New rows are formatted a column chunk at a time (:func:`column_xml`).
"""

from __future__ import annotations

import bisect
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import IO
from xml.parsers import expat

from .cells import cell_xml, column_xml
from .errors import LayoutError, WorkbookError
from .refs import col_index, col_letters, make_range
from .xmlsafe import esc_attr, esc_text, hardened_expat

_DIM_MARK = "\x00SOPXL-DIMENSION\x00"
_FLUSH_ROWS = 512
_RENDER_ROWS = 2048
"""New rows formatted per chunk."""
MAX_PENDING = 8 << 20
"""A row longer than this (bytes) is fed to expat in pieces and parsed cell by cell (bounded memory)."""

_SHEETDATA_TAG = re.compile(rb"<sheetData(?:\s(?:[^>\"']|\"[^\"]*\"|'[^']*')*)?>")
_SPACE = re.compile(rb"[ \t\r\n]*")
_ROW_TAG = re.compile(rb'<row\s+r="(\d{1,7})"((?:\s+[\w:.-]+="[^"&<\t\n\r\x80-\xff]*")*)\s*(/?)>')
"""A plain row start tag, ``r`` first, double-quoted ASCII values without entities (Excel's own form)."""
_ROW_ATTR = re.compile(rb'([\w:.-]+)="([^"]*)"')
_ROW_END = b"</row>"
_ROW_ITEMS = re.compile(rb'<(?:[\w.-]+:)?(?:c[\s/>](?:r="([A-Z]{1,3})\d+")?|row[\s/>]|[!?])')
"""Cell start tags (their column letters when ``r`` comes first), nested rows, comments, CDATA and PIs.

Anything but a cell with a leading ``r`` yields b"", which is never an owned column: such a row is parsed
cell by cell (and after a comment/CDATA/PI/nested row, the first ``</row>`` may not end the row).
"""
ROW_MARK = re.compile(rb"<row[\s/>]")
"""Row start tags as sopxl writes them (counted again when the new file is verified)."""


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


class _Renderer:
    """New data rows of one fill, formatted a chunk of rows at a time: (cells XML, first col, last col)."""

    def __init__(self, fill: TableFill, date1904: bool) -> None:
        self.fill = fill
        self.date1904 = date1904
        self.header_row = fill.header_row
        self.first_col = fill.first_col
        self.last_row = fill.new_last_row
        self.last_data_row = fill.header_row + fill.nrows
        self.count = 0
        """Data rows written."""
        self.letters = [col_letters(fill.first_col + i) for i in range(fill.ncols)]
        self.start = 0
        self.xml: list[str] = []
        self.lo: list[int] | None = None
        self.hi: list[int] | None = None

    def row(self, r: int) -> tuple[str, int, int]:
        i = r - self.start
        if not 0 <= i < len(self.xml):
            self._render(r)
            i = 0
        if self.lo is None or self.hi is None:
            return self.xml[i], self.fill.first_col, self.fill.last_col
        return self.xml[i], self.lo[i], self.hi[i]

    def _render(self, r: int) -> None:
        f = self.fill
        n = f.nrows - (r - f.header_row - 1)
        n = min(_RENDER_ROWS, n) if n > 0 else 1  # past the data: the one empty row a table keeps
        values: list[Sequence[object]] = list(islice(f.rows, n)) if r - f.header_row <= f.nrows else []
        values += [()] * (n - len(values))
        if any(len(v) != f.ncols for v in values):
            values = [(tuple(v) + (None,) * f.ncols)[: f.ncols] for v in values]
        columns = list(zip(*values, strict=True))
        styles = f.styles + [None] * (f.ncols - len(f.styles))
        cells = [column_xml(self.letters[k], r, columns[k], styles[k], self.date1904) for k in range(f.ncols)]
        self.start = r
        self.xml = list(map("".join, zip(*cells, strict=True)))
        if "" in cells[0] or "" in cells[-1]:
            lo, hi = [], []
            for j in range(n):
                filled = [k for k in range(f.ncols) if cells[k][j]]
                lo.append(f.first_col + filled[0] if filled else 0)
                hi.append(f.first_col + filled[-1] if filled else 0)
            self.lo, self.hi = lo, hi
        else:
            self.lo = self.hi = None


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


def _first(item: tuple[int, str]) -> int:
    return item[0]


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

    def __init__(
        self,
        part: str,
        fills: list[TableFill],
        stamps: dict[tuple[int, int], str],
        date1904: bool,
        *,
        skip_rows: bool = True,
        added: dict[tuple[int, int], tuple[str | None, int]] | None = None,
    ) -> None:
        self.part = part
        self.added = dict(added or {})
        """New cells a user table grows by (sopxl may add them, never overwrite them): (row, col) -> (header
        text, or None for an empty cell; the column whose cell in the same row lends its style)."""
        self._added_rows: dict[int, list[tuple[int, str | None, int]]] = {}
        for (r, c), (text, like) in sorted(self.added.items()):
            self._added_rows.setdefault(r, []).append((c, text, like))
        self._added_styles: dict[tuple[int, int], int | None] = {}
        self.skip_rows = skip_rows
        """Skip old owned rows at the byte level (False: parse every row cell by cell, the reference path)."""
        self.skipped_rows = 0
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
        self.row_marks = 0
        """``ROW_MARK`` matches expected in the new part: the rows plus any in the head and tail text."""
        self._renderers = [_Renderer(f, date1904) for f in fills]
        self._stamp_rows = {r for r, _c in stamps} | set(self._added_rows)
        self._parser: expat.XMLParserType | None = None
        self._sheetdata_at = -1
        self._row_end_at = -1
        self._extras: dict[bytes, str] = {}
        self._band_starts, self._band_cols = self._bands()

    # -- driving -------------------------------------------------------------------------------------
    def run(self, chunks: Iterable[bytes], out: IO[bytes]) -> SheetStats:
        """Parse the old part from ``chunks`` and write the complete new part to ``out``."""
        parser = hardened_expat(self.part)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.CommentHandler = self._comment
        parser.ProcessingInstructionHandler = self._pi
        self._parser = parser
        try:
            try:
                self._feed(chunks, parser)
                parser.Parse(b"", True)
            except expat.ExpatError as exc:
                raise WorkbookError(f"{self.part} is not well-formed XML ({exc}); the workbook is damaged.") from exc
            if self._mode != "tail":
                raise WorkbookError(f"{self.part} has no <sheetData>; the worksheet is damaged.")
            self.table_rows = {rd.fill.name: rd.count for rd in self._renderers}
            head = self._head.take().replace(_DIM_MARK, self.stats.dimension).encode("utf-8")
            tail = self._tail.take().encode("utf-8")
            self.row_marks = self.stats.rows + len(ROW_MARK.findall(head)) + len(ROW_MARK.findall(tail))
            out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
            out.write(head)
            self._rows_out.seek(0)
            shutil.copyfileobj(self._rows_out, out, 1 << 20)
            out.write(tail)
        finally:
            self._rows_out.close()
            self._parser = None
        return self.stats

    def _bands(self) -> tuple[list[int], list[frozenset[bytes]]]:
        """Row bands where a row whose cells all lie in these columns is old owned data and nothing else.

        The first data row (its cell styles are kept) and stamp rows are never in a band.
        """
        points = {1}
        for f in self.fills:
            points.update((f.header_row + 2, f.old_last_row + 1))
        for r in self._stamp_rows:
            points.update((r, r + 1))
        starts = sorted(points)
        cols: list[frozenset[bytes]] = []
        for p in starts:
            letters: set[bytes] = set()
            if p not in self._stamp_rows:
                for f in self.fills:
                    if f.header_row + 2 <= p <= f.old_last_row:
                        letters.update(col_letters(c).encode() for c in range(f.first_col, f.last_col + 1))
            cols.append(frozenset(letters))
        return starts, cols

    def _feed(self, chunks: Iterable[bytes], parser: expat.XMLParserType) -> None:
        """Feed every byte of the old part to ``parser`` once, in order; skip Python work for old owned rows.

        Rows are only recognised from a *clean point*: everything before ``pos`` is fed and the parser's
        last event is the token ending exactly there (the ``<sheetData>`` start tag, or a row end tag, as
        expat itself confirms by byte offset), so the next bytes start a child of ``<sheetData>``. A row
        starting there with a plain start tag, no comment/CDATA/PI/nested row inside, whose cells all lie in
        the old owned columns of its row band, is *skipped*: its bytes are fed with the Python handlers off
        (expat still checks them) and the row is handled as a row without cells. Anything else is fed with
        the handlers on; after anything unusual the scan waits for the next row end tag expat confirms.
        """
        it = iter(chunks)
        buf = b""
        base = 0  # offset of buf[0] in the part
        pos = 0  # buf[:pos] has been fed
        skip_to = 0  # buf[pos:skip_to] holds skipped rows not fed yet
        state = "head" if self.skip_rows else "raw"
        band_starts, band_cols = self._band_starts, self._band_cols
        Parse = parser.Parse

        while True:
            need = False
            if state == "raw":
                if skip_to > pos:
                    self._feed_quiet(buf[pos:skip_to])
                    pos = skip_to
                Parse(buf[pos:])
                for chunk in it:
                    Parse(chunk)
                return
            if state == "head":
                m = _SHEETDATA_TAG.search(buf, pos)
                if m is not None:
                    Parse(buf[pos : m.end()])
                    pos = m.end()
                    clean = self._mode == "sheetData" and self._sheetdata_at == base + m.start()
                    state = "clean" if clean else "raw"
                    continue
                cut = buf.rfind(b"<", pos)
                cut = len(buf) if cut < 0 else cut
                if cut > pos:
                    Parse(buf[pos:cut])
                    pos = cut
                if len(buf) - pos > MAX_PENDING:
                    state = "raw"
                    continue
                need = True
            elif state == "clean":
                p = _SPACE.match(buf, skip_to).end()  # type: ignore[union-attr]
                m = _ROW_TAG.match(buf, p)
                if m is None:
                    if buf.find(b">", p) < 0 and len(buf) - pos <= MAX_PENDING:
                        need = True
                    elif buf.startswith(b"</sheetData", p):
                        state = "raw"
                    else:
                        state = "resync"
                else:
                    r = int(m.group(1))
                    if m.group(3):  # <row .../>
                        end = e = m.end()
                    else:
                        e = buf.find(_ROW_END, m.end())
                        if e < 0:
                            if len(buf) - pos <= MAX_PENDING:
                                need = True
                            else:
                                state = "resync"
                        end = e + len(_ROW_END)
                    if not need and state == "clean":
                        items = _ROW_ITEMS.findall(buf, m.end(), e)
                        cols = band_cols[bisect.bisect_right(band_starts, r) - 1]
                        if cols and cols.issuperset(items):
                            self._skip_row(r, m.group(2))
                            skip_to = end
                        else:
                            if skip_to > pos:
                                self._feed_quiet(buf[pos:skip_to])
                                pos = skip_to
                            Parse(buf[pos:end])
                            pos = skip_to = end
                            if not m.group(3) and self._row_end_at != base + e:
                                state = "resync"
            else:  # resync: feed up to each row end tag until expat confirms one
                if skip_to > pos:
                    self._feed_quiet(buf[pos:skip_to])
                    pos = skip_to
                e = buf.find(_ROW_END, pos)
                if e < 0:
                    cut = max(pos, len(buf) - len(_ROW_END))
                    Parse(buf[pos:cut])
                    pos = skip_to = cut
                    need = True
                else:
                    Parse(buf[pos : e + len(_ROW_END)])
                    pos = skip_to = e + len(_ROW_END)
                    if self._mode == "sheetData" and self._row_end_at == base + e:
                        state = "clean"
            if need:
                if skip_to > pos:
                    self._feed_quiet(buf[pos:skip_to])
                    pos = skip_to
                more = next(it, None)
                if more is None:
                    state = "raw"
                    continue
                buf = buf[pos:] + more
                base += pos
                pos = skip_to = 0

    def _feed_quiet(self, data: bytes) -> None:
        """Feed skipped rows with the Python handlers off: expat checks them, no Python runs per element."""
        parser = self._parser
        assert parser is not None
        parser.StartElementHandler = None
        parser.EndElementHandler = None
        parser.CharacterDataHandler = None
        try:
            parser.Parse(data)
        finally:
            parser.StartElementHandler = self._start
            parser.EndElementHandler = self._end
            parser.CharacterDataHandler = self._text

    def _skip_row(self, r: int, attrs: bytes) -> None:
        """A row holding only old owned data: like a parsed row whose cells were all dropped."""
        self.skipped_rows += 1
        if r <= self._last_row:
            raise WorkbookError(f"{self.part}: rows are out of order at row {r}.")
        extra = self._extras.get(attrs)
        if extra is None:
            pairs = [x.decode("ascii") for pair in _ROW_ATTR.findall(attrs) for x in pair]
            extra = _attrs(pairs, ("r", "spans"))
            if len(self._extras) < 4096:
                self._extras[attrs] = extra
        if r != self._last_row + 1:  # (the next row: no new-only row can come before it)
            self._flush_new(r)
        self._emit_row(r, extra, [])

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
            self._sheetdata_at = self._parser.CurrentByteIndex if self._parser else -1
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
            self._row_end_at = self._parser.CurrentByteIndex if self._parser else -1
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
        for rd in self._renderers:
            r = max(after + 1, rd.header_row + 1)
            if r <= rd.last_row and (best is None or r < best):
                best = r
        for r in self._stamp_rows:
            if r > after and (best is None or r < best):
                best = r
        return best

    def _flush_new(self, before: int | None) -> None:
        """Emit rows holding only new content, up to (not including) ``before``."""
        while True:
            r = self._next_new_row(self._last_row)
            if r is None or (before is not None and r >= before):
                return
            self._emit_row(r, "", [])

    def _process_row(self, r: int, attrs: list[str], cells: list[tuple[int, str, int | None, bool]]) -> None:
        self._flush_new(r)
        kept: list[tuple[int, str]] = []
        lenders = {like for _c, _t, like in self._added_rows.get(r, ())}
        for col, xml, style, content in cells:
            if col in lenders:
                self._added_styles[(r, col)] = style
            if (r, col) in self.added:
                if content:
                    raise LayoutError(
                        f"cell {col_letters(col)}{r} holds data where a table must grow by a column; "
                        "move that data elsewhere and refresh again."
                    )
                continue  # an empty cell: written again below, styled like its neighbour
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
        self._emit_row(r, _attrs(attrs, ("r", "spans")), kept)

    def _emit_row(self, r: int, extra: str, kept: list[tuple[int, str]]) -> None:
        """Write row ``r``: the kept cells, the fills' new cells and stamps, in column order."""
        cells = kept
        lo = hi = 0
        if kept:
            lo = min(c for c, _x in kept)
            hi = max(c for c, _x in kept)
        for rd in self._renderers:
            if rd.header_row < r <= rd.last_row:
                if r <= rd.last_data_row:
                    rd.count += 1
                xml, flo, fhi = rd.row(r)
                if xml:
                    cells.append((rd.first_col, xml))
                    if not lo or flo < lo:
                        lo = flo
                    if fhi > hi:
                        hi = fhi
        for ac, atext, like in self._added_rows.get(r, ()):
            xml = cell_xml(f"{col_letters(ac)}{r}", atext, self._added_styles.get((r, like)))
            if xml:
                cells.append((ac, xml))
                lo = ac if not lo or ac < lo else lo
                hi = max(hi, ac)
        if r in self._stamp_rows:
            for (sr, sc), text in self.stamps.items():
                if sr == r:
                    cells.append((sc, cell_xml(f"{col_letters(sc)}{r}", text, self.stamp_styles.get((sr, sc)))))
                    lo = sc if not lo or sc < lo else lo
                    hi = max(hi, sc)
        self._last_row = r
        if not cells and not extra:
            return
        if len(cells) > 1:
            cells.sort(key=_first)
        if cells:
            st = self.stats
            if not st.min_row:
                st.min_row = r
            st.max_row = r  # rows come in increasing order
            if not st.min_col or lo < st.min_col:
                st.min_col = lo
            if hi > st.max_col:
                st.max_col = hi
        self.stats.rows += 1
        self._batch.append(f'<row r="{r}"{extra}>' + "".join([x for _c, x in cells]) + "</row>")
        if len(self._batch) >= _FLUSH_ROWS:
            self._write_batch()

    def _write_batch(self) -> None:
        if self._batch:
            self._rows_out.write("".join(self._batch).encode("utf-8"))
            self._batch = []
