"""Part-level workbook I/O: refresh sopxl's owned tables in a user's .xlsx/.xlsm without touching the rest.

Never load-and-save a user's workbook with openpyxl (it drops charts, shapes, connections and cached
formula values); everything here edits the zip parts sopxl owns and copies all others byte for byte.
"""

from .attach import AttachReport, attach
from .errors import (
    LayoutError,
    RefreshInProgressError,
    UnsafeWorkbookError,
    WorkbookChangedError,
    WorkbookError,
    WorkbookLockedError,
)
from .patch import FileTableWriter, RefreshReport, refresh_file
from .writer import OwnedTableWriter

__all__ = [
    "AttachReport",
    "FileTableWriter",
    "LayoutError",
    "OwnedTableWriter",
    "RefreshInProgressError",
    "RefreshReport",
    "UnsafeWorkbookError",
    "WorkbookChangedError",
    "WorkbookError",
    "WorkbookLockedError",
    "attach",
    "refresh_file",
]
