"""A1-style cell and range references."""

from __future__ import annotations

import re
from functools import lru_cache

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


@lru_cache(maxsize=4096)
def col_letters(col: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_cell(ref: str) -> tuple[int, int]:
    """'B4' -> (row 4, col 2)."""
    m = _CELL.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), col_index(m.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A4:F10' -> (first row, first col, last row, last col)."""
    first, _, last = ref.partition(":")
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last) if last else (r1, c1)
    return r1, c1, r2, c2


def make_range(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"
