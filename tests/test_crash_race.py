"""The crash-and-race harness: kill every writer at its checkpoints and at random moments, race them in
pairs on one workbook, and check what a planner relies on.

- **refresh** killed: the workbook is the old one or the refreshed one, byte for byte, and the next
  refresh is never blocked by what the killed one left;
- **collect** killed: after the next writer's recovery the master holds the change if and only if the
  audit trail does, and re-running collect leaves it applied and audited exactly once;
- **publish** killed (real trytond): after the next publish every version is stored once and has exactly
  one set of forecasts in Tryton (the newest done, older ones cancelled), and no unnoted leftovers;
- **pairs** started together (refresh/collect, collect/collect, publish/collect): no lost update. Every
  version of the workbook (each backup, then the final file) follows from the one before by exactly one
  of the commands that succeeded; the other was refused, never interleaved;
- every workbook state opens in python-calamine, and the distinct ones in LibreOffice.

Writers are forked in-process children (tests.crash_support), so a kill costs milliseconds and runs the
CLI's own code. Excluded from the dated reruns of ``make test`` (NOT_DATED): it is about crashes, not dates.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from addin.publish import publish_plan
from sop_functions import clock
from tests.crash_support import (
    BUSY,
    KILLED,
    NOW,
    OK,
    Child,
    Grid,
    World,
    build_world,
    fork,
    grid_of,
    rep_file,
    run,
    table_of,
    with_cell,
)
from tests.libreoffice import libreoffice_values, requires_libreoffice
from workbooks.plan_store import open_store
from workbooks.xlsx import txn
from workbooks.xlsx.journal import journal_path
from workbooks.xlsx.safe_save import BACKUP_DIR

REFRESH_CHECKPOINTS = (
    "held",
    "planned",
    "backed-up",
    "sheet-written",
    "written",
    "verified",
    "before-replace",
    "replaced",
)
COLLECT_CHECKPOINTS = (*REFRESH_CHECKPOINTS[:-1], "journaled", "prepared", "replaced", "completed")
PUBLISH_CHECKPOINTS = (
    "held",
    "stored",
    "erp-writing",
    "erp-created",
    "erp-noted",
    "erp-drafted",
    "erp-superseded",
    "erp-confirmed",
)
KILLS = {"refresh": 40, "collect": 40, "publish": 24}
"""Kills each writer must take (checkpoint kills, then random ones until reached; a random delay that
comes after the writer finished is no kill and does not count)."""
PAIRS = {"refresh+collect": 10, "collect+collect": 5, "publish+collect": 5}


@dataclass
class Tally:
    kills: dict[str, int] = field(default_factory=lambda: {"refresh": 0, "collect": 0, "publish": 0})
    outcomes: dict[str, int] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)
    states: dict[str, bytes] = field(default_factory=dict)
    """Distinct workbook contents seen (digest -> bytes), for LibreOffice at the end."""
    seconds: float = 0.0
    erp_missing: str = ""

    def saw(self, path: Path) -> None:
        data = path.read_bytes()
        self.states.setdefault(hashlib.sha256(data).hexdigest(), data)

    def outcome(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1


TALLY = Tally()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Built under the frozen clock, which each test holds again itself: a freeze held across the yield
    would stay on for the rest of the module, and the ERP fixture below would seed Tryton for a November
    day while the server's own today (the real date) moved on."""
    with clock.frozen(NOW):
        return build_world(tmp_path_factory.mktemp("harness"))


@pytest.fixture(autouse=True)
def _timed() -> Iterator[None]:
    started = time.monotonic()
    yield
    TALLY.seconds += time.monotonic() - started


def _calibrate(job: Callable[[], object], reset: Callable[[], None]) -> float:
    """How long an unkilled forked run takes now (a loaded machine then still spreads kills over every phase)."""
    reset()
    started = time.monotonic()
    child = run(job)
    assert child.code == OK, child.message
    return time.monotonic() - started


Kill = tuple[str | None, float | None]
"""Die at a checkpoint, or be killed from outside after a delay."""


