"""For ERPs whose database is the only interface: one SELECT per entity, written by the user.

``sop.toml``::

    [sql]
    kind = "sql"
    url = "postgresql+psycopg://sop_reader@db.example.com/erp"   # no password here: SOP_SQL_PASSWORD
    [sql.queries]
    items = "SELECT item_no AS sku, name AS description, ... FROM items WHERE active"
    shipments = "SELECT ... FROM deliveries WHERE ship_date <= :as_of_date"

Each query returns columns named as the canonical fields (``AS`` aliases). Parameters are bound by the
driver, never formatted into the SQL: ``:as_of`` (the sync's timestamp, UTC), ``:as_of_date`` (its date) and
``:history_start`` (the date 36 months earlier). All queries run in one read-only transaction (REPEATABLE
READ on PostgreSQL), so they see one consistent state of the database. Rows are validated by the snapshot
contract; an issue names the entity and the row number of the query result (1 = first row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from connectors.sync import EntityStatus, SyncResult
from connectors.transport import ConfigError, UnavailableError
from sop_functions import clock
from sop_functions.model import ENTITY_MODELS
from sop_functions.snapshot import build_snapshot

PARAMETERS = ("as_of", "as_of_date", "history_start")


def parse_queries(raw: Mapping[str, Any]) -> dict[str, str]:
    problems = [f"{k}: not an entity ({', '.join(ENTITY_MODELS)})" for k in raw if k not in ENTITY_MODELS]
    problems += [f"{k}: the query must be a string" for k, v in raw.items() if not isinstance(v, str)]
    if "items" not in raw:
        problems.append("items: a query is required")
    for entity, query in raw.items():
        if isinstance(query, str):
            unknown = set(sa.text(query).compile().params) - set(PARAMETERS)
            if unknown:
                problems.append(f"{entity}: unknown parameter(s) {sorted(unknown)}; available: {', '.join(PARAMETERS)}")
    if problems:
        raise ConfigError("SQL queries:\n  - " + "\n  - ".join(problems))
    return {k: v for k, v in raw.items() if isinstance(v, str)}


class SqlConnector:
    kind = "sql"

    def __init__(
        self,
        engine: sa.Engine,
        queries: Mapping[str, str],
        *,
        now: Callable[[], dt.datetime] | None = None,
        source: str = "sql",
    ) -> None:
        self.engine = engine
        self.queries = parse_queries(queries)
        self.now = now or clock.now
        self.source = source

    def _params(self, as_of: dt.datetime) -> dict[str, Any]:
        day = as_of.date()
        start = dt.date(day.year - 3, day.month, 1)
        return {"as_of": as_of.astimezone(dt.UTC).replace(tzinfo=None), "as_of_date": day, "history_start": start}

    def _connect(self) -> sa.Connection:
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        return conn

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult:
        as_of = self.now()
        values = self._params(as_of)
        frames: dict[str, pd.DataFrame] = {}
        try:
            with self._connect() as conn, conn.begin():
                for entity, query in self.queries.items():
                    clause = sa.text(query)
                    used = {k: v for k, v in values.items() if k in clause.compile().params}
                    result = conn.execute(clause, used)
                    rows = result.fetchall()
                    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(result.keys()))
                    frame.index = pd.RangeIndex(1, len(frame) + 1)
                    frames[entity] = frame
        except SQLAlchemyError as exc:
            raise UnavailableError(f"SQL query failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        return SyncResult(build_snapshot(self.source, as_of, frames), {})

    def check(self) -> list[EntityStatus]:
        out = []
        values = self._params(self.now())
        for entity in ENTITY_MODELS:
            if entity not in self.queries:
                out.append(EntityStatus(entity, "not configured", "sql", f"no query; add [<profile>.queries] {entity}"))
                continue
            try:
                with self._connect() as conn, conn.begin():
                    clause = sa.text(self.queries[entity])
                    result = conn.execute(clause, {k: v for k, v in values.items() if k in clause.compile().params})
                    result.fetchmany(1)
                out.append(EntityStatus(entity, "ok", "sql", f"columns: {', '.join(result.keys())}"))
            except SQLAlchemyError as exc:
                out.append(EntityStatus(entity, "error", "sql", str(exc).splitlines()[0]))
        return out
