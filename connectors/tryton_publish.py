"""Write an agreed demand plan back to Tryton as ``stock.forecast`` records (module ``stock_forecast``).

One ``stock.forecast`` per month (``from_date`` .. ``to_date`` = the month, ``warehouse``, ``destination`` =
the customer location, ``company``) with one ``stock.forecast.line`` per product (``product``, ``unit``,
``quantity``, ``minimal_quantity``). Tryton's forecast model has no name or reference field, so each
forecast carries an ``ir.note`` (visible in Tryton's client) reading ``sopxl plan <plan> version <n>``:
that note is how a version is found again.

- **Idempotent per version**: if forecasts noted with this plan and version exist and are confirmed,
  nothing is written and the existing ids are returned.
- **No half-written version**: all forecasts and their lines are created in ONE ``create`` call (one
  Tryton transaction: all or nothing). The notes and the confirmation are separate calls; if one fails,
  the forecasts just created are deleted again (and forecasts of the previous version that were moved
  back to draft are confirmed again), and :class:`PublishError` says what was rolled back.
- **Resumable after a crash** (the process killed between two calls): each step is recognisable in Tryton,
  so publishing the same version again finishes the job instead of writing a second set. Forecasts
  created but not yet noted (the crash hit between ``create`` and the notes) are found by their content:
  draft, no sopxl note, same warehouse, destination and months, and exactly the lines this version would
  create; they are adopted (noted), not duplicated. Noted but unconfirmed forecasts are confirmed, and
  earlier versions' forecasts left in draft by an interrupted supersede are cancelled.
- **Confirm** (default): the new forecasts are confirmed (state ``done``, which Tryton's supply planning
  reads); done (or half-superseded draft) forecasts of earlier sopxl versions over the same months,
  warehouse and destination are cancelled first, since Tryton refuses overlapping done forecasts.
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

from workbooks.xlsx.safe_save import checkpoint

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
    resumed: bool = False
    """True when an interrupted publish of this version was found in Tryton and finished."""

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
    create: bool = True,
) -> ForecastPublication:
    """Publish ``demand`` (``sku, bucket, qty``; month buckets ``YYYY-MM``) as version ``version`` of ``plan``.

    Raises :class:`PublishError` (after rolling back what it wrote) when Tryton refuses any step.
    ``create=False`` only adopts what an interrupted publish of this version left (notes it, confirms
    nothing): how a newer version cleans up an older one before superseding it.
    """
    existing = find_version(rpc, plan, version)
    if existing and (not confirm or _all_done(rpc, existing)):
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
    n_lines = sum(len(v["lines"][0][1]) for v in values)
    ids, fresh = list(existing), False
    if not ids:
        ids = _orphans(rpc, values)
        if not ids and not create:
            return ForecastPublication(plan, version, (), 0, created=False)
        if not ids:
            try:
                ids = [int(i) for i in rpc.model("stock.forecast", "create", values, idempotent=False)]
            except Exception as exc:
                raise PublishError(
                    f"Tryton refused the forecasts (nothing was written: one transaction): {exc}"
                ) from exc
            fresh = True
            checkpoint("erp-created")
    superseded: list[int] = []
    try:
        if not existing:
            notes = [{"resource": f"stock.forecast,{i}", "message": marker(plan, version)} for i in ids]
            rpc.model("ir.note", "create", notes, idempotent=False)
            checkpoint("erp-noted")
        if confirm:
            superseded = _supersede(rpc, plan, ids)
            checkpoint("erp-superseded")
            todo = [i for i in ids if i not in set(_done(rpc, ids))]
            if todo:
                rpc.model("stock.forecast", "confirm", todo, idempotent=False)
            checkpoint("erp-confirmed")
    except Exception as exc:
        raise PublishError(_rollback(rpc, ids, superseded, exc)) from exc
    return ForecastPublication(
        plan, version, tuple(sorted(ids)), n_lines, created=True, superseded_ids=tuple(superseded), resumed=not fresh
    )


def _done(rpc: Rpc, ids: list[int]) -> list[int]:
    rows = rpc.model("stock.forecast", "read", ids, ["state"])
    return [int(r["id"]) for r in rows if r["state"] == "done"]


def _all_done(rpc: Rpc, ids: list[int]) -> bool:
    return len(_done(rpc, ids)) == len(ids)


def _line_key(line: dict[str, Any]) -> tuple[int, int, float, float]:
    return (
        int(line["product"]),
        int(line["unit"]),
        round(float(line["quantity"]), 6),
        round(float(line["minimal_quantity"]), 6),
    )


def _orphans(rpc: Rpc, values: list[dict[str, Any]]) -> list[int]:
    """Forecasts a killed publish created but never noted: draft, without any sopxl note, and holding
    exactly ``values`` (every month, every line). Their ids, or [] when Tryton holds no such set."""
    first = values[0]
    domain = [
        ("state", "=", "draft"),
        ("warehouse", "=", first["warehouse"]),
        ("destination", "=", first["destination"]),
        ("from_date", "in", [v["from_date"] for v in values]),
    ]
    found = rpc.model("stock.forecast", "search_read", domain, 0, None, None, ["from_date", "to_date", "company"])
    if not found:
        return []
    noted = _noted_ids(rpc)
    candidates = {int(f["id"]): f for f in found if int(f["id"]) not in noted}
    if not candidates:
        return []
    lines = rpc.model(
        "stock.forecast.line",
        "search_read",
        [("forecast", "in", sorted(candidates))],
        0,
        None,
        None,
        ["forecast", "product", "unit", "quantity", "minimal_quantity"],
    )
    content: dict[int, list[tuple[int, int, float, float]]] = {i: [] for i in candidates}
    for line in lines:
        content[int(line["forecast"])].append(_line_key(line))
    chosen: list[int] = []
    for value in values:
        want = sorted(_line_key(line) for line in value["lines"][0][1])
        match = [
            i
            for i, f in candidates.items()
            if i not in chosen
            and f["from_date"] == value["from_date"]
            and f["to_date"] == value["to_date"]
            and int(f["company"]) == int(value["company"])
            and sorted(content[i]) == want
        ]
        if not match:
            return []  # the create is one transaction: a partial match is not ours
        chosen.append(min(match))
    return sorted(chosen)


def _noted_ids(rpc: Rpc) -> set[int]:
    """Ids of every forecast carrying a sopxl note (of any plan and version)."""
    notes = rpc.model("ir.note", "search_read", [("message", "like", "sopxl plan %")], 0, None, None, ["resource"])
    return {int(str(n["resource"]).split(",")[1]) for n in notes if str(n["resource"]).startswith("stock.forecast,")}


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
    rows = rpc.model(  # draft ones too: a supersede killed between its draft and cancel calls left them so
        "stock.forecast", "search_read", [("id", "in", old), ("state", "in", ["done", "draft"])], 0, None, None, fields
    )

    def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
        same = a["warehouse"] == b["warehouse"] and a["destination"] == b["destination"]
        return bool(same and a["from_date"] <= b["to_date"] and b["from_date"] <= a["to_date"])

    clash = sorted(int(r["id"]) for r in rows if any(overlaps(r, n) for n in new))
    done = [int(r["id"]) for r in rows if int(r["id"]) in clash and r["state"] == "done"]
    if done:
        rpc.model("stock.forecast", "draft", done, idempotent=False)
        checkpoint("erp-drafted")
    if clash:
        rpc.model("stock.forecast", "cancel", clash, idempotent=False)
    return done


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
