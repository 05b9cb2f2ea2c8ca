"""Lot sizing: turn a net requirement into the quantity a planned order can really have.

Per item, from the ERP where it holds them (``Item.lot_min``, ``lot_multiple``, ``lot_max``):

1. nothing is ordered for a requirement of (about) zero;
2. at least ``lot_min`` (a minimum order or batch size);
3. rounded **up** to a multiple of ``lot_multiple`` (packs, pallets, batches of 70), else to whole units;
4. at most ``lot_max`` per bucket (a supplier's or a line's limit): the cap wins over the multiple, and
   what it leaves unmet stays visible as a shortage (reason ``lot max``), it is not planned elsewhere.

Odoo's master production schedule works the same way: on hand 60, demand 75, safety stock 10 asks for
25; with a maximum of 20 it suggests 20 (tests/test_engine_proposal.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EPSILON = 1e-9
"""Requirements below this are float noise, not a reason to order."""
WHOLE_UNIT = 1.0
"""Without a lot multiple, planned orders are whole units (a split forecast gives fractional needs; nobody
orders 3.09 chairs). Items sold by the kilogram or litre give their own finer ``lot_multiple`` (0.001)."""


class LotError(ValueError):
    """Lot sizing data that contradict each other (a maximum below the minimum)."""


@dataclass(frozen=True)
class LotRules:
    """Lot sizing arrays, one value per item."""

    minimum: np.ndarray
    multiple: np.ndarray
    maximum: np.ndarray
    """``+inf`` where the item has no cap."""

    @classmethod
    def of(cls, items: pd.DataFrame, skus: pd.Index) -> LotRules:
        """The rules of ``skus`` (in that order) from the items frame; raises :class:`LotError`."""
        indexed = items.set_index("sku")
        take = indexed.reindex(skus)
        minimum = take["lot_min"].fillna(0.0).to_numpy(dtype=float)
        multiple = take["lot_multiple"].fillna(0.0).to_numpy(dtype=float)
        maximum = take["lot_max"].to_numpy(dtype=float)
        maximum = np.where(np.isnan(maximum), np.inf, maximum)
        bad = maximum < minimum
        if bad.any():
            shown = ", ".join(
                f"{s} (min {a:g}, max {b:g})" for s, a, b in zip(skus[bad], minimum[bad], maximum[bad], strict=True)
            )
            raise LotError(f"lot_max is below lot_min for {shown}: fix the item data")
        return cls(minimum, multiple, maximum)

    def take(self, rows: np.ndarray) -> LotRules:
        return LotRules(self.minimum[rows], self.multiple[rows], self.maximum[rows])

    def size(self, need: np.ndarray) -> np.ndarray:
        """The lot for each item's requirement ``need`` (same shape as the rules' arrays)."""
        wanted = need > EPSILON
        qty = np.where(wanted, np.maximum(need, self.minimum), 0.0)
        step = np.where(self.multiple > 0, self.multiple, WHOLE_UNIT)
        rounded = np.ceil(qty / step - EPSILON) * step
        qty = np.where(wanted, rounded, qty)
        capped: np.ndarray = np.minimum(qty, self.maximum)
        return capped
