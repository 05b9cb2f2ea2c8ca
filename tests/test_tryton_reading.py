"""Tryton data read the way Tryton means it, on a real trytond: units, dates, states, transfers, families.

One private copy of the demo database gets every case through Tryton's own RPC (as a user would enter it),
after a first full sync: the sync that reads the cases is incremental, and must equal a full resync.
Each test first checks that Tryton really behaves as the case claims (a move planned "today", a purchase
move without a date, a sale without moves), then what sopxl made of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from connectors.notices import DataWarning
from connectors.tryton.server import DemoServer, demo_server
from connectors.tryton.sync import SyncCache, SyncReport, sync
from sop_functions.snapshot import Snapshot
from tests.tryton_seeding import Seeder
from tests.tryton_support import transport_for

pytestmark = pytest.mark.tryton


@dataclass
class Cases:
    """What was seeded (ids, numbers, dates) and what the syncs made of it."""

    seeder: Seeder
    ids: dict[str, Any] = field(default_factory=dict)
    before: Snapshot | None = None
    snapshot: Snapshot | None = None
    report: SyncReport | None = None
    full: Snapshot | None = None

    @property
    def today(self) -> dt.date:
        return self.seeder.today

    def day(self, offset: int) -> dt.date:
        return self.seeder.day(offset)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-reading")) as server:
        yield server


def _seed_units(s: Seeder, ids: dict[str, Any]) -> None:
    box = ids["box"] = s.unit("Box of 12", 12.0)
    chairs = s.find("product.category", "name", "Chairs")
    stool = ids["BX-900"] = s.goods("BX-900", "Boxed stool", [chairs], salable=True, lead_time=None)
    (bom,) = s.write(
        "production.bom",
        "create",
        [
            {
                "name": "BX-900",
                "inputs": [
                    [
                        "create",
                        [
                            {"product": s.product("RM-500"), "quantity": 6.0, "unit": 1},
                            {"product": s.product("RM-530"), "quantity": 1.0, "unit": box},
                        ],
                    ]
                ],
                "outputs": [["create", [{"product": stool, "quantity": 1.0, "unit": box}]]],
            }
        ],
    )
    routing = s.find("production.routing", "name", "Chairs routing")
    s.write("production.routing", "write", [routing], {"boms": [["add", [bom]]]})
    s.write("product.product", "write", [stool], {"boms": [["create", [{"bom": bom, "routing": routing}]]]})
    common = {"warehouse": s.location("WH"), "location": s.location("PROD"), "unit": box}
    (planned,) = s.write(
        "production",
        "create",
        [
            {
                **common,
                "product": s.product("CH-100"),
                "quantity": 2.0,
                "planned_date": s.day(10),
                "planned_start_date": s.day(7),
            }
        ],
    )
    ids["production"] = planned
    # a production of 1 box done with 6 hours on each work center: 0.5 h per stool
    made = {"bom": bom, "routing": routing, "work_center": s.find("production.work.center", "name", "Plant")}
    dates = {"planned_date": s.day(-5), "planned_start_date": s.day(-6), "effective_start_date": s.day(-6)}
    (done,) = s.write("production", "create", [{**common, **made, **dates, "product": stool, "quantity": 1.0}])
    for button in ("wait", "assign_force", "run"):
        s.write("production", button, [done])
    (row,) = s.t.model("production", "read", [done], ["works"])
    cycles = s.write("production.work.cycle", "create", [{"work": w} for w in row["works"]])
    s.write("production.work.cycle", "run", cycles)
    s.write("production.work.cycle", "write", cycles, {"duration": dt.timedelta(hours=6)})
    s.write("production.work.cycle", "do", cycles)
    s.write("production", "do", [done])
    ids["centers"] = len(row["works"])


def _seed_orders(s: Seeder, ids: dict[str, Any]) -> None:
    box = ids["box"]
    # a purchase confirmed after its delivery date, in boxes, 2 of 5 boxes received late; Tryton plans the
    # rest with no date
    late = ids["late_purchase"] = s.purchase(
        "Fittings Ltd", [("RM-530", 5.0, box)], purchase_date=s.day(-20), delivery_date=s.day(-10)
    )
    (first,) = s.moves("purchase.line", "purchase", late)
    s.write("stock.move", "write", [first["id"]], {"quantity": 2.0, "effective_date": s.day(-2)})
    s.write("stock.move", "do", [first["id"]])
    s.write("purchase.purchase", "process", [late])
    ids["overdue_purchase"] = s.purchase(
        "Nordic Steelworks", [("CP-430", 100.0, 1)], purchase_date=s.day(-12), delivery_date=s.day(-4)
    )
    # a sale entered after its shipping date; a product without sale lead time; two sales without moves
    ids["late_sale"] = s.sale("Officeworld", [("CH-120", 4.0, 1)], sale_date=s.day(-7), shipping_date=s.day(-3))
    ids["no_lead_sale"] = s.sale("Campus Interiors", [("BX-900", 5.0, 1)], shipping_date=s.day(30))
    ids["manual_sale"] = s.sale("Buro Direct", [("CH-110", 3.0, box)], method="manual", shipping_date=s.day(12))
    ids["invoice_sale"] = s.sale("Hotel Group Nord", [("TB-230", 2.0, 1)], method="invoice", shipping_date=s.day(15))
    # a sale whose shipment a user moved later: that decision stands
    moved = ids["moved_sale"] = s.sale("City Library Trust", [("CH-130", 6.0, 1)], shipping_date=s.day(20))
    (move,) = s.moves("sale.line", "sale", moved)
    s.write("stock.move", "write", [move["id"]], {"planned_date": s.day(25)})


def _seed_stock_and_families(s: Seeder, ids: dict[str, Any]) -> None:
    storage = s.location("STO")
    east = s.find("stock.location", "name", "East Storage")
    move = {"product": s.product("ST-320"), "quantity": 5.0, "unit": 1, "from_location": storage, "to_location": east}
    (shipment,) = s.write(
        "stock.shipment.internal",
        "create",
        [
            {
                "from_location": storage,
                "to_location": east,
                "planned_date": s.today,
                "planned_start_date": s.today,
                "moves": [["create", [move]]],
            }
        ],
    )
    for button in ("wait", "assign_force", "pack", "ship"):
        s.write("stock.shipment.internal", button, [shipment])
    ids["shipment"] = shipment
    zeta = s.category("Zeta")  # created first: the lower id
    alpha = s.category("Alpha")
    s.goods("TC-1", "In two categories", [zeta, alpha])
    pumps, valves = s.category("Pumps"), s.category("Valves")
    s.goods("PS-1", "Pump seal", [s.category("Spares", pumps)])
    s.goods("VS-1", "Valve seat", [s.category("Spares", valves)])
    s.goods("NC-1", "No category", [])
    # a BOM input whose product later changed to a unit of another category: no conversion exists
    glue = s.goods("GL-1", "Glue", [])
    kit = s.goods("GL-KIT", "Glued kit", [alpha])
    inputs = [["create", [{"product": glue, "quantity": 2.0, "unit": 1}]]]
    outputs = [["create", [{"product": kit, "quantity": 1.0, "unit": 1}]]]
    s.write("production.bom", "create", [{"name": "GL-KIT", "inputs": inputs, "outputs": outputs}])
    (template,) = s.t.model("product.product", "read", [glue], ["template"])
    s.write(
        "product.template", "write", [template["template"]], {"default_uom": s.find("product.uom", "name", "Kilogram")}
    )
    # lot sizes: a supplier price from 10 screw packs; hinges bought in boxes of 12
    (supplier,) = s.t.model("purchase.product_supplier", "search", [("product", "=", s.product("RM-530"))], 0, 1, None)
    s.write(
        "purchase.product_supplier.price", "create", [{"product_supplier": supplier, "quantity": 10.0, "unit_price": 1}]
    )
    components = s.find("product.category", "name", "Components")
    s.goods("HB-1", "Hinges by the box", [components], purchasable=True, purchase_uom=ids["box"])


@pytest.fixture(scope="module")
def cases(demo: DemoServer) -> Cases:
    t = transport_for(demo)
    seeder = Seeder(t)
    found = Cases(seeder)
    cache = SyncCache(demo.settings.cache_file, "reading")
    found.before, _ = sync(t, cache, full=True, overlap_seconds=0)
    _seed_units(seeder, found.ids)
    _seed_orders(seeder, found.ids)
    _seed_stock_and_families(seeder, found.ids)
    found.snapshot, found.report = sync(t, cache, overlap_seconds=0)
    found.full, _ = sync(t, SyncCache(demo.settings.cache_dir / "full.sqlite", "reading"), full=True)
    return found


def _rows(frame: pd.DataFrame, **match: Any) -> list[dict[str, Any]]:
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        mask &= frame[column] == value
    out = frame[mask].to_dict("records")
    for row in out:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.date()
    return out


def _warnings(cases: Cases, table: str) -> list[DataWarning]:
    assert cases.report is not None
    return [w for w in cases.report.warnings if w.table == table]


def test_incremental_sync_of_all_cases_equals_a_full_resync(cases: Cases) -> None:
    assert cases.snapshot is not None and cases.full is not None
    for entity, frame in cases.snapshot.frames.items():
        left = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        right = cases.full.frames[entity].sort_values(list(frame.columns)).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, obj=entity)


def test_production_quantity_is_in_the_products_unit(cases: Cases) -> None:
    (row,) = cases.seeder.t.model("production", "read", [cases.ids["production"]], ["quantity", "unit", "number"])
    assert (row["quantity"], row["unit"]) == (2.0, cases.ids["box"])  # Tryton: 2 boxes
    assert cases.snapshot is not None
    name = row["number"] or f"production-{cases.ids['production']}"  # a draft has no number yet
    (order,) = _rows(cases.snapshot.production, order_id=name)
    assert order["qty"] == 24.0
    assert (order["due_date"], order["start_date"], order["state"]) == (cases.day(10), cases.day(7), "planned")


def test_bom_and_routing_quantities_are_in_the_products_units(cases: Cases) -> None:
    assert cases.snapshot is not None
    bom = {r["component_sku"]: r["qty_per"] for r in _rows(cases.snapshot.bom, parent_sku="BX-900")}
    assert bom == {"RM-500": pytest.approx(0.5), "RM-530": pytest.approx(1.0)}  # per stool, not per box
    hours = {r["work_center"]: r["hours_per_unit"] for r in _rows(cases.snapshot.routings, sku="BX-900")}
    assert len(hours) == cases.ids["centers"] == 3
    assert list(hours.values()) == [pytest.approx(0.5)] * 3  # 6 h for a box of 12


def test_overdue_and_late_partial_purchases_are_due_when_the_purchase_said(cases: Cases) -> None:
    s, snapshot = cases.seeder, cases.snapshot
    assert snapshot is not None
    late = s.moves("purchase.line", "purchase", cases.ids["late_purchase"])
    assert sorted((m["state"], m["quantity"], m["planned_date"]) for m in late) == [
        ("done", 2.0, None),
        ("draft", 3.0, None),  # Tryton: the rest of the receipt has no planned date
    ]
    (rest,) = _rows(snapshot.receipts, order_id=s.number("purchase.purchase", cases.ids["late_purchase"]))
    assert (rest["sku"], rest["qty"], rest["expected_date"]) == ("RM-530", 36.0, cases.day(-10))
    assert rest["supplier"] == "Fittings Ltd"
    (overdue,) = _rows(snapshot.receipts, order_id=s.number("purchase.purchase", cases.ids["overdue_purchase"]))
    assert (overdue["qty"], overdue["expected_date"]) == (100.0, cases.day(-4))
    assert overdue["expected_date"] < snapshot.as_of.date()  # past due, not "today"


def test_sales_are_due_when_the_customer_asked(cases: Cases) -> None:
    s, snapshot = cases.seeder, cases.snapshot
    assert snapshot is not None
    for key, day in (("late_sale", -3), ("no_lead_sale", 30)):
        (move,) = s.moves("sale.line", "sale", cases.ids[key])
        assert move["planned_date"] in (cases.today, cases.day(1))  # Tryton planned it "today" (even past midnight)
        (line,) = _rows(snapshot.open_demand, order_id=s.number("sale.sale", cases.ids[key]))
        assert line["requested_date"] == cases.day(day), key
    (moved,) = _rows(snapshot.open_demand, order_id=s.number("sale.sale", cases.ids["moved_sale"]))
    assert (moved["qty"], moved["requested_date"]) == (6.0, cases.day(25))


def test_confirmed_sales_without_moves_are_open_demand(cases: Cases) -> None:
    s, snapshot = cases.seeder, cases.snapshot
    assert snapshot is not None
    expected = {
        "manual_sale": ("CH-110", 36.0, 12, "Buro Direct"),
        "invoice_sale": ("TB-230", 2.0, 15, "Hotel Group Nord"),
    }
    for key, (sku, qty, day, customer) in expected.items():
        assert s.moves("sale.line", "sale", cases.ids[key]) == []  # Tryton: no move yet
        (line,) = _rows(snapshot.open_demand, order_id=s.number("sale.sale", cases.ids[key]))
        assert (line["sku"], line["qty"], line["requested_date"], line["customer"]) == (
            sku,
            qty,
            cases.day(day),
            customer,
        )


def test_stock_in_transit_is_on_hand_where_it_goes(cases: Cases, demo: DemoServer) -> None:
    (state,) = cases.seeder.t.model("stock.shipment.internal", "read", [cases.ids["shipment"]], ["state"])
    assert state["state"] == "shipped"
    ledger = {(r["sku"], r["warehouse"]): r["qty"] for r in demo.manifest["stock"]}
    assert cases.snapshot is not None and cases.before is not None

    def on_hand(snapshot: Snapshot, warehouse: str) -> float:
        stock = snapshot.stock
        return float(stock.loc[(stock["sku"] == "ST-320") & (stock["warehouse"] == warehouse), "qty"].sum())

    assert on_hand(cases.before, "WH") == ledger[("ST-320", "WH")]
    assert on_hand(cases.snapshot, "WH") == ledger[("ST-320", "WH")] - 5
    assert on_hand(cases.snapshot, "WH2") == ledger[("ST-320", "WH2")] + 5


def test_families_follow_trytons_categories(cases: Cases) -> None:
    (product,) = cases.seeder.t.model(
        "product.product", "search_read", [("code", "=", "TC-1")], 0, 1, None, ["template.categories"]
    )
    alpha = cases.seeder.find("product.category", "name", "Alpha")
    assert product["template."]["categories"][0] == alpha  # Tryton lists Alpha first, though Zeta's id is lower
    assert cases.snapshot is not None
    family = {r["sku"]: r["family"] for r in cases.snapshot.items.to_dict("records")}
    assert family["TC-1"] == "Alpha"
    assert (family["PS-1"], family["VS-1"]) == ("Pumps / Spares", "Valves / Spares")
    assert family["CH-100"] == "Chairs"  # unique names stay short
    assert family["NC-1"] == "Uncategorized"
    (warning,) = [w for w in _warnings(cases, "product.product") if "NC-1" in w.record]
    assert warning.entity == "items" and "no category" in warning.message


def test_a_unit_without_conversion_is_left_out_with_a_warning(cases: Cases) -> None:
    assert cases.snapshot is not None
    assert _rows(cases.snapshot.bom, parent_sku="GL-KIT") == []
    (warning,) = _warnings(cases, "production.bom.input")
    assert warning.entity == "bom"
    assert "Unit" in warning.message and "Kilogram" in warning.message and "left out" in warning.message
    assert cases.snapshot is not None and "GL-1" in set(cases.snapshot.items["sku"])


def test_lot_sizes_from_order_points_supplier_prices_and_purchase_units(cases: Cases) -> None:
    assert cases.snapshot is not None
    items = cases.snapshot.items.set_index("sku")
    assert items.loc["CP-400", "lot_min"] == 80.0  # order point: min 40, order up to 120
    assert items.loc["RM-530", "lot_min"] == 10.0  # the supplier's smallest price quantity
    assert items.loc["HB-1", "lot_multiple"] == 12.0  # bought in boxes of 12
    assert items.loc["CH-100", "lot_multiple"] == 0.0 and pd.isna(items.loc["CH-100", "lot_max"])
