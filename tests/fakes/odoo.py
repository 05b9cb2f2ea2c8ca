"""A fake Odoo: JSON-RPC ``/jsonrpc`` (``common.authenticate``, ``object.execute_kw``; errors as HTTP 200
with an ``error`` member) and, for 19, JSON-2 ``/json/2/<model>/<method>`` (bearer API key, named
parameters, real HTTP status codes with ``{name, message, arguments, context, debug}`` bodies).

Records carry ``write_date`` (server time, ``YYYY-MM-DD HH:MM:SS``) and many2one fields as ``[id, name]``;
domains support ``&``, ``|``, ``!`` and the usual operators, including dotted paths the fake precomputes.
Multi-company as Odoo's record rules make it: company-owned records are visible when their company is in
the context's ``allowed_company_ids``, else the user's current company (1); a second company's orders and
stock are there to prove a connector reads one company.

Units of measure are Odoo's own per version: ``uom.uom`` with ``category_id``/``factor`` (units per reference
unit) up to 18, ``relative_factor``/``relative_uom_id``/``factor``/``parent_path`` in 19; order lines in
another unit carry it in ``product_uom`` (<= 18) or ``product_uom_id`` (19).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from . import dataset as ds
from .base import FakeERP, Reply, Req

ERROR_NAMES = {
    401: "werkzeug.exceptions.Unauthorized",
    403: "odoo.exceptions.AccessError",
    404: "werkzeug.exceptions.NotFound",
    422: "werkzeug.exceptions.UnprocessableEntity",
    429: "werkzeug.exceptions.TooManyRequests",
    500: "werkzeug.exceptions.InternalServerError",
    503: "werkzeug.exceptions.ServiceUnavailable",
}
STAMP = "2026-06-01 07:00:00"
COMPANY_MODELS = {
    "sale.order",
    "sale.order.line",
    "purchase.order.line",
    "stock.quant",
    "stock.move",
    "mrp.production",
    "stock.warehouse.orderpoint",
}
"""Models whose records belong to one company: Odoo's record rules show them only to that company."""
COMPANIES = {1: "Bikes GmbH", 2: "Bikes Schweiz AG"}


def _compare(op: str, have: Any, value: Any) -> bool:
    if op in ("=", "!="):
        return (have == value) == (op == "=")
    if op in ("in", "not in"):
        return (have in value) == (op == "in")
    if have is None or have is False:
        return False
    return bool({">": have > value, ">=": have >= value, "<": have < value, "<=": have <= value}[op])


def m2o(rid: int, name: str) -> list[Any]:
    return [rid, name]


