"""Reading rows of a resource version: typed filters, sort, keyset cursors, cached counts, JSON values."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog.service import TableHandle, open_table
from urbandata.datastore.sql import OPS, Condition, Op, Order
from urbandata.errors import InvalidInput
from urbandata.ingest.tableschema import SchemaField
from urbandata.stores import Stores

_TRUE = {"true", "1", "ja", "yes", "j"}
_FALSE = {"false", "0", "nein", "no", "n"}
_COUNT_CACHE_SIZE = 4096
_lock = threading.Lock()


@dataclass(frozen=True)
class RowQuery:
    columns: Sequence[str] | None = None
    filters: Sequence[tuple[str, str]] = ()
    sort: Sequence[str] = ()
    limit: int = 100
    cursor: str | None = None
    count: bool = False
    version: int | None = None
    as_of: dt.datetime | None = None


@dataclass
class RowsPage:
    table: TableHandle
    fields: list[SchemaField]
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def typed_value(f: SchemaField, raw: str, parameter: str) -> Any:
    """Parse a filter value given as text into the column's type; a clear 400 when it does not fit."""
    try:
        if f.type in ("integer", "year"):
            return int(raw)
        if f.type == "number":
            return float(raw)
        if f.type == "boolean":
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if f.type == "date":
            return dt.date.fromisoformat(raw)
        if f.type == "datetime":
            value = dt.datetime.fromisoformat(raw)
            return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        if f.type == "time":
            return dt.time.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"Value {raw!r} does not fit column {f.name!r} of type {f.type}",
            code="invalid_filter_value",
            parameter=parameter,
            column=f.name,
        ) from None
    return raw


_SYMBOLS = (("!=", "ne"), (">=", "gte"), ("<=", "lte"), ("=", "eq"), (">", "gt"), ("<", "lt"))


def parse_where(expr: str) -> tuple[str, str]:
    """CLI form `COLUMN=VALUE`, `COLUMN>=VALUE`, ... -> (filter key, value) in API form."""
    for symbol, op in _SYMBOLS:
        if symbol in expr:
            col, value = expr.split(symbol, 1)
            key = col.strip() if op == "eq" else f"{col.strip()}__{op}"
            return key, value.strip()
    raise InvalidInput(f"Cannot read filter {expr!r}; use COLUMN=VALUE", code="invalid_filter", parameter="where")


def build_conditions(fields: dict[str, SchemaField], filters: Sequence[tuple[str, str]]) -> list[Condition]:
    out: list[Condition] = []
    for key, raw in filters:
        name, op = key, "eq"
        if "__" in key:
            head, tail = key.rsplit("__", 1)
            if tail in OPS and head in fields:
                name, op = head, tail
        f = fields.get(name)
        if f is None:
            raise InvalidInput(f"Unknown column {name!r}", code="unknown_column", parameter=key, column=name)
        op_t: Op = op  # type: ignore[assignment]
        if op_t == "isnull":
            low = raw.strip().lower()
            if low not in _TRUE | _FALSE:
                raise InvalidInput("__isnull takes true or false", code="invalid_filter_value", parameter=key)
            out.append(Condition(name, "isnull", low in _TRUE))
        elif op_t == "in":
            out.append(Condition(name, "in", tuple(typed_value(f, v.strip(), key) for v in raw.split(",") if v != "")))
        elif op_t in ("contains", "prefix"):
            out.append(Condition(name, op_t, raw))
        else:
            out.append(Condition(name, op_t, typed_value(f, raw, key)))
    return out


def build_order(fields: dict[str, SchemaField], sort: Sequence[str]) -> list[Order]:
    order: list[Order] = []
    for item in sort:
        item = item.strip()
        if not item:
            continue
        desc = item.startswith("-")
        name = item.lstrip("-+")
        if name not in fields:
            raise InvalidInput(f"Cannot sort by unknown column {name!r}", code="unknown_column", parameter="sort")
        order.append(Order(name, desc))
    return order