def _kills(rng: random.Random, writer: str, checkpoints: tuple[str, ...], span: float) -> Iterator[Kill]:
    """Each checkpoint once, then random moments in ``span`` until the writer took its :data:`KILLS`; every
    other one in the second half, where the (short) write phase is, not only the (long) read-and-plan."""
    yield from ((c, None) for c in checkpoints)
    for i in range(4 * KILLS[writer]):
        if TALLY.kills[writer] >= KILLS[writer]:
            return
        yield None, rng.uniform(0.0 if i % 2 == 0 else span * 0.5, span)
    raise AssertionError(f"{writer}: only {TALLY.kills[writer]} of {KILLS[writer]} random kills landed")


def _killed(job: Callable[[], object], fault: str | None, delay: float | None) -> Child:
    child = fork(job, fault=fault)
    if delay is not None:
        child.kill_after(delay)
    child.wait()
    return child


def test_refresh_killed_anywhere_leaves_the_old_or_the_new_workbook(world: World) -> None:
    with clock.frozen(NOW):
        duration = _calibrate(world.refresh(), world.reset)
        after = world.master.read_bytes()
        rng = random.Random(16)
        for i, (fault, delay) in enumerate(_kills(rng, "refresh", REFRESH_CHECKPOINTS, duration * 1.1)):
            world.reset()
            child = _killed(world.refresh(), fault, delay)
            got = world.master.read_bytes()
            assert got in (world.pristine, after), (fault, delay, child.code, child.message)
            TALLY.kills["refresh"] += child.code == KILLED
            TALLY.outcome(f"refresh killed: {'new' if got == after else 'old'} workbook")
            grid_of(world.master)  # opens in python-calamine
            TALLY.saw(world.master)
            if i % 6 == 0:  # nothing a killed refresh leaves (lock, temp) blocks the next one
                assert run(world.refresh()).code == OK and world.master.read_bytes() == after
    assert TALLY.outcomes.get("refresh killed: old workbook", 0) > 0
    assert TALLY.outcomes.get("refresh killed: new workbook", 0) > 0


def test_collect_killed_anywhere_is_applied_and_audited_exactly_once(world: World) -> None:
    with clock.frozen(NOW):
        g0 = grid_of(world.master)
        g1 = with_cell(g0, *world.change)
        duration = _calibrate(world.collect(), world.reset)
        rng = random.Random(17)
        for fault, delay in _kills(rng, "collect", COLLECT_CHECKPOINTS, duration * 1.1):
            world.reset()
            child = _killed(world.collect(), fault, delay)
            TALLY.kills["collect"] += child.code == KILLED
            assert child.code in (OK, KILLED), child.message
            txn.recover(world.master)  # what the next sopxl writer does first
            assert not journal_path(world.master).exists() and world.pending() == []
            state = (grid_of(world.master), world.audited())
            assert state in ((g0, []), (g1, [world.change])), (fault, delay, state[1])
            TALLY.outcome(f"collect killed: {'applied' if state[0] == g1 else 'rolled back'}")
            TALLY.saw(world.master)
            again = run(world.collect())
            assert again.code == OK, again.message
            assert (grid_of(world.master), world.audited()) == (g1, [world.change])  # exactly once
    assert TALLY.outcomes.get("collect killed: applied", 0) > 0
    assert TALLY.outcomes.get("collect killed: rolled back", 0) > 0


# -- pairs ------------------------------------------------------------------------------------------------------


@dataclass
class Op:
    """One command of a pair: how to run it and how it transforms a workbook state."""

    name: str
    job: Callable[[], object]
    grid: Callable[[Grid], Grid]
    replans: bool
    """A refresh: the plan tables become the refresh of the previous state."""


def _versions(world: World) -> list[Path]:
    """Every version the workbook went through: the backups (oldest first), then the file itself."""
    backups = sorted((world.folder / BACKUP_DIR).glob(f"{world.master.stem}.*{world.master.suffix}"))
    return [*backups, world.master]


