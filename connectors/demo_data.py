"""Demo data: the ERP export of a small bicycle manufacturer, deterministic for a seed.

Finished-goods families (Bikes, E-Bikes, Helmets, ...) each have a seasonal peak and a trend; about 15 %
of their SKUs sell intermittently. Made families have routings (1-2 work centers) and BOMs drawing on a
``Components`` family (bought, not sold; added on top of ``DemoSize.families``). Open sales orders,
purchase receipts and production orders (planned / firm / running) run over the coming months with a
few past due; stock on hand is spread over the warehouses. Some families are deliberately thin on stock
and supply (E-Bikes also grow fast and are forecast optimistically; Lights peak in November), and work
center capacity is set near the average load, so the plan shows gaps and overloads in season.

:func:`generate` returns the canonical frames plus ``forecast``: the sales team's family x month forecast
for the 18 months from the as-of month (family, bucket ``YYYY-MM``, qty), which is not a snapshot entity.
:func:`write_export_folder` writes a folder that :func:`connectors.files.read_export_folder` reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sop_functions import clock
from sop_functions.snapshot import COLUMNS

FORECAST_MONTHS = 18
COMPONENTS = "Components"
Array = np.ndarray


@dataclass(frozen=True)
class DemoSize:
    """How big the demo company is. ``shipment_lines`` is approximate (one line per SKU x customer x day)."""

    skus: int
    families: int
    warehouses: int
    work_centers: int
    history_months: int
    open_sales_lines: int
    purchase_lines: int
    production_orders: int
    shipment_lines: int
    customers: int

    def __post_init__(self) -> None:
        if self.skus < self.families + 2 or self.families < 1:
            raise ValueError("need at least one family and families + 2 SKUs (one per family, two components)")
        if min(self.warehouses, self.work_centers, self.customers, self.history_months) < 1:
            raise ValueError("warehouses, work centers, customers and history months must be at least 1")


SMALL = DemoSize(40, 6, 2, 3, 36, 150, 40, 25, 4_000, 15)
"""The default demo: 40 SKUs in 6 families (+ Components), 2 warehouses, 3 work centers, 3 years."""
SME_S = DemoSize(500, 12, 3, 5, 36, 2_000, 500, 200, 140_000, 60)
"""A tenth of SME-L."""
SME_L = DemoSize(5_000, 120, 3, 15, 36, 20_000, 5_000, 2_000, 1_400_000, 400)
"""A larger SME: 5,000 SKUs, 120 families, 15 work centers, ~1.4 M shipment lines over 36 months."""

# name, peak month, made in house, typical price, hours per unit, stock cover (months), supply factor
_NAMED = [
    ("Bikes", 5, True, 900.0, 2.5, 1.6, 1.0),
    ("E-Bikes", 4, True, 2800.0, 3.5, 0.4, 0.6),
    ("Helmets", 6, False, 70.0, 0.0, 1.8, 1.1),
    ("Locks", 9, False, 45.0, 0.0, 2.5, 1.2),
    ("Lights", 11, True, 35.0, 0.3, 0.5, 0.7),
    ("Tyres", 3, False, 30.0, 0.0, 1.2, 1.0),
]
_MORE = ["Saddles", "Pedals", "Bags", "Pumps", "Gloves", "Bottles", "Racks", "Mudguards", "Bells", "Tools",
         "Trailers", "Child Seats", "Scooters", "Jerseys", "Shoes", "Computers", "Baskets", "Stands", "Grips",
         "Chains", "Mirrors", "Panniers", "Trainers", "Glasses"]  # fmt: skip
_PARTS = {"Frame": 1, "Fork": 1, "Wheel": 2, "Chain": 1, "Saddle": 1, "Handlebar": 1, "Motor": 1, "Battery": 1,
          "Brake set": 1, "Gear set": 1, "Housing": 1, "LED module": 1, "Cable": 2.5, "Tube": 2, "Spoke set": 2,
          "Display": 1, "Charger": 1, "Screw kit": 1}  # fmt: skip
_MODELS = ["City", "Trail", "Sport", "Comfort", "Pro", "Urban", "Kids", "Classic", "Tour", "Race"]
_CENTERS = ["Bike assembly", "E-bike assembly", "Electronics", "Frame shop", "Paint shop", "Wheel building",
            "Injection molding", "Packing", "Quality test", "Welding", "Machining", "Powder coating",
            "Kitting", "Lacing", "Final inspection"]  # fmt: skip
_WAREHOUSES = ["MAIN", "NORTH", "SOUTH", "EAST", "WEST"]
_CITIES = ["Hamburg", "Lyon", "Utrecht", "Graz", "Basel", "Aarhus", "Ghent", "Bologna", "Krakow", "Porto",
           "Leeds", "Bilbao", "Malmo", "Tartu", "Brno", "Cork", "Nantes", "Freiburg", "Turku", "Ljubljana"]  # fmt: skip
_SHOPS = ["Velo", "Cycle Store", "Bike Center", "Rad & Tour", "Sport", "Outdoor", "Pedal Shop"]


@dataclass(frozen=True)
class _Families:
    """Per finished-goods family (components excluded): its demand shape and how well it is supplied."""

    names: list[str]
    peak: Array
    amplitude: Array
    growth: Array
    made: Array
    price: Array
    hours: Array
    cover: Array
    supply: Array
    bias: Array


def _families(n: int, rng: np.random.Generator) -> _Families:
    named = _NAMED[: min(n, len(_NAMED))]
    extra, k = n - len(named), len(_MORE)
    names = [f[0] for f in named] + [_MORE[i % k] + (f" {i // k + 1}" if i >= k else "") for i in range(extra)]

    def pick(column: int, rand: Array) -> Array:
        """The named families' value in ``column``, then random values for the others."""
        return np.concatenate([[f[column] for f in named], rand]).astype(float)

    made = pick(2, rng.random(extra) < 0.5) > 0
    hours = pick(4, np.round(rng.lognormal(np.log(0.5), 0.6, extra), 2))
    is_ = np.arange(n)
    return _Families(
        names=names,
        peak=pick(1, rng.integers(1, 13, extra)),
        amplitude=np.where(is_ == 4, 0.6, rng.uniform(0.2, 0.55, n)),
        growth=np.where(is_ == 1, 0.25, rng.uniform(-0.05, 0.12, n)),
        made=made,
        price=pick(3, np.round(rng.lognormal(np.log(40), 0.8, extra))),
        hours=np.where(made, np.maximum(hours, 0.1), 0.0),
        cover=pick(5, rng.uniform(0.3, 2.5, extra)),
        supply=pick(6, rng.uniform(0.5, 1.3, extra)),
        bias=np.where(is_ == 1, 1.25, rng.uniform(0.9, 1.15, n)),
    )


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _frame(entity: str, *columns: object) -> pd.DataFrame:
    """A frame with the entity's canonical columns, in order; optional trailing columns the demo does not
    generate (lot sizing, planned starts) are empty, i.e. their model defaults."""
    names = COLUMNS[entity]
    frame = pd.DataFrame(dict(zip(names[: len(columns)], columns, strict=True)))
    for name in names[len(columns) :]:
        frame[name] = None
    return frame


