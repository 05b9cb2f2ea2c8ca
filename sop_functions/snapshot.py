"""The snapshot: every canonical entity as a typed frame, with the ERP's source name and as-of time.

Validation is vectorised (a 1.4 M-line shipment history validates in well under a second) yet reads its
rules from the pydantic record models in :mod:`sop_functions.model`, so there is one contract. Every bad
value is reported, naming the entity, the row (the frame's index label: connectors put the source's own
row number there), the record's key fields and the field; nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types
import numpy as np
import pandas as pd
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from .model import ENTITY_MODELS, RECORD_KEYS, SKU_REFERENCES, Record

FieldKind = Literal["str", "float", "int", "date", "choice"]


@dataclass(frozen=True)
class Issue:
    """One rejected value: where it is and what is wrong with it."""

    entity: str
    row: object
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.entity} row {self.row}"
        if self.record:
            where += f" ({self.record})"
        return f"{where}: {self.field}: {self.message}"


class SnapshotError(ValueError):
    """Raised with every issue found, so one bad row never hides the others."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        shown = "\n".join(f"  - {issue}" for issue in issues[:50])
        more = f"\n  ... and {len(issues) - 50} more" if len(issues) > 50 else ""
        super().__init__(f"{len(issues)} invalid value(s) in the snapshot:\n{shown}{more}")


@dataclass(frozen=True)
class FieldRule:
    """What the vectorised validator checks for one field, read off the pydantic model."""

    name: str
    kind: FieldKind
    required: bool
    default: object
    nullable: bool = False
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    min_length: int | None = None


def _rule(name: str, info: FieldInfo) -> FieldRule:
    annotation = info.annotation
    nullable = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
    kind: FieldKind
    choices: tuple[str, ...] = ()
    if typing.get_origin(annotation) is Literal:
        kind, choices = "choice", tuple(str(a) for a in typing.get_args(annotation))
    elif annotation is dt.date:
        kind = "date"
    elif annotation is int:
        kind = "int"
    elif annotation is float:
        kind = "float"
    else:
        kind = "str"
    ge = gt = min_length = None
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            ge = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Gt):
            gt = float(meta.gt)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.MinLen):
            min_length = meta.min_length
    default = None if info.is_required() else info.default
    return FieldRule(name, kind, info.is_required(), default, nullable, choices, ge, gt, min_length)


FIELD_RULES: dict[str, tuple[FieldRule, ...]] = {
    entity: tuple(_rule(name, info) for name, info in model.model_fields.items())
    for entity, model in ENTITY_MODELS.items()
}
"""Entity -> its field rules, in the model's field order (which is also the frame's column order)."""

COLUMNS: dict[str, list[str]] = {entity: [r.name for r in rules] for entity, rules in FIELD_RULES.items()}


