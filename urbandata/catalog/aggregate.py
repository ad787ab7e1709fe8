"""Aggregations of a resource version for charts and dashboards: group by columns and time buckets, metrics.

`group_by=Stadtbezirk&metrics=count,sum:CDU&bucket=month:Datum&sort=-count` answers one row per group with
the group values, the bucket and the metrics, typed as JSON like the rows endpoint. Filters are those of
the rows endpoint. Every column named anywhere must be one the actor may read in this version's schema.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog.rows import build_conditions, json_value
from urbandata.catalog.service import TableHandle, open_table
from urbandata.datastore.aggregation import TIME_UNITS, AggFunc, Bucket, Metric
from urbandata.datastore.sql import Order
from urbandata.errors import InvalidInput
from urbandata.ingest.tableschema import SchemaField
from urbandata.stores import Stores

METRICS = ("count", "sum", "avg", "min", "max", "count_distinct")
NUMERIC = ("integer", "number")
BUCKET_ALIAS = "bucket"
DEFAULT_LIMIT = 1000
MAX_GROUPS = 10
MAX_METRICS = 50
_METRIC = re.compile(r"^([a-z_]+)(?::(.+))?$", re.DOTALL)


@dataclass(frozen=True)
class AggregateQuery:
    group_by: Sequence[str] = ()
    metrics: Sequence[str] = ("count",)
    bucket: str | None = None
    filters: Sequence[tuple[str, str]] = ()
    sort: Sequence[str] = ()
    limit: int | None = None
    version: int | None = None
    as_of: dt.datetime | None = None


@dataclass
class AggregateResult:
    table: TableHandle
    groups: list[str]
    metrics: list[str]
    fields: list[dict[str, str]]  # name and Table Schema type of every output column, in order
    rows: list[dict[str, Any]]
    truncated: bool


def _column(fields: dict[str, SchemaField], name: str, parameter: str) -> SchemaField:
    f = fields.get(name)
    if f is None:
        raise InvalidInput(f"Unknown column {name!r}", code="unknown_column", parameter=parameter, column=name)
    return f


def _parse_metric(item: str, fields: dict[str, SchemaField]) -> tuple[Metric, str]:
    """`count`, `count:col`, `sum:col`, ... -> (the engine's metric, the output's Table Schema type)."""
    m = _METRIC.match(item)
    if not m or m[1] not in METRICS:
        raise InvalidInput(
            f"Unknown metric {item!r}; use count, count:COLUMN, sum:, avg:, min:, max: or count_distinct:COLUMN",
            code="invalid_metric",
            parameter="metrics",
        )
    func, name = cast(AggFunc, m[1]), m[2]
    if name is None:
        if func != "count":
            raise InvalidInput(
                f"Metric {func} needs a column, e.g. {func}:COLUMN", code="invalid_metric", parameter="metrics"
            )
        return Metric("count", None, "count"), "integer"
    f = _column(fields, name, "metrics")
    alias = f"{func}_{name}"
    if func in ("count", "count_distinct"):
        return Metric(func, name, alias), "integer"
    if func in ("sum", "avg"):
        if f.type not in NUMERIC:
            raise InvalidInput(
                f"{func} needs a numeric column; {name!r} is of type {f.type}",
                code="invalid_metric",
                parameter="metrics",
                column=name,
            )
        return Metric(func, name, alias), ("number" if func == "avg" else f.type)
    engine_func = func
    if f.type == "boolean":  # min/max of booleans, portable across engines
        engine_func = "bool_and" if func == "min" else "bool_or"
    return Metric(engine_func, name, alias), f.type


def _parse_bucket(spec: str, fields: dict[str, SchemaField]) -> tuple[Bucket, str]:
    unit, sep, name = spec.partition(":")
    if not sep or unit not in TIME_UNITS or not name:
        raise InvalidInput(
            f"Cannot read bucket {spec!r}; use UNIT:COLUMN with UNIT one of {', '.join(TIME_UNITS)}",
            code="invalid_bucket",
            parameter="bucket",
        )
    f = _column(fields, name, "bucket")
    if f.type not in ("date", "datetime"):
        raise InvalidInput(
            f"Time buckets need a date or datetime column; {name!r} is of type {f.type}",
            code="invalid_bucket",
            parameter="bucket",
            column=name,
        )
    if f.type == "date" and unit == "hour":
        raise InvalidInput(
            f"Column {name!r} holds dates without a time of day; use day, week, month or year",
            code="invalid_bucket",
            parameter="bucket",
            column=name,
        )
    return Bucket(unit, name, BUCKET_ALIAS, as_date=f.type == "date"), f.type


def _output_value(value: Any, ftype: str) -> Any:
    if value is None:
        return None
    if ftype == "integer" and not isinstance(value, bool):
        return int(value)  # PostgreSQL sums integers as NUMERIC
    if ftype == "number":
        return float(value)
    return json_value(value, ftype)


@guarded("dataset.read")
def aggregate(ctx: RequestContext, stores: Stores, slug: str, resource: str, q: AggregateQuery) -> AggregateResult:
    max_limit = ctx.settings.api_max_limit
    limit = q.limit if q.limit is not None else min(DEFAULT_LIMIT, max_limit)
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}", code="invalid_limit", parameter="limit")
    table = open_table(ctx, stores, slug, resource, version=q.version, as_of=q.as_of, purpose="aggregate")
    fields = {f.name: f for f in table.schema.fields}

    groups = [g.strip() for g in q.group_by if g.strip()]
    if len(groups) > MAX_GROUPS:
        raise InvalidInput(f"At most {MAX_GROUPS} group_by columns", code="invalid_group_by", parameter="group_by")
    if len(set(groups)) != len(groups):
        raise InvalidInput("A group_by column is named twice", code="invalid_group_by", parameter="group_by")
    out_types = {g: _column(fields, g, "group_by").type for g in groups}

    bucket: Bucket | None = None
    if q.bucket:
        bucket, out_types[BUCKET_ALIAS] = _parse_bucket(q.bucket.strip(), fields)
        if BUCKET_ALIAS in groups:
            raise InvalidInput(
                f"A group_by column is named {BUCKET_ALIAS!r}, like the time bucket; leave one out",
                code="invalid_group_by",
                parameter="group_by",
            )

    items = [m.strip() for m in q.metrics if m.strip()] or ["count"]
    if len(items) > MAX_METRICS:
        raise InvalidInput(f"At most {MAX_METRICS} metrics", code="invalid_metric", parameter="metrics")
    metrics: list[Metric] = []
    for item in items:
        metric, mtype = _parse_metric(item, fields)
        if metric.alias in out_types:
            raise InvalidInput(
                f"The output name {metric.alias!r} is used twice; name each metric and group once",
                code="invalid_metric",
                parameter="metrics",
            )
        out_types[metric.alias] = mtype
        metrics.append(metric)

    group_names = groups + ([BUCKET_ALIAS] if bucket else [])
    order: list[Order] = []
    for item in q.sort:
        item = item.strip()
        if not item:
            continue
        name = item.lstrip("-+")
        if name not in out_types:
            raise InvalidInput(
                f"Cannot sort by {name!r}; sort by a group or a metric: {', '.join(out_types)}",
                code="unknown_column",
                parameter="sort",
            )
        if all(o.column != name for o in order):
            order.append(Order(name, item.startswith("-")))
    # the groups make the order total, so pages of equal metric values come back the same on every engine
    order += [Order(g) for g in group_names if all(o.column != g for o in order)]

    where = build_conditions(fields, q.filters)
    raw = stores.datastore.aggregate(table.table_ref, groups, bucket, metrics, where, order, limit + 1)
    names = list(out_types)
    rows = [{n: _output_value(v, out_types[n]) for n, v in zip(names, r, strict=True)} for r in raw[:limit]]
    return AggregateResult(
        table=table,
        groups=group_names,
        metrics=[m.alias for m in metrics],
        fields=[{"name": n, "type": t} for n, t in out_types.items()],
        rows=rows,
        truncated=len(raw) > limit,
    )
