"""Publishing the agreed plan into the real embedded Tryton server (stock_forecast), read back over JSON-RPC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.tryton_publish import PublishError, find_version, publish_forecast
from sop_functions import clock

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def tryton() -> Iterator[Any]:
    try:
        from connectors.tryton.connector import TrytonConnector
        from connectors.tryton.server import demo_server
    except ImportError as exc:  # pragma: no cover - the harness is part of the repo
        pytest.skip(f"Tryton harness unavailable: {exc}")
    with demo_server(show_progress=False) as server:
        transport = TrytonConnector(server.settings).transport()
        yield transport
        transport.close()


def months(n: int) -> list[str]:
    start = pd.Period(clock.today(dt.UTC), freq="M") + 1
    return [str(start + k) for k in range(n)]


def demand(scale: float = 1.0) -> pd.DataFrame:
    m = months(2)
    return pd.DataFrame(
        {"sku": ["CH-100", "CH-100", "TB-200", "TB-200"], "bucket": m * 2, "qty": [10 * scale, 12.4, 5.0, 0.0]}
    ).sort_values("sku")


class FailOn:
    """Passes calls through to Tryton, raises once on one model method (the injected failure)."""

    def __init__(self, rpc: Any, model: str, method: str) -> None:
        self.rpc, self.target, self.armed = rpc, (model, method), True

    @property
    def context(self) -> dict[str, Any]:
        return dict(self.rpc.context)

    def model(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if (model, method) == self.target and self.armed:
            self.armed = False
            raise RuntimeError(f"injected failure in {model}.{method}")
        return self.rpc.model(model, method, *args, **kwargs)


def lines_of(rpc: Any, ids: list[int]) -> list[tuple[str, float]]:
    rows = rpc.model("stock.forecast.line", "search_read", [("forecast", "in", ids)], 0, None, None,
                     ["product.code", "quantity", "forecast"])  # fmt: skip
    return sorted((r["product."]["code"], r["quantity"]) for r in rows)


def test_publish_reads_back_is_idempotent_and_rolls_back(tryton: Any) -> None:
    before = tryton.model("stock.forecast", "search_count", [])
    first = publish_forecast(tryton, demand(), plan="t", version=1)
    assert first.created and len(first.forecast_ids) == 2 and first.lines == 3  # the 0 line is skipped
    assert lines_of(tryton, list(first.forecast_ids)) == [("CH-100", 10.0), ("CH-100", 12.0), ("TB-200", 5.0)]
    rows = tryton.model("stock.forecast", "read", list(first.forecast_ids), ["from_date", "to_date", "state"])
    assert sorted(r["from_date"].strftime("%Y-%m") for r in rows) == months(2)
    assert {r["state"] for r in rows} == {"done"}

    again = publish_forecast(tryton, demand(), plan="t", version=1)
    assert not again.created and again.forecast_ids == first.forecast_ids
    assert tryton.model("stock.forecast", "search_count", []) == before + 2  # no duplicate

    for method in (("ir.note", "create"), ("stock.forecast", "confirm")):
        with pytest.raises(PublishError, match="rolled back"):
            publish_forecast(FailOn(tryton, *method), demand(2.0), plan="t", version=2)
        assert find_version(tryton, "t", 2) == []
        assert tryton.model("stock.forecast", "search_count", []) == before + 2
        states = tryton.model("stock.forecast", "read", list(first.forecast_ids), ["state"])
        assert {r["state"] for r in states} == {"done"}  # version 1 still in force

    bad = pd.DataFrame({"sku": ["NOPE-1"], "bucket": months(1), "qty": [1.0]})
    with pytest.raises(PublishError, match=r"not Tryton products.*nothing was written"):
        publish_forecast(tryton, bad, plan="t", version=3)

    second = publish_forecast(tryton, demand(2.0), plan="t", version=2)
    assert second.created and sorted(second.superseded_ids) == sorted(first.forecast_ids)
    old = tryton.model("stock.forecast", "read", list(first.forecast_ids), ["state"])
    assert {r["state"] for r in old} == {"cancelled"}
    assert lines_of(tryton, list(second.forecast_ids))[0] == ("CH-100", 12.0)


def test_publish_plan_end_to_end(tryton: Any, tmp_path: Path) -> None:
    """Snapshot from Tryton -> plan -> store version 1 -> forecasts in Tryton; the store records the ids."""
    from addin.publish import publish_plan
    from connectors.tryton.connector import TrytonConnector
    from connectors.tryton.server import demo_server
    from sop_functions.plan import build_plan

    with demo_server(show_progress=False) as server:
        snapshot = TrytonConnector(server.settings).snapshot(full=True)
        plan = build_plan(snapshot, pd.DataFrame(columns=["family", "bucket", "qty"]))
        result = publish_plan(tmp_path / "SOP.xlsx", plan=plan, who="ann", erp=server.settings)
        assert result.created and result.version.version == 1
        assert result.erp is not None and result.erp.created
        assert result.version.erp_status == "published"
        assert result.version.erp_reference.startswith("stock.forecast ")
        again = publish_plan(tmp_path / "SOP.xlsx", plan=plan, who="ann", erp=server.settings)
        assert not again.created and again.erp is not None and not again.erp.created
