"""Write an agreed demand plan back to Tryton as ``stock.forecast`` records (module ``stock_forecast``).

One ``stock.forecast`` per month (``from_date`` .. ``to_date`` = the month, ``warehouse``, ``destination`` =
the customer location, ``company``) with one ``stock.forecast.line`` per product (``product``, ``unit``,
``quantity``, ``minimal_quantity``). Tryton's forecast model has no name or reference field, so each
forecast carries an ``ir.note`` (visible in Tryton's client) reading ``sopxl plan <plan> version <n>``:
that note is how a version is found again.

- **Idempotent per version**: if forecasts noted with this plan and version exist, nothing is written and
  the existing ids are returned.
- **No half-written version**: all forecasts and their lines are created in ONE ``create`` call (one
  Tryton transaction: all or nothing). The notes and the confirmation are separate calls; if one fails,
  the forecasts just created are deleted again (and forecasts of the previous version that were moved
  back to draft are confirmed again), and :class:`PublishError` says what was rolled back.
- **Confirm** (default): the new forecasts are confirmed (state ``done``, which Tryton's supply planning
  reads); done forecasts of earlier sopxl versions over the same months, warehouse and destination are
  cancelled first, since Tryton refuses overlapping done forecasts.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

MARKER = "sopxl plan {plan} version {version}"


class PublishError(RuntimeError):
    """The ERP write-back failed; the message says whether anything is left in the ERP."""


class Rpc(Protocol):
    """What the publisher needs of :class:`connectors.tryton.transport.TrytonTransport`."""

    @property
    def context(self) -> dict[str, Any]: ...

    def model(
        self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None, idempotent: bool = True
    ) -> Any: ...


@dataclass(frozen=True)
class ForecastPublication:
    plan: str
    version: int
    forecast_ids: tuple[int, ...]
    lines: int
    created: bool
    """False when this version was already in the ERP (nothing written)."""
    superseded_ids: tuple[int, ...] = ()

    @property
    def reference(self) -> str:
        return "stock.forecast " + ",".join(map(str, self.forecast_ids))


def marker(plan: str, version: int) -> str:
    return MARKER.format(plan=plan, version=version)


def find_version(rpc: Rpc, plan: str, version: int) -> list[int]:
    """Ids of the forecasts noted with this plan and version (existing ones only)."""
    notes = rpc.model("ir.note", "search_read", [("message", "=", marker(plan, version))], 0, None, None, ["resource"])
    ids = sorted(
        {int(str(n["resource"]).split(",")[1]) for n in notes if str(n["resource"]).startswith("stock.forecast,")}
    )
    if not ids:
        return []
    found: list[int] = rpc.model("stock.forecast", "search", [("id", "in", ids)], 0, None, None)
    return sorted(found)


def _month(label: str) -> tuple[dt.date, dt.date]:
    year, month = map(int, label.split("-"))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _resolve(rpc: Rpc, skus: Sequence[str], warehouse: str | None) -> tuple[int, int, dict[str, tuple[int, int, int]]]:
    """Warehouse id, customer location id and ``sku -> (product id, unit id, unit digits)``."""
    domain: list[Any] = [("type", "=", "warehouse")]
    if warehouse:
        domain.append(("code", "=", warehouse))
    warehouses = rpc.model("stock.location", "search_read", domain, 0, None, [["id", "ASC"]], ["code"])
    if not warehouses:
        raise PublishError(f"Tryton has no warehouse{' with code ' + repr(warehouse) if warehouse else ''}")
    customers = rpc.model("stock.location", "search", [("type", "=", "customer")], 0, 1, [["id", "ASC"]])
    if not customers:
        raise PublishError("Tryton has no customer location to forecast deliveries to")
    products = rpc.model(
        "product.product", "search_read", [("code", "in", list(skus))], 0, None, None, ["code", "default_uom"]
    )
    uoms = {u["id"]: u for u in rpc.model("product.uom", "search_read", [], 0, None, None, ["digits"])}
    by_code = {p["code"]: (p["id"], p["default_uom"], int(uoms[p["default_uom"]]["digits"])) for p in products}
    unknown = sorted(set(skus) - set(by_code))
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise PublishError(
            f"{len(unknown)} SKU(s) of the plan are not Tryton products (by code): {shown}; nothing was written"
        )
    return int(warehouses[0]["id"]), int(customers[0]), by_code


def forecast_values(
    demand: pd.DataFrame, company: int, warehouse: int, destination: int, products: dict[str, tuple[int, int, int]]
) -> list[dict[str, Any]]:
    """The ``create`` values: one forecast per month, one line per product with quantity > 0 (rounded to
    the product unit's digits)."""
    values = []
    for bucket, rows in demand.groupby("bucket", sort=True):
        start, end = _month(str(bucket))
        lines = []
        for sku, qty in zip(rows["sku"], rows["qty"], strict=True):
            product, unit, digits = products[str(sku)]
            quantity = round(float(qty), digits)
            if not math.isfinite(quantity) or quantity <= 0:
                continue
            minimal = min(1.0, quantity)
            lines.append({"product": product, "unit": unit, "quantity": quantity, "minimal_quantity": minimal})
        if lines:
            values.append(
                {
                    "company": company,
                    "warehouse": warehouse,
                    "destination": destination,
                    "from_date": start,
                    "to_date": end,
                    "lines": [["create", lines]],
                }
            )
    return values


def publish_forecast(
    rpc: Rpc,
    demand: pd.DataFrame,
    *,
    plan: str,
    version: int,
    warehouse: str | None = None,
    confirm: bool = True,
) -> ForecastPublication:
    """Publish ``demand`` (``sku, bucket, qty``; month buckets ``YYYY-MM``) as version ``version`` of ``plan``.

    Raises :class:`PublishError` (after rolling back what it wrote) when Tryton refuses any step.
    """
    existing = find_version(rpc, plan, version)
    if existing:
        lines = rpc.model("stock.forecast.line", "search_count", [("forecast", "in", existing)])
        return ForecastPublication(plan, version, tuple(existing), int(lines), created=False)
    dated = demand[demand["bucket"].astype(str).str.fullmatch(r"\d{4}-\d{2}")]
    skus = sorted(set(dated.loc[dated["qty"] > 0, "sku"].astype(str)))
    wh, destination, products = _resolve(rpc, skus, warehouse)
    company = rpc.context.get("company")
    if not company:
        raise PublishError("the Tryton user has no current company; nothing was written")
    values = forecast_values(dated[dated["qty"] > 0], int(company), wh, destination, products)
    if not values:
        raise PublishError("the plan has no demand to publish; nothing was written")
    try:
        ids = [int(i) for i in rpc.model("stock.forecast", "create", values, idempotent=False)]
    except Exception as exc:
        raise PublishError(f"Tryton refused the forecasts (nothing was written: one transaction): {exc}") from exc
    superseded: list[int] = []
    try:
        notes = [{"resource": f"stock.forecast,{i}", "message": marker(plan, version)} for i in ids]
        rpc.model("ir.note", "create", notes, idempotent=False)
        if confirm:
            superseded = _supersede(rpc, plan, ids)
            rpc.model("stock.forecast", "confirm", ids, idempotent=False)
    except Exception as exc:
        raise PublishError(_rollback(rpc, ids, superseded, exc)) from exc
    n_lines = sum(len(v["lines"][0][1]) for v in values)
    return ForecastPublication(plan, version, tuple(ids), n_lines, created=True, superseded_ids=tuple(superseded))


def _supersede(rpc: Rpc, plan: str, new_ids: list[int]) -> list[int]:
    """Cancel done forecasts of earlier versions of ``plan`` that overlap the new ones; return their ids."""
    notes = rpc.model(
        "ir.note", "search_read", [("message", "like", marker(plan, 0)[:-1] + "%")], 0, None, None, ["resource"]
    )
    old = sorted({int(str(n["resource"]).split(",")[1]) for n in notes} - set(new_ids))
    if not old:
        return []
    fields = ["from_date", "to_date", "warehouse", "destination", "state"]
    new = rpc.model("stock.forecast", "read", new_ids, fields)
    rows = rpc.model(
        "stock.forecast", "search_read", [("id", "in", old), ("state", "=", "done")], 0, None, None, fields
    )

    def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
        same = a["warehouse"] == b["warehouse"] and a["destination"] == b["destination"]
        return bool(same and a["from_date"] <= b["to_date"] and b["from_date"] <= a["to_date"])

    clash = sorted(int(r["id"]) for r in rows if any(overlaps(r, n) for n in new))
    if clash:
        rpc.model("stock.forecast", "draft", clash, idempotent=False)
        rpc.model("stock.forecast", "cancel", clash, idempotent=False)
    return clash


def _rollback(rpc: Rpc, ids: list[int], superseded: list[int], cause: Exception) -> str:
    """Delete the forecasts just created and restore superseded ones; describe the outcome."""
    problems = []
    with contextlib.suppress(Exception):  # draft -> cancelled; a refusal leaves them draft, still deletable
        rpc.model("stock.forecast", "cancel", ids, idempotent=False)
    try:
        rpc.model("stock.forecast", "delete", ids, idempotent=False)
    except Exception as exc:
        problems.append(f"could NOT delete forecasts {ids} ({exc}): delete them in Tryton")
    if superseded:
        try:
            rpc.model("stock.forecast", "draft", superseded, idempotent=False)
            rpc.model("stock.forecast", "confirm", superseded, idempotent=False)
        except Exception as exc:
            problems.append(f"could NOT re-confirm the previous version's forecasts {superseded} ({exc})")
    if problems:
        return f"publishing to Tryton failed ({cause}) and the rollback was incomplete: " + "; ".join(problems)
    return (
        f"publishing to Tryton failed ({cause}); rolled back: the {len(ids)} forecast(s) created were deleted, "
        "so Tryton holds no part of this version"
    )
