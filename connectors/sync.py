"""Syncing a connector into a local snapshot store: stage everything, then swap, never a mix.

A connector's :meth:`Connector.fetch` reads every entity (through the transport, which retries what can
be retried) into memory, validates it into a :class:`Snapshot`, and returns that with its sync state
(raw records and watermarks for incremental syncs). Only then does :class:`SnapshotStore` write a new
version folder and switch the ``current`` link to it with one atomic rename. Any failure before the
switch leaves the previous snapshot and state exactly as they were.

Records the connector could not read the way the ERP means them (a unit without conversion, a product
without category) do not stop a sync: they come back as ``SyncResult.warnings``, are logged, and are stored
with the version (``warnings.json``), so ``SnapshotStore.load_warnings`` tells what the current snapshot
left out or read with a fallback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from connectors.notices import DataWarning, log_warnings
from sop_functions import clock
from sop_functions.model import ENTITY_MODELS
from sop_functions.snapshot import COLUMNS, FIELD_RULES, Snapshot, build_snapshot
from workbooks.private import private_dir

Status = Literal["ok", "missing", "error", "not configured"]


@dataclass(frozen=True)
class EntityStatus:
    """What ``check-connection`` found for one entity: where it is read from and whether that works."""

    entity: str
    status: Status
    source: str
    detail: str = ""


@dataclass
class SyncResult:
    snapshot: Snapshot
    state: dict[str, Any] = field(default_factory=dict)
    """JSON-able: raw records by table and id, watermarks; handed back to the next incremental fetch."""
    warnings: list[DataWarning] = field(default_factory=list)
    """Source records left out or read with a stated fallback (the sync still succeeded)."""


class Connector(Protocol):
    kind: str

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult: ...

    def check(self) -> list[EntityStatus]: ...


def _frame_records(frame: pd.DataFrame, entity: str) -> list[dict[str, Any]]:
    out = frame.copy()
    for rule in FIELD_RULES[entity]:
        if rule.kind == "date":
            out[rule.name] = out[rule.name].dt.strftime("%Y-%m-%d")
    rows: list[dict[str, Any]] = []
    for record in out.astype(object).to_dict("records"):
        rows.append({str(k): (None if isinstance(v, float) and v != v else v) for k, v in record.items()})
    return rows


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "source": snapshot.source,
        "as_of": snapshot.as_of.isoformat(),
        "entities": {e: _frame_records(snapshot.frames[e], e) for e in ENTITY_MODELS},
    }


def snapshot_from_json(data: dict[str, Any]) -> Snapshot:
    frames = {e: pd.DataFrame(rows, columns=COLUMNS[e]) for e, rows in data["entities"].items()}
    return build_snapshot(data["source"], dt.datetime.fromisoformat(data["as_of"]), frames)


def _write(path: Path, data: Any) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())


class SnapshotStore:
    """Versions under ``root/versions/<id>/``; ``root/current`` is a symlink switched atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def link(self) -> Path:
        return self.root / "current"

    def current(self) -> Path | None:
        return self.link.resolve() if self.link.is_symlink() and self.link.resolve().is_dir() else None

    def load_state(self) -> dict[str, Any] | None:
        folder = self.current()
        if folder is None:
            return None
        data = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None

    def load_warnings(self) -> list[DataWarning]:
        """The record warnings of the current snapshot's sync (none for versions written before warnings)."""
        folder = self.current()
        path = folder / "warnings.json" if folder is not None else None
        if path is None or not path.is_file():
            return []
        return [DataWarning.from_json(w) for w in json.loads(path.read_text(encoding="utf-8"))]

    def load_snapshot(self) -> Snapshot | None:
        folder = self.current()
        if folder is None:
            return None
        return snapshot_from_json(json.loads((folder / "snapshot.json").read_text(encoding="utf-8")))

    def commit(self, result: SyncResult) -> Path:
        """Write the staged result to a new version, then switch ``current`` to it in one rename."""
        versions = self.root / "versions"
        private_dir(versions)  # ERP data: readable by its owner only
        stamp = clock.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        folder = versions / f"{stamp}-{uuid.uuid4().hex[:8]}"
        staging = versions / f".staging-{folder.name}"
        previous = self.current()
        try:
            staging.mkdir(0o700)
            _write(staging / "snapshot.json", snapshot_to_json(result.snapshot))
            _write(staging / "state.json", result.state)
            _write(staging / "warnings.json", [w.to_json() for w in result.warnings])
            os.rename(staging, folder)
            tmp_link = self.root / f".current-{uuid.uuid4().hex[:8]}"
            os.symlink(os.path.relpath(folder, self.root), tmp_link)
            os.replace(tmp_link, self.link)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if self.current() != folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        for old in versions.iterdir():  # keep the new and the previous version
            if old not in (folder, previous) and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        return folder


def run_sync(connector: Connector, store: SnapshotStore, full: bool = False) -> Snapshot:
    """Fetch (incrementally from the stored state unless ``full``) and commit; on error nothing changes."""
    previous = None if full else store.load_state()
    result = connector.fetch(previous)
    store.commit(result)
    log_warnings(result.snapshot.source, result.warnings)
    return result.snapshot
