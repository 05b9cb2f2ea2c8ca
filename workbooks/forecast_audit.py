"""The forecast audit trail: who changed which family/month from what to what, when, from which file, and why.

Kept in a SQLite file beside the workbook (``<workbook stem>.audit.sqlite``), append-only, every statement
parameterised. One ``runs`` row per ``sop collect``; ``changes`` and ``issues`` rows point to it.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .forecast_collect import Consolidation

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, collected_at TEXT NOT NULL, folder TEXT NOT NULL, target TEXT NOT NULL,
    files INTEGER NOT NULL, entries INTEGER NOT NULL, applied INTEGER NOT NULL, issues INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    collected_at TEXT NOT NULL, owner TEXT NOT NULL, file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL,
    family TEXT NOT NULL, month TEXT NOT NULL, old_value REAL, new_value REAL, comment TEXT NOT NULL,
    entered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL, family TEXT, month TEXT,
    rule TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_family_month ON changes (family, month);
"""
CHANGE_FIELDS = (
    "collected_at",
    "owner",
    "file",
    "sheet",
    "cell",
    "family",
    "month",
    "old_value",
    "new_value",
    "comment",
    "entered_at",
    "run_id",
)


def audit_path(workbook: Path) -> Path:
    return workbook.with_name(f"{workbook.stem}.audit.sqlite")


class AuditStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(sqlite3.connect(self.path)) as db, db:
            db.executescript(SCHEMA)

    def record(self, run_id: str, collected_at: str, folder: str, target: str, result: Consolidation) -> None:
        """Append one collect run with its applied changes and its issues (one transaction)."""
        frame = result.changes
        text = {
            c: frame[c].astype(str).tolist() for c in ("owner", "file", "sheet", "cell", "family", "month", "comment")
        }
        old = [_num(v) for v in frame["old"].to_numpy(dtype="float64").tolist()]
        new = [_num(v) for v in frame["new"].to_numpy(dtype="float64").tolist()]
        entered = frame["entered_at"].astype(str).tolist()
        keys = ("owner", "file", "sheet", "cell", "family", "month")
        changes = [
            (run_id, collected_at, *(text[c][i] for c in keys), old[i], new[i], text["comment"][i], entered[i])
            for i in range(len(frame))
        ]
        issues = [(run_id, i.file, i.sheet, i.cell, i.family, i.month, i.rule, i.message) for i in result.issues]
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute(
                "INSERT INTO runs (run_id, collected_at, folder, target, files, entries, applied, issues)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, collected_at, folder, target, result.files, result.entries, len(changes), len(issues)),
            )
            db.executemany(
                "INSERT INTO changes (run_id, collected_at, owner, file, sheet, cell, family, month, old_value,"
                " new_value, comment, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                changes,
            )
            db.executemany(
                "INSERT INTO issues (run_id, file, sheet, cell, family, month, rule, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                issues,
            )

    def changes(
        self, *, family: str | None = None, month: str | None = None, owner: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Changes, newest first, optionally for one family, month or owner."""
        where: list[str] = []
        params: list[object] = []
        for column, value in (("family", family), ("month", month), ("owner", owner)):
            if value is not None:
                where.append(f"{column} = ?")  # column names are fixed literals above, values are bound
                params.append(value)
        sql = f"SELECT {', '.join(CHANGE_FIELDS)} FROM changes"  # noqa: S608 - fixed column names only
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(sql, params).fetchall()
        return pd.DataFrame(rows, columns=list(CHANGE_FIELDS)).astype({"old_value": "float64", "new_value": "float64"})

    def runs(self) -> pd.DataFrame:
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(
                "SELECT run_id, collected_at, folder, target, files, entries, applied, issues"
                " FROM runs ORDER BY collected_at"
            ).fetchall()
        return pd.DataFrame(
            rows, columns=["run_id", "collected_at", "folder", "target", "files", "entries", "applied", "issues"]
        )


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
