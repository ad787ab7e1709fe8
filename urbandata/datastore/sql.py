"""Engine-neutral query pieces: filters, sort order, keyset cursors, rendered per SQL dialect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from urbandata.errors import InvalidInput, UrbanDataError

Op = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "prefix", "isnull"]
OPS: tuple[Op, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "prefix", "isnull")
_CMP = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class SqlFailed(InvalidInput):
    code = "sql_error"


class SqlTimeout(UrbanDataError):
    status = 400
    code = "sql_timeout"


@dataclass(frozen=True)
class Condition:
    column: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool = False


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqlBuilder:
    """Collects SQL text and parameters; `placeholder` is the dialect's parameter marker."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return self.placeholder

    def condition(self, c: Condition) -> str:
        col = quote_ident(c.column)
        if c.op == "isnull":
            return f"{col} IS NULL" if c.value else f"{col} IS NOT NULL"
        if c.op in _CMP:
            if c.value is None:
                return f"{col} IS NULL" if c.op == "eq" else (f"{col} IS NOT NULL" if c.op == "ne" else "FALSE")
            return f"{col} {_CMP[c.op]} {self.param(c.value)}"
        if c.op == "in":
            values = list(c.value)
            if not values:
                return "FALSE"
            return f"{col} IN ({', '.join(self.param(v) for v in values)})"
        if c.op == "contains":
            return f"strpos(lower(CAST({col} AS VARCHAR)), lower({self.param(str(c.value))})) > 0"
        if c.op == "prefix":
            return f"starts_with(lower(CAST({col} AS VARCHAR)), lower({self.param(str(c.value))}))"
        raise ValueError(f"unknown operator {c.op}")

    def where(self, conditions: Sequence[Condition], extra: Sequence[str] = ()) -> str:
        parts = [self.condition(c) for c in conditions] + list(extra)
        return " WHERE " + " AND ".join(f"({p})" for p in parts) if parts else ""

    def after(self, order: Sequence[Order], tiebreak: str, cursor: Sequence[Any]) -> str:
        """Keyset condition: rows strictly after `cursor` in `order` (NULLS LAST), tiebreak ascending."""
        keys = [(quote_ident(o.column), o.descending) for o in order] + [(tiebreak, False)]
        if len(cursor) != len(keys):
            raise ValueError("cursor does not match the sort order")
        alternatives = []
        for i, (expr, desc) in enumerate(keys):
            value = cursor[i]
            if value is None:
                continue  # nothing sorts after NULL in NULLS LAST order on this key
            equal = [f"{k} IS NOT DISTINCT FROM {self.param(cursor[j])}" for j, (k, _) in enumerate(keys[:i])]
            cmp = "<" if desc else ">"
            equal.append(f"({expr} {cmp} {self.param(value)} OR {expr} IS NULL)")
            alternatives.append(" AND ".join(equal))
        return "(" + " OR ".join(f"({a})" for a in alternatives) + ")" if alternatives else "FALSE"

    @staticmethod
    def order_by(order: Sequence[Order], tiebreak: str) -> str:
        parts = [f"{quote_ident(o.column)} {'DESC' if o.descending else 'ASC'} NULLS LAST" for o in order]
        parts.append(f"{tiebreak} ASC")
        return " ORDER BY " + ", ".join(parts)
