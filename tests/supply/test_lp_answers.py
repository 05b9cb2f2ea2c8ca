"""The supply LP's answer is reused only when every input the LP reads is identical, else solved again.

A reused answer must give the same plan to the last bit as a solve; a changed input (demand, capacity
hours, costs, stock) must never be answered from the store; a damaged store file is solved again.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.plan import Plan, build_plan
from sop_functions.supply_lp import Costs, reuse_answers
from workbooks.lp_cache import KEEP, LpAnswerFiles, lp_cache_dir

from .support import AS_OF, made_snapshot

HORIZON = Horizon.from_as_of(AS_OF.date(), periods=2)
NO_FORECAST = pd.DataFrame(
    {"family": pd.Series(dtype=str), "bucket": pd.Series(dtype=str), "qty": pd.Series(dtype=float)}
)
FRAMES = ("sku_plan", "family_plan", "planned_orders", "capacity_load", "family_timing")


def plan(store: LpAnswerFiles | None, demand: list[float], costs: Costs | None = None, **kwargs: float) -> Plan:
    with reuse_answers(store):
        return build_plan(made_snapshot(demand, **kwargs), NO_FORECAST, HORIZON, costs=costs)  # type: ignore[arg-type]


def same(a: Plan, b: Plan) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.capacity_plan is not None and b.capacity_plan is not None
    assert np.array_equal(a.capacity_plan.receipts, b.capacity_plan.receipts)
    assert np.array_equal(a.capacity_plan.binding, b.capacity_plan.binding)
    pd.testing.assert_frame_equal(a.capacity_plan.work_centers, b.capacity_plan.work_centers, check_exact=True)
    assert a.capacity_plan.objective == b.capacity_plan.objective


def test_same_inputs_reuse_the_answer_and_give_the_same_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LpAnswerFiles(lp_cache_dir(tmp_path / "SOP.xlsx"))
    solved = plan(None, [5.0, 15.0])
    first = plan(store, [5.0, 15.0])
    assert first.capacity_plan is not None and not first.capacity_plan.reused
    assert len(list(store.folder.glob("*.npz"))) == 1
    same(solved, first)

    def refuse(self: highspy.Highs) -> None:
        raise AssertionError("HiGHS ran although the answer was stored")

    monkeypatch.setattr(highspy.Highs, "run", refuse)
    again = plan(store, [5.0, 15.0])
    assert again.capacity_plan is not None and again.capacity_plan.reused
    same(solved, again)


@pytest.mark.parametrize(
    ("demand", "costs", "kwargs"),
    [
        ([5.0, 16.0], None, {}),  # an open order changed
        ([5.0, 15.0], None, {"hours": 11.0}),  # capacity hours
        ([5.0, 15.0], Costs(overtime_share=0.1), {}),  # overtime allowed
        ([5.0, 15.0], Costs(holding_rate=0.03), {}),  # holding cost
        ([5.0, 15.0], None, {"stock": 2.0}),  # stock on hand
    ],
)
def test_any_changed_input_is_solved_again(
    tmp_path: Path, demand: list[float], costs: Costs | None, kwargs: dict[str, float]
) -> None:
    store = LpAnswerFiles(tmp_path / "answers")
    plan(store, [5.0, 15.0])
    changed = plan(store, demand, costs, **kwargs)
    assert changed.capacity_plan is not None and not changed.capacity_plan.reused
    same(plan(None, demand, costs, **kwargs), changed)
    assert len(list(store.folder.glob("*.npz"))) == 2


def test_a_damaged_or_foreign_answer_is_solved_again(tmp_path: Path) -> None:
    store = LpAnswerFiles(tmp_path / "answers")
    plan(store, [5.0, 15.0])
    (stored,) = store.folder.glob("*.npz")
    stored.write_bytes(b"not an npz file")
    again = plan(store, [5.0, 15.0])
    assert again.capacity_plan is not None and not again.capacity_plan.reused
    same(plan(None, [5.0, 15.0]), again)
    # an answer stored under another key (copied by hand) is not taken for this LP
    other = plan(store, [5.0, 16.0])
    assert other.capacity_plan is not None
    files = sorted(store.folder.glob("*.npz"), key=lambda p: p.stat().st_mtime)
    files[-1].replace(files[0])
    assert not plan(store, [5.0, 15.0]).capacity_plan.reused  # type: ignore[union-attr]


def test_only_the_newest_answers_are_kept(tmp_path: Path) -> None:
    store = LpAnswerFiles(tmp_path / "answers")
    for extra in range(KEEP + 2):
        plan(store, [5.0, 15.0 + extra])
    assert len(list(store.folder.glob("*.npz"))) == KEEP
