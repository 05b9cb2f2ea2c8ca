"""The error a planner sees when an export folder cannot be read: every problem, each with its place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SHOWN = 50
"""Problems spelled out in the exception message; all of them stay on :attr:`FileDataError.issues`."""


@dataclass(frozen=True)
class FileIssue:
    """One problem, placed as a person opening the file sees it.

    ``row`` is the spreadsheet row number (the header is row 1, the first data row is row 2); ``column``
    is the header as written in the file. Both are ``None`` for problems with a whole file or column.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class FileDataError(ValueError):
    """Raised once per read with every problem found, so fixing the export takes one round trip."""

    def __init__(self, folder: str | Path, issues: list[FileIssue]) -> None:
        self.folder = str(folder)
        self.issues = issues
        shown = "\n".join(f"  - {issue}" for issue in issues[:SHOWN])
        more = f"\n  ... and {len(issues) - SHOWN} more" if len(issues) > SHOWN else ""
        super().__init__(f"{len(issues)} problem(s) in export folder {self.folder}:\n{shown}{more}")
