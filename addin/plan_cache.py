"""The plan behind the SOP_ worksheet functions, cached per workbook and refresh stamp, never silently stale.

**Staleness rule.** Every plan a workbook shows is identified by its refresh stamp: the ``refreshed_at``
row of ``tblSettings``, rewritten by every Refresh from ERP and every Recompute. A UDF result is looked up
in the plan whose stamp is the workbook's *current* stamp, never in "the last plan this process saw":

1. the add-in's VBA passes ``"<workbook full name>|<refreshed_at>"`` to every SOP_ function as a hidden
   argument (``SopStamp()`` in ``Dispatcher.bas``, wired by ``@xw.arg(..., vba=...)``), so the Python side
   learns the stamp without a COM call of its own;
2. Refresh / Recompute (ribbon) compute the plan, write the owned tables and the new stamp, hand the plan
   to the UDF process through the :class:`PlanStore` (a file per workbook and stamp), then force a full
   recalculation, so every SOP_ cell is evaluated again with the new stamp;
3. a stamp this process has no plan for is loaded from the store, else recomputed from the workbook file
   (its Settings source + Forecast grid); when that cannot reproduce the stamp's plan (the ERP export
   moved on, the Forecast was edited but not recomputed) the cell says so (``#SOP! ... click Recompute``)
   instead of showing numbers of another plan.

Forecast edits without Recompute leave the SOP_ results on the last computed plan, i.e. equal to the
owned tables; ``SOP_ASOF()`` and the Settings stamp say which plan that is.

The hot path (:meth:`PlanCache.get` with a stamp seen before) is one dict lookup.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sop_functions.buckets import Horizon
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot

from .plan_index import LookupProblem, PlanIndex, build_index

STAMP_SEPARATOR = "|"
PLAN_DIR_ENV = "SOPXL_PLAN_DIR"
KEEP_PER_BOOK = 3


@dataclass(frozen=True)
class PlanKey:
    """A workbook (its full name) and the refresh stamp of the plan it shows."""

    book: str
    stamp: str

    @classmethod
    def parse(cls, text: str) -> PlanKey:
        """``"C:\\plans\\SOP.xlsx|2026-11-25T08:00:00+01:00"`` -> key; a bare stamp has no book."""
        book, sep, stamp = text.rpartition(STAMP_SEPARATOR)
        return cls(book.strip(), stamp.strip()) if sep else cls("", text.strip())

    def text(self) -> str:
        return f"{self.book}{STAMP_SEPARATOR}{self.stamp}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def default_plan_dir() -> Path:
    return Path(os.environ.get(PLAN_DIR_ENV) or Path.home() / ".sopxl" / "plans")


@dataclass(frozen=True)
class PlanStore:
    """Hands plans from the ribbon's process to the UDF server's: one pickle per workbook and stamp.

    Files live in the user's own profile (``~/.sopxl/plans``, or ``$SOPXL_PLAN_DIR``) and are written by
    the user's own sopxl; the newest :data:`KEEP_PER_BOOK` per workbook are kept.
    """

    root: Path

    def path(self, key: PlanKey) -> Path:
        return self.root / f"{_digest(key.book.casefold())}-{_digest(key.stamp)}.pkl"

    def save(self, key: PlanKey, plan: Plan, snapshot: Snapshot) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((key, plan, snapshot), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._prune(key)
        return target

    def load(self, key: PlanKey) -> tuple[Plan, Snapshot] | None:
        path = self.path(key)
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            stored_key, plan, snapshot = pickle.load(fh)
        if stored_key != key:
            return None
        return plan, snapshot

    def _saved(self, book: str) -> list[Path]:
        """A workbook's stored plans, oldest first."""
        return sorted(self.root.glob(f"{_digest(book.casefold())}-*.pkl"), key=lambda p: p.stat().st_mtime)

    def newest(self, book: str) -> tuple[PlanKey, Plan, Snapshot] | None:
        """The most recently saved plan of a workbook (its name or full name exactly as published)."""
        for path in reversed(self._saved(book)):
            with contextlib.suppress(OSError), path.open("rb") as fh:
                key, plan, snapshot = pickle.load(fh)
                if key.book.casefold() == book.casefold():
                    return key, plan, snapshot
        return None

    def _prune(self, key: PlanKey) -> None:
        for old in self._saved(key.book)[:-KEEP_PER_BOOK]:
            with contextlib.suppress(OSError):
                old.unlink()


Loader = Callable[[PlanKey], tuple[Plan, Snapshot]]