def json_value(value: Any, ftype: str) -> Any:
    """A stored value as JSON: numbers as numbers, dates/times in ISO 8601, GeoJSON as an object."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if ftype == "geojson" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _encode_cursor(version: int, keys: Sequence[Any]) -> str:
    payload = json.dumps([version, [json_value(k, "") for k in keys]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, order: Sequence[Order], fields: dict[str, SchemaField]) -> tuple[int, list[Any]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, keys = json.loads(raw)
        if not isinstance(version, int) or not isinstance(keys, list) or len(keys) != len(order) + 1:
            raise ValueError("shape")
        typed = [
            None if k is None else typed_value(fields[o.column], str(k), "cursor")
            for o, k in zip(order, keys, strict=False)
        ]
        return version, [*typed, int(keys[-1])]
    except (ValueError, TypeError, KeyError, InvalidInput):
        raise InvalidInput(
            "Malformed or outdated cursor; start again from the first page", code="invalid_cursor", parameter="cursor"
        ) from None


def cached_count(stores: Stores, table: TableHandle, where: Sequence[Condition]) -> int:
    """Versions are immutable, so a count per (version, filter) is computed once and kept."""
    if not where:
        return table.row_count
    cache: OrderedDict[tuple[Any, ...], int] = stores.caches.setdefault("counts", OrderedDict())
    key = (table.table_ref, tuple((c.column, c.op, repr(c.value)) for c in where))
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    n = stores.datastore.count(table.table_ref, where)
    with _lock:
        cache[key] = n
        while len(cache) > _COUNT_CACHE_SIZE:
            cache.popitem(last=False)
    return n


@guarded("dataset.read")
def query_rows(ctx: RequestContext, stores: Stores, slug: str, resource: str, q: RowQuery) -> RowsPage:
    max_limit = ctx.settings.api_max_limit
    if not 1 <= q.limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}", code="invalid_limit", parameter="limit")
    version = q.version
    probe = open_table(ctx, stores, slug, resource, version=version, as_of=q.as_of)
    fields = {f.name: f for f in probe.schema.fields}
    order = build_order(fields, q.sort)
    after: list[Any] | None = None
    table = probe
    if q.cursor:
        cursor_version, after = _decode_cursor(q.cursor, order, fields)
        if cursor_version != probe.version:
            # a cursor pins the version it started on, so pages never mix versions during a reload
            table = open_table(ctx, stores, slug, resource, version=cursor_version)
    columns = list(q.columns) if q.columns else list(fields)
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise InvalidInput(
            f"Unknown column {unknown[0]!r}", code="unknown_column", parameter="columns", column=unknown[0]
        )
    where = build_conditions(fields, q.filters)
    rows = stores.datastore.select(table.table_ref, columns, where, order, q.limit + 1, after)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = _encode_cursor(table.version, rows[-1][len(columns) :]) if more and rows else None
    out = [{c: json_value(v, fields[c].type) for c, v in zip(columns, r, strict=False)} for r in rows]
    total = cached_count(stores, table, where) if q.count else None
    return RowsPage(table=table, fields=[fields[c] for c in columns], rows=out, next_cursor=next_cursor, total=total)


@dataclass(frozen=True)
class ReadPlan:
    """A checked, typed read of a whole (filtered, sorted) version, for streaming."""

    table: TableHandle
    fields: list[SchemaField]
    where: list[Condition]
    order: list[Order]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


@guarded("dataset.read")
def plan_read(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, q: RowQuery, purpose: str = "read"
) -> ReadPlan:
    """Check a whole-table read (version, columns, filters, sort) before streaming it."""
    table = open_table(ctx, stores, slug, resource, version=q.version, as_of=q.as_of, purpose=purpose)
    fields = {f.name: f for f in table.schema.fields}
    columns = list(q.columns) if q.columns else list(fields)
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise InvalidInput(
            f"Unknown column {unknown[0]!r}", code="unknown_column", parameter="columns", column=unknown[0]
        )
    return ReadPlan(
        table, [fields[c] for c in columns], build_conditions(fields, q.filters), build_order(fields, q.sort)
    )


@guarded("dataset.read")
def iter_rows(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, q: RowQuery, purpose: str = "read"
) -> tuple[TableHandle, list[SchemaField], Iterator[list[tuple[Any, ...]]]]:
    """All rows matching the query, streamed in batches of tuples (exports, CLI output)."""
    plan = plan_read(ctx, stores, slug, resource, q, purpose)
    batches = stores.datastore.iter_batches(plan.table.table_ref, plan.columns, plan.where, plan.order)
    return plan.table, plan.fields, batches
