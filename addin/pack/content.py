"""What a meeting pack holds: its frames and facts, as JSON so a published version can keep them.

A :class:`Pack` is everything the deck shows and nothing else; rendering reads only this, so a pack
frozen with a version renders the same deck later (``sop pack --version N``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

FORMAT = "sopxl-pack-1"


@dataclass(frozen=True, eq=False)
class Pack:
    """The meeting pack's facts (``meta``: JSON values) and frames (by name, see :mod:`.build`)."""

    meta: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(repr=False)

    def frame(self, name: str) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())

    def to_json(self) -> str:
        body = {"format": FORMAT, "meta": self.meta, "frames": {k: _encode(v) for k, v in self.frames.items()}}
        return json.dumps(body, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Pack:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise ValueError(f"not a sopxl meeting pack (format {body.get('format')!r}, expected {FORMAT!r})")
        return cls(dict(body["meta"]), {k: _decode(v) for k, v in body["frames"].items()})


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | pd.Period):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _encode(frame: pd.DataFrame) -> dict[str, Any]:
    kinds = {
        str(c): ("float" if frame[c].dtype.kind in "fiu" else "bool" if frame[c].dtype.kind == "b" else "text")
        for c in frame.columns
    }
    rows = [[_cell(v) for v in row] for row in frame.astype(object).itertuples(index=False, name=None)]
    return {"columns": [str(c) for c in frame.columns], "kinds": kinds, "rows": rows}


def _decode(data: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(data["rows"], columns=data["columns"], dtype=object)
    for column, kind in data["kinds"].items():
        if kind == "float":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        elif kind == "bool":
            frame[column] = frame[column].astype(bool)
        else:
            frame[column] = frame[column].map(lambda v: "" if v is None else str(v)).astype(object)
    return frame
