"""Family names from an ERP's category tree: short where the name is unique, a path where it is not.

Categories of one name under different parents ("Pumps / Spares", "Valves / Spares") are different
families: merged, one family's surplus would hide the other's shortage. Each category is named by the
shortest end of its path no other category shares ("Spares" when only one exists, "Pumps / Spares" when two
do); two identical full paths (two top-level categories of one name) keep their key to stay apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from connectors.transport.records import Row

Key = TypeVar("Key", bound=Hashable)
SEPARATOR = " / "
UNCATEGORIZED = "Uncategorized"
"""The family of an item the ERP puts in no category: planned, but with a warning naming it."""


def family_names(paths: Mapping[Key, Sequence[str]]) -> dict[Key, str]:
    """Category key -> family name, given each category's path of names from the root."""
    tails = Counter(tuple(path[-n:]) for path in paths.values() for n in range(1, len(path) + 1))
    names: dict[Key, str] = {}
    for key, path in paths.items():
        unique = [n for n in range(1, len(path) + 1) if tails[tuple(path[-n:])] == 1]
        names[key] = SEPARATOR.join(path[-unique[0] :]) if unique else f"{SEPARATOR.join(path)} [{key}]"
    return names


def split_path(display_name: str) -> list[str]:
    """``"All / Saleable / Bikes"`` -> ``["All", "Saleable", "Bikes"]`` (an ERP's full category name)."""
    return [part.strip() for part in display_name.split("/") if part.strip()]


def family_or_uncategorized(row: Row, name: str) -> str:
    """``name``, or :data:`UNCATEGORIZED` with a warning on ``row`` when the ERP gives none."""
    if name:
        return name
    row.warn("items", f"no category: planned in family {UNCATEGORIZED}")
    return UNCATEGORIZED