class Refreshed:
    """The plan tables a serial refresh makes from a given grid (computed once per grid, in-process)."""

    def __init__(self, world: World, scratch: Path) -> None:
        self.world, self.scratch, self.cache = world, scratch, dict[Grid, tuple[tuple[object, ...], ...]]()

    def plan(self, version: Path) -> tuple[tuple[object, ...], ...]:
        grid = grid_of(version)
        if grid not in self.cache:
            copy = self.scratch / f"ref-{len(self.cache)}.xlsx"
            shutil.copyfile(version, copy)
            from addin import pipeline

            pipeline.refresh_workbook(copy, source=str(self.world.exports_new), backups=0)
            self.cache[grid] = table_of(copy)
        return self.cache[grid]


def _explain(world: World, ops: list[Op], codes: list[int], refreshed: Refreshed) -> None:
    """Each transition between consecutive versions is exactly one of the succeeded ops, each used once."""
    succeeded = [op for op, code in zip(ops, codes, strict=True) if code == OK]
    versions = _versions(world)
    assert len(versions) - 1 == len(succeeded), ([v.name for v in versions], [op.name for op in succeeded])
    states = [(grid_of(v), table_of(v)) for v in versions]
    for v in versions:
        TALLY.saw(v)

    def fits(order: list[Op]) -> bool:
        for (before, after), op, path in zip(itertools.pairwise(states), order, versions, strict=False):
            plan = refreshed.plan(path) if op.replans else before[1]
            if after != (op.grid(before[0]), plan):
                return False
        return True

    orders = [succeeded, list(reversed(succeeded))]
    assert any(fits(order) for order in orders), "a version does not follow from the one before: lost update"


def _pair(world: World, first: Op, second: Op, offset: float) -> list[int]:
    world.reset()
    a = fork(first.job)
    time.sleep(offset)
    b = fork(second.job)
    codes = [a.wait(), b.wait()]
    for child, code in zip((a, b), codes, strict=True):
        assert code in (OK, BUSY), child.message
    return codes


def test_writers_racing_in_pairs_never_lose_an_update(world: World, tmp_path: Path) -> None:
    with clock.frozen(NOW):
        family, month, qty = world.change
        months = sorted({b for _f, b, _q in grid_of(world.master)})
        other = sorted({f for f, _b, _q in grid_of(world.master)})[-1]
        sam = tmp_path / "sam"
        sam.mkdir()
        rep_file(sam, world.master, "Sam", other, months[2], 555.0)
        store = str(tmp_path / "race.plans.sqlite")
        collect = Op("collect", world.collect(), lambda g: with_cell(g, family, month, qty), replans=False)
        collect_sam = Op("collect-sam", world.collect(sam), lambda g: with_cell(g, other, months[2], 555.0), False)
        refresh = Op("refresh", world.refresh(backups=10), lambda g: g, replans=True)

        def publish_job() -> object:
            return publish_plan(world.master, source=str(world.exports), store_url=store, who="race")

        publish = Op("publish", publish_job, lambda g: g, replans=False)  # reads the workbook, writes a store
        references = _published_references(world, tmp_path)
        span = _calibrate(refresh.job, world.reset)
        refreshed = Refreshed(world, tmp_path)
        rng = random.Random(18)
        kinds = {"refresh+collect": (refresh, collect), "collect+collect": (collect, collect_sam),
                 "publish+collect": (publish, collect)}  # fmt: skip
        for kind, count in PAIRS.items():
            for _ in range(count):
                first, second = kinds[kind] if rng.random() < 0.5 else tuple(reversed(kinds[kind]))
                codes = _pair(world, first, second, rng.uniform(0.0, span * 0.8))
                writers = [(op, c) for op, c in zip((first, second), codes, strict=True) if op is not publish]
                _explain(world, [op for op, _c in writers], [c for _op, c in writers], refreshed)
                changes = {"collect": world.change, "collect-sam": (other, months[2], 555.0)}
                applied = sorted(changes[op.name] for op, c in writers if c == OK and op.name in changes)
                assert sorted(world.audited()) == applied  # each applied change audited once, no others
                if publish in (first, second) and codes[(first, second).index(publish)] == OK:
                    _check_published(store, references)
                TALLY.pairs[kind] = TALLY.pairs.get(kind, 0) + 1
                TALLY.outcome(f"pair {kind}: " + "+".join("ok" if c == OK else "refused" for c in codes))


