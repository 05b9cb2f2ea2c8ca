"""Incremental vs full sync from the real (embedded) Tryton server after about 1 % of records changed.

``python -m bench.tryton_sync``: full syncs and incremental syncs alternate, each incremental after
re-dating ~1 % of the open stock moves through the server; medians of time, requests and records.
The demo database is small (~700 records): seeding SME-L into Tryton through proteus would take hours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
from pathlib import Path

from connectors.tryton import TrytonConnector
from connectors.tryton.server import demo_server
from connectors.tryton.sync import SyncCache, SyncReport, sync
from connectors.tryton.transport import TrytonTransport
from sop_functions import clock


def _touch_one_percent(t: TrytonTransport, round_: int) -> int:
    """Re-date ~1 % of open stock moves (at least one), as planners and buyers do every day."""
    moves = t.model("stock.move", "search", [("state", "=", "draft")], 0, None, [["id", "ASC"]])
    total = t.model("stock.move", "search_count", [])
    count = max(1, total // 100)
    chosen = moves[round_ * count % max(1, len(moves)) :][:count] or moves[:count]
    day = clock.today() + dt.timedelta(days=30 + round_)
    t.model("stock.move", "write", chosen, {"planned_date": day}, idempotent=False)
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tryton_sync")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    full: list[SyncReport] = []
    incremental: list[SyncReport] = []
    with demo_server(show_progress=False) as server:
        transport = TrytonConnector(server.settings).transport()
        for run in range(args.runs):
            cache = SyncCache(Path(tempfile.mkdtemp(prefix="sopxl-bench-")) / "sync.sqlite", "bench")
            _, report = sync(transport, cache, full=True, overlap_seconds=0)
            full.append(report)
            changed = _touch_one_percent(transport, run)
            _, report = sync(transport, cache, overlap_seconds=0)
            incremental.append(report)
    f_time = statistics.median(r.seconds for r in full)
    i_time = statistics.median(r.seconds for r in incremental)
    f_rec = statistics.median(r.total_fetched for r in full)
    i_rec = statistics.median(r.total_fetched for r in incremental)
    f_req = statistics.median(r.requests for r in full)
    i_req = statistics.median(r.requests for r in incremental)
    print(f"changed per round: {changed} stock moves (~1 %)")
    print(f"full sync       : {f_time:.3f} s median, {f_rec:.0f} records, {f_req:.0f} requests")
    print(f"incremental sync: {i_time:.3f} s median, {i_rec:.0f} records, {i_req:.0f} requests")
    print(f"ratio incremental/full: time {i_time / f_time:.2f}, records {i_rec / f_rec:.2f} (goal time <= 0.10)")


if __name__ == "__main__":
    main()
