"""Seeding test cases into a private copy of the demo database through Tryton's own RPC (not a test module).

Each helper does what a user does in the Tryton client (create, then click the workflow buttons), so the
records carry what Tryton itself computes (planned dates, rest moves, transit moves), never a value the
test wrote for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from connectors.tryton.transport import TrytonTransport


class Seeder:
    """RPC helpers over one transport, with the demo's names resolved to ids."""

    def __init__(self, transport: TrytonTransport) -> None:
        self.t = transport
        self.today: dt.date = transport.model("ir.date", "today")

    def write(self, model: str, method: str, *args: Any) -> Any:
        return self.t.model(model, method, *args, idempotent=False)

    def find(self, model: str, field: str, value: Any) -> int:
        ids = self.t.model(model, "search", [(field, "=", value)], 0, None, None)
        assert len(ids) == 1, (model, field, value, ids)
        return int(ids[0])

    def product(self, code: str) -> int:
        return self.find("product.product", "code", code)

    def location(self, code: str) -> int:
        return self.find("stock.location", "code", code)

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    # --- master data ---------------------------------------------------------------------------------
    def unit(self, name: str, factor: float) -> int:
        """A unit of the "Units" category worth ``factor`` units (rate as Tryton computes it)."""
        values = {"name": name, "symbol": name[:3], "category": 1, "rounding": 1.0, "digits": 0}
        (uom,) = self.write("product.uom", "create", [{**values, "factor": factor, "rate": round(1 / factor, 12)}])
        return int(uom)

    def category(self, name: str, parent: int | None = None) -> int:
        (cid,) = self.write("product.category", "create", [{"name": name, "parent": parent}])
        return int(cid)

    def goods(self, code: str, name: str, categories: list[int], *, salable: bool = False, **template: Any) -> int:
        """A goods product in unit "Unit"; a salable one has no sale lead time unless given."""
        values: dict[str, Any] = {
            "name": name,
            "code": code,
            "default_uom": 1,
            "type": "goods",
            "list_price": Decimal(30),
            "categories": [["add", categories]],
            "products": [["create", [{"cost_price": Decimal(12)}]]],
        }
        if salable:
            values.update(salable=True, sale_uom=1, producible=True)
        values.update(template)
        self.write("product.template", "create", [values])
        return self.product(code)

    # --- documents ------------------------------------------------------------------------------------
    def _party(self, name: str) -> tuple[int, int]:
        party = self.find("party.party", "name", name)
        (address,) = self.t.model("party.address", "search", [("party", "=", party)], 0, 1, None)
        return party, int(address)

    def sale(self, customer: str, lines: list[tuple[str, float, int]], *, method: str = "order", **header: Any) -> int:
        """A confirmed sale of ``(code, quantity, unit)`` lines from the main warehouse."""
        party, address = self._party(customer)
        values = {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "warehouse": self.location("WH"),
            "invoice_method": "manual",
            "shipment_method": method,
            "lines": [
                [
                    "create",
                    [
                        {"product": self.product(c), "quantity": q, "unit": u, "unit_price": Decimal(50)}
                        for c, q, u in lines
                    ],
                ]
            ],
            **header,
        }
        (sale,) = self.write("sale.sale", "create", [values])
        self.write("sale.sale", "quote", [sale])
        self.write("sale.sale", "confirm", [sale])
        return int(sale)

    def purchase(self, supplier: str, lines: list[tuple[str, float, int]], **header: Any) -> int:
        """A confirmed purchase of ``(code, quantity, unit)`` lines into the main warehouse."""
        party, address = self._party(supplier)
        values = {
            "party": party,
            "invoice_address": address,
            "warehouse": self.location("WH"),
            "invoice_method": "manual",
            "lines": [
                [
                    "create",
                    [
                        {"product": self.product(c), "quantity": q, "unit": u, "unit_price": Decimal(5)}
                        for c, q, u in lines
                    ],
                ]
            ],
            **header,
        }
        (purchase,) = self.write("purchase.purchase", "create", [values])
        self.write("purchase.purchase", "quote", [purchase])
        self.write("purchase.purchase", "confirm", [purchase])
        return int(purchase)

    def number(self, model: str, rid: int) -> str:
        (row,) = self.t.model(model, "read", [rid], ["number"])
        return str(row["number"])

    def moves(self, origin_model: str, header: str, rid: int) -> list[dict[str, Any]]:
        """The stock moves of a sale's or purchase's lines, as Tryton planned them."""
        lines = self.t.model(origin_model, "search", [(header, "=", rid)], 0, None, None)
        return list(
            self.t.model(
                "stock.move",
                "search_read",
                [("origin", "in", [f"{origin_model},{line}" for line in lines])],
                0,
                None,
                None,
                ["planned_date", "quantity", "internal_quantity", "state"],
            )
        )
