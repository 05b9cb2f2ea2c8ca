"""Errors a refresh or attach can stop with; every message says what is wrong and how to fix it."""

from __future__ import annotations


class WorkbookError(ValueError):
    """The file is not a workbook sopxl can patch safely (corrupt, unsupported, or hostile)."""


class UnsafeWorkbookError(WorkbookError):
    """The file looks hostile (XML bomb, external entity, zip bomb): refused before anything is expanded."""


class LayoutError(WorkbookError):
    """The workbook does not (or no longer) contain the tables sopxl owns: nothing was written."""


class WorkbookLockedError(WorkbookError):
    """The workbook is open in Excel or LibreOffice; a refresh now would be lost when the user saves."""


class RefreshInProgressError(WorkbookError):
    """Another sopxl process is refreshing the same file right now."""


class WorkbookChangedError(WorkbookError):
    """The file changed on disk while sopxl was writing its new version; nothing was replaced."""