def empty_frame(entity: str) -> pd.DataFrame:
    """A frame with the entity's columns and canonical dtypes and no rows."""
    dtypes = {"str": object, "choice": object, "float": "float64", "int": "int64", "date": "datetime64[ns]"}
    return pd.DataFrame(
        {r.name: pd.Series(dtype=dtypes[r.kind]) for r in FIELD_RULES[entity]}  # type: ignore[call-overload]
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything the engine needs from the ERP, as of one moment of the ERP's clock.

    Frames have exactly the columns of :data:`COLUMNS`; dates are ``datetime64[ns]`` at midnight.
    """

    source: str
    as_of: dt.datetime
    frames: Mapping[str, pd.DataFrame] = field(repr=False)

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            raise ValueError("snapshot as_of must be timezone-aware (the ERP's own clock, with its offset)")

    @property
    def items(self) -> pd.DataFrame:
        return self.frames["items"]

    @property
    def stock(self) -> pd.DataFrame:
        return self.frames["stock"]

    @property
    def open_demand(self) -> pd.DataFrame:
        return self.frames["open_demand"]

    @property
    def shipments(self) -> pd.DataFrame:
        return self.frames["shipments"]

    @property
    def receipts(self) -> pd.DataFrame:
        return self.frames["receipts"]

    @property
    def production(self) -> pd.DataFrame:
        return self.frames["production"]

    @property
    def work_centers(self) -> pd.DataFrame:
        return self.frames["work_centers"]

    @property
    def routings(self) -> pd.DataFrame:
        return self.frames["routings"]

    @property
    def bom(self) -> pd.DataFrame:
        return self.frames["bom"]

    @property
    def as_of_date(self) -> pd.Timestamp:
        """The as-of calendar date in the ERP's time zone, as a midnight timestamp."""
        return pd.Timestamp(self.as_of.date())

    def shipped_since(self, start: pd.Timestamp) -> Snapshot:
        """This snapshot with only the shipments dated ``start`` or later (renumbered, in their order).

        For a job that reads recent history only (a refresh: a year of a 3-year history), so that the
        rest is not held through it: same rows, same order, so every sum over them is the same.
        """
        shipments = self.shipments
        recent = shipments[(shipments["ship_date"] >= start).to_numpy()]
        recent.index = pd.RangeIndex(len(recent))  # a new frame of its own: renumbered, not copied
        return Snapshot(self.source, self.as_of, {**self.frames, "shipments": recent})


def _record_labels(entity: str, frame: pd.DataFrame, rows: pd.Index) -> list[str]:
    keys = [k for k in RECORD_KEYS[entity] if k in frame.columns]
    if not keys or len(rows) == 0:
        return [""] * len(rows)
    part = frame.loc[rows, keys].astype(str)
    return [", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) for values in part.itertuples(False)]


def _issues(entity: str, frame: pd.DataFrame, name: str, bad: pd.Series, message: Any) -> list[Issue]:
    """Issues for the rows where ``bad`` is true; ``message`` maps the raw value to a message."""
    rows = frame.index[bad.to_numpy()]
    labels = _record_labels(entity, frame, rows)
    values = frame.loc[rows, name] if name in frame.columns else [None] * len(rows)
    return [
        Issue(entity, row, label, name, message(value)) for row, label, value in zip(rows, labels, values, strict=True)
    ]


def _distinct_texts(raw: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """``(codes, distinct texts)`` of a column of texts (categorical, or object holding only str), so
    that each text is stripped and checked once; codes are -1 where the value is missing. None for a
    column of anything else (numbers, mixed), which is checked value by value."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        categories = raw.cat.categories
        if len(categories) and pd.api.types.infer_dtype(categories, skipna=True) != "string":
            return None
        return raw.cat.codes.to_numpy(), pd.Series(categories, dtype=object)
    if raw.dtype != object or pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype=object)


@dataclass(frozen=True)
class _Texts:
    """A column of texts as validated: stripped values (the fill where missing), the missing mask and,
    for a column of distinct texts, each row's position in ``distinct`` (so a check runs once per text)."""

    values: pd.Series
    missing: pd.Series
    codes: np.ndarray | None = None
    distinct: pd.Series | None = None


def _text_values(raw: pd.Series, fill: str) -> _Texts:
    """Stripped texts (``fill`` where missing) and the missing mask (NA or nothing but white space)."""
    distinct = _distinct_texts(raw)
    if distinct is None:
        missing = raw.isna() | (raw.astype(str).str.strip() == "") if raw.dtype == object else raw.isna()
        return _Texts(raw.where(~missing, fill).astype(str).str.strip(), missing)
    codes, texts = distinct
    stripped = texts.str.strip().to_numpy(dtype=object)
    blank = np.append(stripped == "", True)  # code -1 (missing) reads the appended True
    missing = blank[codes]
    choices = np.append(stripped, fill)
    position = np.where(missing, len(stripped), codes)  # codes' own small integer type: no 1.4 M int64
    values = pd.Series(choices[position], index=raw.index, dtype=object)
    return _Texts(values, pd.Series(missing, index=raw.index), position, pd.Series(choices, dtype=object))


def _per_text(texts: _Texts, check: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``check`` (text -> bool) applied once per distinct text of ``texts.values`` and spread over the rows.

    With the positions of :func:`_text_values` no hash table is built (factorizing 1.4 M objects sizes
    one for every row: ~50 MiB at SME-L); otherwise the values are factorized."""
    if texts.codes is not None and texts.distinct is not None:
        codes, distinct = texts.codes, texts.distinct
    else:
        codes, uniques = pd.factorize(texts.values)
        distinct = pd.Series(uniques, dtype=object)
    result = check(distinct).to_numpy(dtype=bool)
    values = texts.values
    return pd.Series(result[codes] if len(result) else np.zeros(len(values), dtype=bool), index=values.index)


def _missing(raw: pd.Series) -> pd.Series:
    """NA, or (in a column of objects) a value that is nothing but white space."""
    if raw.dtype != object:
        return raw.isna()
    return _text_values(raw, "").missing


def _coerce(entity: str, frame: pd.DataFrame, rule: FieldRule) -> tuple[pd.Series, list[Issue]]:
    raw = frame[rule.name]
    issues: list[Issue] = []
    values: pd.Series
    if rule.kind in ("str", "choice"):
        texts = _text_values(raw, "" if rule.default is None else str(rule.default))
        values, missing = texts.values, texts.missing
        if rule.kind == "choice":
            bad = ~_per_text(texts, lambda distinct: distinct.isin(rule.choices)) & ~missing
            expected = ", ".join(rule.choices)
            issues += _issues(entity, frame, rule.name, bad, lambda v: f"must be one of {expected}, got {v!r}")
        if rule.min_length and not rule.nullable:
            shortest = rule.min_length
            bad = _per_text(texts, lambda distinct: distinct.str.len() < shortest)
            bad &= ~(missing & (rule.required or rule.kind == "choice"))  # reported below as missing
            issues += _issues(entity, frame, rule.name, bad, lambda v: "must not be empty")
    elif rule.kind == "date":
        missing = _missing(raw)
        values = pd.to_datetime(raw, errors="coerce", format="mixed") if raw.dtype == object else raw
        if not isinstance(values.dtype, np.dtype) or values.dtype.kind != "M":
            values = pd.to_datetime(values, errors="coerce")
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        values = values.dt.normalize().astype("datetime64[ns]", copy=False)  # normalize made a new column
        bad = values.isna() & ~missing
        issues += _issues(entity, frame, rule.name, bad, lambda v: f"not a date: {v!r}")
    else:
        missing = _missing(raw)
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = values.isna() & ~missing
        issues += _issues(entity, frame, rule.name, bad, lambda v: f"not a number: {v!r}")
        finite = values.notna()
        bad = finite & ~np.isfinite(values.fillna(0.0))
        issues += _issues(entity, frame, rule.name, bad, lambda v: f"not a finite number: {v!r}")
        if rule.kind == "int":
            bad = finite & (values.fillna(0.0) % 1 != 0)
            issues += _issues(entity, frame, rule.name, bad, lambda v: f"not a whole number: {v!r}")
        if rule.ge is not None:
            bad = finite & (values < rule.ge)
            issues += _issues(entity, frame, rule.name, bad, lambda v, b=rule.ge: f"must be >= {b:g}, got {v}")
        if rule.gt is not None:
            bad = finite & (values <= rule.gt)
            issues += _issues(entity, frame, rule.name, bad, lambda v, b=rule.gt: f"must be > {b:g}, got {v}")
        if rule.default is not None:
            values = values.fillna(float(rule.default))  # type: ignore[arg-type]
    if rule.required:
        issues += _issues(entity, frame, rule.name, missing, lambda v: "missing (required)")
    return values, issues


def validate_frame(entity: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Issue]]:
    """Coerce ``frame`` to the entity's canonical columns and dtypes; return it with every issue found.

    Unknown columns are an issue (the model forbids extra fields), missing optional columns take their
    defaults, missing required columns are one issue each (not one per row).
    """
    if entity not in FIELD_RULES:
        raise KeyError(f"unknown entity {entity!r}; expected one of {', '.join(FIELD_RULES)}")
    issues: list[Issue] = []
    known = set(COLUMNS[entity])
    for extra in [c for c in frame.columns if c not in known]:
        issues.append(Issue(entity, "-", "", str(extra), f"unknown column; expected {', '.join(COLUMNS[entity])}"))
    out: dict[str, pd.Series] = {}
    for rule in FIELD_RULES[entity]:
        if rule.name not in frame.columns:
            if rule.required:
                issues.append(Issue(entity, "-", "", rule.name, "column missing (required)"))
                continue
            frame = frame.copy(deep=False)  # the caller's frame keeps its columns; none of them is copied
            frame[rule.name] = pd.Series([rule.default] * len(frame), index=frame.index, dtype=object)
        values, found = _coerce(entity, frame, rule)
        out[rule.name] = values
        issues += found
    if any(i.row == "-" and i.message.startswith("column missing") for i in issues):
        return empty_frame(entity), issues
    clean = pd.DataFrame(out, index=frame.index, copy=False)  # fresh columns: kept, not copied into blocks
    if entity in ("items", "work_centers"):
        key = "sku" if entity == "items" else "code"
        dup = clean[key].duplicated(keep="first") & (clean[key] != "")
        issues += _issues(entity, clean, key, dup, lambda v: f"duplicate {key} {v!r}")
    for rule in FIELD_RULES[entity]:
        if rule.kind == "int" and rule.name in clean:
            clean[rule.name] = clean[rule.name].fillna(0).round().astype("int64")
    return clean, issues


def _reference_issues(frames: Mapping[str, pd.DataFrame]) -> list[Issue]:
    skus = pd.Index(frames["items"]["sku"])
    issues: list[Issue] = []
    for entity, names in SKU_REFERENCES.items():
        frame = frames[entity]
        for name in names:
            bad = ~frame[name].isin(skus) & (frame[name] != "")
            issues += _issues(entity, frame, name, bad, lambda v: f"unknown item {v!r} (not in items)")
    centers = pd.Index(frames["work_centers"]["code"])
    routings = frames["routings"]
    bad = ~routings["work_center"].isin(centers) & (routings["work_center"] != "")
    issues += _issues("routings", routings, "work_center", bad, lambda v: f"unknown work center {v!r}")
    return issues


def build_snapshot(
    source: str,
    as_of: dt.datetime,
    frames: Mapping[str, pd.DataFrame],
    *,
    validated: Mapping[str, pd.DataFrame] | None = None,
) -> Snapshot:
    """Validate every entity frame (absent entities are empty) and bundle them; raise with all issues.

    ``validated``: entities already validated by an earlier build from the same input (a sync that kept
    them because nothing they are made of changed); taken as they are, but still cross-checked.
    """
    validated = validated or {}
    unknown = (set(frames) | set(validated)) - set(ENTITY_MODELS)
    if unknown:
        raise KeyError(f"unknown entities {sorted(unknown)}; expected {', '.join(ENTITY_MODELS)}")
    clean: dict[str, pd.DataFrame] = {}
    issues: list[Issue] = []
    for entity in ENTITY_MODELS:
        frame = frames.get(entity)
        if entity in validated:
            clean[entity] = validated[entity]
            continue
        if frame is None:
            clean[entity] = empty_frame(entity)
            continue
        clean[entity], found = validate_frame(entity, frame)
        issues += found
    issues += _reference_issues(clean)
    if issues:
        raise SnapshotError(issues)
    for frame in clean.values():  # new frames of validate_frame's own: renumbered, not copied (1.4 M lines)
        frame.index = pd.RangeIndex(len(frame))
    return Snapshot(source, as_of, clean)


def snapshot_from_records(
    source: str,
    as_of: dt.datetime,
    records: Mapping[str, Iterable[Record | Mapping[str, Any]]],
    *,
    frames: Mapping[str, pd.DataFrame] | None = None,
    validated: Mapping[str, pd.DataFrame] | None = None,
) -> Snapshot:
    """Build a snapshot from per-record data (JSON APIs), validating each record with its pydantic model.

    Every record's errors are collected (``row`` is its position in the entity's list) before raising.
    ``frames`` are entities given as frames instead (a long history): they are validated like every frame
    of :func:`build_snapshot`, vectorised, by the same rules; ``validated`` as in :func:`build_snapshot`.
    """
    frames = dict(frames or {})
    issues: list[Issue] = []
    for entity, rows in records.items():
        model = ENTITY_MODELS[entity]
        good: list[dict[str, Any]] = []
        for position, row in enumerate(rows):
            try:
                rec = row if isinstance(row, model) else model.model_validate(row)
            except ValidationError as exc:
                label = ", ".join(f"{k}={row.get(k)}" for k in RECORD_KEYS[entity]) if isinstance(row, Mapping) else ""
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "-"
                    issues.append(Issue(entity, position, label, where, err["msg"]))
                continue
            good.append(rec.model_dump())
        frames[entity] = pd.DataFrame(good, columns=COLUMNS[entity]) if good else empty_frame(entity)
    if issues:
        raise SnapshotError(issues)
    return build_snapshot(source, as_of, frames, validated=validated)
