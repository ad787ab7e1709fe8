"""Engine-neutral aggregation plans (GROUP BY, metrics, time buckets), rendered as SQL for DuckDB and PostgreSQL.

The plan is already checked against the table's schema by the caller; this module only renders it.
Every output column has an alias; sorting refers to aliases and happens in an outer query, so an alias
that equals an input column name is never ambiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from urbandata.datastore.sql import Condition, Order, SqlBuilder, quote_ident

AggFunc = Literal["count", "sum", "avg", "min", "max", "count_distinct", "bool_and", "bool_or"]
AGG_FUNCS: tuple[AggFunc, ...] = ("count", "sum", "avg", "min", "max", "count_distinct", "bool_and", "bool_or")
TimeUnit = Literal["hour", "day", "week", "month", "year"]
TIME_UNITS: tuple[TimeUnit, ...] = ("hour", "day", "week", "month", "year")


@dataclass(frozen=True)
class Metric:
    """`func(column) AS alias`; `count` without a column counts rows, with one its non-null values."""

    func: AggFunc
    column: str | None
    alias: str


@dataclass(frozen=True)
class Bucket:
    """`date_trunc(unit, column) AS alias`; `as_date` keeps a DATE column a DATE (weeks start on Monday)."""

    unit: TimeUnit
    column: str
    alias: str
    as_date: bool = False


def _metric_sql(m: Metric) -> str:
    if m.func not in AGG_FUNCS:
        raise ValueError(f"unknown aggregate {m.func!r}")
    if m.column is None:
        if m.func != "count":
            raise ValueError(f"{m.func} needs a column")
        return "count(*)"
    col = quote_ident(m.column)
    if m.func == "count_distinct":
        return f"count(DISTINCT {col})"
    return f"{m.func}({col})"


def _bucket_sql(b: Bucket) -> str:
    if b.unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {b.unit!r}")
    col = quote_ident(b.column)
    if b.as_date:
        return f"CAST(date_trunc('{b.unit}', CAST({col} AS TIMESTAMP)) AS DATE)"
    return f"date_trunc('{b.unit}', {col})"


def aggregate_sql(
    builder: SqlBuilder,
    table: str,
    groups: Sequence[str],
    bucket: Bucket | None,
    metrics: Sequence[Metric],
    where: Sequence[Condition],
    order: Sequence[Order],
    limit: int,
) -> str:
    """The query; output columns are the group columns (named as they are), the bucket, then the metrics."""
    keys = [quote_ident(g) for g in groups]
    if bucket is not None:
        keys.append(f"{_bucket_sql(bucket)} AS {quote_ident(bucket.alias)}")
    values = [f"{_metric_sql(m)} AS {quote_ident(m.alias)}" for m in metrics]
    inner = f"SELECT {', '.join(keys + values)} FROM {table}" + builder.where(where)
    if keys:
        inner += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
    sql = f"SELECT * FROM ({inner}) AS agg"
    if order:
        sql += " ORDER BY " + ", ".join(
            f"{quote_ident(o.column)} {'DESC' if o.descending else 'ASC'} NULLS LAST" for o in order
        )
    return sql + f" LIMIT {int(limit)}"
