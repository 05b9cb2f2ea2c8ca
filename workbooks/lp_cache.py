"""The supply LP's answers kept beside the workbook, so a refresh whose LP inputs did not change skips HiGHS.

``SOP.xlsx`` keeps them in ``SOP.lp-cache/`` next to it: one ``<key>.npz`` per answer (numpy arrays, read
without pickle), the key being :func:`sop_functions.supply_lp.model_key` (a hash of every number the LP
reads). The newest :data:`KEEP` answers stay (the base plan and a few scenarios); a damaged or foreign file
is ignored and solved again, never trusted: the cache can only ever save time, not change a number.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from sop_functions.supply_lp import LpAnswer

KEEP = 8
_KEY = re.compile(r"^[0-9a-f]{16,128}$")


def lp_cache_dir(workbook: str | os.PathLike[str]) -> Path:
    """``<folder>/<stem>.lp-cache`` beside the workbook."""
    path = Path(workbook).expanduser().resolve()
    return path.with_name(path.stem + ".lp-cache")


class LpAnswerFiles:
    """:class:`~sop_functions.supply_lp.AnswerStore` in a folder (see the module docstring)."""

    def __init__(self, folder: Path, keep: int = KEEP) -> None:
        self.folder = folder
        self.keep = keep

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not an LP answer key: {key!r}")
        return self.folder / f"{key}.npz"

    def get(self, key: str, n_cols: int, n_capacity: int) -> LpAnswer | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                answer = LpAnswer(
                    status=str(data["status"]),
                    objective=float(data["objective"]),
                    col_value=np.array(data["col_value"], dtype=np.float64),
                    capacity_dual=np.array(data["capacity_dual"], dtype=np.float64),
                    seconds=float(data["seconds"]),
                )
                stored_key = str(data["key"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if stored_key != key or answer.col_value.shape != (n_cols,) or answer.capacity_dual.shape != (n_capacity,):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept by the pruning
        return answer

    def put(self, key: str, answer: LpAnswer) -> None:
        """Store atomically (temp file + rename); a folder that cannot be written only costs the reuse."""
        path = self._path(key)
        temp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".answer-", suffix=".npz")
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    key=np.array(key),
                    status=np.array(answer.status),
                    objective=np.array(answer.objective),
                    col_value=answer.col_value,
                    capacity_dual=answer.capacity_dual,
                    seconds=np.array(answer.seconds),
                )
            os.replace(temp, path)
        except OSError:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            return
        self._prune()

    def _prune(self) -> None:
        with contextlib.suppress(OSError):
            answers = sorted(self.folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in answers[self.keep :]:
                old.unlink(missing_ok=True)
