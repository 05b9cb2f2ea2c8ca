"""Family names from category paths: short where unique, a path where a name repeats (connectors.families)."""

from __future__ import annotations

from connectors.families import family_names, split_path


def test_same_names_under_different_parents_stay_apart_and_unique_names_stay_short() -> None:
    paths = {
        1: ["Pumps", "Spares"],
        2: ["Valves", "Spares"],
        3: ["Chairs"],
        4: ["Plant A", "Kits", "Seals"],
        5: ["Plant B", "Kits", "Seals"],
        6: ["Spare"],
        7: ["Spare"],
    }
    assert family_names(paths) == {
        1: "Pumps / Spares",
        2: "Valves / Spares",
        3: "Chairs",
        4: "Plant A / Kits / Seals",  # "Kits / Seals" is not unique either
        5: "Plant B / Kits / Seals",
        6: "Spare [6]",  # two top-level categories of one name: still two families
        7: "Spare [7]",
    }


def test_an_erps_full_category_name_is_split_into_its_path() -> None:
    assert split_path("All / Saleable / Bikes") == ["All", "Saleable", "Bikes"]
    names = family_names({n: split_path(n) for n in ("All / Saleable / Bikes", "All / Spares / Bikes")})
    assert set(names.values()) == {"Saleable / Bikes", "Spares / Bikes"}