class PlanCache:
    """In-process plans by stamp text, the most recent ``maxsize`` kept; a miss goes to the store, then
    to ``loader`` (default: recompute from the workbook file, :func:`plan_from_workbook`)."""

    def __init__(self, store: PlanStore | None = None, loader: Loader | None = None, maxsize: int = 4) -> None:
        self.store = store if store is not None else PlanStore(default_plan_dir())
        self.loader: Loader = loader or plan_from_workbook
        self.maxsize = maxsize
        self._entries: OrderedDict[str, PlanIndex] = OrderedDict()
        self.current: PlanIndex | None = None
        self.loads = 0
        """How many plans were indexed (tests read it to prove a stamp change reloads)."""

    def get(self, stamp: object = "") -> PlanIndex:
        """The indexed plan for a stamp text (``"<book>|<refreshed_at>"``); ``""``: the latest plan put."""
        hit = self._entries.get(stamp) if isinstance(stamp, str) else None
        if hit is not None:
            return hit
        return self._miss(stamp)

    def _miss(self, stamp: object) -> PlanIndex:
        if stamp is None or stamp == "":
            if self.current is None:
                raise LookupProblem("#SOP! no plan loaded yet: click Refresh from ERP on the S&OP tab")
            return self.current
        if not isinstance(stamp, str):
            raise LookupProblem(f"#SOP! the refresh stamp must be text, got {stamp!r}")
        key = PlanKey.parse(stamp)
        if not key.stamp:
            raise LookupProblem("#SOP! this workbook has not been refreshed yet: click Refresh from ERP")
        if not key.book:  # a bare refreshed_at (xlwings Server formulas): the plan of that refresh, if held
            for text, index in reversed(self._entries.items()):
                if PlanKey.parse(text).stamp == key.stamp:
                    return index
        found = self.store.load(key)
        if found is None:
            found = self.loader(key)
        return self.put(key, *found)

    def latest_stamp(self, book: str) -> str:
        """The stamp text of the newest plan of a workbook (by name or full name): held here, else the newest
        the store keeps (a restarted xlwings Server); ``""`` if none."""
        wanted = book.strip().casefold()
        for text in reversed(self._entries):
            held = PlanKey.parse(text).book.casefold()
            if held == wanted or Path(held).name == wanted:
                return text
        saved = self.store.newest(book.strip())
        if saved is None:
            return ""
        return self.put(*saved).stamp

    def put(self, key: PlanKey, plan: Plan, snapshot: Snapshot) -> PlanIndex:
        """Index a plan under its key (and as the current plan)."""
        index = build_index(plan, snapshot, key.text())
        self.loads += 1
        self._entries[key.text()] = index
        self._entries.move_to_end(key.text())
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        self.current = index
        return index

    def publish(self, key: PlanKey, plan: Plan, snapshot: Snapshot) -> PlanIndex:
        """Save for the UDF process (store) and index here too."""
        self.store.save(key, plan, snapshot)
        return self.put(key, plan, snapshot)

    def clear(self) -> None:
        self._entries.clear()
        self.current = None


SOURCE_ENV = "SOPXL_SOURCE"


def resolve_source(book: str, source: str) -> str:
    """The ERP source behind a workbook's Settings ``source`` (``files:<folder>``, ``tryton`` or a path).

    ``$SOPXL_SOURCE`` wins; ``files:<name>`` is the export folder ``<name>`` beside the workbook (as
    ``sop demo`` lays it out), or a folder of that path.
    """
    override = os.environ.get(SOURCE_ENV, "").strip()
    if override:
        return override
    text = source.strip()
    if text == "tryton":
        return text
    name = text.removeprefix("files:")
    for candidate in (Path(book).parent / name, Path(name).expanduser()):
        if name and candidate.is_dir():
            return str(candidate)
    raise ValueError(
        f"cannot find the ERP source {text or '(none)'!r} of this workbook: put the export folder {name!r} "
        f"next to the workbook, or set {SOURCE_ENV} to the export folder (or 'tryton')"
    )


def plan_from_workbook(key: PlanKey) -> tuple[Plan, Snapshot]:
    """Recompute the plan of ``key`` from the workbook file: Settings source + the saved Forecast grid.

    Refuses (``#SOP! ...``) when the result could not be the plan the stamp names: another stamp in the
    file, an ERP export that moved on, or a Forecast grid edited since (the Plan table disagrees).
    """
    from workbooks import layout, reader
    from workbooks.stamps import same_time

    from .pipeline import inputs_for, load_snapshot, plan_for

    path = Path(key.book)
    if not key.book or not path.is_file():
        raise LookupProblem("#SOP! plan not found (save the workbook, then click Recompute on the S&OP tab)")
    settings = reader.settings_values(reader.read_table(path, layout.SETTINGS))
    if settings.get("refreshed_at", "") != key.stamp:
        raise LookupProblem("#SOP! the saved workbook holds another plan: click Recompute on the S&OP tab")
    snapshot = load_snapshot(resolve_source(key.book, settings.get("source", "")))
    if not same_time(settings.get("erp_as_of", ""), snapshot.as_of):
        raise LookupProblem("#SOP! the ERP data changed since this plan: click Refresh from ERP")
    periods = int(settings.get("horizon_periods") or 18)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=periods)
    plan = plan_for(snapshot, horizon, inputs_for(str(path.parent), path, horizon))
    shown = reader.read_table(path, layout.PLAN)
    checked = ("shortage_units_proposed", "supply_proposed")
    if len(shown) != len(plan.family_plan) or not all(
        np.allclose(shown[c].to_numpy(dtype="float64"), plan.family_plan[c].to_numpy(dtype="float64")) for c in checked
    ):
        raise LookupProblem("#SOP! the Forecast changed since the last Recompute: click Recompute on the S&OP tab")
    return plan, snapshot
