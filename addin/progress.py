"""What a long job tells whoever started it while it runs: its phases, what each did, the source's warnings.

The jobs of :mod:`addin.pipeline` (read the source, plan, write the workbook) call a :class:`Progress`; the
base class shows nothing and only keeps the record warnings, so Python callers and the ribbon need nothing.
The CLI hands them :class:`Phases`: one live display on stderr in which the running phase spins with its
elapsed time and each finished phase stays as one line with its counts. Any other progress (seeding the
demo Tryton ERP) reports into the same display, so two displays never share a line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sized
from types import TracebackType
from typing import TYPE_CHECKING

from connectors.notices import DataWarning

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


class Progress:
    """Silent progress: a job's phases go nowhere; the record warnings are kept on :attr:`warnings`."""

    def __init__(self) -> None:
        self.warnings: list[DataWarning] = []

    def phase(self, text: str) -> None:
        """A new phase starts (``reading exports/``)."""

    def update(self, text: str, completed: int | None = None, total: int | None = None) -> None:
        """The running phase's own progress (``Seeding: sales orders``, 40 of 120)."""

    def done(self, summary: str) -> None:
        """The running phase ended; ``summary`` says what it did (``read exports/: 40 items, ...``)."""

    def warn(self, warnings: Iterable[DataWarning]) -> None:
        """Records the source could not read the way the ERP means them (kept, shown by the caller)."""
        self.warnings.extend(warnings)


class Phases(Progress):
    """The CLI's progress: a spinner with elapsed time for the running phase, a line per finished phase.

    Shown only when ``console`` is a terminal (scripts and cron logs get the command's own output only).
    """

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.enabled = console.is_terminal
        self._progress: RichProgress | None = None
        self._task: TaskID | None = None
        self._started = time.monotonic()
        self.lines: list[str] = []
        """The finished phases' summary lines, as shown."""

    def __enter__(self) -> Phases:
        if self.enabled:
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
            self._progress = RichProgress(*columns, console=self.console, transient=True)
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def phase(self, text: str) -> None:
        self._started = time.monotonic()
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(text, total=None)

    def update(self, text: str, completed: int | None = None, total: int | None = None) -> None:
        if self._progress is None:
            return
        shown = f"{text} ({completed:,} of {total:,})" if completed is not None and total else text
        if self._task is None:
            self._task = self._progress.add_task(shown, total=None)
        self._progress.update(self._task, description=shown)

    def done(self, summary: str) -> None:
        line = f"{summary} ({time.monotonic() - self._started:.1f} s)"
        self.lines.append(line)
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        from rich.markup import escape

        self._progress.console.print(f"[green]✓[/] {escape(line)}", highlight=False)


ENTITY_WORDS = {
    "items": "items",
    "stock": "stock rows",
    "open_demand": "open order lines",
    "shipments": "shipments",
    "receipts": "open receipts",
    "production": "production orders",
    "work_centers": "work centers",
    "routings": "routings",
    "bom": "BOM lines",
}


def counts(frames: Iterable[tuple[str, Sized]]) -> str:
    """``40 items, 120 open order lines, ...``: how much of each entity a source gave (empty ones left out)."""
    return ", ".join(f"{len(rows):,} {ENTITY_WORDS.get(name, name)}" for name, rows in frames if len(rows))
