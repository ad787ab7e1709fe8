"""Evaluate validation rules on a stored version, in SQL on the datastore's own engine.

Each rule becomes a query for its offending rows; only their count and the first `cap` rows (row
number, column, value) come back, so a check of millions of rows moves no data into Python.
Row numbers count data rows from 1 in load order, the same on every backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from urbandata.datastore.base import Datastore
from urbandata.datastore.sql import SqlBuilder, quote_ident
from urbandata.quality.rules import (
    DateRule,
    Enum,
    ForeignKey,
    Pattern,
    Range,
    Required,
    RowCountChange,
    Rule,
    Unique,
    dump_rules,
    rule_columns,
)


@dataclass(frozen=True)
class _Check:
    """A query for offending rows: `sql` selects `__row__` and the offending values, over `{t}` (and `{fk}`)."""

    rule_no: int
    column: str
    sql: str
    params: list[Any]
    message: str
    tables: dict[str, str]


def json_value(v: Any) -> Any:
    if isinstance(v, dt.date | dt.datetime | dt.time):
        return v.isoformat()
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    return str(v)


def _checks(
    ds: Datastore,
    table_ref: str,
    rules: Sequence[Rule],
    types: Mapping[str, str],
    targets: Mapping[int, str],
    now: dt.datetime,
) -> list[_Check]:
    rid = ds.row_id
    out: list[_Check] = []
    base = {"t": table_ref}
    for i, rule in enumerate(rules, start=1):
        b = SqlBuilder(ds.param_marker)
        if any(c not in types for c in rule_columns(rule)):
            continue  # reported by validate_version as a schema violation
        if isinstance(rule, Required):
            for col in rule.columns:
                q = quote_ident(col)
                blank = f" OR trim(CAST({q} AS VARCHAR)) = ''" if types.get(col) == "string" else ""
                sql = f"SELECT {rid} AS __row__, {q} AS v FROM {{t}} WHERE {q} IS NULL{blank}"
                out.append(_Check(i, col, sql, [], "value missing", base))
            continue
        if isinstance(rule, Unique):
            cols = ", ".join(quote_ident(c) for c in rule.columns)
            key = " || '|' || ".join(f"coalesce(CAST({quote_ident(c)} AS VARCHAR), '')" for c in rule.columns)
            not_null = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in rule.columns)
            sql = (
                f"SELECT __row__, v FROM (SELECT {rid} AS __row__, {key} AS v, "
                f"count(*) OVER (PARTITION BY {cols}) AS n FROM {{t}} WHERE {not_null}) d WHERE n > 1"
            )
            message = "duplicate key " + " + ".join(rule.columns)
            out.append(_Check(i, ", ".join(rule.columns), sql, [], message, base))
            continue
        if isinstance(rule, RowCountChange):
            continue
        q = quote_ident(rule.column)
        head = f"SELECT m.{rid} AS __row__, m.{q} AS v FROM {{t}} m WHERE m.{q} IS NOT NULL AND "
        tables = base
        if isinstance(rule, Range):
            parts = []
            if rule.min is not None:
                parts.append(f"{q} < {b.param(rule.min)}")
            if rule.max is not None:
                parts.append(f"{q} > {b.param(rule.max)}")
            lo = "" if rule.min is None else f"{rule.min:g}"
            hi = "" if rule.max is None else f"{rule.max:g}"
            cond, message = " OR ".join(parts), f"outside the range {lo}..{hi}"
        elif isinstance(rule, Enum):
            cond = f"{q} NOT IN ({', '.join(b.param(v) for v in rule.values)})"
            message = "not one of the allowed values"
        elif isinstance(rule, Pattern):
            if ds.kind == "postgresql":
                cond = f"CAST({q} AS VARCHAR) !~ {b.param('^(?:' + rule.pattern + ')$')}"
            else:
                cond = f"NOT regexp_full_match(CAST({q} AS VARCHAR), {b.param(rule.pattern)})"
            message = f"does not match the pattern {rule.pattern}"
        elif isinstance(rule, DateRule):
            parts = []
            if rule.min is not None:
                parts.append(f"CAST({q} AS DATE) < {b.param(rule.min)}")
            if rule.max is not None:
                parts.append(f"CAST({q} AS DATE) > {b.param(rule.max)}")
            if rule.not_future:
                naive = now.astimezone(dt.UTC).replace(tzinfo=None)
                parts.append(f"{q} > {b.param(naive.date() if types.get(rule.column) == 'date' else naive)}")
            cond, message = " OR ".join(parts), "implausible date"
        elif isinstance(rule, ForeignKey):
            if i not in targets:
                continue
            tq = quote_ident(rule.target_column)
            cond = f"NOT EXISTS (SELECT 1 FROM {{fk}} f WHERE f.{tq} = m.{q})"
            message = f"not found in {rule.dataset}/{rule.resource}.{rule.target_column}"
            tables = {**base, "fk": targets[i]}
        else:  # pragma: no cover - every rule type is handled above
            continue
        out.append(_Check(i, rule.column, head + f"({cond})", list(b.params), message, tables))
    return out


def validate_version(
    ds: Datastore,
    table_ref: str,
    rules: Sequence[Rule],
    types: Mapping[str, str],
    *,
    row_count: int,
    previous_row_count: int | None,
    targets: Mapping[int, str],
    now: dt.datetime,
    cap: int = 100,
) -> dict[str, Any]:
    """Check a version against its rules; the report lists every rule's count and up to `cap` violations.

    `targets` maps the 1-based number of each foreign-key rule to the target's current table_ref.
    """
    counts = [0] * len(rules)
    skipped: set[int] = set()
    violations: list[dict[str, Any]] = []
    for check in _checks(ds, table_ref, rules, types, targets, now):
        n = int(ds.query_versions(f"SELECT count(*) FROM ({check.sql}) q", check.params, check.tables)[0][0])
        counts[check.rule_no - 1] += n
        room = cap - len(violations)
        if n and room > 0:
            rows = ds.query_versions(f"{check.sql} ORDER BY __row__ LIMIT {room}", check.params, check.tables)
            violations += [
                {
                    "row": int(r[0]) + 1,
                    "column": check.column,
                    "value": json_value(r[1]),
                    "rule": check.rule_no,
                    "message": check.message,
                }
                for r in rows
            ]
    for i, rule in enumerate(rules):
        absent = [c for c in rule_columns(rule) if c not in types]
        if absent:
            counts[i] = 1
            if len(violations) < cap:
                violations.append(
                    {"row": None, "column": absent[0], "value": None, "rule": i + 1, "message": "column missing"}
                )
            continue
        if isinstance(rule, ForeignKey) and i + 1 not in targets:
            skipped.add(i + 1)
        if isinstance(rule, RowCountChange) and previous_row_count is not None:
            change = _percent_change(previous_row_count, row_count)
            if change > rule.max_percent:
                counts[i] = 1
                if len(violations) < cap:
                    violations.append(
                        {
                            "row": None,
                            "column": None,
                            "value": row_count,
                            "rule": i + 1,
                            "message": f"row count changed by {change:.1f} % ({previous_row_count} -> {row_count}),"
                            f" more than {rule.max_percent:g} %",
                        }
                    )
    dumped = dump_rules(rules)
    total = sum(counts)
    return {
        "checked_at": now.isoformat(),
        "passed": total == 0,
        "row_count": row_count,
        "rules": [
            {"rule": dumped[i], "violations": counts[i], "passed": counts[i] == 0, "skipped": i + 1 in skipped}
            for i in range(len(rules))
        ],
        "violations_total": total,
        "violations": violations,
        "truncated": total > len(violations),
    }


def _percent_change(before: int, after: int) -> float:
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return abs(after - before) / before * 100


def column_completeness(ds: Datastore, table_ref: str, columns: Sequence[str]) -> dict[str, float]:
    """Share of rows with a value, per column (1.0 for an empty table)."""
    if not columns:
        return {}
    counts = ", ".join(f"count({quote_ident(c)})" for c in columns)
    row = ds.query_versions(f"SELECT count(*), {counts} FROM {{t}}", [], {"t": table_ref})[0]
    total = int(row[0])
    return {c: (int(row[i + 1]) / total if total else 1.0) for i, c in enumerate(columns)}
