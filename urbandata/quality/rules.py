"""Validation rules of a resource: their shapes, and the checks made when a steward saves them.

Rules are JSON objects with a `type`:

- `required`: `columns` must have a value in every row;
- `unique`: the combination of `columns` (a compound key) occurs at most once;
- `range`: numbers of `column` lie within `min` .. `max` (either may be left out);
- `enum`: `column` holds only one of `values`;
- `pattern`: text of `column` matches the regular expression `pattern` completely;
- `date`: dates or timestamps of `column` lie within `min` .. `max`, and with `not_future` not after the check;
- `foreign_key`: every value of `column` occurs in `target_column` of resource `resource` of dataset `dataset`;
- `row_count_change`: the row count differs from the previous version by at most `max_percent` per cent.

`check_rules` rejects rules that contradict the Table Schema (unknown columns, wrong types) or each
other (empty ranges, disjoint ranges, enumerations outside a range or a pattern) with one InvalidInput
naming every problem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from urbandata.errors import InvalidInput

NUMERIC = ("integer", "number", "year")
TEMPORAL = ("date", "datetime")
TEXT = ("string", "yearmonth")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Required(_Rule):
    type: Literal["required"]
    columns: list[str] = Field(min_length=1)


class Unique(_Rule):
    type: Literal["unique"]
    columns: list[str] = Field(min_length=1)


class Range(_Rule):
    type: Literal["range"]
    column: str
    min: float | None = None
    max: float | None = None


class Enum(_Rule):
    type: Literal["enum"]
    column: str
    values: list[str | int | float] = Field(min_length=1)


class Pattern(_Rule):
    type: Literal["pattern"]
    column: str
    pattern: str = Field(min_length=1, max_length=1000)


class DateRule(_Rule):
    type: Literal["date"]
    column: str
    min: dt.date | None = None
    max: dt.date | None = None
    not_future: bool = False


class ForeignKey(_Rule):
    type: Literal["foreign_key"]
    column: str
    dataset: str
    resource: str
    target_column: str


class RowCountChange(_Rule):
    type: Literal["row_count_change"]
    max_percent: float = Field(ge=0)


Rule = Annotated[
    Required | Unique | Range | Enum | Pattern | DateRule | ForeignKey | RowCountChange, Field(discriminator="type")
]
_RULES = TypeAdapter(list[Rule])

#: (dataset, resource) -> the target's column types, or None when it does not exist for the actor
TargetLookup = Callable[[str, str], dict[str, str] | None]


def parse_rules(doc: Any) -> list[Rule]:
    """Parse a JSON list of rules; shape errors become one InvalidInput naming the rule and field."""
    try:
        return _RULES.validate_python(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(
            f"Invalid validation rule at {where}: {first['msg']}", code="invalid_rules", location=where
        ) from None


def dump_rules(rules: Sequence[Rule]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json", exclude_none=True) for r in rules]


def rule_columns(rule: Rule) -> list[str]:
    if isinstance(rule, Required | Unique):
        return list(rule.columns)
    if isinstance(rule, RowCountChange):
        return []
    return [rule.column]


def _coerce(value: Any, ftype: str) -> Any:
    """An enumeration value as the column's type, or raise ValueError."""
    if ftype in ("integer", "year"):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value)
    if ftype == "number":
        return float(value)
    if ftype in TEXT:
        return str(value)
    raise ValueError(value)


