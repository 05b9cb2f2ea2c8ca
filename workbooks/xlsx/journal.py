"""The write-ahead journal that ties a workbook replacement to the store records describing it.

A command that changes a workbook AND records it elsewhere (``sop collect``: the master's Forecast grid
and the audit trail) cannot do both in one atomic step. So, under the workbook's lock:

1. the new workbook is written to a temp file beside it and verified;
2. the journal ``.~sopxl-journal.<name>.json`` is written (atomically) naming that temp file and the stores;
3. each store writes its records as *pending* under the journal's transaction id;
4. ``os.replace`` puts the new workbook in place (the one atomic step that decides the outcome);
5. each store marks its records applied; the journal is removed.

A crash anywhere leaves either no journal (nothing pending) or a journal that the next sopxl writer of
that workbook resolves before doing anything else (:func:`recover`): if the temp file is still there the
replace never happened, so the pending records are dropped and the temp removed (rolled back); if it is
gone the replace happened, so they are marked applied (completed). A store joins by offering a
:class:`Pending` record and a recovery function named in :data:`RECOVERERS`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .errors import WorkbookError
from .safe_save import checkpoint, fsync_dir

JOURNAL_PREFIX = ".~sopxl-journal."
RECOVERERS: dict[str, str] = {
    "audit": "workbooks.forecast_audit:recover_pending",
    "sku_detail": "workbooks.sku_detail:recover_pending",
}
"""Store kind -> ``module:function(locator, txn_id, applied)`` that completes or drops its pending records."""
Recoverer = Callable[[dict[str, Any], str, bool], None]


class Pending(Protocol):
    """Records a store writes as pending before the workbook is replaced, and applies after."""

    def locator(self) -> dict[str, Any]:
        """JSON that finds the store again in another process: ``{"kind": ..., ...}``."""

    def prepare(self, txn_id: str) -> None:
        """Write the records as pending under ``txn_id`` (durably, in one store transaction)."""


def journal_path(path: Path) -> Path:
    return path.with_name(f"{JOURNAL_PREFIX}{path.name}.json")


def new_txn_id() -> str:
    return uuid.uuid4().hex


def resolve(locator: dict[str, Any], txn_id: str, applied: bool) -> None:
    """Complete (``applied``) or drop the pending records ``txn_id`` of the store ``locator`` names."""
    target = RECOVERERS.get(str(locator.get("kind")))
    if target is None:
        raise WorkbookError(f"the journal names an unknown store kind {locator.get('kind')!r}")
    module, _, name = target.partition(":")
    recoverer: Recoverer = getattr(importlib.import_module(module), name)
    recoverer(locator, txn_id, applied)


def write(path: Path, txn_id: str, command: str, temp: Path, stores: Sequence[Pending]) -> None:
    """Durably record the pending replacement of ``path`` by ``temp`` (temp file + rename + fsync)."""
    entry = {
        "txn": txn_id,
        "command": command,
        "temp": temp.name,
        "pid": os.getpid(),
        "stores": [s.locator() for s in stores],
    }
    target = journal_path(path)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(entry, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    fsync_dir(path.parent)


def finish(path: Path) -> None:
    """Remove the journal once every store has applied (or dropped) its records."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal_path(path))
    fsync_dir(path.parent)


def rollback(path: Path, txn_id: str, stores: Sequence[Pending], temp: Path) -> None:
    """Undo a replacement that did not happen: drop the stores' pending records, then the journal."""
    for store in stores:
        resolve(store.locator(), txn_id, applied=False)
    checkpoint("rolled-back")
    finish(path)
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def recover(path: Path) -> str | None:
    """Resolve a journal a killed writer left beside ``path`` (the caller holds the workbook's lock).

    Returns ``"completed"``, ``"rolled back"`` or None (no journal).
    """
    journal = journal_path(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(journal.with_name(journal.name + ".tmp"))  # a journal killed before its rename never counted
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise WorkbookError(
            f"{journal.name} beside {path.name} cannot be read ({exc}); it records an interrupted sopxl write. "
            "Restore it from a backup or ask for help before deleting it."
        ) from exc
    temp = path.with_name(str(entry["temp"]))
    applied = not temp.exists()
    for locator in entry.get("stores", []):
        resolve(dict(locator), str(entry["txn"]), applied)
    finish(path)  # before the temp goes: a journal without its temp would read as "replaced"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    return "completed" if applied else "rolled back"
