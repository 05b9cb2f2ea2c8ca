"""Incremental vs full sync from the real (embedded) Tryton server after about 1 % of records changed.

``python -m bench.tryton_sync``: on the demo database, then with the stock moves copied (Tryton's own
``stock.move.copy``) up to ``--moves`` (a seeded SME-L would take hours to build through proteus), full
syncs and incremental syncs alternate, each incremental after re-dating ~1 % of the stock moves through
the server. Every sync starts as a new run would: a new connection (the session kept between runs, as
``sop`` keeps it), the cache file on disk. Medians of time, requests and records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from connectors.tryton import TrytonConnector
from connectors.tryton.server import DemoServer, demo_server
from connectors.tryton.sync import SyncCache, SyncReport, sync
from connectors.tryton.transport import TrytonTransport
from sop_functions import clock


def _touch_one_percent(t: TrytonTransport, round_: int) -> int:
    """Re-date ~1 % of the stock moves (at least one) among the open ones, as planners and buyers do daily."""
    moves = t.model("stock.move", "search", [("state", "=", "draft")], 0, None, [["id", "ASC"]])
    total = t.model("stock.move", "search_count", [])
    count = max(1, total // 100)
    chosen = moves[round_ * count % max(1, len(moves)) :][:count] or moves[:count]
    day = clock.today() + dt.timedelta(days=30 + round_)
    t.model("stock.move", "write", chosen, {"planned_date": day}, idempotent=False)
    return len(chosen)


def _grow(t: TrytonTransport, moves: int) -> int:
    """Copy customer moves with Tryton's copy until the database holds ``moves`` stock moves."""
    originals = t.model("stock.move", "search", [("to_location.type", "=", "customer")], 0, None, [["id", "ASC"]])
    while (total := int(t.model("stock.move", "search_count", []))) < moves:
        t.model("stock.move", "copy", originals[: min(len(originals), 1000, moves - total)], {}, idempotent=False)
    return total


def _measure(server: DemoServer, runs: int, label: str) -> None:
    connector = TrytonConnector(server.settings)
    cache = SyncCache(Path(tempfile.mkdtemp(prefix="sopxl-bench-")) / "sync.sqlite", "bench")
    full: list[SyncReport] = []
    incremental: list[SyncReport] = []
    changed = 0
    workers = server.settings.sync_workers
    for run in range(runs):
        _, report = sync(connector.transport(), cache, full=True, overlap_seconds=0, workers=workers)
        full.append(report)
        changed = _touch_one_percent(connector.transport(), run)
        _, report = sync(connector.transport(), cache, overlap_seconds=0, workers=workers)
        incremental.append(report)
    moves = int(connector.transport().model("stock.move", "search_count", []))
    f_time = statistics.median(r.seconds for r in full)
    i_time = statistics.median(r.seconds for r in incremental)
    f_rec = statistics.median(r.total_fetched for r in full)
    i_rec = statistics.median(r.total_fetched for r in incremental)
    f_req = statistics.median(r.requests for r in full)
    i_req = statistics.median(r.requests for r in incremental)
    spread = ", ".join(f"{r.seconds:.3f}" for r in incremental)
    fspread = ", ".join(f"{r.seconds:.3f}" for r in full)
    print(f"{label}: {moves} stock moves; changed per round: {changed} stock moves (~1 %); {workers} requests at once")
    print(f"  full sync       : {f_time:.3f} s median ({fspread}), {f_rec:.0f} records, {f_req:.0f} requests")
    print(f"  incremental sync: {i_time:.3f} s median ({spread}), {i_rec:.0f} records, {i_req:.0f} requests")
    print(f"  ratio incremental/full: time {i_time / f_time:.2f}, records {i_rec / f_rec:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tryton_sync")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=30_000, help="then grow the database to this many moves (0: no)")
    args = parser.parse_args()
    with demo_server(show_progress=False) as server:
        _measure(server, args.runs, "demo database (goal time <= 0.5)")
        if args.moves:
            started = time.monotonic()
            total = _grow(TrytonConnector(server.settings).transport(), args.moves)
            print(f"(copied moves up to {total} in {time.monotonic() - started:.0f} s)")
            _measure(server, args.runs, f"{args.moves} stock moves (goal time <= 0.10)")


if __name__ == "__main__":
    main()