def _labels(prefix: str, numbers: Array) -> Array:
    return np.array([f"{prefix}{n:02d}" for n in numbers], dtype=object)


def _bills(
    rng: np.random.Generator, fam: _Families, sku_fam: Array, made_fg: Array, comp: Array, centers: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Routings (primary center per made family, half the SKUs also a second one) and BOM lines."""
    primary = np.cumsum(fam.made) - 1  # made families take the centers in turn
    first = primary[sku_fam[made_fg]] % centers
    second = rng.random(len(made_fg)) < 0.5
    other = (first + rng.integers(1, max(centers, 2), len(made_fg))) % centers
    r_sku = np.concatenate([made_fg, made_fg[second]])
    hours = fam.hours[sku_fam[r_sku]] * rng.lognormal(0, 0.25, len(r_sku))
    hours[len(made_fg) :] *= 0.3
    routings = pd.DataFrame({"sku": r_sku, "wc": np.concatenate([first, other[second]]), "hours": np.round(hours, 3)})
    lines = rng.integers(2, 6, len(made_fg))
    component = comp[rng.integers(0, len(comp), lines.sum())]
    qty_per = np.array(list(_PARTS.values()))[(component - comp[0]) % len(_PARTS)]
    bom = pd.DataFrame({"parent": np.repeat(made_fg, lines), "component": component, "qty_per": qty_per})
    return routings.drop_duplicates(["sku", "wc"]), bom.drop_duplicates(["parent", "component"])


def generate(size: DemoSize = SMALL, seed: int = 7, as_of: dt.datetime | None = None) -> dict[str, pd.DataFrame]:
    """The canonical frames (dates ``datetime64[ns]``) plus ``forecast``; the same seed gives the same frames.

    ``as_of`` defaults to the current hour in the local time zone (so the demo always looks current).
    """
    as_of = _aware(as_of)
    rng = np.random.default_rng(seed)
    fam = _families(size.families, rng)
    nf, n_comp = size.families, max(2, round(size.skus * 0.2))
    n_fg = size.skus - n_comp
    sku_fam = np.sort(np.concatenate([np.arange(nf), rng.integers(0, nf, n_fg - nf)]))
    fg, comp = np.arange(n_fg), np.arange(n_fg, size.skus)
    made = np.concatenate([fam.made[sku_fam], np.zeros(n_comp, bool)])
    lead = np.where(made, rng.integers(5, 22, size.skus), rng.integers(14, 91, size.skus))

    # demand: level x season x trend per finished SKU and month; t = 0 is the as-of month
    t = np.arange(-size.history_months, FORECAST_MONTHS)
    months = np.datetime64(as_of.date(), "M") + t
    cal = months.astype(int) % 12 + 1
    season = 1 + fam.amplitude[:, None] * np.cos(2 * np.pi * (cal[None, :] - fam.peak[:, None]) / 12)
    curve = season * (1 + fam.growth[:, None]) ** (t[None, :] / 12)
    intermittent = rng.random(n_fg) < 0.15
    level = 1200 / np.sqrt(fam.price[sku_fam]) * rng.lognormal(0, 0.8, n_fg) * np.where(intermittent, 0.1, 1.0)
    mu = level[:, None] * curve[sku_fam]
    past = t <= 0
    start = months.astype("datetime64[D]")
    full = ((months + 1).astype("datetime64[D]") - start).astype(int)
    days = np.where(t == 0, as_of.day - 1, full)  # the as-of month only so far
    odds = np.where(intermittent, 0.3, 1.0)[:, None]
    hits = rng.random((n_fg, past.sum())) < odds
    demand = np.where(hits, rng.poisson(mu[:, past] * (days / full)[past] / odds), 0)
    ahead = mu[:, t >= 0][:, :3].mean(axis=1)  # expected monthly demand, next quarter

    routings, bom = _bills(rng, fam, sku_fam, fg[made[:n_fg]], comp, size.work_centers)
    dependent = np.bincount(bom["component"] - n_fg, bom["qty_per"] * ahead[bom["parent"]], n_comp)
    volume = np.concatenate([ahead, dependent])
    load = np.bincount(
        routings["wc"], mu[routings["sku"]][:, t >= 0][:, :12].mean(axis=1) * routings["hours"], size.work_centers
    )
    capacity = np.where(load > 0, np.round(load * rng.uniform(1.0, 1.25, size.work_centers), -1), 160.0)

    # prices: components at 4-20 % of the average price of the products using them
    price = np.concatenate([fam.price[sku_fam] * rng.lognormal(0, 0.35, n_fg), np.zeros(n_comp)])
    uses = np.bincount(bom["component"] - n_fg, minlength=n_comp)
    parent_price = np.bincount(bom["component"] - n_fg, price[bom["parent"]], n_comp) / np.maximum(uses, 1)
    price[comp] = np.where(uses > 0, parent_price, 60.0) * rng.uniform(0.04, 0.2, n_comp)
    margin = np.concatenate([rng.uniform(0.22, 0.5, n_fg), np.full(n_comp, 0.25)])
    sd = demand[:, -13:-1].std(axis=1) if size.history_months >= 12 else np.sqrt(ahead)
    safety = np.concatenate([1.65 * sd * np.sqrt(np.maximum(lead[:n_fg], 7) / 30), 0.5 * dependent])
    cover = np.concatenate([fam.cover[sku_fam], rng.uniform(1.0, 3.0, n_comp)])
    on_hand = np.round(volume * cover * rng.lognormal(0, 0.3, size.skus))
    supply = np.concatenate([fam.supply[sku_fam], rng.uniform(0.7, 1.2, n_comp)])

    family_of = np.concatenate([sku_fam, np.full(n_comp, nf)])
    names = [*fam.names, COMPONENTS]
    abbr = ["".join(c for c in n if c.isalpha())[:3].upper() for n in names]
    skus = np.array([f"{abbr[f]}{i + 1:05d}" for i, f in enumerate(family_of)], dtype=object)
    within = pd.Series(sku_fam).groupby(sku_fam).cumcount().to_numpy()
    parts = list(_PARTS)
    descriptions = [
        f"{_MODELS[w % len(_MODELS)]} {_singular(names[f])} {w + 1:02d}" for f, w in zip(sku_fam, within, strict=True)
    ]
    descriptions += [f"{parts[i % len(parts)]} {i // len(parts) + 1:02d}" for i in range(n_comp)]
    cost, family = np.round(price * (1 - margin), 2), np.array(names, dtype=object)[family_of]
    items = _frame("items", skus, descriptions, family, "unit", cost, np.round(price, 2), lead, np.round(safety))
    codes = _labels("WC", np.arange(size.work_centers) + 1)
    frames = {
        "items": items,
        "stock": _stock(size, rng, skus, on_hand, n_fg),
        "shipments": _shipments(size, rng, skus, demand, start[past], days[past]),
        "work_centers": _frame("work_centers", codes, [_CENTERS[i % 15] for i in range(size.work_centers)], capacity),
        "routings": _frame("routings", skus[routings["sku"]], codes[routings["wc"]], routings["hours"].to_numpy()),
        "bom": _frame("bom", skus[bom["parent"]], skus[bom["component"]], bom["qty_per"].to_numpy()),
    }
    frames |= _orders(size, rng, skus, volume, supply, made, n_fg, np.datetime64(as_of.date(), "D"))
    by_family = np.vstack([mu[sku_fam == f][:, t >= 0].sum(axis=0) for f in range(nf)])
    forecast = by_family * fam.bias[:, None] * rng.lognormal(0, 0.08, by_family.shape)
    frames["forecast"] = pd.DataFrame(
        {
            "family": np.repeat(np.array(fam.names, dtype=object), FORECAST_MONTHS),
            "bucket": np.tile(months[t >= 0].astype(str), nf),
            "qty": np.round(forecast).ravel(),
        }
    )
    return frames


def _aware(as_of: dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return clock.now().replace(minute=0, second=0, microsecond=0)
    return as_of if as_of.utcoffset() is not None else as_of.astimezone()


def _customers(n: int) -> Array:
    per, c = len(_SHOPS) * len(_CITIES), len(_CITIES)
    names = [
        f"{_SHOPS[i // c % len(_SHOPS)]} {_CITIES[i % c]}" + (f" {i // per + 1}" if i >= per else "") for i in range(n)
    ]
    return np.array(names, dtype=object)


def _zipf(n: int) -> Array:
    weight: Array = 1 / (np.arange(n) + 1.0) ** 0.8
    share: Array = weight / weight.sum()
    return share


def _stock(size: DemoSize, rng: np.random.Generator, skus: Array, on_hand: Array, n_fg: int) -> pd.DataFrame:
    """Stock per warehouse: every SKU in MAIN, finished goods also in some of the others."""
    names = np.array([_WAREHOUSES[i] if i < 5 else f"WH{i + 1:02d}" for i in range(size.warehouses)], dtype=object)
    present = rng.random((len(skus), size.warehouses)) < 0.6
    present[:, 0], present[n_fg:, 1:] = True, False
    weight = np.where(present, rng.uniform(0.2, 1.0, present.shape), 0.0)
    weight[:, 0] += 1.5
    qty = np.round(on_hand[:, None] * weight / weight.sum(axis=1, keepdims=True))
    s, w = np.nonzero(present)
    return pd.DataFrame({"sku": skus[s], "warehouse": names[w], "qty": qty[s, w]})


def _shipments(
    size: DemoSize, rng: np.random.Generator, skus: Array, demand: Array, start: Array, days: Array
) -> pd.DataFrame:
    """Each SKU-month's demand split into lines (more for bigger months) on random days and customers."""
    s, m = np.nonzero(demand > 0)
    qty = demand[s, m].astype(float)
    root = np.sqrt(qty)
    lines = np.clip(np.round(size.shipment_lines * root / max(root.sum(), 1.0)), 1, qty).astype(np.int64)
    cell = np.repeat(np.arange(len(qty)), lines)
    weight = rng.exponential(1.0, len(cell))
    line_qty = np.maximum(1.0, np.round(qty[cell] * weight / np.bincount(cell, weight, len(qty))[cell]))
    returned = rng.random(len(cell)) < 0.003
    line_qty = np.where(returned, -np.maximum(1.0, np.round(line_qty / 2)), line_qty)
    day = start[m[cell]] + (rng.random(len(cell)) * days[m[cell]]).astype(np.int64)
    customer = rng.choice(size.customers, len(cell), p=_zipf(size.customers))
    raw = pd.DataFrame({"d": day, "s": s[cell], "c": customer, "qty": line_qty})
    out = raw.groupby(["d", "s", "c"], sort=True)["qty"].sum().reset_index()
    out = out[out["qty"] != 0]
    dates = out["d"].to_numpy().astype("datetime64[ns]")
    customers = _customers(size.customers)[out["c"].to_numpy()]
    return _frame("shipments", skus[out["s"].to_numpy()], out["qty"].to_numpy(), dates, customers)


def _pick(rng: np.random.Generator, candidates: Array, volume: Array, n: int) -> Array:
    p = volume[candidates] + 1e-6
    return rng.choice(candidates, n, p=p / p.sum())


def _offsets(rng: np.random.Generator, n: int, past: float, past_days: int, scale: float, horizon: int) -> Array:
    """Days from as-of: a share ``past`` of them (at least one) past due, the rest over the coming months."""
    ahead = np.minimum(rng.gamma(1.5, scale, n).astype(np.int64), horizon)
    late = np.zeros(n, bool)
    late[rng.permutation(n)[: min(n, max(1, round(n * past)))]] = True
    offsets: Array = np.where(late, -rng.integers(1, past_days + 1, n), ahead)
    return offsets


def _lots(rng: np.random.Generator, sku: Array, volume: Array, months: Array) -> Array:
    """Quantities such that the lines of one SKU cover about ``months`` of its monthly volume."""
    count = np.bincount(sku, minlength=len(volume))
    lots: Array = np.maximum(1.0, np.ceil(volume[sku] * months / count[sku] * rng.lognormal(0, 0.4, len(sku))))
    return lots


def _group_ids(prefix: str, first: int, *keys: Array) -> Array:
    """Order numbers: one order per distinct combination of keys (customer and week, say)."""
    _, group = np.unique(np.stack(keys), axis=1, return_inverse=True)
    return np.array([f"{prefix}-{first + g}" for g in group.ravel()], dtype=object)


def _orders(
    size: DemoSize,
    rng: np.random.Generator,
    skus: Array,
    volume: Array,
    supply: Array,
    made: Array,
    n_fg: int,
    today: np.datetime64,
) -> dict[str, pd.DataFrame]:
    """Open sales order lines, open purchase order lines and production orders."""
    n = size.open_sales_lines
    sku = _pick(rng, np.arange(n_fg), volume, n)
    off = _offsets(rng, n, 0.08, 30, 30.0, 270)
    customer = rng.choice(size.customers, n, p=_zipf(size.customers))
    order = _group_ids("SO", 100001, customer, off // 7)
    qty, when = _lots(rng, sku, volume, np.full(n, 1.6)), (today + off).astype("datetime64[ns]")
    demand = _frame("open_demand", order, skus[sku], qty, when, _customers(size.customers)[customer])
    n = size.purchase_lines
    c = len(_CITIES)
    suppliers = [
        f"{_CITIES[i % c]} Parts" + (f" {i // c + 1}" if i >= c else "") for i in range(max(3, size.skus // 50))
    ]
    supplier_of = rng.integers(0, len(suppliers), len(skus))
    sku = _pick(rng, np.nonzero(~made)[0], volume, n)
    off = _offsets(rng, n, 0.06, 20, 25.0, 150)
    order = _group_ids("PO", 40001, supplier_of[sku], off // 7)
    qty, when = _lots(rng, sku, volume, 3.0 * supply[sku]), (today + off).astype("datetime64[ns]")
    receipts = _frame("receipts", order, skus[sku], qty, when, np.array(suppliers, dtype=object)[supplier_of[sku]])
    n = size.production_orders
    sku = _pick(rng, np.nonzero(made)[0], volume, n)
    off = np.sort(_offsets(rng, n, 0.05, 14, 20.0, 120))
    soon = np.where(rng.random(n) < 0.7, "running", "firm")
    state = np.select([off < 14, (off < 45) | (rng.random(n) < 0.1)], [soon, "firm"], "planned")
    qty, when = _lots(rng, sku, volume, 2.5 * supply[sku]), (today + off).astype("datetime64[ns]")
    production = _frame("production", _labels("MO-", 50001 + np.arange(n)), skus[sku], qty, when, state.astype(object))
    return {
        "open_demand": demand.sort_values(["order_id", "sku"], ignore_index=True),
        "receipts": receipts.sort_values(["order_id", "sku"], ignore_index=True),
        "production": production,
    }


def write_export_folder(
    path: str | Path, size: DemoSize = SMALL, seed: int = 7, as_of: dt.datetime | None = None
) -> Path:
    """Write the demo as an ERP export folder: ``<entity>.csv``, ``forecast.csv`` and ``mapping.toml``."""
    as_of = _aware(as_of)
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in generate(size, seed, as_of).items():
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d", float_format="%.10g")
    (folder / "mapping.toml").write_text(
        "# Demo export from connectors.demo_data: canonical column names, so no column mapping is needed.\n"
        f'[snapshot]\nas_of = "{as_of.isoformat()}"\n',
        encoding="utf-8",
    )
    return folder