class FakeOdoo(FakeERP):
    def __init__(
        self, version: int = 17, db: str = "bikes", login: str = "sync@bikes.example", api_key: str = "odoo-key-123"
    ) -> None:
        super().__init__()
        self.version = version
        self.db = db
        self.login = login
        self.api_key = api_key
        self.uid = 7
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._build()

    # ---------------------------------------------------------------- data
    def _add(self, model: str, **values: Any) -> dict[str, Any]:
        if model in COMPANY_MODELS:
            values.setdefault("company_id", m2o(1, COMPANIES[1]))
        rec = {"id": next(self._ids), "write_date": STAMP, **values}
        self.tables.setdefault(model, []).append(rec)
        return rec

    def _uoms(self) -> dict[str, list[Any]]:
        """pcs (the items' unit) and the dataset's second units, in this version's uom.uom shape."""
        out: dict[str, list[Any]] = {}
        pcs = self._add("uom.uom", name="pcs", active=True, **self._uom_values(None, 1.0))
        out["pcs"] = m2o(pcs["id"], "pcs")
        for name, size in ds.UNITS.items():
            rec = self._add("uom.uom", name=name, active=True, **self._uom_values(pcs, size))
            out[name] = m2o(rec["id"], name)
        kg = self._add("uom.uom", name="kg", active=True, **self._uom_values(None, 1.0, category=2))
        out["kg"] = m2o(kg["id"], "kg")
        return out

    def _uom_values(self, reference: dict[str, Any] | None, size: float, category: int = 1) -> dict[str, Any]:
        if self.version >= 19:
            if reference is None:
                return {"relative_factor": 1.0, "relative_uom_id": False, "factor": 1.0, "parent_path": "{id}/"}
            return {
                "relative_factor": size,
                "relative_uom_id": m2o(reference["id"], reference["name"]),
                "factor": size,
                "parent_path": f"{reference['id']}/{{id}}/",
            }
        names = {1: "Unit", 2: "Weight"}
        kind = "reference" if reference is None else "bigger"
        return {"category_id": m2o(category, names[category]), "factor": 1.0 / size, "uom_type": kind}

    def _build(self) -> None:
        self.uoms = self._uoms()
        for rec in self.tables["uom.uom"]:
            if isinstance(rec.get("parent_path"), str):
                rec["parent_path"] = rec["parent_path"].replace("{id}", str(rec["id"]))
        uom = self.uoms["pcs"]
        line_uom = "product_uom_id" if self.version >= 19 else "product_uom"
        vendor_uom = "uom_id" if self.version >= 19 else "product_uom"
        cal = self._add("resource.calendar", name="Standard 40 hours/week", hours_per_day=ds.HOURS_PER_DAY)
        whs = {w: self._add("stock.warehouse", name=w, code=w) for w in ds.WAREHOUSES}
        partners: dict[str, dict[str, Any]] = {}

        def partner(name: str) -> list[Any]:
            p = partners.get(name) or partners.setdefault(name, self._add("res.partner", name=name))
            return m2o(p["id"], name)

        prods: dict[str, dict[str, Any]] = {}
        for sku, desc, family, _u, cost, price, lead, ss, made in ds.ITEMS:
            tmpl = next(self._ids)
            categ = m2o(100 + len(prods), f"All / Saleable / {family}")
            p = self._add(
                "product.product",
                default_code=sku,
                name=desc,
                categ_id=categ,
                uom_id=uom,
                standard_price=cost,
                lst_price=price,
                produce_delay=lead if made else 0,
                product_tmpl_id=m2o(tmpl, desc),
                type="product" if self.version < 18 else "consu",
            )
            prods[sku] = p
            minimum, multiple = ds.LOTS.get(sku, (0.0, 0.0))
            if not made:
                self._add(
                    "product.supplierinfo",
                    product_tmpl_id=m2o(tmpl, desc),
                    product_id=False,
                    delay=lead,
                    sequence=1,
                    min_qty=minimum / multiple if multiple else 0.0,  # in the vendor's unit: boxes
                    **{vendor_uom: self.uoms[f"BOX{int(multiple)}"] if multiple else uom},
                )
                self._add(  # a second vendor, later in the list: neither its delay nor its minimum applies
                    "product.supplierinfo",
                    product_tmpl_id=m2o(tmpl, desc),
                    product_id=False,
                    delay=lead + 30,
                    sequence=5,
                    min_qty=500.0,
                    **{vendor_uom: uom},
                )
            if ss:
                self._add(
                    "stock.warehouse.orderpoint",
                    product_id=m2o(p["id"], sku),
                    product_min_qty=ss,
                    qty_multiple=multiple or 1.0,
                )
        self._add(
            "product.product",
            default_code="SRV-1",
            name="Installation",
            categ_id=m2o(99, "All / Services"),
            uom_id=uom,
            standard_price=0,
            lst_price=50,
            produce_delay=0,
            product_tmpl_id=m2o(999, "x"),
            type="service",
        )
        self.prods = prods

        def pm2o(sku: str) -> list[Any]:
            return m2o(prods[sku]["id"], f"[{sku}] {prods[sku]['name']}")

        for sku, wh, qty in ds.STOCK:
            loc = f"{wh}/Stock"
            self._add(
                "stock.quant",
                product_id=pm2o(sku),
                location_id=m2o(500, loc),
                warehouse_id=m2o(whs[wh]["id"], wh),
                quantity=qty,
                **{"location_id.usage": "internal"},
            )
        self._add(
            "stock.quant",
            product_id=pm2o("BK-100"),
            location_id=m2o(501, "Partners/Customers"),
            warehouse_id=False,
            quantity=-99.0,
            **{"location_id.usage": "customer"},
        )

        def in_unit(order: str, sku: str, *quantities: float) -> tuple[list[Any], list[float]]:
            unit = ds.LINE_UNITS.get((order, sku))
            size = ds.UNITS[unit] if unit else 1.0
            return (self.uoms[unit] if unit else uom), [q / size for q in quantities]

        orders: dict[str, dict[str, Any]] = {}
        for order, sku, qty, delivered, date, customer in ds.SALES_LINES:
            if order not in orders:
                promised = (order, sku) not in ds.HEADER_DATED  # else no delivery date promised: expected date
                orders[order] = self._add(
                    "sale.order",
                    name=order,
                    state="sale",
                    partner_id=partner(customer),
                    commitment_date=f"{date} 10:00:00" if promised else False,
                    expected_date=f"{date} 10:00:00" if not promised else "2026-05-01 10:00:00",
                )
            unit, (ordered, shipped) = in_unit(order, sku, qty, delivered)
            self._add(
                "sale.order.line",
                order_id=m2o(orders[order]["id"], order),
                product_id=pm2o(sku),
                product_uom_qty=ordered,
                qty_delivered=shipped,
                order_partner_id=partner(customer),
                state="sale",
                **{line_uom: unit},
            )
        cancelled = self._add(
            "sale.order",
            name="10099",
            state="cancel",
            partner_id=partner("Cycle Lyon"),
            commitment_date=False,
            expected_date="2026-06-30 10:00:00",
        )
        self._add(
            "sale.order.line",
            order_id=m2o(cancelled["id"], "10099"),
            product_id=pm2o("BK-100"),
            product_uom_qty=9.0,
            qty_delivered=0.0,
            order_partner_id=partner("Cycle Lyon"),
            state="cancel",
            **{line_uom: uom},
        )
        pos: dict[str, int] = {}
        for order, sku, qty, received, date, supplier in ds.PURCHASE_LINES:
            pos.setdefault(order, next(self._ids))
            unit, (ordered, got) = in_unit(order, sku, qty, received)
            self._add(  # Odoo requires date_planned on every product line: never header-dated
                "purchase.order.line",
                order_id=m2o(pos[order], order),
                product_id=pm2o(sku),
                product_qty=ordered,
                qty_received=got,
                date_planned=f"{date} 09:00:00",
                partner_id=partner(supplier),
                state="purchase",
                **{line_uom: unit},
            )
        states = {"planned": "draft", "firm": "confirmed", "running": "progress"}
        for order, sku, qty, done, date, state in ds.PRODUCTION:
            unit, (planned, made_qty) = in_unit(order, sku, qty, done)
            start = ds.PRODUCTION_STARTS.get(order)
            self._add(
                "mrp.production",
                name=order,
                product_id=pm2o(sku),
                product_qty=planned,
                qty_produced=made_qty,
                product_uom_id=unit,
                date_deadline=f"{date} 16:00:00",
                date_finished=f"{date} 16:00:00",
                date_start=f"{start} 07:00:00" if start else False,
                state=states[state],
            )
        self._add(
            "mrp.production",
            name="30099",
            product_id=pm2o("BK-100"),
            product_qty=4.0,
            qty_produced=4.0,
            product_uom_id=uom,
            date_deadline=False,
            date_finished="2026-05-01 10:00:00",
            date_start="2026-04-28 07:00:00",
            state="done",
        )
        wcs = {}
        for code, name, capacity, eff, _h in ds.WORK_CENTERS:
            wcs[code] = self._add(
                "mrp.workcenter",
                code=code,
                name=name,
                default_capacity=capacity,
                time_efficiency=eff,
                resource_calendar_id=m2o(cal["id"], cal["name"]),
            )
        for parent, (batch, lines, ops) in ds.BOMS.items():
            p = prods[parent]
            bom = self._add(
                "mrp.bom",
                product_tmpl_id=p["product_tmpl_id"],
                product_id=False,
                product_qty=batch,
                product_uom_id=uom,
                type="normal",
            )
            for comp, qty in lines:
                self._add(
                    "mrp.bom.line",
                    bom_id=m2o(bom["id"], parent),
                    product_id=pm2o(comp),
                    product_qty=qty,
                    product_uom_id=uom,
                )
            for wc, hours in ops:
                self._add(
                    "mrp.routing.workcenter",
                    bom_id=m2o(bom["id"], parent),
                    workcenter_id=m2o(wcs[wc]["id"], wcs[wc]["name"]),
                    time_cycle_manual=hours * 60.0,
                )
        for sku, qty, date, customer in ds.SHIPMENTS:
            usage = ("internal", "customer") if qty > 0 else ("customer", "internal")
            self._add(
                "stock.move",
                product_id=pm2o(sku),
                quantity=abs(qty),
                product_uom=uom,
                date=f"{date} 11:00:00",
                partner_id=partner(customer),
                state="done",
                **{"location_id.usage": usage[0], "location_dest_id.usage": usage[1]},
            )

        self._second_company(pm2o, partner)

    def _second_company(self, pm2o: Any, partner: Any) -> None:
        """Company 2's own orders and stock in the same database: not the data of company 1."""
        other = m2o(2, COMPANIES[2])
        wh = self._add("stock.warehouse", name="CH1", code="CH1")
        self._add(
            "stock.quant",
            product_id=pm2o("BK-100"),
            location_id=m2o(600, "CH1/Stock"),
            warehouse_id=m2o(wh["id"], "CH1"),
            quantity=500.0,
            company_id=other,
            **{"location_id.usage": "internal"},
        )
        order = self._add(
            "sale.order",
            name="C2-S1",
            state="sale",
            partner_id=partner("Velo Zürich"),
            commitment_date="2026-06-09 10:00:00",
            expected_date="2026-06-09 10:00:00",
            company_id=other,
        )
        self._add(
            "sale.order.line",
            order_id=m2o(order["id"], "C2-S1"),
            product_id=pm2o("BK-100"),
            product_uom_qty=7.0,
            qty_delivered=0.0,
            order_partner_id=partner("Velo Zürich"),
            state="sale",
            company_id=other,
            **{"product_uom_id" if self.version >= 19 else "product_uom": self.uoms["pcs"]},
        )

    def find(self, model: str, **match: Any) -> dict[str, Any]:
        return next(r for r in self.tables[model] if all(r.get(k) == v for k, v in match.items()))

    def touch(self, rec: dict[str, Any], stamp: str, **values: Any) -> None:
        rec.update(values, write_date=stamp)

    # ---------------------------------------------------------------- ORM
    def _match(self, rec: dict[str, Any], domain: list[Any]) -> bool:
        stack: list[bool] = []
        for term in reversed(domain):
            if term == "&":
                stack.append(stack.pop() and stack.pop())
            elif term == "|":
                stack.append(stack.pop() or stack.pop())
            elif term == "!":
                stack.append(not stack.pop())
            else:
                field, op, value = term
                have = rec.get(field)
                if isinstance(have, list) and len(have) == 2:
                    have = have[0]
                stack.append(_compare(op, have, value))
        return all(stack)

    def _companies(self, context: dict[str, Any] | None) -> list[int]:
        allowed = list((context or {}).get("allowed_company_ids") or [1])
        if any(c not in COMPANIES for c in allowed):
            raise PermissionError(f"Access to unauthorized or invalid companies {allowed}")
        return allowed

    def _visible(self, rec: dict[str, Any], companies: list[int]) -> bool:
        company = rec.get("company_id")
        return not company or company[0] in companies

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str] | None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        if model not in self.tables and model not in ("mrp.bom", "mrp.routing.workcenter"):
            raise KeyError(model)
        companies = self._companies(context)
        rows = [r for r in self.tables.get(model, []) if self._match(r, domain) and self._visible(r, companies)]
        if order:
            key = order.split()[0]
            rows.sort(key=lambda r: r[key], reverse=order.endswith("desc"))
        rows = rows[offset : offset + limit if limit else None]
        if limit and limit > 80 and limit > self.page_size * 100:
            raise ValueError("limit too large")
        visible = [k for k in (fields or []) if "." not in k]
        return [{"id": r["id"], **{k: r.get(k, False) for k in visible}} for r in rows]

    def call(self, model: str, method: str, kwargs: dict[str, Any]) -> Any:
        domain, context = kwargs.get("domain", []), kwargs.get("context")
        if method == "search_read":
            return self.search_read(
                model,
                domain,
                kwargs.get("fields"),
                kwargs.get("offset", 0),
                kwargs.get("limit"),
                kwargs.get("order"),
                context,
            )
        if method == "search":
            return [r["id"] for r in self.search_read(model, domain, [], order="id", context=context)]
        if method == "search_count":
            return len(self.search_read(model, domain, [], context=context))
        raise AttributeError(f"The method '{model}.{method}' does not exist")

    # ---------------------------------------------------------------- HTTP
    def error_body(self, status: int) -> Any:
        if self.version >= 19:
            name = ERROR_NAMES.get(status, "werkzeug.exceptions.HTTPException")
            return {
                "name": name,
                "message": f"{status} error",
                "arguments": [f"{status} error", status],
                "context": {},
                "debug": "Traceback (most recent call last): ...",
            }
        return "<html><body><h1>Error</h1></body></html>"

    def _rpc_error(self, rid: Any, name: str, message: str, code: int = 200) -> Reply:
        data = {"name": name, "debug": "Traceback ...", "message": message, "arguments": [message], "context": {}}
        return Reply(
            200, {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": "Odoo Server Error", "data": data}}
        )

    def handle(self, req: Req) -> Reply:
        if req.method == "POST" and req.path == "/jsonrpc":
            return self._jsonrpc(req)
        match = re.fullmatch(r"/json/2/([\w.]+)/(\w+)", req.path)
        if match and self.version >= 19:
            return self._json2(req, match.group(1), match.group(2))
        if req.path == "/web/version":
            return Reply(200, {"version": f"{self.version}.0", "version_info": [self.version, 0, 0, "final", 0, ""]})
        return Reply(404, raw=b"<html>404: Not Found</html>", headers={"Content-Type": "text/html"})

    def _jsonrpc(self, req: Req) -> Reply:
        body = req.json()
        rid = body.get("id")
        params = body.get("params", {})
        service, method, args = params.get("service"), params.get("method"), params.get("args", [])
        if service == "common" and method == "version":
            return Reply(200, {"jsonrpc": "2.0", "id": rid, "result": {"server_version": f"{self.version}.0"}})
        if service == "common" and method in ("authenticate", "login"):
            db, login, key = args[0], args[1], args[2]
            ok = db == self.db and login == self.login and key == self.api_key
            return Reply(200, {"jsonrpc": "2.0", "id": rid, "result": self.uid if ok else False})
        if service == "object" and method == "execute_kw":
            db, uid, key, model, meth = args[:5]
            pos = args[5] if len(args) > 5 else []
            kwargs = dict(args[6]) if len(args) > 6 else {}
            if db != self.db or uid != self.uid or key != self.api_key:
                return self._rpc_error(rid, "odoo.exceptions.AccessDenied", "Access Denied")
            if pos:
                kwargs["domain"] = pos[0]
            try:
                result = self.call(model, meth, kwargs)
            except KeyError:
                return self._rpc_error(rid, "builtins.KeyError", f"Object {model} doesn't exist")
            except AttributeError as exc:
                return self._rpc_error(rid, "builtins.AttributeError", str(exc))
            except PermissionError as exc:
                return self._rpc_error(rid, "odoo.exceptions.AccessError", str(exc))
            return Reply(200, {"jsonrpc": "2.0", "id": rid, "result": result})
        return self._rpc_error(rid, "odoo.exceptions.UserError", f"unknown service {service}.{method}")

    def _json2(self, req: Req, model: str, method: str) -> Reply:
        auth = req.header("Authorization")
        if not auth.lower().startswith("bearer ") or auth[7:] != self.api_key:
            return Reply(
                401,
                {
                    "name": ERROR_NAMES[401],
                    "message": "Invalid apikey",
                    "arguments": ["Invalid apikey", 401],
                    "context": {},
                    "debug": "...",
                },
            )
        db = req.header("X-Odoo-Database")
        if db and db != self.db:
            return Reply(
                404,
                {
                    "name": ERROR_NAMES[404],
                    "message": "database not found",
                    "arguments": [],
                    "context": {},
                    "debug": "",
                },
            )
        kwargs = req.json() or {}
        try:
            return Reply(200, self.call(model, method, kwargs))
        except PermissionError as exc:
            return Reply(
                403,
                {"name": ERROR_NAMES[403], "message": str(exc), "arguments": [str(exc)], "context": {}, "debug": ""},
            )
        except KeyError:
            return Reply(
                404,
                {
                    "name": ERROR_NAMES[404],
                    "message": f"model {model!r} not found",
                    "arguments": [],
                    "context": {},
                    "debug": "",
                },
            )
        except (AttributeError, TypeError) as exc:
            return Reply(
                422,
                {"name": ERROR_NAMES[422], "message": str(exc), "arguments": [str(exc)], "context": {}, "debug": ""},
            )
