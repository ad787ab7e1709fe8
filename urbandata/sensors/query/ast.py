"""The syntax tree of a SensorThings `$filter` (OData 4.0 subset), as produced by `parse.parse_filter`.

Nodes are immutable. Property paths are already checked against the data model when a tree exists:
`Path.relations` are navigation steps from the queried entity set, `Path.property` is a property of
the entity set reached by them, and `Path.json` descends into a JSON property (`properties/owner`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

LiteralType = Literal["string", "number", "bool", "null", "datetime", "date", "time", "duration", "geometry"]
CompareOp = Literal["eq", "ne", "gt", "ge", "lt", "le"]
ArithOp = Literal["add", "sub", "mul", "div", "mod"]


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration (`duration'P1DT2H'`): calendar months plus seconds, as SQL intervals keep them."""

    months: int
    seconds: float
    text: str


@dataclass(frozen=True)
class Geometry:
    """A WKT literal (`geography'POINT (7.7 49.4)'`), validated; kept as WKT and as GeoJSON text."""

    wkt: str
    geojson: str


LiteralValue = str | int | float | bool | None | dt.datetime | dt.date | dt.time | Duration | Geometry


@dataclass(frozen=True)
class Lit:
    value: LiteralValue
    type: LiteralType


@dataclass(frozen=True)
class Path:
    relations: tuple[str, ...]  # navigation properties, e.g. ("Datastream", "Thing")
    property: str  # an STA property name of the entity set reached, e.g. "name" ("@iot.id" is "id")
    json: tuple[str, ...] = ()  # keys inside a JSON property, e.g. ("owner",) for properties/owner


@dataclass(frozen=True)
class Call:
    name: str  # lower case, e.g. "substringof", "geo.distance", "st_within"
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True)
class In:
    operand: Node
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Logical:
    op: Literal["and", "or"]
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Arith:
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


Node = Lit | Path | Call | Compare | In | Logical | Not | Arith | Negate

# name -> (minimum, maximum) number of arguments
FUNCTIONS: dict[str, tuple[int, int]] = {
    # strings
    "substringof": (2, 2),
    "contains": (2, 2),
    "endswith": (2, 2),
    "startswith": (2, 2),
    "length": (1, 1),
    "indexof": (2, 2),
    "substring": (2, 3),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "concat": (2, 2),
    # date and time
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "hour": (1, 1),
    "minute": (1, 1),
    "second": (1, 1),
    "fractionalseconds": (1, 1),
    "date": (1, 1),
    "time": (1, 1),
    "totaloffsetminutes": (1, 1),
    "now": (0, 0),
    "mindatetime": (0, 0),
    "maxdatetime": (0, 0),
    # math
    "round": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    # geospatial
    "geo.distance": (2, 2),
    "geo.length": (1, 1),
    "geo.intersects": (2, 2),
    "st_equals": (2, 2),
    "st_disjoint": (2, 2),
    "st_touches": (2, 2),
    "st_within": (2, 2),
    "st_overlaps": (2, 2),
    "st_crosses": (2, 2),
    "st_intersects": (2, 2),
    "st_contains": (2, 2),
    "st_relate": (3, 3),
}