def check_rules(rules: Sequence[Rule], types: dict[str, str], target: TargetLookup) -> list[Rule]:
    """Check rules against the schema (`types`: column -> Table Schema type) and each other.

    Returns the rules with enumeration values coerced to their column's type.
    """
    problems: list[str] = []
    out: list[Rule] = []
    for i, rule in enumerate(rules):
        label = f"rule {i + 1} ({rule.type})"
        missing = [c for c in rule_columns(rule) if c not in types]
        if missing:
            problems.append(f"{label}: no column {', '.join(repr(c) for c in missing)} in the schema")
            out.append(rule)
            continue
        ftype = types[rule_columns(rule)[0]] if rule_columns(rule) else ""
        if isinstance(rule, Required | Unique) and len(set(rule.columns)) != len(rule.columns):
            problems.append(f"{label}: a column is named twice")
        if isinstance(rule, Range):
            if ftype not in NUMERIC:
                problems.append(f"{label}: column {rule.column!r} is {ftype}, a range needs numbers")
            if rule.min is None and rule.max is None:
                problems.append(f"{label}: give min, max or both")
            elif rule.min is not None and rule.max is not None and rule.min > rule.max:
                problems.append(f"{label}: min {rule.min:g} is greater than max {rule.max:g}")
        if isinstance(rule, Enum):
            try:
                rule = rule.model_copy(update={"values": [_coerce(v, ftype) for v in rule.values]})
            except (TypeError, ValueError):
                problems.append(f"{label}: values do not fit column {rule.column!r} of type {ftype}")
        if isinstance(rule, Pattern):
            if ftype not in TEXT:
                problems.append(f"{label}: column {rule.column!r} is {ftype}, a pattern needs text")
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                problems.append(f"{label}: invalid regular expression: {exc}")
        if isinstance(rule, DateRule):
            if ftype not in TEMPORAL:
                problems.append(f"{label}: column {rule.column!r} is {ftype}, a date rule needs a date or timestamp")
            if rule.min is None and rule.max is None and not rule.not_future:
                problems.append(f"{label}: give min, max or not_future")
            elif rule.min and rule.max and rule.min > rule.max:
                problems.append(f"{label}: min {rule.min} is after max {rule.max}")
        if isinstance(rule, ForeignKey):
            target_types = target(rule.dataset, rule.resource)
            if target_types is None:
                problems.append(f"{label}: no loaded resource {rule.resource!r} in dataset {rule.dataset!r}")
            elif rule.target_column not in target_types:
                problems.append(
                    f"{label}: resource {rule.dataset}/{rule.resource} has no column {rule.target_column!r}"
                )
            elif not _compatible(ftype, target_types[rule.target_column]):
                problems.append(
                    f"{label}: column {rule.column!r} ({ftype}) cannot refer to "
                    f"{rule.target_column!r} ({target_types[rule.target_column]})"
                )
        out.append(rule)
    problems += _contradictions(out)
    if problems:
        raise InvalidInput(f"Validation rules rejected: {problems[0]}", code="invalid_rules", problems=problems)
    return out


def _compatible(a: str, b: str) -> bool:
    return a == b or (a in NUMERIC and b in NUMERIC) or (a in TEXT and b in TEXT)


def _contradictions(rules: Sequence[Rule]) -> list[str]:
    """Rules on the same column that no value can satisfy together."""
    problems: list[str] = []
    by_col: dict[str, list[Rule]] = {}
    for rule in rules:
        if isinstance(rule, Range | Enum | Pattern | DateRule):
            by_col.setdefault(rule.column, []).append(rule)
    for col, rs in by_col.items():
        ranges = [r for r in rs if isinstance(r, Range)]
        lo = max((r.min for r in ranges if r.min is not None), default=None)
        hi = min((r.max for r in ranges if r.max is not None), default=None)
        if lo is not None and hi is not None and lo > hi:
            problems.append(f"column {col!r}: the ranges exclude each other (no value is >= {lo:g} and <= {hi:g})")
        dates = [r for r in rs if isinstance(r, DateRule)]
        dlo = max((r.min for r in dates if r.min is not None), default=None)
        dhi = min((r.max for r in dates if r.max is not None), default=None)
        if dlo is not None and dhi is not None and dlo > dhi:
            problems.append(f"column {col!r}: the date rules exclude each other ({dlo} is after {dhi})")
        enums = [r for r in rs if isinstance(r, Enum)]
        if len(enums) > 1 and not set.intersection(*(set(e.values) for e in enums)):
            problems.append(f"column {col!r}: the enumerations have no value in common")
        for e in enums:
            numbers = [v for v in e.values if isinstance(v, int | float)]
            outside = [v for v in numbers if (lo is not None and v < lo) or (hi is not None and v > hi)]
            if outside:
                problems.append(f"column {col!r}: enumeration values {outside} lie outside the allowed range")
            for p in (r for r in rs if isinstance(r, Pattern)):
                try:
                    rx = re.compile(p.pattern)
                except re.error:
                    continue
                bad = [v for v in e.values if not rx.fullmatch(str(v))]
                if bad:
                    problems.append(f"column {col!r}: enumeration values {bad} do not match pattern {p.pattern!r}")
    return problems
