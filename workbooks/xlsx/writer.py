"""The owned-table writer interface: one small API, a backend per place a workbook lives.

:class:`~workbooks.xlsx.patch.FileTableWriter` patches a file on disk; a live-Excel (xlwings) backend will
implement the same three calls. Callers queue tables and stamps, then ``commit`` applies them all at once
(all or nothing).
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from workbooks.layout import TableSpec


class OwnedTableWriter(Protocol):
    def write_table(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        """Queue ``frame`` (columns = ``Column.field`` of ``spec``) as the new data rows of the owned table."""

    def write_stamp(self, spec: TableSpec, text: str) -> None:
        """Queue ``text`` for the as-of stamp cell of ``spec``'s sheet."""

    def commit(self) -> object:
        """Apply everything queued, or nothing if any table cannot be written."""
