"""Seed a demo manufacturer into a fresh Tryton database (runs INSIDE the Tryton venv, with proteus).

Not imported by sopxl itself: :mod:`connectors.tryton.seed` runs it as a subprocess with the Tryton venv's
Python. It prints ``PROGRESS <done> <total> <label>`` lines for the progress bar and writes a JSON manifest
of what it created (computed from its own ledger, independent of Tryton's stock computation) so tests can
compare a snapshot with values that did not come through the connector.

Usage: python seed_script.py --config trytond.conf --database NAME --manifest manifest.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from proteus import Model  # type: ignore[import-not-found]
from proteus import config as proteus_config

TODAY = dt.date.today()  # replaced by --today: the caller's clock (sop_functions.clock), in the company's zone
HISTORY_MONTHS = 14
SEED = 20240601
STARTED = time.monotonic()

FAMILIES = ("Chairs", "Tables", "Storage", "Components", "Raw materials")
# sku, name, family, cost, price
FINISHED = [
    ("CH-100", "Office chair", "Chairs", 62, 149),
    ("CH-110", "Task chair", "Chairs", 48, 119),
    ("CH-120", "Stool", "Chairs", 21, 55),
    ("CH-130", "Lounge chair", "Chairs", 140, 329),
    ("TB-200", "Desk 120", "Tables", 85, 199),
    ("TB-210", "Desk 160", "Tables", 104, 249),
    ("TB-220", "Meeting table", "Tables", 180, 449),
    ("TB-230", "Side table", "Tables", 33, 79),
    ("ST-300", "Cabinet 2-door", "Storage", 96, 229),
    ("ST-310", "Drawer unit", "Storage", 70, 169),
    ("ST-320", "Bookcase", "Storage", 58, 139),
    ("ST-330", "Locker", "Storage", 120, 289),
]
# sku, name, family, cost, price, supplier index, lead time days, safety stock in WH (0 = no order point)
PURCHASED = [
    ("CP-400", "Gas lift", "Components", 9, 15, 2, 21, 40),
    ("CP-410", "Castor set", "Components", 6, 10, 2, 14, 40),
    ("CP-420", "Seat shell", "Components", 14, 22, 2, 28, 0),
    ("CP-430", "Table leg", "Components", 7, 12, 0, 10, 60),
    ("CP-440", "Drawer slide", "Components", 4, 7, 2, 14, 0),
    ("CP-450", "Hinge set", "Components", 2, 4, 2, 7, 50),
    ("CP-460", "Lock", "Components", 5, 9, 2, 21, 0),
    ("RM-500", "Steel tube", "Raw materials", 3, 5, 0, 14, 100),
    ("RM-510", "Board 18mm", "Raw materials", 11, 18, 1, 10, 80),
    ("RM-520", "Fabric", "Raw materials", 8, 13, 1, 35, 0),
    ("RM-530", "Screw pack", "Raw materials", 1, 2, 2, 5, 0),
    ("RM-540", "Paint", "Raw materials", 6, 10, 1, 12, 0),
]
SUPPLIERS = ["Nordic Steelworks", "Boards & Panels Co", "Fittings Ltd"]
CUSTOMERS = ["Officeworld", "Campus Interiors", "Hotel Group Nord", "Buro Direct", "City Library Trust"]
# work center name -> (operation name)
WORK_CENTERS = ["Cutting", "Welding", "Assembly", "Finishing"]
# family -> routing steps: (work center, hours per unit)
ROUTING_HOURS = {
    "Chairs": [("Cutting", 0.25), ("Welding", 0.5), ("Assembly", 0.75)],
    "Tables": [("Cutting", 0.5), ("Assembly", 1.0), ("Finishing", 0.5)],
    "Storage": [("Cutting", 0.75), ("Assembly", 1.5), ("Finishing", 0.5)],
}
BOMS = {
    "CH-100": [("CP-400", 1), ("CP-410", 1), ("CP-420", 1), ("RM-500", 2), ("RM-530", 1)],
    "CH-110": [("CP-400", 1), ("CP-410", 1), ("CP-420", 1), ("RM-530", 1)],
    "CH-120": [("RM-500", 3), ("RM-530", 1)],
    "CH-130": [("RM-500", 4), ("RM-520", 3), ("RM-530", 2)],
    "TB-200": [("CP-430", 4), ("RM-510", 2), ("RM-530", 1)],
    "TB-210": [("CP-430", 4), ("RM-510", 3), ("RM-530", 1)],
    "TB-220": [("CP-430", 6), ("RM-510", 5), ("RM-530", 2), ("RM-540", 1)],
    "TB-230": [("CP-430", 4), ("RM-510", 1)],
    "ST-300": [("CP-450", 2), ("CP-460", 1), ("RM-510", 4), ("RM-530", 1)],
    "ST-310": [("CP-440", 3), ("CP-460", 1), ("RM-510", 2)],
    "ST-320": [("RM-510", 5), ("RM-530", 1)],
    "ST-330": [("CP-450", 2), ("CP-460", 2), ("RM-500", 6), ("RM-540", 2)],
}


class Seeder:
    def __init__(self, total_steps: int) -> None:
        self.rng = random.Random(SEED)
        self.step = 0
        self.total = total_steps
        self.ledger: dict[tuple[str, str], float] = defaultdict(float)
        self.manifest: dict[str, Any] = {"today": TODAY.isoformat()}
        self.products: dict[str, Any] = {}
        self.family_of: dict[str, str] = {}

    def progress(self, label: str, steps: int = 1) -> None:
        self.step += steps
        print(f"PROGRESS {min(self.step, self.total)} {self.total} {label}", flush=True)
        print(f"  t={time.monotonic() - STARTED:.1f}s", file=sys.stderr, flush=True)

    # --- master data --------------------------------------------------------------------------------
    def company(self) -> None:
        from trytond.modules.company.tests.tools import create_company  # type: ignore[import-not-found]

        party_model = Model.get("party.party")
        create_company(party=party_model(name="Demo Furniture Manufacturing"), currency=self._currency())
        self.company_rec = Model.get("company.company").find()[0]
        self.progress("company")

    def _currency(self) -> Any:
        currency = Model.get("currency.currency")(name="Euro", symbol="€", code="EUR", rounding=Decimal("0.01"))
        currency.save()
        Model.get("currency.currency.rate")(date=dt.date.min, rate=Decimal(1), currency=currency).save()
        self.currency = currency
        return currency

    def parties(self) -> None:
        party_model = Model.get("party.party")
        self.suppliers = [party_model(name=n) for n in SUPPLIERS]
        self.customers = [party_model(name=n) for n in CUSTOMERS]
        party_model.save(self.suppliers + self.customers)
        self.progress("parties")

    def warehouses(self) -> None:
        location = Model.get("stock.location")
        self.wh = location.find([("code", "=", "WH")])[0]
        self.wh.name = "Main Warehouse"
        self.wh.save()
        self.customer_loc = location.find([("code", "=", "CUS")])[0]
        self.supplier_loc = location.find([("code", "=", "SUP")])[0]
        self.lost_found = location.find([("type", "=", "lost_found")])[0]
        inp = location(name="East Input", type="storage")
        out = location(name="East Output", type="storage")
        sto = location(name="East Storage", type="storage")
        location.save([inp, out, sto])
        wh2 = location(name="East Depot", code="WH2", type="warehouse")
        wh2.input_location = inp
        wh2.output_location = out
        wh2.storage_location = sto
        wh2.lost_found_location = self.lost_found
        wh2.production_location = self.wh.production_location
        wh2.save()
        self.wh2 = wh2
        self.storage = {"WH": self.wh.storage_location, "WH2": sto}
        self.warehouse = {"WH": self.wh, "WH2": wh2}
        self.manifest["warehouses"] = {"WH": self.wh.name, "WH2": wh2.name}
        self.progress("warehouses")

    def products_(self) -> None:
        category = Model.get("product.category")
        template_model = Model.get("product.template")
        unit = Model.get("product.uom").find([("name", "=", "Unit")])[0]
        cats = {name: category(name=name) for name in FAMILIES}
        category.save(list(cats.values()))
        items: list[dict[str, Any]] = []
        templates = []
        for sku, name, family, cost, price in FINISHED:
            templates.append((sku, self._template(template_model, unit, cats[family], sku, name, cost, price, True)))
            items.append(self._item(sku, name, family, cost, price, None, 0))
        for sku, name, family, cost, price, _sup, lead, safety in PURCHASED:
            templates.append((sku, self._template(template_model, unit, cats[family], sku, name, cost, price, False)))
            items.append(self._item(sku, name, family, cost, price, lead, safety))
        template_model.save([t for _, t in templates])
        for sku, template in templates:
            self.products[sku] = template.products[0]
        self.manifest["items"] = items
        self.progress("products")

    def _template(
        self, model: Any, unit: Any, cat: Any, sku: str, name: str, cost: int, price: int, producible: bool
    ) -> Any:
        template = model(name=name, code=sku, default_uom=unit, type="goods", list_price=Decimal(price))
        template.salable = producible
        template.purchasable = not producible
        if producible:
            template.lead_time = dt.timedelta(0)  # sale lead time: ship on the sale's shipping date
        else:
            template.purchase_uom = unit
        template.producible = producible
        template.categories.append(Model.get("product.category")(cat.id))
        product = template.products[0]
        product.cost_price = Decimal(cost)
        self.family_of[sku] = cat.name
        return template

    @staticmethod
    def _item(sku: str, name: str, family: str, cost: int, price: int, lead: int | None, safety: int) -> dict[str, Any]:
        return {
            "sku": sku,
            "description": name,
            "family": family,
            "unit_cost": cost,
            "unit_price": price,
            "lead_time_days": lead,
            "safety_stock": safety,
        }

    def supply_settings(self) -> None:
        product_supplier = Model.get("purchase.product_supplier")
        order_point = Model.get("stock.order_point")
        records = []
        points = []
        for sku, _n, _f, _c, _p, sup, lead, safety in PURCHASED:
            product = self.products[sku]
            records.append(
                product_supplier(
                    template=product.template,
                    product=product,
                    party=self.suppliers[sup],
                    lead_time=dt.timedelta(days=lead),
                )
            )
            if safety:
                points.append(
                    order_point(
                        product=product,
                        type="purchase",
                        location=self.wh,
                        min_quantity=float(safety),
                        target_quantity=float(safety * 3),
                    )
                )
        product_supplier.save(records)
        order_point.save(points)
        self.progress("suppliers and order points")

    def manufacturing(self) -> None:
        category_model = Model.get("production.work.center.category")
        center_model = Model.get("production.work.center")
        operation_model = Model.get("production.routing.operation")
        routing_model = Model.get("production.routing")
        bom_model = Model.get("production.bom")
        product_bom = Model.get("product.product-production.bom")
        categories = {name: category_model(name=name) for name in WORK_CENTERS}
        category_model.save(list(categories.values()))
        self.plant = center_model(name="Plant", warehouse=self.wh)
        self.plant.save()
        self.centers = {}
        for name in WORK_CENTERS:
            center = center_model(name=name, category=categories[name], warehouse=self.wh)
            center.parent = center_model(self.plant.id)
            center.cost_price = Decimal(40)
            center.cost_method = "hour"
            self.centers[name] = center
        center_model.save(list(self.centers.values()))
        operations = {
            name: operation_model(name=f"{name} operation", work_center_category=categories[name])
            for name in WORK_CENTERS
        }
        operation_model.save(list(operations.values()))
        self.routings: dict[str, Any] = {}
        for family, steps in ROUTING_HOURS.items():
            routing = routing_model(name=f"{family} routing")
            for center_name, _hours in steps:
                routing.steps.new(operation=operations[center_name])
            routing.save()
            self.routings[family] = routing
        self.boms: dict[str, Any] = {}
        bom_lines = []
        for parent, components in BOMS.items():
            bom = bom_model(name=parent)
            for component, qty in components:
                line = bom.inputs.new()
                line.product = self.products[component]
                line.quantity = float(qty)
                bom_lines.append({"parent_sku": parent, "component_sku": component, "qty_per": qty})
            output = bom.outputs.new()
            output.product = self.products[parent]
            output.quantity = 1.0
            bom.save()
            routing = self.routings[self.family_of[parent]]
            routing.boms.append(bom_model(bom.id))
            routing.save()
            product = self.products[parent]
            product.boms.append(product_bom(bom=bom, routing=routing))
            product.save()
            self.boms[parent] = bom
        self.products = {sku: Model.get("product.product")(p.id) for sku, p in self.products.items()}
        self.manifest["bom"] = bom_lines
        self.manifest["work_centers"] = WORK_CENTERS
        self.progress("work centers, routings, BOMs")

    # --- stock history ------------------------------------------------------------------------------
    def initial_inventory(self, start: dt.date) -> None:
        inventory_model = Model.get("stock.inventory")
        for code in ("WH", "WH2"):
            inventory = inventory_model(location=self.storage[code], date=start)
            for sku, *_ in FINISHED:
                # lean finished-goods stock (a few months of cover) so the demo plan shows real gaps
                qty = float(self.rng.randrange(30, 90, 10) if code == "WH" else self.rng.randrange(10, 50, 10))
                line = inventory.lines.new()
                line.product = self.products[sku]
                line.quantity = qty
                self.ledger[(sku, code)] += qty
            if code == "WH":
                for sku, *_ in PURCHASED:
                    qty = float(self.rng.randrange(400, 900, 50))
                    line = inventory.lines.new()
                    line.product = self.products[sku]
                    line.quantity = qty
                    self.ledger[(sku, code)] += qty
            inventory.click("confirm")
        self.progress("initial inventory")

    def month_receipts(self, month: dt.date) -> None:
        """Component receipts of one month: done moves from suppliers straight into the main storage."""
        move_model = Model.get("stock.move")
        moves = []
        day = month + dt.timedelta(days=self.rng.randrange(3, 20))
        if day >= TODAY:  # a done move dated in the future is not on hand today: it would not match the ledger
            return
        for sku, *_rest in PURCHASED:
            qty = float(self.rng.randrange(150, 400, 10))
            moves.append(
                move_model(
                    product=self.products[sku],
                    quantity=qty,
                    from_location=self.supplier_loc,
                    to_location=self.storage["WH"],
                    planned_date=day,
                    effective_date=day,
                    unit_price=Decimal(str(_rest[2])),
                    currency=self.currency,
                )
            )
            self.ledger[(sku, "WH")] += qty
        move_model.save(moves)
        move_model.click(moves, "do")

    def month_shipments(self, month: dt.date, shipped: dict[tuple[str, str], float]) -> None:
        """Customer shipments of one month: one shipment per customer, a few lines each (workflow batched)."""
        shipment_model = Model.get("stock.shipment.out")
        shipments = []
        for index, customer in enumerate(self.customers):
            code = "WH" if index % 2 == 0 else "WH2"
            day = month + dt.timedelta(days=self.rng.randrange(0, 27))
            if day >= TODAY:
                continue
            shipment = shipment_model(customer=customer, warehouse=self.warehouse[code], planned_date=day)
            shipment.effective_date = day
            for sku, *_ in self.rng.sample(FINISHED, 4):
                qty = float(self.rng.randrange(2, 16))
                if self.ledger[(sku, code)] - qty < 0:
                    continue
                move = shipment.outgoing_moves.new()
                move.product = self.products[sku]
                move.quantity = qty
                move.from_location = self.warehouse[code].output_location
                move.to_location = self.customer_loc
                move.unit_price = Decimal(1)
                move.currency = self.currency
                self.ledger[(sku, code)] -= qty
                shipped[(sku, day.strftime("%Y-%m"))] += qty
            if shipment.outgoing_moves:
                shipments.append(shipment)
        if not shipments:
            return
        shipment_model.save(shipments)
        for button in ("wait", "assign_force", "pick", "pack", "do"):
            shipment_model.click(shipments, button)

    def productions_run(self, orders: list[tuple[str, float]], start: dt.date, due: dt.date, done: bool) -> list[Any]:
        """Productions in the main warehouse, run (components consumed) and optionally done with work cycles."""
        production_model = Model.get("production")
        center_model = Model.get("production.work.center")
        productions = []
        for sku, qty in orders:
            production = production_model()
            production.warehouse = self.wh
            production.product = self.products[sku]
            production.bom = self.boms[sku]
            production.routing = self.routings[self.family_of[sku]]
            production.work_center = center_model(self.plant.id)
            production.quantity = qty
            production.planned_date = due
            production.planned_start_date = start
            production.effective_start_date = start
            if done:
                production.effective_date = start
            productions.append(production)
            for component, per in BOMS[sku]:
                self.ledger[(component, "WH")] -= per * qty
        production_model.save(productions)
        for button in ("wait", "assign_force", "run"):
            production_model.click(productions, button)
        if not done:
            return productions
        cycle_model = Model.get("production.work.cycle")
        cycles, hours = [], []
        for production, (sku, qty) in zip(productions, orders, strict=True):
            production.reload()
            per_center = dict(ROUTING_HOURS[self.family_of[sku]])
            for work in production.works:
                cycles.append(cycle_model(work=work))
                hours.append(per_center[work.work_center.name] * qty)
        cycle_model.save(cycles)
        cycle_model.click(cycles, "run")
        for cycle, duration in zip(cycles, hours, strict=True):
            cycle.reload()
            cycle.duration = dt.timedelta(hours=duration)
        cycle_model.save(cycles)
        cycle_model.click(cycles, "do")
        for production in productions:
            production.reload()
        production_model.click(productions, "do")
        for sku, qty in orders:
            self.ledger[(sku, "WH")] += qty
        return productions

    def history(self, start: dt.date) -> None:
        shipped: dict[tuple[str, str], float] = defaultdict(float)
        month = start
        done_skus: set[str] = set()
        while month <= TODAY:
            self.month_receipts(month)
            self.month_shipments(month, shipped)
            if month.month % 4 == 0 and month < TODAY.replace(day=1):
                orders = [(sku, float(self.rng.randrange(20, 50, 5))) for sku, *_ in FINISHED]
                day = month + dt.timedelta(days=14)
                self.productions_run(orders, day, day, done=True)
                done_skus.update(sku for sku, _ in orders)
            self.progress(f"history {month:%Y-%m}")
            month = (month + dt.timedelta(days=32)).replace(day=1)
        self.manifest["shipments_by_sku_month"] = [
            {"sku": sku, "month": m, "qty": q} for (sku, m), q in sorted(shipped.items())
        ]
        self.manifest["routings"] = [
            {"sku": sku, "work_center": center, "hours_per_unit": hours}
            for sku, _n, family, *_ in FINISHED
            if sku in done_skus
            for center, hours in ROUTING_HOURS[family]
        ]

    # --- open orders --------------------------------------------------------------------------------
    def open_sales(self) -> None:
        sale_model = Model.get("sale.sale")
        lines_out = []
        for number in range(10):
            customer = self.customers[number % len(self.customers)]
            code = "WH" if number % 3 else "WH2"
            sale = sale_model(party=customer, warehouse=self.warehouse[code])
            sale.invoice_method = "manual"
            sale.shipment_method = "order"
            ship = TODAY + dt.timedelta(days=self.rng.randrange(3, 75))
            sale.shipping_date = ship
            for sku, _name, _family, _cost, price in self.rng.sample(FINISHED, self.rng.randrange(1, 4)):
                line = sale.lines.new()
                line.product = self.products[sku]
                qty = float(self.rng.randrange(3, 30))
                line.quantity = qty
                line.unit_price = Decimal(price)
                lines_out.append(
                    {"sku": sku, "qty": qty, "requested_date": ship.isoformat(), "customer": customer.name}
                )
            sale.click("quote")
            sale.click("confirm")
            sale.reload()
            for row in lines_out:
                row.setdefault("order_id", sale.number)
        self.manifest["open_demand"] = lines_out
        self.progress("open sales")

    def open_purchases(self) -> None:
        purchase_model = Model.get("purchase.purchase")
        rows = []
        for number in range(8):
            supplier_index = number % len(SUPPLIERS)
            candidates = [p for p in PURCHASED if p[5] == supplier_index]
            purchase = purchase_model(party=self.suppliers[supplier_index], warehouse=self.wh)
            purchase.invoice_method = "manual"
            due = TODAY + dt.timedelta(days=self.rng.randrange(5, 60))
            purchase.delivery_date = due
            for sku, _n, _f, cost, *_ in self.rng.sample(candidates, min(len(candidates), self.rng.randrange(1, 4))):
                line = purchase.lines.new()
                line.product = self.products[sku]
                qty = float(self.rng.randrange(100, 500, 50))
                line.quantity = qty
                line.unit_price = Decimal(cost)
                rows.append({"sku": sku, "qty": qty, "expected_date": due.isoformat(), "supplier": purchase.party.name})
            purchase.click("quote")
            purchase.click("confirm")
            purchase.reload()
            for row in rows:
                row.setdefault("order_id", purchase.number)
        self.manifest["receipts"] = rows
        self.progress("open purchases")

    def open_productions(self) -> None:
        production_model = Model.get("production")
        rows = []
        plan = [
            ("draft", "planned"),
            ("draft", "planned"),
            ("waiting", "firm"),
            ("waiting", "firm"),
            ("assigned", "firm"),
            ("running", "running"),
            ("running", "running"),
            ("cancelled", None),
        ]
        for index, (state, canonical) in enumerate(plan):
            sku = FINISHED[(index * 5) % len(FINISHED)][0]
            qty = float(self.rng.randrange(20, 60, 5))
            due = TODAY + dt.timedelta(days=self.rng.randrange(2, 40))
            if state == "running":
                (production,) = self.productions_run([(sku, qty)], TODAY, due, done=False)
            else:
                production = production_model(warehouse=self.wh, product=self.products[sku], bom=self.boms[sku])
                production.quantity = qty
                production.planned_date = due
                production.planned_start_date = due - dt.timedelta(days=2)
                production.save()
                if state in ("waiting", "assigned"):
                    production.click("wait")
                if state == "assigned":
                    production.click("assign_force")
                if state == "cancelled":
                    production.click("cancel")
            production.reload()
            assert production.state == state, (production.state, state)
            if canonical:
                order_id = production.number or f"production-{production.id}"
                rows.append(
                    {"order_id": order_id, "sku": sku, "qty": qty, "due_date": due.isoformat(), "state": canonical}
                )
        self.manifest["production"] = rows
        self.progress("open production orders")

    def finish(self) -> None:
        self.manifest["stock"] = [
            {"sku": sku, "warehouse": code, "qty": qty} for (sku, code), qty in sorted(self.ledger.items())
        ]
        self.manifest["customers"] = CUSTOMERS
        self.manifest["suppliers"] = SUPPLIERS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the seed's today (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    global TODAY
    TODAY = args.today or TODAY
    connection = proteus_config.set_trytond(database=args.database, config_file=args.config)
    connection.skip_warning = True  # e.g. supplier receipts seeded as bare moves have no origin
    start = (TODAY.replace(day=1) - dt.timedelta(days=31 * HISTORY_MONTHS)).replace(day=1)
    months = (TODAY.year - start.year) * 12 + TODAY.month - start.month + 1
    seeder = Seeder(total_steps=12 + months)
    seeder.company()
    seeder.parties()
    seeder.warehouses()
    seeder.products_()
    seeder.supply_settings()
    seeder.manufacturing()
    seeder.initial_inventory(start)
    seeder.history(start)
    seeder.open_sales()
    seeder.open_purchases()
    seeder.open_productions()
    seeder.finish()
    with open(args.manifest, "w", encoding="utf-8") as handle:
        json.dump(seeder.manifest, handle, indent=1, sort_keys=True)
    seeder.progress("done", seeder.total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
