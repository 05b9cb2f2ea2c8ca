"""The canonical model's validation: every bad value named by entity, row, record and field."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sop_functions.model import SalesOrderLine
from sop_functions.snapshot import SnapshotError, build_snapshot, snapshot_from_records

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ITEMS = pd.DataFrame(
    {
        "sku": ["B-100", "B-200"],
        "family": ["Bikes", "Bikes"],
        "unit_cost": [100, 120],
        "unit_price": [200, 250],
    }
)


def messages(exc: pytest.ExceptionInfo[SnapshotError]) -> list[str]:
    return [str(issue) for issue in exc.value.issues]


def test_valid_frames_get_canonical_dtypes_and_defaults() -> None:
    demand = pd.DataFrame({"order_id": ["SO-1"], "sku": ["B-100"], "qty": ["3"], "requested_date": ["2026-12-03"]})
    snap = build_snapshot("test", AS_OF, {"items": ITEMS, "open_demand": demand})
    assert snap.items["lead_time_days"].tolist() == [0, 0]
    assert snap.items["uom"].tolist() == ["unit", "unit"]
    assert snap.open_demand["qty"].dtype == "float64"
    assert snap.open_demand["requested_date"].iloc[0] == pd.Timestamp("2026-12-03")
    assert snap.open_demand["customer"].tolist() == [""]
    assert snap.receipts.empty and list(snap.receipts.columns) == [
        "order_id",
        "sku",
        "qty",
        "expected_date",
        "supplier",
    ]
    assert snap.as_of_date == pd.Timestamp("2026-11-25")


def test_every_bad_value_is_reported_not_just_the_first() -> None:
    items = pd.DataFrame(
        {
            "sku": ["B-100", "B-200", "B-100"],
            "family": ["Bikes", "Bikes", ""],
            "unit_cost": ["1", "abc", "2"],
            "unit_price": [2, 3, -1],
        }
    )
    demand = pd.DataFrame({"order_id": ["SO-9"], "sku": ["X-1"], "qty": [0], "requested_date": ["2027-13-01"]})
    with pytest.raises(SnapshotError) as exc:
        build_snapshot("test", AS_OF, {"items": items, "open_demand": demand})
    assert sorted(messages(exc)) == sorted(
        [
            "items row 2 (sku=B-100): family: missing (required)",
            "items row 1 (sku=B-200): unit_cost: not a number: 'abc'",
            "items row 2 (sku=B-100): unit_price: must be >= 0, got -1",
            "items row 2 (sku=B-100): sku: duplicate sku 'B-100'",
            "open_demand row 0 (order_id=SO-9, sku=X-1): qty: must be > 0, got 0",
            "open_demand row 0 (order_id=SO-9, sku=X-1): requested_date: not a date: '2027-13-01'",
            "open_demand row 0 (order_id=SO-9, sku=X-1): sku: unknown item 'X-1' (not in items)",
        ]
    )
    assert str(exc.value).startswith("7 invalid value(s) in the snapshot:")


def test_missing_and_unknown_columns_are_reported_once() -> None:
    receipts = pd.DataFrame({"order_id": ["PO-1"], "sku": ["B-100"], "expected": ["2026-12-01"]})
    with pytest.raises(SnapshotError) as exc:
        build_snapshot("test", AS_OF, {"items": ITEMS, "receipts": receipts})
    assert sorted(messages(exc)) == [
        "receipts row -: expected: unknown column; expected order_id, sku, qty, expected_date, supplier",
        "receipts row -: expected_date: column missing (required)",
        "receipts row -: qty: column missing (required)",
    ]


def test_production_state_must_be_a_known_state() -> None:
    production = pd.DataFrame(
        {"order_id": ["MO-1"], "sku": ["B-100"], "qty": [5], "due_date": ["2026-12-01"], "state": ["done"]}
    )
    with pytest.raises(SnapshotError) as exc:
        build_snapshot("test", AS_OF, {"items": ITEMS, "production": production})
    assert messages(exc) == [
        "production row 0 (order_id=MO-1): state: must be one of planned, firm, running, got 'done'"
    ]


def test_routing_must_name_a_known_work_center() -> None:
    routings = pd.DataFrame({"sku": ["B-100"], "work_center": ["PAINT"], "hours_per_unit": [0.5]})
    centers = pd.DataFrame({"code": ["ASSY"], "hours_per_month": [320]})
    with pytest.raises(SnapshotError) as exc:
        build_snapshot("test", AS_OF, {"items": ITEMS, "routings": routings, "work_centers": centers})
    assert messages(exc) == ["routings row 0 (sku=B-100, work_center=PAINT): work_center: unknown work center 'PAINT'"]


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_snapshot("test", dt.datetime(2026, 11, 25), {"items": ITEMS})


def test_records_path_collects_every_record_error() -> None:
    rows = [
        {"order_id": "SO-1", "sku": "B-100", "qty": 2, "requested_date": "2026-12-01"},
        {"order_id": "SO-2", "sku": "B-100", "qty": -2, "requested_date": "2026-12-01"},
        {"order_id": "SO-3", "sku": "B-100", "qty": 1, "requested_date": "soon"},
    ]
    with pytest.raises(SnapshotError) as exc:
        snapshot_from_records("test", AS_OF, {"items": ITEMS.to_dict("records"), "open_demand": rows})
    got = messages(exc)
    assert len(got) == 2
    assert got[0].startswith("open_demand row 1 (order_id=SO-2, sku=B-100): qty: Input should be greater than 0")
    assert got[1].startswith("open_demand row 2 (order_id=SO-3, sku=B-100): requested_date:")


def test_records_and_frames_agree() -> None:
    line = SalesOrderLine(order_id="SO-1", sku="B-100", qty=2, requested_date=dt.date(2026, 12, 1))
    from_records = snapshot_from_records("t", AS_OF, {"items": ITEMS.to_dict("records"), "open_demand": [line]})
    from_frames = build_snapshot("t", AS_OF, {"items": ITEMS, "open_demand": pd.DataFrame([line.model_dump()])})
    pd.testing.assert_frame_equal(from_records.open_demand, from_frames.open_demand)
    pd.testing.assert_frame_equal(from_records.items, from_frames.items)


def test_frames_are_numbered_from_zero_and_the_callers_frames_are_left_as_they_were() -> None:
    """The snapshot renumbers its own validated frames in place (a 1.4 M-line history is not copied for
    it): each entity is numbered 0..n-1, and the frames handed in keep their own row labels (a connector's
    source row numbers) and values, even a frame that needed no coercion at all."""
    items = ITEMS.assign(unit_cost=[100.0, 120.0], unit_price=[200.0, 250.0]).set_axis([2, 3])
    shipments = pd.DataFrame(
        {
            "sku": ["B-100", "B-200", "B-100"],
            "qty": [1.0, 2.0, -1.0],
            "ship_date": pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03"]),
            "customer": ["C1", "", "C2"],
        },
        index=[7, 9, 12],
    )
    before = shipments.copy()
    snap = build_snapshot("test", AS_OF, {"items": items, "shipments": shipments})
    for frame in snap.frames.values():
        assert frame.index.equals(pd.RangeIndex(len(frame)))
    assert snap.shipments["qty"].tolist() == [1.0, 2.0, -1.0]
    pd.testing.assert_frame_equal(shipments, before, check_exact=True)
    assert items.index.tolist() == [2, 3]


def test_shipped_since_keeps_the_recent_shipments_in_their_order_and_every_other_entity() -> None:
    """A job that reads a year of history holds only that year: the shipments from the date on, in their
    order, numbered from zero; every other entity is the same frame."""
    shipments = pd.DataFrame(
        {
            "sku": ["B-100", "B-200", "B-100", "B-200"],
            "qty": [1.0, 2.0, -1.0, 4.0],
            "ship_date": pd.to_datetime(["2025-10-31", "2025-11-01", "2023-01-05", "2026-11-20"]),
            "customer": ["C1", "", "C2", "C3"],
        }
    )
    snap = build_snapshot("test", AS_OF, {"items": ITEMS, "shipments": shipments})
    recent = snap.shipped_since(pd.Timestamp("2025-11-01"))
    assert recent.shipments["qty"].tolist() == [2.0, 4.0]
    assert recent.shipments.index.equals(pd.RangeIndex(2))
    assert recent.shipments.dtypes.equals(snap.shipments.dtypes)
    assert (recent.source, recent.as_of) == (snap.source, snap.as_of)
    assert all(recent.frames[e] is snap.frames[e] for e in snap.frames if e != "shipments")
    assert len(snap.shipments) == 4  # the snapshot it came from is left as it was
