"""Bills of materials as planning needs them: which items are made, and in which order to plan them.

MRP plans level by level: an item's gross requirement includes what its parents need, so every parent is
planned before its components. The **low-level code** of an item is the deepest level at which it appears
in any BOM (finished goods 0, their components 1, a component of a component 2, ...); planning goes in
increasing code, so a part used at two depths is planned once, after all its parents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_LEVELS = 30


class BomError(ValueError):
    """The bills of materials cannot be planned through (a cycle)."""


def made_items(bom: pd.DataFrame, routings: pd.DataFrame, production: pd.DataFrame) -> pd.Index:
    """Items made in house: parents of a BOM line, items with a routing or with production orders in the
    ERP (everything else is bought)."""
    made = set(bom["parent_sku"].astype(str)) | set(routings["sku"].astype(str)) | set(production["sku"].astype(str))
    return pd.Index(sorted(made))


def low_level_codes(skus: pd.Index, bom: pd.DataFrame) -> np.ndarray:
    """Per SKU of ``skus`` (in that order), its low-level code. Raises :class:`BomError` for a cycle."""
    parent = skus.get_indexer(pd.Index(bom["parent_sku"].astype(str)))
    child = skus.get_indexer(pd.Index(bom["component_sku"].astype(str)))
    keep = (parent >= 0) & (child >= 0)
    parent, child = parent[keep], child[keep]
    codes = np.zeros(len(skus), dtype=np.int64)
    for _ in range(MAX_LEVELS + 1):
        pushed = np.zeros(len(skus), dtype=np.int64)
        np.maximum.at(pushed, child, codes[parent] + 1)
        new = np.maximum(codes, pushed)
        if np.array_equal(new, codes):
            return codes
        codes = new
    stuck = sorted(skus[codes >= MAX_LEVELS].tolist())[:10]
    raise BomError(
        f"the bills of materials go deeper than {MAX_LEVELS} levels: is a component its own parent? "
        f"(e.g. {', '.join(map(str, stuck))})"
    )


def bom_arrays(skus: pd.Index, bom: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(parent, component, qty_per)`` as positions in ``skus`` (lines naming unknown items dropped)."""
    parent = skus.get_indexer(pd.Index(bom["parent_sku"].astype(str)))
    child = skus.get_indexer(pd.Index(bom["component_sku"].astype(str)))
    keep = (parent >= 0) & (child >= 0)
    return parent[keep], child[keep], bom["qty_per"].to_numpy(dtype=float)[keep]


def explode(
    production: np.ndarray, release: np.ndarray, parent: np.ndarray, child: np.ndarray, qty_per: np.ndarray
) -> np.ndarray:
    """Dependent demand ``(items, labels)`` of ``production`` ``(items, labels)`` one BOM level down.

    A parent's output in position ``t`` needs ``qty_per`` of each component at ``release[parent, t]``.
    """
    n, width = production.shape
    out = np.zeros((n, width))
    if len(parent) == 0:
        return out
    qty = production[parent] * qty_per[:, None]  # lines x labels
    where = release[parent]
    rows = np.repeat(child, width)
    np.add.at(out, (rows, where.ravel()), qty.ravel())
    return out
