"""SensorThings query options (STA 1.1 clause 9.3): `$filter $orderby $top $skip $count $select
$expand $resultFormat`, parsed and checked against the data model.

`$filter` and `$orderby` are parsed with the lark grammar in `grammar.py`; `$expand` items and their
`;`-separated nested options are split at top-level delimiters (quotes and parentheses respected)
and each nested option is parsed by the same functions, recursively.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import lark

from urbandata.errors import InvalidInput, NotImplementedFeature
from urbandata.sensors.model import ENTITY_SETS, EntitySet
from urbandata.sensors.query.ast import (
    FUNCTIONS,
    Arith,
    ArithOp,
    Call,
    Compare,
    CompareOp,
    Duration,
    Geometry,
    In,
    Lit,
    Logical,
    Negate,
    Node,
    Not,
    Path,
)
from urbandata.sensors.query.grammar import PARSER, describe_expected

OPTIONS = ("$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$resultFormat")
NESTED_OPTIONS = ("$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand")
IGNORED_OPTIONS = ("$skiptoken",)  # server-driven paging, handled by the reader
JSON_KINDS = ("json", "any", "geojson", "result")
MAX_NODES = 2000  # SQLite refuses expressions nested deeper than 1000


@dataclass(frozen=True)
class OrderItem:
    path: tuple[str, ...]  # as written, `@iot.id` normalised to `id`, e.g. ("Datastream", "name")
    descending: bool


@dataclass(frozen=True)
class Expand:
    path: tuple[str, ...]  # relation names, e.g. ("Datastreams", "ObservedProperty")
    query: Query  # the nested options for the LAST step of the path


@dataclass(frozen=True)
class Query:
    filter: Node | None = None
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool = False
    select: tuple[str, ...] | None = None
    expand: tuple[Expand, ...] = ()
    result_format: str | None = None  # "dataArray"


# --- errors ------------------------------------------------------------------------------------


def _invalid(message: str, option: str, position: int | None = None) -> InvalidInput:
    return InvalidInput(message, code="invalid_query", parameter=option, position=position)


def _syntax_error(exc: lark.exceptions.UnexpectedInput, text: str, option: str) -> InvalidInput:
    if isinstance(exc, lark.exceptions.UnexpectedToken) and exc.token.type == "$END":
        pos, found = len(text) + 1, "the end of the text"
        expected = describe_expected(exc.expected)
    elif isinstance(exc, lark.exceptions.UnexpectedToken):
        pos, found = (exc.pos_in_stream or 0) + 1, f"'{exc.token}'"
        expected = describe_expected(exc.expected)
    elif isinstance(exc, lark.exceptions.UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        pos, found = at + 1, f"'{text[at]}'"
        expected = describe_expected(exc.allowed or set())
    else:  # pragma: no cover - lark raises only the two above for LALR
        pos, found, expected = len(text) + 1, "the end of the text", "more"
    return _invalid(f"{option}: syntax error at position {pos}: expected {expected}, found {found}", option, pos)


# --- property paths ----------------------------------------------------------------------------


def resolve_path(entity: EntitySet, segments: list[str], option: str, position: int | None = None) -> Path:
    """Relation steps, the property and the JSON keys of a path like `Datastream/Thing/properties/owner`."""
    current = entity
    relations: list[str] = []
    for i, raw in enumerate(segments):
        name = "id" if raw == "@iot.id" else raw
        rel = current.relation(name)
        if rel is not None:
            relations.append(name)
            current = ENTITY_SETS[rel.target]
            continue
        prop = current.prop(name)
        if prop is None:
            raise _invalid(
                f"{option}: {current.name} has no property or relation '{raw}'"
                + (f" (at position {position})" if position else ""),
                option,
                position,
            )
        keys = tuple(segments[i + 1 :])
        if keys and prop.kind not in JSON_KINDS:
            raise _invalid(
                f"{option}: {current.name}/{name} has no sub-properties ('{'/'.join(keys)}')", option, position
            )
        return Path(tuple(relations), name, keys)
    raise _invalid(
        f"{option}: '{'/'.join(segments)}' ends at a navigation property; name a property of "
        f"{current.name}, e.g. '{'/'.join(segments)}/id'",
        option,
        position,
    )


# --- literals ----------------------------------------------------------------------------------

_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> Duration | None:
    m = _DURATION.fullmatch(text.strip())
    if m is None or not any(m.group(k) for k in ("y", "mo", "w", "d", "h", "mi", "s")):
        return None
    g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items() if k != "sign"}
    sign = -1 if m.group("sign") else 1
    months = int(g["y"] * 12 + g["mo"]) * sign
    seconds = (((g["w"] * 7 + g["d"]) * 24 + g["h"]) * 60 + g["mi"]) * 60 + g["s"]
    return Duration(months, seconds * sign, text.strip())


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time; without a zone it is UTC (as FROST does)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Python keeps microseconds
    value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def parse_wkt(text: str) -> Geometry | None:
    from shapely import wkt
    from shapely.errors import ShapelyError
    from shapely.geometry import mapping

    body = re.sub(r"^\s*SRID=\d+\s*;", "", text)
    try:
        geom = wkt.loads(body)
    except (ShapelyError, ValueError, TypeError):
        return None
    if geom.is_empty:
        return None
    return Geometry(geom.wkt, json.dumps(mapping(geom)))


def _literal(token: lark.Token, option: str) -> Lit:
    kind, text, pos = token.type, str(token), token.column
    try:
        if kind == "STRING":
            return Lit(text[1:-1].replace("''", "'"), "string")
        if kind == "INT":
            return Lit(int(text), "number")
        if kind == "DECIMAL":
            return Lit(float(text), "number")
        if kind in ("TRUE", "FALSE"):
            return Lit(kind == "TRUE", "bool")
        if kind == "NULL":
            return Lit(None, "null")
        if kind == "DATETIME":
            return Lit(parse_datetime(text), "datetime")
        if kind == "DATE":
            return Lit(dt.date.fromisoformat(text), "date")
        if kind == "TIME":
            return Lit(dt.time.fromisoformat(text), "time")
    except ValueError as exc:
        raise _invalid(f"{option}: invalid literal {text} at position {pos} ({exc})", option, pos) from None
    body = text[text.index("'") + 1 : -1]
    if kind == "DURATION":
        duration = parse_duration(body)
        if duration is None:
            raise _invalid(
                f"{option}: invalid duration '{body}' at position {pos} (ISO 8601, e.g. P1DT2H)", option, pos
            )
        return Lit(duration, "duration")
    geometry = parse_wkt(body)
    if geometry is None:
        raise _invalid(
            f"{option}: invalid WKT geometry '{body}' at position {pos} (e.g. POINT (7.7 49.4))", option, pos
        )
    return Lit(geometry, "geometry")


# --- tree to AST -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, entity: EntitySet, option: str) -> None:
        self.entity = entity
        self.option = option
        self.size = 0

    def node(self, tree: lark.Tree[lark.Token] | lark.Token) -> Node:
        self.size += 1
        if self.size > MAX_NODES:
            raise _invalid(
                f"{self.option} is too long (more than {MAX_NODES} terms); use `in (…)` for lists", self.option
            )
        if isinstance(tree, lark.Token):  # pragma: no cover - every token sits in a rule
            raise _invalid(f"{self.option}: unexpected '{tree}'", self.option, tree.column)
        kind, ch = str(tree.data), tree.children
        if kind == "start_filter":
            return self.node(ch[0])
        if kind == "literal":
            token = ch[0]
            assert isinstance(token, lark.Token)
            return _literal(token, self.option)
        if kind == "path":
            return resolve_path(self.entity, [str(c) for c in ch], self.option, tree.meta.column)
        if kind == "call":
            return self.call(tree)
        if kind == "logical":
            # long `or` chains nest deeply on the left: walk that spine without recursion
            op: Literal["and", "or"] = "and" if str(ch[1]) == "and" else "or"
            operands = []
            current: lark.Tree[lark.Token] | lark.Token = tree
            while isinstance(current, lark.Tree) and current.data == "logical" and str(current.children[1]) == op:
                operands.append(current.children[2])
                current = current.children[0]
            node = self.node(current)
            for right in reversed(operands):
                node = Logical(op, node, self.node(right))
            return node
        if kind == "negation":
            return Not(self.node(ch[1]))
        if kind == "comparison":
            cmp: CompareOp = str(ch[1])  # type: ignore[assignment]
            return Compare(cmp, self.node(ch[0]), self.node(ch[2]))
        if kind == "membership":
            items = ch[2]
            assert isinstance(items, lark.Tree)
            return In(self.node(ch[0]), tuple(self.node(c) for c in items.children))
        if kind == "arithmetic":
            arith: ArithOp = str(ch[1])  # type: ignore[assignment]
            return Arith(arith, self.node(ch[0]), self.node(ch[2]))
        if kind == "minus":
            operand = self.node(ch[1])
            if isinstance(operand, Lit) and operand.type == "number" and isinstance(operand.value, int | float):
                return Lit(-operand.value, "number")
            return Negate(operand)
        raise AssertionError(f"unhandled rule {kind}")  # pragma: no cover

    def call(self, tree: lark.Tree[lark.Token]) -> Call:
        name_token = tree.children[0]
        name = str(name_token).lower()
        pos = tree.meta.column
        arity = FUNCTIONS.get(name)
        if arity is None:
            raise _invalid(f"{self.option}: unknown function '{name_token}' at position {pos}", self.option, pos)
        args: tuple[Node, ...] = ()
        if len(tree.children) > 1:
            arg_list = tree.children[1]
            assert isinstance(arg_list, lark.Tree)
            args = tuple(self.node(c) for c in arg_list.children)
        low, high = arity
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} or {high}"
            raise _invalid(
                f"{self.option}: {name}() takes {wanted} argument{'s' if high != 1 else ''}, "
                f"got {len(args)} (at position {pos})",
                self.option,
                pos,
            )
        return Call(name, args)


def parse_filter(text: str, entity: EntitySet, option: str = "$filter") -> Node:
    """The syntax tree of a `$filter` text on `entity`; InvalidInput (400) naming the position on errors."""
    if not text.strip():
        raise _invalid(f"{option} is empty", option)
    try:
        tree = PARSER.parse(text, start="start_filter")
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(exc, text, option) from None
    try:
        return _Builder(entity, option).node(tree)
    except RecursionError:
        raise _invalid(f"{option} is nested too deeply", option) from None


def parse_orderby(text: str, entity: EntitySet, option: str = "$orderby") -> tuple[OrderItem, ...]:
    if not text.strip():
        raise _invalid(f"{option} is empty", option)
    try:
        tree = PARSER.parse(text, start="start_orderby")
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(exc, text, option) from None
    items: list[OrderItem] = []
    for item in tree.children:
        assert isinstance(item, lark.Tree)
        path_tree = item.children[0]
        assert isinstance(path_tree, lark.Tree)
        segments = [str(c) for c in path_tree.children]
        resolve_path(entity, segments, option, path_tree.meta.column)  # checks the names
        descending = len(item.children) > 1 and str(item.children[1]).lower() == "desc"
        items.append(OrderItem(tuple("id" if s == "@iot.id" else s for s in segments), descending))
    return tuple(items)


# --- $select, $expand and the options ----------------------------------------------------------


def split_top_level(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside parentheses and 'quoted strings'."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, c in enumerate(text):
        if c == "'":
            quoted = not quoted  # a doubled quote toggles twice
        elif quoted:
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _balanced(text: str) -> bool:
    depth, quoted = 0, False
    for c in text:
        if c == "'":
            quoted = not quoted
        elif not quoted and c in "()":
            depth += 1 if c == "(" else -1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def parse_select(text: str, entity: EntitySet, option: str = "$select") -> tuple[str, ...]:
    names: list[str] = []
    for raw in split_top_level(text, ","):
        name = raw.strip()
        if name == "@iot.id":
            name = "id"
        if not name:
            raise _invalid(f"{option}: empty name in '{text}'", option)
        if entity.prop(name) is None and entity.relation(name) is None:
            raise _invalid(f"{option}: {entity.name} has no property or relation '{name}'", option)
        if name not in names:
            names.append(name)
    return tuple(names)


def parse_expand(text: str, entity: EntitySet, option: str = "$expand") -> tuple[Expand, ...]:
    expands: list[Expand] = []
    for raw in split_top_level(text, ","):
        item = raw.strip()
        if not item:
            raise _invalid(f"{option}: empty item in '{text}'", option)
        path_text, options_text = item, ""
        if "(" in item:
            path_text, _, rest = item.partition("(")
            if not rest.endswith(")") or not _balanced(rest[:-1]):
                raise _invalid(f"{option}: unbalanced parentheses in '{item}'", option)
            options_text = rest[:-1]
        current = entity
        path: list[str] = []
        for seg in path_text.strip().split("/"):
            rel = current.relation(seg.strip())
            if rel is None:
                raise _invalid(f"{option}: {current.name} has no relation '{seg.strip()}'", option)
            path.append(rel.name)
            current = ENTITY_SETS[rel.target]
        nested: dict[str, str] = {}
        if options_text.strip():
            for part in split_top_level(options_text, ";"):
                key, eq, value = part.strip().partition("=")
                key = key.strip()
                if not eq:
                    raise _invalid(f"{option}: '{part.strip()}' in {path_text} is not an option=value pair", option)
                if key in nested:
                    raise _invalid(f"{option}: {key} is given twice for {path_text}", option)
                nested[key] = value
        where = f"{option}={'/'.join(path)}"
        expands.append(Expand(tuple(path), _options(nested, current, NESTED_OPTIONS, where)))
    return tuple(expands)


def _non_negative(text: str, option: str) -> int:
    if not re.fullmatch(r"\s*\d{1,18}\s*", text):
        raise _invalid(f"{option} must be a non-negative integer, not '{text}'", option)
    return int(text)


def _options(params: Mapping[str, str], entity: EntitySet, allowed: tuple[str, ...], where: str = "") -> Query:
    for key in params:
        if key.startswith("$") and key not in allowed and key not in IGNORED_OPTIONS:
            if key in OPTIONS:
                raise _invalid(f"{key} is not allowed inside {where}", key)
            raise NotImplementedFeature(
                f"The query option {key} is not supported" + (f" (in {where})" if where else ""),
                code="not_implemented",
                parameter=key,
            )

    def name(option: str) -> str:
        return f"{where}({option})" if where else option

    q: dict[str, object] = {}
    if "$filter" in params:
        q["filter"] = parse_filter(params["$filter"], entity, name("$filter"))
    if "$orderby" in params:
        q["orderby"] = parse_orderby(params["$orderby"], entity, name("$orderby"))
    if "$top" in params:
        q["top"] = _non_negative(params["$top"], name("$top"))
    if "$skip" in params:
        q["skip"] = _non_negative(params["$skip"], name("$skip"))
    if "$count" in params:
        value = params["$count"].strip()
        if value not in ("true", "false"):
            raise _invalid(f"{name('$count')} must be true or false, not '{params['$count']}'", "$count")
        q["count"] = value == "true"
    if "$select" in params:
        q["select"] = parse_select(params["$select"], entity, name("$select"))
    if "$expand" in params:
        q["expand"] = parse_expand(params["$expand"], entity, name("$expand"))
    if "$resultFormat" in params:
        fmt = params["$resultFormat"].strip()
        if fmt != "dataArray":
            raise NotImplementedFeature(
                f"$resultFormat={fmt} is not supported (only dataArray)",
                code="not_implemented",
                parameter="$resultFormat",
            )
        if entity.name != "Observations":
            raise _invalid(f"$resultFormat=dataArray applies to Observations, not {entity.name}", "$resultFormat")
        q["result_format"] = fmt
    return Query(**q)  # type: ignore[arg-type]


def parse_query(params: Mapping[str, str], entity: EntitySet) -> Query:
    """The query options of a request on a collection (or entity) of `entity`.

    InvalidInput (400) for malformed or unknown names, NotImplementedFeature (501) for system query
    options this server does not support (`$search`, `$apply`, ...). Parameters without `$` are ignored.
    """
    return _options(params, entity, OPTIONS)
