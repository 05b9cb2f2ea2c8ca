"""Reading one CSV or spreadsheet file into a raw table: headers as written, one row per data row.

The table's index is the row number a person sees when opening the file (header = row 1). CSV cells
stay text; spreadsheet cells keep calamine's types (numbers, dates, text). Problems are appended to
``issues`` and the read returns ``None``.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from workbooks.xlsx.gate import readable

from .errors import FileIssue
from .mapping import EntityOptions
from .values import cell_text

CSV_SUFFIXES = (".csv",)
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
DELIMITERS = (",", ";", "\t", "|")
_BAD_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_UNNAMED = re.compile(r"Unnamed: \d+")


HEAD_BYTES = 1 << 16
"""How much of a CSV file is read up front: enough for the header line the delimiter is sniffed from."""


def _encodings(encoding: str | None) -> tuple[str, ...]:
    return (encoding,) if encoding else ("utf-8-sig", "cp1252")


def _head(path: Path) -> bytes:
    """The file's first bytes up to the end of its first non-blank line (the whole file if it is blank)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        while head.strip(b" \t\r\n\xef\xbb\xbf") == b"" or b"\n" not in head.lstrip(b"\r\n"):
            more = handle.read(HEAD_BYTES)
            if not more:
                return head
            head += more
    return head


def _sniff_delimiter(text: str) -> str:
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _blank(column: pd.Series, typed: bool) -> np.ndarray:
    """Per row: the cell holds nothing but white space. A CSV column is categorical: each distinct text
    is stripped once (a column of 1.4 M cells holds a few thousand distinct values)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = pd.Series(column.cat.categories, dtype=object)
        empty = categories.map(cell_text).str.strip().eq("").to_numpy()
        codes = column.cat.codes.to_numpy()
        return np.where(codes < 0, True, empty[np.maximum(codes, 0)]) if len(empty) else codes < 0
    text = column.map(cell_text) if typed else column
    return text.str.strip().eq("").to_numpy(dtype=bool)


def _rows_indexed(frame: pd.DataFrame, first_row: int, typed: bool) -> pd.DataFrame:
    """Index = the row number as seen in the file; blank rows are dropped (the numbering keeps the gap)."""
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    blank = np.ones(len(frame), dtype=bool)
    for _, column in frame.items():
        blank &= _blank(column, typed)
    return frame[~blank] if blank.any() else frame  # no blank row: no copy (and the index stays a range)


def read_csv(path: Path, options: EntityOptions, issues: list[FileIssue]) -> pd.DataFrame | None:
    """Every cell as text, so that parsing errors can quote the value exactly as written.

    The file is streamed (never held whole in memory) and every column is read as categories: pandas'
    C parser keeps each distinct text once and a code per row, so parsing, stripping and checking
    happen once per distinct value (:mod:`.values`), not once per cell.
    """
    name = path.name
    try:
        head = _head(path)
    except OSError as exc:
        issues.append(FileIssue(name, f"cannot read the file: {exc.strerror or exc}"))
        return None
    for encoding in _encodings(options.encoding):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the head
                continue
            text = head[: exc.start].decode(encoding)
        except LookupError:
            continue
        if not text.strip():
            issues.append(FileIssue(name, "empty file (expected a header row)"))
            return None
        sep = options.delimiter or _sniff_delimiter(text)
        try:
            frame = _parse(path, sep, encoding, name, issues)
        except UnicodeDecodeError:
            continue
        except LookupError:
            break
        if frame is None:
            return None
        return _labelled(frame, name, issues)
    tried = options.encoding or "UTF-8 or cp1252 (Windows-1252)"
    issues.append(FileIssue(name, f"cannot decode the text as {tried}; set encoding in mapping.toml"))
    return None


def _parse(path: Path, sep: str, encoding: str, name: str, issues: list[FileIssue]) -> pd.DataFrame | None:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, sep=sep, dtype="category", keep_default_na=False, na_filter=False, skip_blank_lines=False,
                index_col=False, engine="c", encoding=encoding, encoding_errors="strict",
            )  # fmt: skip
    except pd.errors.ParserError as exc:
        match = _BAD_LINE.search(str(exc))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            issues.append(FileIssue(name, f"{saw} values but the header has {expected} columns", line))
        else:
            issues.append(FileIssue(name, f"cannot parse the CSV: {exc}"))
        return None
    except OSError as exc:
        issues.append(FileIssue(name, f"cannot read the file: {exc.strerror or exc}"))
        return None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        issues.append(FileIssue(name, "more values than the header has columns", 2))
        return None
    return frame


def _labelled(frame: pd.DataFrame, name: str, issues: list[FileIssue]) -> pd.DataFrame | None:
    """The parsed rows without the header-less columns that hold nothing (a trailing delimiter's); a
    header-less column with values is an issue."""
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if _UNNAMED.fullmatch(c)]  # pandas' name for a blank header
    labelled = True
    for column in unnamed:  # e.g. the empty columns of a trailing delimiter: dropped when they hold nothing
        filled = frame.index[frame[column].str.strip().ne("")]
        if len(filled):
            labelled = False
            number = list(frame.columns).index(column) + 1
            issues.append(
                FileIssue(name, f"column {number} has values but no header; name it or delete it", int(filled[0]) + 2)
            )
    if not labelled:
        return None
    return _rows_indexed(frame.drop(columns=unnamed), 2, typed=False)


def read_sheet(path: Path, entity: str, options: EntityOptions, issues: list[FileIssue]) -> pd.DataFrame | None:
    """The sheet ``options.sheet``, else the one named like the entity, else the first; values typed."""
    name = path.name
    gated = readable(path) if path.suffix.lower() in (".xlsx", ".xlsm") else contextlib.nullcontext(path)
    try:  # the hostile-file gate first (zip bombs, DTDs, sheet kinds the reader cannot parse): one issue
        with gated as checked, CalamineWorkbook.from_path(str(checked)) as book:
            sheets = book.sheet_names
            wanted = options.sheet or next((s for s in sheets if s.strip().lower() == entity), sheets[0])
            if wanted not in sheets:
                issues.append(FileIssue(name, f"no sheet {wanted!r} (sheets: {', '.join(sheets)})"))
                return None
            rows = book.get_sheet_by_name(wanted).to_python(skip_empty_area=False)
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        issues.append(FileIssue(name, f"cannot read the spreadsheet: {exc}"))
        return None
    filled = [i for i, row in enumerate(rows) if any(cell_text(v).strip() for v in row)]
    if not filled:
        issues.append(FileIssue(name, f"empty sheet {wanted!r} (expected a header row)"))
        return None
    top = filled[0]
    width = max(len(row) for row in rows)
    body = [list(row) + [""] * (width - len(row)) for row in rows[top + 1 :]]
    headers = [cell_text(v).strip() for v in rows[top]] + [""] * (width - len(rows[top]))
    frame = pd.DataFrame(body, columns=pd.RangeIndex(width), dtype=object)
    frame.columns = pd.Index(headers)
    keep = [i for i, h in enumerate(headers) if h or frame.iloc[:, i].map(cell_text).str.strip().any()]
    return _rows_indexed(frame.iloc[:, keep], top + 2, typed=True)