def _published_references(world: World, scratch: Path) -> list[str]:
    """Fingerprints of the plan published serially from the pristine grid and from the collected one."""
    world.reset()
    out = []
    for step in ("before", "after"):
        if step == "after":
            assert run(world.collect()).code == OK
        result = publish_plan(world.master, source=str(world.exports), store_url=str(scratch / f"{step}.sqlite"))
        out.append(result.version.fingerprint)
    return out


def _check_published(store: str, references: list[str]) -> None:
    """The plan stored while a collect raced it is the plan of one whole grid, never of a mix."""
    with open_store(store) as s:
        versions = s.versions("SOP")
    fingerprints = [v.fingerprint for v in versions]
    assert all(a != b for a, b in itertools.pairwise(fingerprints)), "the same plan stored twice in a row"
    assert set(fingerprints) <= set(references), "a plan computed from no grid the workbook ever held"


# -- publish against the real Tryton ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    try:
        from connectors.tryton.connector import TrytonConnector
        from connectors.tryton.server import demo_server
    except ImportError as exc:  # pragma: no cover - the harness is part of the repo
        TALLY.erp_missing = str(exc)
        pytest.skip(f"Tryton harness unavailable: {exc}")
    from addin import pipeline
    from workbooks.reader import read_forecast

    folder = tmp_path_factory.mktemp("publish")
    with demo_server(show_progress=False) as server:
        at = clock.now().replace(hour=12, minute=0, second=0, microsecond=0)  # the ERP's seeded today, noon
        with clock.frozen(at):
            snapshot = TrytonConnector(server.settings).snapshot(full=True)
            books = {}
            for name, bump in (("A", 0.0), ("B", 40.0)):
                path = folder / f"{name}.xlsx"
                pipeline.new_workbook(path, source=snapshot)
                if bump:
                    grid = read_forecast(folder / "A.xlsx")
                    grid.loc[grid.index[0], "qty"] += bump
                    pipeline.new_workbook(path, source=snapshot, forecast=grid, force=True)
                books[name] = path.read_bytes()
        rpc = TrytonConnector(server.settings).transport()
        baseline = rpc.model("stock.forecast", "search_count", [], context={"active_test": False})
        yield {"server": server, "at": at, "snapshot": snapshot, "books": books, "folder": folder, "rpc": rpc,
               "baseline": int(baseline)}  # fmt: skip
        rpc.close()


def _quiesce(port: int) -> None:
    """Wait until the ERP has finished every request (a killed client's included): no open connection on
    its port. trytond commits before it answers, so after this every accepted write is in the database."""
    hex_port = f"{port:04X}"
    for _ in range(3000):
        busy = False
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                if local.rsplit(":", 1)[1] == hex_port and state in ("01", "08"):  # ESTABLISHED, CLOSE_WAIT
                    busy = True
        if not busy:
            return
        time.sleep(0.01)
    raise AssertionError(f"the ERP on port {port} never went idle")


