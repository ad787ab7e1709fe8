"""`$filter` and `$orderby` compiled to SQLAlchemy Core, for SQLite and PostgreSQL.

Semantics worth knowing:
- Relation paths: a predicate (comparison, `in`, boolean function) that names properties of related
  entities becomes one correlated EXISTS over the chain of related tables; a to-many step means
  "any related entity" (`Things?$filter=Datastreams/name eq 'x'`). `$orderby` allows to-one steps only.
- `result`: numeric results live in `result_number`, all others as JSON in `result_json`. A number
  compares with the numeric result; a string with text results, and also numerically when the string
  is a number (`result gt '3'`, as the OGC test suite expects); true/false with boolean results.
- JSON paths (`properties/owner`): compared as numbers with numbers and as text with strings (only
  JSON strings and booleans have a text value), via json_extract (SQLite) or json_extract_path (PostgreSQL).
- Time intervals (`phenomenonTime` of Datastreams, `validTime`, an Observation's interval phenomenonTime)
  compared with an instant t, as FROST does: `lt`/`le` compare the END with t, `gt`/`ge` the START,
  `eq` needs start = end = t. An instant stored without an end behaves like an instant.
- Times are stored in UTC (SQLite: SQLAlchemy's text format, compared as text; PostgreSQL:
  timestamptz); date/time literals are converted to UTC first. Date functions work in UTC.
- Division and modulo by zero give NULL (no match), never an error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from urbandata.errors import InvalidInput
from urbandata.sensors.model import ENTITY_SETS, EntitySet, related_ids
from urbandata.sensors.query import ast
from urbandata.sensors.query.geo import PREDICATES, GeoSQL
from urbandata.sensors.query.parse import OrderItem, resolve_path

ValType = Literal[
    "number", "string", "bool", "datetime", "date", "time", "duration", "geometry", "dyn", "interval", "null"
]
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_FLIP = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_DT = sa.DateTime(timezone=True)
MIN_DATETIME = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
MAX_DATETIME = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
_NAMES = {
    "number": "a number",
    "string": "a string",
    "bool": "a boolean",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
    "duration": "a duration",
    "geometry": "a geometry",
    "dyn": "a JSON value",
    "interval": "a time interval",
    "null": "null",
}


@dataclass
class Val:
    """A typed SQL value. `dyn` (JSON and results): `sql` is the text value, `num` the numeric one."""

    type: ValType
    sql: sa.ColumnElement[Any]
    end: sa.ColumnElement[Any] | None = None  # intervals: the end (the start for instants)
    num: sa.ColumnElement[Any] | None = None  # dyn: the numeric value (NULL if not a number)
    isnull: sa.ColumnElement[bool] | None = None  # dyn: missing or JSON null
    const: ast.LiteralValue = None
    is_const: bool = False


@dataclass
class _Scope:
    """The related tables a predicate needs: relation prefix -> (entity set, alias)."""

    aliases: dict[tuple[str, ...], tuple[EntitySet, sa.FromClause]]
    froms: list[sa.FromClause] = field(default_factory=list)
    conds: list[sa.ColumnElement[bool]] = field(default_factory=list)


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"$filter: {message}", code="invalid_query", parameter="$filter")


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _add_months(value: dt.datetime, months: int) -> dt.datetime:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _as_number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


class _Compiler:
    def __init__(self, entity: EntitySet, table: sa.FromClause, dialect: str, geo_schema: str | None) -> None:
        self.entity = entity
        self.table = table
        self.pg = dialect == "postgresql"
        self.geo = GeoSQL(dialect, geo_schema)
        self.scope = _Scope({(): (entity, table)})

    # --- scopes and paths ----------------------------------------------------------------------

    def alias_for(self, relations: tuple[str, ...]) -> tuple[EntitySet, sa.FromClause]:
        if relations in self.scope.aliases:
            return self.scope.aliases[relations]
        src_entity, src = self.alias_for(relations[:-1])
        rel = src_entity.relation(relations[-1])
        assert rel is not None  # checked by the parser
        target = ENTITY_SETS[rel.target]
        dst = target.table.alias()
        if rel.link is not None:  # many-to-many: join the link table in the same subquery
            link = rel.link.alias()
            self.scope.froms.append(link)
            self.scope.conds.append(link.c[rel.link_self] == src.c.id)
            self.scope.conds.append(link.c[rel.link_target] == dst.c.id)
        else:
            self.scope.conds.append(related_ids(rel, src, dst))
        self.scope.froms.append(dst)
        self.scope.aliases[relations] = (target, dst)
        return target, dst

    def in_scope(self, build: Callable[[], sa.ColumnElement[bool]]) -> sa.ColumnElement[bool]:
        """`build()` with its own related tables, wrapped in EXISTS when it needed any."""
        outer = self.scope
        self.scope = _Scope({(): (self.entity, self.table)})
        try:
            cond = build()
            if not self.scope.froms:
                return cond
            return sa.exists(sa.select(sa.literal(1)).select_from(*self.scope.froms).where(*self.scope.conds, cond))
        finally:
            self.scope = outer

    def path(self, p: ast.Path) -> Val:
        entity, tbl = self.alias_for(p.relations)
        prop = entity.prop(p.property)
        assert prop is not None
        col = tbl.c[prop.column]
        if prop.kind == "result":
            if p.json:
                return self.dyn(tbl.c.result_json, p.json)
            text = self.dyn(tbl.c.result_json, ())
            assert text.isnull is not None
            return Val("dyn", text.sql, num=col, isnull=sa.and_(col.is_(None), text.isnull))
        if p.json or prop.kind in ("json", "any"):
            return self.dyn(col, p.json)
        if prop.kind == "id":
            return Val("number", col)
        if prop.kind == "string":
            return Val("string", col)
        if prop.kind == "instant":
            return Val("datetime", col)
        if prop.kind in ("interval", "time_object"):
            assert prop.end_column is not None
            return Val("interval", col, end=sa.func.coalesce(tbl.c[prop.end_column], col))
        return Val("geometry", self.geo.column(col))  # geojson

    def dyn(self, col: sa.ColumnElement[Any], keys: tuple[str, ...]) -> Val:
        """A value inside a JSON column: text (strings and booleans only) and number."""
        if self.pg:
            node = sa.func.json_extract_path(col, *keys) if keys else col
            text = sa.func.json_extract_path_text(col, *keys) if keys else col.op("#>>")(sa.literal_column("'{}'"))
            kind = sa.func.json_typeof(node)
            return Val(
                "dyn",
                sa.case((kind.in_(["string", "boolean"]), text)),
                num=sa.case((kind == "number", sa.cast(text, sa.Float))),
                isnull=sa.or_(node.is_(None), kind == "null"),
            )
        json_path = "$" + "".join('."' + k + '"' for k in keys)
        kind = sa.func.json_type(col, json_path)
        value = sa.func.json_extract(col, json_path)
        return Val(
            "dyn",
            sa.case(
                (kind == "text", value), (kind == "true", sa.literal("true")), (kind == "false", sa.literal("false"))
            ),
            num=sa.case((kind.in_(["integer", "real"]), value)),
            isnull=sa.or_(kind.is_(None), kind == "null"),
        )

    # --- literals ------------------------------------------------------------------------------

    def literal(self, lit: ast.Lit) -> Val:
        v = lit.value
        if lit.type == "string":
            assert isinstance(v, str)
            return Val(
                "string", sa.cast(sa.literal(v), sa.Text) if self.pg else sa.literal(v, sa.Text), const=v, is_const=True
            )
        if lit.type == "number":
            return Val("number", sa.literal(v), const=v, is_const=True)
        if lit.type == "bool":
            return Val("bool", sa.true() if v else sa.false(), const=v, is_const=True)
        if lit.type == "null":
            return Val("null", sa.null(), is_const=True)
        if lit.type == "datetime":
            assert isinstance(v, dt.datetime)
            return self.datetime_const(v)
        if lit.type == "date":
            assert isinstance(v, dt.date)
            sql = sa.literal(v, sa.Date) if self.pg else sa.literal(v.isoformat(), sa.Text)
            return Val("date", sql, const=v, is_const=True)
        if lit.type == "time":
            assert isinstance(v, dt.time)
            time_sql = sa.literal(v, sa.Time) if self.pg else sa.literal(v.strftime("%H:%M:%S"), sa.Text)
            return Val("time", time_sql, const=v, is_const=True)
        if lit.type == "duration":
            return Val("duration", sa.null(), const=v, is_const=True)
        assert isinstance(v, ast.Geometry)
        return Val("geometry", self.geo.literal(v), const=v, is_const=True)

    def datetime_const(self, value: dt.datetime) -> Val:
        return Val("datetime", sa.literal(_utc(value), _DT), end=None, const=value, is_const=True)

    # --- values --------------------------------------------------------------------------------

    def value(self, node: ast.Node) -> Val:
        if isinstance(node, ast.Lit):
            return self.literal(node)
        if isinstance(node, ast.Path):
            return self.path(node)
        if isinstance(node, ast.Arith):
            return self.arith(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, ast.Negate):
            operand = self.value(node.operand)
            if operand.type == "dyn":
                assert operand.num is not None
                return Val("number", -operand.num)
            if operand.type != "number":
                raise _bad(f"cannot negate {_NAMES[operand.type]}")
            return Val("number", -operand.sql)
        if isinstance(node, ast.Call):
            return self.call(node)
        return Val("bool", self.predicate(node))

    def arith(self, op: str, a: Val, b: Val) -> Val:
        if a.type == "datetime" and b.type == "duration" and op in ("add", "sub"):
            assert isinstance(b.const, ast.Duration)
            return self.shift(a, b.const, -1 if op == "sub" else 1)
        if a.type == "duration" and b.type == "datetime" and op == "add":
            return self.arith(op, b, a)
        x, y = self.number(a, op), self.number(b, op)
        if op == "add":
            return Val("number", x.op("+")(y))
        if op == "sub":
            return Val("number", x.op("-")(y))
        if op == "mul":
            return Val("number", x.op("*")(y))
        if op == "div":
            return Val("number", x.op("/")(sa.func.nullif(y, 0)))
        if self.pg:
            mod = sa.func.mod(sa.cast(x, sa.Numeric), sa.func.nullif(sa.cast(y, sa.Numeric), 0))
            return Val("number", sa.cast(mod, sa.Float))
        return Val("number", sa.func.mod(x, y))

    def number(self, v: Val, what: str) -> sa.ColumnElement[Any]:
        if v.type == "number":
            return v.sql
        if v.type == "dyn":
            assert v.num is not None
            return v.num
        if v.type == "null":
            return sa.null()
        raise _bad(f"{what} needs numbers, not {_NAMES[v.type]}")

    def shift(self, a: Val, d: ast.Duration, sign: int) -> Val:
        if a.is_const:
            assert isinstance(a.const, dt.datetime)
            moved = _add_months(a.const, sign * d.months) + dt.timedelta(seconds=sign * d.seconds)
            return self.datetime_const(moved)
        if self.pg:
            interval = sa.cast(sa.literal(d.text), sa.Interval)
            return Val("datetime", a.sql + interval if sign > 0 else a.sql - interval)
        modifiers = [f"{sign * d.months:+d} months", f"{sign * d.seconds:+f} seconds"]
        moved_text = sa.func.strftime("%Y-%m-%d %H:%M:%f", a.sql, *modifiers).op("||")(sa.literal("000"))
        return Val("datetime", moved_text)

    def string(self, v: Val, fn: str) -> sa.ColumnElement[Any]:
        if v.type in ("string", "dyn", "null"):
            return v.sql
        raise _bad(f"{fn}() needs a string, not {_NAMES[v.type]}")

    def instant(self, v: Val, fn: str) -> Val:
        if v.type == "interval":
            return Val("datetime", v.sql)
        if v.type == "datetime":
            return v
        raise _bad(f"{fn}() needs a date-time, not {_NAMES[v.type]}")

    def call(self, node: ast.Call) -> Val:
        name = node.name
        if name in ("now", "mindatetime", "maxdatetime"):
            return self.datetime_const(
                {"now": dt.datetime.now(dt.UTC), "mindatetime": MIN_DATETIME, "maxdatetime": MAX_DATETIME}[name]
            )
        args = [self.value(a) for a in node.args]
        if name in ("substringof", "contains", "startswith", "endswith", "indexof", "concat"):
            x, y = (self.string(a, name) for a in args)
            if name == "substringof":
                return Val("bool", self.position(y, x) > 0)
            if name == "contains":
                return Val("bool", self.position(x, y) > 0)
            if name == "startswith":
                return Val("bool", sa.func.substr(x, 1, sa.func.length(y)) == y)
            if name == "endswith":
                tail = sa.func.substr(x, sa.func.length(x) - sa.func.length(y) + 1)
                return Val("bool", sa.and_(sa.func.length(y) <= sa.func.length(x), tail == y))
            if name == "indexof":
                return Val("number", self.position(x, y) - 1)
            return Val("string", x.op("||")(y))
        if name in ("length", "tolower", "toupper", "trim"):
            s = self.string(args[0], name)
            if name == "length":
                return Val("number", sa.func.length(s))
            if name == "trim":
                return Val("string", sa.func.trim(s))
            if self.pg:
                return Val("string", sa.func.lower(s) if name == "tolower" else sa.func.upper(s))
            return Val("string", sa.func.sta_lower(s) if name == "tolower" else sa.func.sta_upper(s))
        if name == "substring":
            s = self.string(args[0], name)
            start = self.number(args[1], name).op("+")(1)
            if len(args) == 3:
                return Val("string", sa.func.substr(s, start, self.number(args[2], name)))
            return Val("string", sa.func.substr(s, start))
        if name in ("round", "floor", "ceiling"):
            x = self.number(args[0], name)
            if name == "floor" and not self.pg:
                # SQLAlchemy's pysqlite dialect replaces floor() by Python's math.floor, which fails on NULL
                return Val("number", sa.case((x.is_not(None), sa.func.floor(x))))
            return Val("number", getattr(sa.func, name)(x))
        if name in (
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "fractionalseconds",
            "date",
            "time",
            "totaloffsetminutes",
        ):
            return self.date_part(name, self.instant(args[0], name))
        return self.geo_call(name, args)

    def position(self, haystack: sa.ColumnElement[Any], needle: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """1-based position of needle in haystack, 0 when absent (case-sensitive on both backends)."""
        return sa.func.strpos(haystack, needle) if self.pg else sa.func.instr(haystack, needle)

    def date_part(self, name: str, v: Val) -> Val:
        if v.is_const:
            assert isinstance(v.const, dt.datetime)
            if name == "totaloffsetminutes":
                offset = v.const.utcoffset() or dt.timedelta()
                return Val("number", sa.literal(int(offset.total_seconds() // 60)))
            t = _utc(v.const)
            if name == "date":
                return self.literal(ast.Lit(t.date(), "date"))
            if name == "time":
                return self.literal(ast.Lit(t.time().replace(microsecond=0), "time"))
            if name == "fractionalseconds":
                return Val("number", sa.literal(t.microsecond / 1e6))
            return Val("number", sa.literal(getattr(t, name)))
        col = v.sql
        if name == "totaloffsetminutes":
            return Val("number", sa.literal(0))  # stored in UTC
        if self.pg:
            utc = sa.func.timezone("UTC", col)
            if name == "date":
                return Val("date", sa.cast(utc, sa.Date))
            if name == "time":
                return Val("time", sa.cast(sa.func.date_trunc("second", utc), sa.Time))
            seconds = sa.extract("second", utc)
            if name == "second":
                return Val("number", sa.cast(sa.func.floor(seconds), sa.Integer))
            if name == "fractionalseconds":
                return Val("number", seconds - sa.func.floor(seconds))
            return Val("number", sa.cast(sa.extract(name, utc), sa.Integer))
        if name == "date":
            return Val("date", sa.func.date(col))
        if name == "time":
            return Val("time", sa.func.time(col))
        if name == "fractionalseconds":
            return Val(
                "number",
                sa.cast(sa.func.strftime("%f", col), sa.Float) - sa.cast(sa.func.strftime("%S", col), sa.Integer),
            )
        fmt = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M", "second": "%S"}[name]
        return Val("number", sa.cast(sa.func.strftime(fmt, col), sa.Integer))

    def geometry(self, v: Val, fn: str) -> sa.ColumnElement[Any]:
        if v.type != "geometry":
            raise _bad(f"{fn}() needs a geometry (a location or geography'…'), not {_NAMES[v.type]}")
        return v.sql

    def geo_call(self, name: str, args: list[Val]) -> Val:
        if name == "geo.length":
            return Val("number", self.geo.length(self.geometry(args[0], name)))
        a, b = self.geometry(args[0], name), self.geometry(args[1], name)
        if name == "geo.distance":
            return Val("number", self.geo.distance(a, b))
        if name == "st_relate":
            pattern = args[2]
            if pattern.type != "string" or not pattern.is_const:
                raise _bad("st_relate() needs a pattern string like 'T********' as third argument")
            return Val("bool", self.geo.relate(a, b, pattern.sql))
        assert name in PREDICATES
        return Val("bool", self.geo.predicate(name, a, b))

    # --- conditions ----------------------------------------------------------------------------

    def predicate(self, node: ast.Node) -> sa.ColumnElement[bool]:
        if isinstance(node, ast.Logical):
            parts: list[sa.ColumnElement[bool]] = []
            stack: list[ast.Node] = [node]
            while stack:  # flatten `a or b or c …` without recursion
                item = stack.pop()
                if isinstance(item, ast.Logical) and item.op == node.op:
                    stack += [item.right, item.left]
                else:
                    parts.append(self.predicate(item))
            return sa.and_(*parts) if node.op == "and" else sa.or_(*parts)
        if isinstance(node, ast.Not):
            # two-valued: `not (result eq true)` also holds where the comparison is NULL (unknown)
            return sa.not_(sa.func.coalesce(self.predicate(node.operand), sa.false()))
        if isinstance(node, ast.Compare):
            return self.in_scope(lambda: self.compare(node.op, self.value(node.left), self.value(node.right)))
        if isinstance(node, ast.In):

            def membership() -> sa.ColumnElement[bool]:
                operand = self.value(node.operand)
                return sa.or_(*(self.compare("eq", operand, self.value(item)) for item in node.items))

            return self.in_scope(membership)
        return self.in_scope(lambda: self.truth(self.value(node)))

    def truth(self, v: Val) -> sa.ColumnElement[bool]:
        if v.type == "bool":
            return v.sql
        if v.type == "dyn":
            return v.sql == "true"
        raise _bad(f"{_NAMES[v.type]} is not a condition (compare it, e.g. with eq)")

    def compare(self, op: str, a: Val, b: Val) -> sa.ColumnElement[bool]:
        if a.type == "null" or b.type == "null":
            return self.null_compare(op, b if a.type == "null" else a)
        if b.type in ("interval", "dyn") and a.type not in ("interval", "dyn"):
            a, b, op = b, a, _FLIP[op]
        if a.type == "interval":
            return self.interval_compare(op, a, b)
        if a.type == "dyn":
            return self.dyn_compare(op, a, b)
        fn = _CMP[op]
        if a.type == b.type and a.type in ("number", "string", "bool", "datetime", "date", "time"):
            if a.type == "bool" and b.is_const:
                return a.sql if (b.const is True) == (op == "eq") else sa.not_(a.sql)
            return fn(a.sql, b.sql)  # type: ignore[no-any-return]
        if {a.type, b.type} == {"datetime", "date"}:
            return fn(self.as_instant(a).sql, self.as_instant(b).sql)  # type: ignore[no-any-return]
        if {a.type, b.type} == {"number", "string"}:
            text = a if a.type == "string" else b
            number = _as_number(str(text.const)) if text.is_const else None
            if number is not None:  # `id eq '5'`
                a, b = (Val("number", sa.literal(number)), b) if a is text else (a, Val("number", sa.literal(number)))
                return fn(a.sql, b.sql)  # type: ignore[no-any-return]
            if text.is_const and op in ("eq", "ne"):  # ids are integers here: `id eq 'x'` names nothing
                return sa.false() if op == "eq" else sa.true()
        raise _bad(f"cannot compare {_NAMES[a.type]} with {_NAMES[b.type]}")

    def as_instant(self, v: Val) -> Val:
        if v.type == "date":
            if not v.is_const:
                raise _bad("compare date(…) with a date, not a date-time")
            assert isinstance(v.const, dt.date)
            return self.datetime_const(dt.datetime.combine(v.const, dt.time(), dt.UTC))
        return v

    def null_compare(self, op: str, v: Val) -> sa.ColumnElement[bool]:
        if v.type == "null":
            return sa.true() if op in ("eq", "ge", "le") else sa.false()
        isnull = v.isnull if v.isnull is not None else v.sql.is_(None)
        if op == "eq":
            return isnull
        if op == "ne":
            return sa.not_(isnull)
        return sa.false()

    def interval_compare(self, op: str, a: Val, b: Val) -> sa.ColumnElement[bool]:
        assert a.end is not None
        b = self.as_instant(b)
        if b.type == "interval":
            assert b.end is not None
            b_start, b_end = b.sql, b.end
        elif b.type == "datetime":
            b_start = b_end = b.sql
        else:
            raise _bad(f"cannot compare a time with {_NAMES[b.type]}")
        if op == "eq":
            return sa.and_(a.sql == b_start, a.end == b_end)
        if op == "ne":
            return sa.or_(a.sql != b_start, a.end != b_end)
        if op in ("lt", "le"):
            return _CMP[op](a.end, b_start)  # type: ignore[no-any-return]
        return _CMP[op](a.sql, b_end)  # type: ignore[no-any-return]

    def dyn_compare(self, op: str, a: Val, b: Val) -> sa.ColumnElement[bool]:
        fn = _CMP[op]
        assert a.num is not None
        if b.type == "number":
            return fn(a.num, b.sql)  # type: ignore[no-any-return]
        if b.type == "string":
            cond = fn(a.sql, b.sql)
            number = _as_number(str(b.const)) if b.is_const else None
            if number is not None:  # `result gt '3'` also matches the numeric result 5
                return sa.or_(cond, fn(a.num, sa.literal(number)))
            return cond  # type: ignore[no-any-return]
        if b.type == "bool" and b.is_const:
            return fn(a.sql, sa.literal("true" if b.const else "false", sa.Text))  # type: ignore[no-any-return]
        if b.type == "dyn":
            assert b.num is not None
            return sa.or_(fn(a.num, b.num), fn(a.sql, b.sql))
        if b.type == "datetime" and b.is_const:
            assert isinstance(b.const, dt.datetime)
            iso = _utc(b.const).isoformat().replace("+00:00", "Z")
            return fn(a.sql, sa.literal(iso, sa.Text))  # type: ignore[no-any-return]
        raise _bad(f"cannot compare a JSON value with {_NAMES[b.type]}")

    # --- ordering ------------------------------------------------------------------------------

    def order_key(self, item: OrderItem) -> list[sa.ColumnElement[Any]]:
        p = resolve_path(self.entity, list(item.path), "$orderby")
        current = self.entity
        for name in p.relations:
            rel = current.relation(name)
            assert rel is not None
            if rel.many:
                raise InvalidInput(
                    f"$orderby: {current.name}/{name} is a collection; order by a property of a single related entity",
                    code="invalid_query",
                    parameter="$orderby",
                )
            current = ENTITY_SETS[rel.target]
        v = self.path(p)
        if v.type == "geometry":
            raise InvalidInput("$orderby: cannot order by a geometry", code="invalid_query", parameter="$orderby")
        keys = [v.num, v.sql] if v.type == "dyn" else [v.sql, v.end] if v.type == "interval" else [v.sql]
        out: list[sa.ColumnElement[Any]] = []
        for key in keys:
            assert key is not None
            if self.scope.froms:  # a to-one chain: a scalar subquery
                key = sa.select(key).select_from(*self.scope.froms).where(*self.scope.conds).limit(1).scalar_subquery()
            # nulls first when ascending, last when descending, on both backends
            out.append(key.desc().nulls_last() if item.descending else key.asc().nulls_first())
        return out


def where_clause(
    entity: EntitySet, node: ast.Node, table: sa.FromClause, dialect: str, geo_schema: str | None = None
) -> sa.ColumnElement[bool]:
    """The condition of a `$filter` tree on `table` (the possibly aliased table of `entity`).

    InvalidInput (400) for type errors such as `name add 1`; NotImplementedFeature (501) for
    geospatial functions on PostgreSQL without PostGIS (`geo_schema` None)."""
    try:
        return _Compiler(entity, table, dialect, geo_schema).predicate(node)
    except RecursionError:
        raise _bad("the filter is nested too deeply") from None


def order_by(
    entity: EntitySet, items: tuple[OrderItem, ...] | list[OrderItem], table: sa.FromClause, dialect: str
) -> list[sa.ColumnElement[Any]]:
    """ORDER BY expressions for `$orderby` items (nulls first ascending, last descending)."""
    out: list[sa.ColumnElement[Any]] = []
    for item in items:
        compiler = _Compiler(entity, table, dialect, None)
        out.extend(compiler.order_key(item))
    return out
