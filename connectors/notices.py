"""Per-record warnings of a sync: ERP data sopxl could not read the way the ERP means it.

Unlike a malformed value (which stops the sync, :class:`connectors.transport.SourceDataError`), a warning
keeps the sync going: the record is left out, or read with a stated fallback, and named the way the ERP
names it so the planner can fix it there (a unit without conversion, a product without category, an order
without any date). Warnings travel on ``SyncResult.warnings`` (Tryton: ``SyncReport.warnings``), are
stored beside the snapshot (``SnapshotStore.load_warnings``) and logged on logger ``sopxl.connectors``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass

log = logging.getLogger("sopxl.connectors")

LOGGED = 20
"""Warnings logged one by one; the rest are counted in one line."""


@dataclass(frozen=True)
class DataWarning:
    """One source record read with a fallback or left out, and why."""

    entity: str
    """The canonical entity it concerns (``items``, ``open_demand``, ``production``, ...)."""
    table: str
    """The ERP's table or model (``production.bom.input``, ``SalesOrderLines``)."""
    record: str
    """The record as the ERP names it (``id=42``, ``DocNum=20003, LineNum=1``)."""
    message: str
    """What is wrong and what sopxl did about it (``... left out``, ``... planned as due on 2026-06-01``)."""

    def __str__(self) -> str:
        return f"{self.entity}: {self.table} {self.record}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DataWarning:
        return cls(*(str(data.get(name, "")) for name in ("entity", "table", "record", "message")))


class Notes:
    """The warnings collected by one mapping run."""

    def __init__(self) -> None:
        self.items: list[DataWarning] = []

    def add(self, entity: str, table: str, record: str, message: str) -> None:
        self.items.append(DataWarning(entity, table, record, message))

    def __iter__(self) -> Iterator[DataWarning]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def log_warnings(source: str, warnings: Iterable[DataWarning]) -> None:
    """Log the first :data:`LOGGED` warnings one per line, then how many more there are."""
    items = list(warnings)
    for warning in items[:LOGGED]:
        log.warning("%s: %s", source, warning)
    if len(items) > LOGGED:
        log.warning("%s: ... and %d more record warning(s)", source, len(items) - LOGGED)