def _erp_invariants(erp: dict[str, Any], versions: int, store: str) -> None:
    """One forecast set per version; the newest done, the others cancelled; nothing unnoted left behind."""
    with open_store(store) as s:
        recorded = {v.version: v.erp_reference for v in s.versions("W")}
    rpc = erp["rpc"]
    ctx = {"active_test": False}
    notes = rpc.model("ir.note", "search_read", [("message", "like", "sopxl plan W version %")], 0, None, None,
                      ["resource", "message"])  # fmt: skip
    sets: dict[int, list[int]] = {}
    for n in notes:
        sets.setdefault(int(n["message"].rsplit(" ", 1)[1]), []).append(int(n["resource"].split(",")[1]))
    assert sorted(sets) == list(range(1, versions + 1)), sorted(sets)
    for v, ids in sets.items():
        rows = rpc.model("stock.forecast", "read", ids, ["from_date", "state"], context=ctx)
        months = [r["from_date"] for r in rows]
        assert len(months) == len(set(months)), f"version {v} has two forecasts for one month"
        assert {r["state"] for r in rows} == ({"done"} if v == versions else {"cancelled"}), (v, rows)
        reference = recorded.get(v, "")
        if reference.startswith("stock.forecast "):  # the store and Tryton agree on exactly which records
            assert sorted(ids) == sorted(int(i) for i in reference.split(" ", 1)[1].split(",")), v
    total = rpc.model("stock.forecast", "search_count", [], context=ctx)
    assert total == erp["baseline"] + sum(len(ids) for ids in sets.values()), "a forecast no version owns"


@pytest.mark.tryton
def test_publish_killed_anywhere_leaves_one_forecast_set_per_version(erp: dict[str, Any], tmp_path: Path) -> None:
    server, books = erp["server"], erp["books"]
    book = tmp_path / "W.xlsx"
    store = str(tmp_path / "W.plans.sqlite")
    contents = ["A", "B"]

    def publish() -> object:
        return publish_plan(book, source=erp["snapshot"], erp=server.settings, store_url=store, who="harness", months=6)

    with clock.frozen(erp["at"]):
        book.write_bytes(books["A"])
        started = time.monotonic()
        assert run(publish).code == OK  # version 1, unkilled: the calibration run
        duration = time.monotonic() - started
        versions = 1
        _erp_invariants(erp, versions, store)
        rng = random.Random(19)
        for k, (fault, delay) in enumerate(_kills(rng, "publish", PUBLISH_CHECKPOINTS, duration * 1.2)):
            book.write_bytes(books[contents[(k + 1) % 2]])  # alternate: every iteration is a new version
            child = _killed(publish, fault, delay)
            assert child.code in (OK, KILLED), child.message
            TALLY.kills["publish"] += child.code == KILLED
            _quiesce(int(server.port))
            again = run(publish)  # the next publish of the same plan finishes the job
            assert again.code == OK, again.message
            versions += 1
            with open_store(store) as s:
                stored = s.versions("W")
            assert [v.version for v in stored] == list(range(1, versions + 1))  # stored once, not twice
            assert stored[-1].erp_status == "published"
            _erp_invariants(erp, versions, store)
            TALLY.outcome(f"publish killed{' at ' + fault if fault else ''}: finished by the next publish")


@requires_libreoffice
def test_every_workbook_state_seen_opens_in_libreoffice(tmp_path: Path) -> None:
    assert TALLY.states, "the harness tests above ran first"
    for i, data in enumerate(TALLY.states.values()):
        path = tmp_path / f"state{i}.xlsx"
        path.write_bytes(data)
        sheets = libreoffice_values(path, tmp_path / f"lo{i}")
        assert "Forecast" in sheets and "Plan" in sheets and len(sheets["Plan"]) > 3


def test_harness_totals() -> None:
    """At least 100 kills over the three writers and 20 racing pairs, all checks passed above."""
    kills = sum(TALLY.kills.values())
    print(f"\ncrash/race harness: kills {TALLY.kills} = {kills}, pairs {TALLY.pairs} = {sum(TALLY.pairs.values())}")
    for key, count in sorted(TALLY.outcomes.items()):
        print(f"  {count:4d}  {key}")
    print(f"  distinct workbook states {len(TALLY.states)}, {TALLY.seconds:.0f} s")
    assert sum(TALLY.pairs.values()) >= 20
    if TALLY.erp_missing:
        pytest.skip(f"publish kills need the embedded Tryton: {TALLY.erp_missing}")
    assert kills >= 100 and all(TALLY.kills[w] >= n for w, n in KILLS.items())
