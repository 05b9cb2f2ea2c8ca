"""Helpers shared by the Tryton integration tests (not a test module)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pandas as pd

from connectors.tryton.server import DemoServer
from connectors.tryton.transport import RetryPolicy, TrytonTransport


def transport_for(server: DemoServer, password: str | None = None, attempts: int = 3) -> TrytonTransport:
    s = server.settings
    return TrytonTransport(
        s.url,
        s.database,
        s.user,
        password if password is not None else s.password.get_secret_value(),
        timeout=10,
        retry=RetryPolicy(attempts=attempts, base_delay=0.05, max_delay=0.2),
    )


def rows(frame: pd.DataFrame, *columns: str) -> set[tuple[Any, ...]]:
    out = set()
    for values in frame[list(columns)].itertuples(index=False):
        out.add(
            tuple(
                v.date() if isinstance(v, pd.Timestamp) else (round(v, 6) if isinstance(v, float) else v)
                for v in values
            )
        )
    return out


def expected(manifest_rows: list[dict[str, Any]], *columns: str) -> set[tuple[Any, ...]]:
    out = set()
    for row in manifest_rows:
        values = []
        for c in columns:
            v = row[c]
            if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                v = dt.date.fromisoformat(v)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                v = round(float(v), 6)
            values.append(v)
        out.add(tuple(values))
    return out


def shipped_by_month(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for sku, qty, day in frame[["sku", "qty", "ship_date"]].itertuples(index=False):
        totals[(sku, day.strftime("%Y-%m"))] += qty
    return dict(totals)
